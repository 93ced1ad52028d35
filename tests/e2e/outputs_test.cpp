// vigild's outputs under the faults an operator or a local user causes (docs/reliability.md):
// a stdout nobody reads or that is closed, the export file renamed, deleted or on a full disk,
// an export path that is a symlink or in a directory others can write, SIGTERM under load. The
// agent keeps running, lines stay whole, and every lost event is counted by reason.
#include "api_env.hpp"
#include "support/vigild.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

using namespace vigil::e2e;
namespace fs = std::filesystem;

namespace {

// A copy of /bin/true under a name nothing else on the machine runs.
fs::path make_marker(const fs::path& dir, const std::string& name)
{
    // A copy of this test program (run as a workload that exits 0): /bin/true may be a busybox
    // applet, which a copy under another name would not find (the kernel matrix's guest).
    fs::path p = dir / name;
    fs::copy_file(workload_path(), p, fs::copy_options::overwrite_existing);
    fs::permissions(p, fs::perms::owner_all);
    return p;
}

std::function<bool(const json&)> exec_of(const fs::path& binary)
{
    return [b = binary.string()](const json& ev) {
        return kind_of(ev) == "process_exec" && process_of(ev).value("binary", "") == b;
    };
}

std::string read_file(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool contains_exec_of(const fs::path& file, const fs::path& binary)
{
    return read_file(file).find(fmt::format("\"binary\":\"{}\"", binary.string())) != std::string::npos;
}

// Waits until `file` holds an event of `binary`.
bool file_gets_exec_of(const fs::path& file, const fs::path& binary)
{
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!contains_exec_of(file, binary) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    return contains_exec_of(file, binary);
}

// Runs a marker binary named `name` (see make_marker); returns its path.
fs::path run_marker(Vigild& v, const std::string& name)
{
    fs::path m = make_marker(v.dir(), name);
    REQUIRE(run({m.string(), "--workload", "exit", "0"}).status == 0);
    return m;
}

// What `vigil <args>` against the test's vigild prints.
std::string cli(Vigild& v, const std::string& args)
{
    std::string cmd = fmt::format("{} --socket {} {}", VIGIL_CLI_PATH, (v.dir() / "vigil.sock").string(), args);
    std::FILE* f = ::popen(cmd.c_str(), "r");
    REQUIRE(f);
    std::string out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;)
        out.append(buf, n);
    REQUIRE(::pclose(f) == 0);
    return out;
}

json status_of(Vigild& v) { return json::parse(cli(v, "status -o json")); }

const json* output_named(const json& status, const std::string& name)
{
    for (const auto& o : status["outputs"])
        if (o.value("name", "") == name)
            return &o;
    return nullptr;
}

bool alive(pid_t pid) { return ::waitpid(pid, nullptr, WNOHANG) == 0; }

// A tmpfs of `size` mounted on `dir` for the test's lifetime.
class SmallTmpfs {
public:
    SmallTmpfs(const fs::path& dir, const char* size) : dir_(dir)
    {
        fs::create_directories(dir);
        REQUIRE(::mount("tmpfs", dir.c_str(), "tmpfs", 0, fmt::format("size={},mode=0755", size).c_str()) == 0);
    }
    ~SmallTmpfs() { ::umount2(dir_.c_str(), MNT_DETACH); }

private:
    fs::path dir_;
};

} // namespace

TEST_CASE("a stdout nobody reads does not stall vigild: the file, signals and the API go on, drops are counted",
          "[e2e][faults][outputs]")
{
    VIGIL_E2E_NEEDS_ROOT();
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0); // the read end stays open and is never read
    VigildOptions o;
    o.stdout_fd = p[1];
    o.output_queue_kb = 64;
    auto v = Vigild::start(o);
    ::close(p[1]);
    // The pipe (64 KiB) and the queue (64 KiB) fill after a few hundred events.
    REQUIRE(run(workload({"storm", "1500", "/bin/true"})).status == 0);
    fs::path marker = run_marker(*v, "marker-after-stall");
    CHECK(v->wait_event(exec_of(marker), 15s));
    auto stats = v->stats();
    CHECK(stats["output_lost_queue_full"] > 0);
    json status = status_of(*v);
    const json* out = output_named(status, "stdout");
    REQUIRE(out);
    CHECK((*out)["lost"].value("queue_full", 0) > 0);
    auto t0 = std::chrono::steady_clock::now();
    int st = v->stop();
    CHECK(std::chrono::steady_clock::now() - t0 < 10s);
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
    ::close(p[0]);
}

