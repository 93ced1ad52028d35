#include "support/vigild.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace vigil::e2e {

namespace fs = std::filesystem;

namespace {

// In a forked child: execs args[0] with args, or exits 127.
[[noreturn]] void exec_or_die(std::vector<std::string>& args)
{
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
}

} // namespace

fs::path vigild_path() { return VIGIL_E2E_VIGILD; }
fs::path plugin_dir() { return VIGIL_E2E_PLUGIN_DIR; }
fs::path workload_path() { return fs::read_symlink("/proc/self/exe"); }

std::vector<std::string> workload(std::vector<std::string> args)
{
    args.insert(args.begin(), {workload_path().string(), "--workload"});
    return args;
}
bool is_root() { return ::geteuid() == 0; }

TempDir::TempDir()
{
    char tmpl[] = "/tmp/vigil-e2e-XXXXXX";
    if (!::mkdtemp(tmpl))
        throw std::runtime_error(fmt::format("mkdtemp: {}", std::strerror(errno)));
    path_ = tmpl;
}

TempDir::~TempDir()
{
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::unique_ptr<Vigild> Vigild::start(VigildOptions opts)
{
    std::unique_ptr<Vigild> v(new Vigild());
    v->export_file_ = opts.export_file.empty() ? v->dir() / "events.json" : opts.export_file;
    v->log_file_ = v->dir() / "vigild.log";
    fs::path config = v->dir() / "vigild.toml";
    {
        std::ofstream out(config);
        out << fmt::format("[agent]\nplugin_dir = \"{}\"\nlog_level = \"info\"\n", plugin_dir().string());
        if (!opts.policy_dir.empty())
            out << fmt::format("policy_dir = \"{}\"\n", opts.policy_dir.string());
        out << opts.agent_toml;
        out << "\n[output]\nstdout = \"none\"\n";
        if (opts.output_queue_kb)
            out << fmt::format("queue_kb = {}\n", opts.output_queue_kb);
        out << '\n';
        // Its own API socket: vigilds of other test runs on the machine keep theirs.
        out << fmt::format("[api]\nsocket = \"{}\"\n\n", (v->dir() / "vigil.sock").string());
        for (const auto& id : opts.plugins)
            out << fmt::format("[plugins.{}]\nlibrary = \"libvigil_{}.so\"\n\n", id, id);
        out << opts.extra_toml << '\n';
    }
    std::vector<std::string> args = {vigild_path().string(), "--config", config.string(), "--output",
                                     opts.stdout_fd != -1 ? "json" : "none",
                                     "--export-file", v->export_file_.string()};
    int log_fd = ::open(v->log_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log_fd < 0)
        throw std::runtime_error(fmt::format("{}: {}", v->log_file_.string(), std::strerror(errno)));
    pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) {
        ::dup2(log_fd, STDERR_FILENO);
        int devnull = ::open("/dev/null", O_RDWR);
        ::dup2(devnull, STDIN_FILENO);
        ::dup2(opts.stdout_fd >= 0 ? opts.stdout_fd : devnull, STDOUT_FILENO);
        if (opts.stdout_fd == -2)
            ::close(STDOUT_FILENO);
        exec_or_die(args);
    }
    ::close(log_fd);
    v->pid_ = pid;

    auto deadline = std::chrono::steady_clock::now() + opts.ready_timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (v->log().find("vigild ready") != std::string::npos)
            return v;
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            v->status_ = status;
            throw std::runtime_error(fmt::format("vigild exited (status {:#x}) before it was ready:\n{}", status,
                                                 v->log()));
        }
        std::this_thread::sleep_for(20ms);
    }
    throw std::runtime_error(fmt::format("vigild not ready after {} ms:\n{}", opts.ready_timeout.count(), v->log()));
}

Vigild::~Vigild() { stop(); }

int Vigild::stop()
{
    if (status_)
        return *status_;
    if (pid_ <= 0)
        return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    status_ = status;
    return status;
}

std::string Vigild::log() const
{
    std::ifstream in(log_file_, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::optional<size_t> Vigild::wait_log(std::string_view needle, std::chrono::milliseconds timeout, size_t from) const
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        std::string text = log();
        if (size_t at = text.find(needle, from); at != std::string::npos)
            return at;
        if (std::chrono::steady_clock::now() >= deadline)
            return std::nullopt;
        std::this_thread::sleep_for(20ms);
    }
}

const std::vector<json>& Vigild::events()
{
    std::ifstream in(export_file_, std::ios::binary);
    if (!in)
        return events_;
    in.seekg(static_cast<std::streamoff>(read_offset_));
    std::string chunk((std::istreambuf_iterator<char>(in)), {});
    read_offset_ += chunk.size();
    partial_ += chunk;
    size_t start = 0;
    for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::string_view line(partial_.data() + start, nl - start);
        if (!line.empty())
            events_.push_back(json::parse(line)); // a malformed line fails the test loudly
    }
    partial_.erase(0, start);
    return events_;
}

std::vector<json> Vigild::select(const std::function<bool(const json&)>& pred)
{
    std::vector<json> out;
    for (const auto& ev : events())
        if (pred(ev))
            out.push_back(ev);
    return out;
}

std::optional<json> Vigild::wait_event(const std::function<bool(const json&)>& pred, std::chrono::milliseconds timeout)
{
    auto found = wait_events(pred, 1, timeout);
    if (found.empty())
        return std::nullopt;
    return found.front();
}

std::vector<json> Vigild::wait_events(const std::function<bool(const json&)>& pred, size_t count,
                                      std::chrono::milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto found = select(pred);
        if (found.size() >= count || std::chrono::steady_clock::now() >= deadline)
            return found;
        std::this_thread::sleep_for(50ms);
    }
}

std::map<std::string, uint64_t> Vigild::stats(std::chrono::milliseconds timeout)
{
    size_t from = log().size();
    ::kill(pid_, SIGUSR1);
    std::map<std::string, uint64_t> out;
    auto at = wait_log("stats: ", timeout, from);
    if (!at)
        return out;
    std::string text = log();
    size_t end = text.find('\n', *at);
    std::istringstream words(text.substr(*at + 7, end == std::string::npos ? std::string::npos : end - *at - 7));
    for (std::string w; words >> w;) {
        size_t eq = w.find('=');
        if (eq != std::string::npos)
            out[w.substr(0, eq)] = std::stoull(w.substr(eq + 1));
    }
    return out;
}

json Vigild::policy_list() const
{
    fs::path list = dir() / "list.json";
    run({"/bin/sh", "-c",
         fmt::format("{} --socket {} policy list -o json > {}", VIGIL_E2E_CLI, (dir() / "vigil.sock").string(),
                     list.string())});
    std::ifstream in(list);
    return json::parse(in, nullptr, false).value("policies", json());
}

std::string kind_of(const json& ev)
{
    for (const auto& [k, v] : ev.items())
        if (k != "node_name" && k != "time")
            return k;
    return {};
}

const json& body_of(const json& ev) { return ev.at(kind_of(ev)); }

const json& process_of(const json& ev) { return body_of(ev).at("process"); }

std::function<bool(const json&)> is(std::string kind, pid_t pid)
{
    return [kind = std::move(kind), pid](const json& ev) {
        auto it = ev.find(kind);
        return it != ev.end() && it->contains("process") && (*it)["process"].value("pid", -1) == pid;
    };
}

std::function<bool(const json&)> tracepoint_event(const std::string& policy, const std::string& arg)
{
    return [=](const json& ev) {
        auto it = ev.find("process_tracepoint");
        if (it == ev.end() || it->value("policy_name", "") != policy)
            return false;
        const auto& args = (*it)["args"];
        return !args.empty() && args[0].value("string_arg", "") == arg;
    };
}

pid_t spawn(const std::vector<std::string>& args, const fs::path& cwd)
{
    std::vector<std::string> copy = args;
    pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) {
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0)
            ::_exit(126);
        exec_or_die(copy);
    }
    return pid;
}

int wait_child(pid_t pid)
{
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

RunResult run(const std::vector<std::string>& argv, const fs::path& cwd)
{
    pid_t pid = spawn(argv, cwd);
    return {pid, wait_child(pid)};
}

} // namespace vigil::e2e