TEST_CASE("a stdout closed by its reader turns that output off; vigild keeps running and cleans up at stop",
          "[e2e][faults][outputs]")
{
    VIGIL_E2E_NEEDS_ROOT();
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    VigildOptions o;
    o.stdout_fd = p[1];
    auto v = Vigild::start(o);
    ::close(p[1]);
    ::close(p[0]); // as `vigild | head -n 2` does once it has its lines
    REQUIRE(run(workload({"storm", "50", "/bin/true"})).status == 0);
    CHECK(v->wait_log("its reader closed it", 10s));
    fs::path marker = run_marker(*v, "marker-after-close");
    CHECK(v->wait_event(exec_of(marker), 10s));
    REQUIRE(alive(v->pid()));
    std::string log = v->log();
    size_t first = log.find("its reader closed it");
    CHECK(log.find("its reader closed it", first + 1) == std::string::npos); // one line
    int st = v->stop();
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
    CHECK_FALSE(fs::exists(v->dir() / "vigil.sock"));
}

TEST_CASE("vigild started with stdout closed writes no event into another of its files", "[e2e][faults][outputs]")
{
    VIGIL_E2E_NEEDS_ROOT();
    VigildOptions o;
    o.stdout_fd = -2;
    auto v = Vigild::start(o);
    CHECK(v->log().find("started with fd 1 closed: /dev/null stands in for it") != std::string::npos);
    fs::path marker = run_marker(*v, "marker-no-stdout");
    REQUIRE(v->wait_event(exec_of(marker)));
    // Events reach the export file once, as JSON lines of their own (events() fails on a
    // malformed line), not a second time as fd 1.
    CHECK(v->select(exec_of(marker)).size() == 1);
}

TEST_CASE("an export file renamed by an outside tool is opened again on SIGHUP", "[e2e][faults][outputs]")
{
    VIGIL_E2E_NEEDS_ROOT();
    auto v = Vigild::start();
    fs::path m1 = run_marker(*v, "marker-before-mv");
    REQUIRE(v->wait_event(exec_of(m1)));
    fs::path old = v->dir() / "events.json.old";
    fs::rename(v->export_file(), old);
    size_t from = v->log().size();
    ::kill(v->pid(), SIGHUP);
    REQUIRE(v->wait_log("opened " + v->export_file().string() + " again", 10s, from));
    fs::path m2 = run_marker(*v, "marker-after-mv");
    CHECK(file_gets_exec_of(v->export_file(), m2));
    CHECK_FALSE(contains_exec_of(old, m2));
}

TEST_CASE("an export file deleted under vigild is noticed, logged and created again", "[e2e][faults][outputs]")
{
    VIGIL_E2E_NEEDS_ROOT();
    auto v = Vigild::start();
    fs::path m1 = run_marker(*v, "marker-before-rm");
    REQUIRE(v->wait_event(exec_of(m1)));
    fs::remove(v->export_file());
    REQUIRE(v->wait_log("was renamed or deleted", 10s));
    fs::path m2 = run_marker(*v, "marker-after-rm");
    CHECK(file_gets_exec_of(v->export_file(), m2));
}

TEST_CASE("a full disk: lines stay whole, the loss is counted with ENOSPC in status and metrics",
          "[e2e][faults][outputs]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir dir;
    fs::path mnt = dir.path() / "small";
    SmallTmpfs tmpfs(mnt, "64k");
    uint16_t port = e2e::free_tcp_port();
    VigildOptions o;
    o.export_file = mnt / "events.json";
    o.extra_toml = fmt::format("[metrics]\nport = {}\n", port);
    {
        auto v = Vigild::start(o);
        // ~1 KiB per exec and exit event: 64 KiB fill well before the end.
        REQUIRE(run(workload({"storm", "200", "/bin/true"})).status == 0);
        REQUIRE(v->wait_log("No space left on device", 15s));
        // The lost lines are counted by the writer thread after the error it logs.
        std::map<std::string, uint64_t> stats;
        for (auto deadline = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < deadline;) {
            stats = v->stats();
            if (stats["output_lost_write_error"] > 0)
                break;
            std::this_thread::sleep_for(100ms);
        }
        CHECK(stats["output_lost_write_error"] > 0);
        CHECK(v->log().find("Inappropriate ioctl") == std::string::npos);

        json status = status_of(*v);
        const json* out = output_named(status, o.export_file.string());
        REQUIRE(out);
        CHECK((*out)["lost"].value("write_error", 0) > 0);
        CHECK((*out)["write_errors"].get<uint64_t>() > 0);
        CHECK((*out)["last_error"].get<std::string>().find("No space left on device") != std::string::npos);
        std::string text_status = cli(*v, "status");
        INFO(text_status);
        CHECK(text_status.find(fmt::format("output {}: ", o.export_file.string())) != std::string::npos);
        CHECK(text_status.find("(last: writing " + o.export_file.string() + ": No space left on device)") !=
              std::string::npos);

        std::string metrics = e2e::http_request(
            port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        CHECK(metrics.find(fmt::format("vigil_output_lost_total{{output=\"{}\",reason=\"write_error\"}}",
                                       o.export_file.string())) != std::string::npos);
        CHECK(metrics.find("vigil_output_write_errors_total") != std::string::npos);

        // Whole lines only: the file ends with a newline and every line is an event.
        std::string text = read_file(o.export_file);
        REQUIRE(!text.empty());
        CHECK(text.back() == '\n');
        std::istringstream in(text);
        size_t lines = 0;
        for (std::string line; std::getline(in, line); ++lines) {
            INFO("line " << lines);
            CHECK_NOTHROW(json::parse(line));
        }
        CHECK(lines > 10);
        v->stop();
    }
}

TEST_CASE("export paths a local user could plant are refused with the file and the reason", "[e2e][faults][outputs]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir dir;
    auto refused = [](VigildOptions o) -> std::string {
        try {
            Vigild::start(std::move(o));
        } catch (const std::runtime_error& e) {
            return e.what();
        }
        return "started";
    };

    SECTION("a symlink to another file")
    {
        fs::path target = dir.path() / "victim";
        { std::ofstream(target) << "root's file\n"; }
        fs::create_symlink(target, dir.path() / "events.json");
        VigildOptions o;
        o.export_file = dir.path() / "events.json";
        std::string err = refused(o);
        CHECK(err.find((dir.path() / "events.json").string() + ": a symbolic link") != std::string::npos);
        CHECK(read_file(target) == "root's file\n");
    }
    SECTION("a file another user created")
    {
        fs::path f = dir.path() / "events.json";
        { std::ofstream(f) << ""; }
        REQUIRE(::chown(f.c_str(), 65534, 65534) == 0);
        ::chmod(f.c_str(), 0644);
        VigildOptions o;
        o.export_file = f;
        std::string err = refused(o);
        CHECK(err.find(f.string() + ": owned by uid 65534") != std::string::npos);
    }
    SECTION("a directory everyone can write without the sticky bit")
    {
        fs::path d = dir.path() / "open";
        fs::create_directory(d);
        ::chmod(d.c_str(), 0777);
        VigildOptions o;
        o.export_file = d / "events.json";
        std::string err = refused(o);
        CHECK(err.find(d.string() + ": writable by group or others without the sticky bit") != std::string::npos);
        CHECK_FALSE(fs::exists(d / "events.json"));
    }
    SECTION("a new file is created 0600, an existing one of root's is made 0600")
    {
        fs::path f = dir.path() / "events.json";
        { std::ofstream(f) << ""; }
        ::chmod(f.c_str(), 0644);
        VigildOptions o;
        o.export_file = f;
        auto v = Vigild::start(o);
        struct stat st {};
        REQUIRE(::stat(f.c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0600);
    }
}

TEST_CASE("security-relevant events go to a file of their own too, and rotation counts what it deletes",
          "[e2e][outputs]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir dir;
    fs::path sec = dir.path() / "security.json";
    VigildOptions o;
    o.extra_toml = fmt::format("[export.security_file]\npath = \"{}\"\nkinds = [\"process_exec\"]\n", sec.string());
    auto v = Vigild::start(o);
    fs::path marker = run_marker(*v, "marker-security");
    REQUIRE(v->wait_event(exec_of(marker)));
    CHECK(file_gets_exec_of(sec, marker));
    std::string text = read_file(sec);
    CHECK(text.find("\"process_exit\"") == std::string::npos);
    struct stat st {};
    REQUIRE(::stat(sec.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("SIGTERM under a socket load: every ring is drained before a plugin tears down", "[e2e][faults][outputs]")
{
    VIGIL_E2E_NEEDS_ROOT();
    VigildOptions o;
    o.plugins = {"tracepoint", "socket"};
    auto v = Vigild::start(o);
    std::atomic<bool> done{false};
    std::vector<std::thread> load;
    for (int t = 0; t < 2; ++t)
        load.emplace_back([&] {
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(9); // nothing listens: each connect is refused at once
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            while (!done) {
                int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
                ::close(fd);
            }
        });
    std::this_thread::sleep_for(1500ms);
    int st = v->stop();
    done = true;
    for (auto& t : load)
        t.join();
    CHECK(WIFEXITED(st));
    std::string log = v->log();
    INFO(log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
    CHECK(log.find("unknown ring") == std::string::npos);
    CHECK(log.find("decode_errors=0") != std::string::npos);
}
