// What a hostile local user or a careless operator could do to vigild, each answered: vigild does
// not watch itself, policy files must be root's, jq filters run under a budget, idle API and
// metrics connections cannot lock anybody out, policy errors name the operator's file, fileless
// execs are named and flagged, compact output escapes bidi controls.
#include "api_env.hpp"
#include "support/vigild.hpp"

#include <fmt/format.h>

#include <sys/mman.h>
#include <sys/syscall.h>

#include <thread>

namespace {

using namespace e2e;
using vigil::api::Client;
using vigil::api::Reply;
using vigil::e2e::json;
using vigil::e2e::TempDir;
using vigil::e2e::VigildOptions;

constexpr uid_t nobody = 65534;

std::unique_ptr<vigil::e2e::Vigild> start_with(const TempDir& dir, const std::vector<std::pair<std::string, std::string>>& files,
                                   std::string agent_toml = "")
{
    for (const auto& [file, text] : files)
        std::ofstream(dir.path() / file) << text;
    VigildOptions o;
    o.policy_dir = dir.path();
    o.agent_toml = std::move(agent_toml);
    o.ready_timeout = std::chrono::seconds(90);
    return vigil::e2e::Vigild::start(o);
}

// A TracingPolicy on syscalls/sys_enter_<event> with one argument and the given selectors.
std::string syscall_policy(const std::string& name, const std::string& event, const std::string& arg,
                           const std::string& selectors)
{
    return fmt::format(R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: {}
spec:
  tracepoints:
  - subsystem: syscalls
    event: sys_enter_{}
    args:
    - {}
    selectors:
{})",
                       name, event, arg, selectors);
}

// Every write(2) of this test and its descendants, vigild among them (followForks).
std::string write_policy(const std::string& name)
{
    return syscall_policy(name, "write", "index: 7\n      type: uint64",
                          fmt::format("    - matchPIDs:\n      - operator: In\n        followForks: true\n"
                                      "        values: [{}]\n",
                                      ::getpid()));
}

std::string openat_policy(const std::string& name)
{
    return syscall_policy(name, "openat", "index: 6\n      type: string",
                          "    - matchArgs:\n      - index: 0\n        operator: Prefix\n"
                          "        values: [\"/tmp/vigil-policy-owner-\"]\n");
}

int64_t pid_of(const json& ev)
{
    const json& p = vigil::e2e::process_of(ev);
    return p.is_object() ? p.value("pid", int64_t{-1}) : -1;
}

// Reads frames until an error frame comes (events are skipped), or the timeout.
std::optional<Reply> wait_error(Client& c, std::chrono::milliseconds timeout)
{
    auto deadline = clock_type::now() + timeout;
    while (clock_type::now() < deadline) {
        auto body = c.read_frame(200);
        if (!body) {
            if (vigil::api::is_timeout(body.error()))
                continue;
            return std::nullopt;
        }
        auto r = vigil::api::parse_reply(*body);
        if (r && r->kind == Reply::Kind::error)
            return *r;
    }
    return std::nullopt;
}

// A copy of /bin/true in a memfd, exec'd through its descriptor (fexecve).
pid_t exec_memfd(const std::string& name)
{
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int fd = static_cast<int>(::syscall(SYS_memfd_create, name.c_str(), 0));
        std::ifstream in("/bin/true", std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (fd < 0 || ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
            ::_exit(125);
        char* argv[] = {const_cast<char*>("true"), nullptr};
        ::fexecve(fd, argv, environ);
        ::_exit(126);
    }
    return pid;
}

// A copy of /bin/true at `path`, unlinked while open, exec'd through /proc/self/fd.
pid_t exec_deleted(const std::string& path)
{
    fs::copy_file("/bin/true", path, fs::copy_options::overwrite_existing);
    fs::permissions(path, fs::perms::owner_all);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int fd = ::open(path.c_str(), O_RDONLY);
        if (fd < 0 || ::unlink(path.c_str()) != 0)
            ::_exit(125);
        std::string self = "/proc/self/fd/" + std::to_string(fd);
        char* argv[] = {const_cast<char*>("true"), nullptr};
        ::execve(self.c_str(), argv, environ);
        ::_exit(126);
    }
    return pid;
}

} // namespace

TEST_CASE("vigild does not watch itself unless trace_self is set", "[e2e][security]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    auto v = start_with(pol, {{"writes.yaml", write_policy("self-writes")}});
    // A write of this test's own, so the policy is seen to work.
    for (int i = 0; i < 3; ++i) {
        std::ofstream("/dev/null") << "marker";
        std::this_thread::sleep_for(100ms);
    }
    auto mine = v->wait_event([](const json& ev) { return vigil::e2e::kind_of(ev) == "process_tracepoint" &&
                                                          pid_of(ev) == ::getpid(); },
                              20s);
    REQUIRE(mine);
    // vigild wrote its export file for that event (and more): none of those writes is an event.
    std::this_thread::sleep_for(1s);
    auto own = v->select([&](const json& ev) { return pid_of(ev) == v->pid(); });
    CHECK(own.empty());
}

TEST_CASE("trace_self = true shows vigild's own activity again", "[e2e][security]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    auto v = start_with(pol, {{"writes.yaml", write_policy("self-writes-on")}}, "trace_self = true\n");
    std::ofstream("/dev/null") << "marker";
    auto own = v->wait_event([&](const json& ev) { return pid_of(ev) == v->pid(); }, 20s);
    CHECK(own);
}

TEST_CASE("a policy file another user can write is refused, and says which file", "[e2e][security]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    fs::permissions(pol.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
    std::ofstream(pol.path() / "root.yaml") << openat_policy("root-owned");
    fs::path theirs = pol.path() / "theirs.yaml";
    std::ofstream(theirs) << openat_policy("nobody-owned");
    REQUIRE(::chown(theirs.c_str(), nobody, nobody) == 0);
    fs::path writable = pol.path() / "writable.yaml";
    std::ofstream(writable) << openat_policy("group-writable");
    fs::permissions(writable, fs::perms::group_write, fs::perm_options::add);

    auto v = start_with(pol, {});
    std::string log = v->log();
    CHECK(log.find(theirs.string() + ": owned by uid 65534") != std::string::npos);
    CHECK(log.find(writable.string() + ": writable by group or others") != std::string::npos);
    auto c = Client::connect(v->dir() / "vigil.sock");
    REQUIRE(c);
    auto r = c->call("policy.list");
    REQUIRE(r);
    std::string listed = r->value.dump();
    CHECK(listed.find("root-owned") != std::string::npos);
    CHECK(listed.find("nobody-owned") == std::string::npos);
    CHECK(listed.find("group-writable") == std::string::npos);
}

TEST_CASE("a policy directory other users can write to is refused", "[e2e][security]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    std::ofstream(pol.path() / "root.yaml") << openat_policy("in-open-dir");
    fs::permissions(pol.path(), fs::perms::all); // 0777, not sticky
    auto v = start_with(pol, {});
    CHECK(v->log().find("the directory is writable by group or others") != std::string::npos);
    auto c = Client::connect(v->dir() / "vigil.sock");
    REQUIRE(c);
    auto r = c->call("policy.list");
    REQUIRE(r);
    CHECK(r->value.dump().find("in-open-dir") == std::string::npos);
}

TEST_CASE("a jq filter over its time or memory budget loses its subscription, not the agent", "[e2e][security][api]")
{
    ApiEnv env;
    env.write_config("jq_time_budget_ms = 300\njq_memory_budget_mb = 128\n");
    auto vigild = env.start();
    std::string m = env.marker("vigil-marker-jq-budget");
    for (const char* filter : {"def f: f; f", "[range(1e9)] | length > 0", "[limit(1e9; repeat(\"x\"))] | length > 0"}) {
        INFO(filter);
        auto c = env.client();
        auto params = fmt::format(R"({{"filter":{}}})", json(filter).dump());
        auto r = c.call("events.subscribe", params);
        REQUIRE(r);
        REQUIRE(r->kind == Reply::Kind::result);
        auto t0 = clock_type::now();
        exec_and_wait(m);
        auto err = wait_error(c, 20s);
        REQUIRE(err);
        CHECK(err->message.find("budget") != std::string::npos);
        CHECK(err->message.find("subscription dropped") != std::string::npos);
        CHECK(clock_type::now() - t0 < 15s);
        // The agent answered meanwhile and still does.
        auto s0 = clock_type::now();
        auto st = env.status();
        CHECK(clock_type::now() - s0 < 2s);
    }
    // A filter within budget still works.
    auto c = env.client();
    REQUIRE(c.call("events.subscribe", R"j({"filter":".process_exec.process.binary | endswith(\"vigil-marker-jq-budget\")"})j")
                ->kind == Reply::Kind::result);
    exec_and_wait(m);
    bool seen = false;
    auto deadline = clock_type::now() + 10s;
    while (!seen && clock_type::now() < deadline) {
        auto body = c.read_frame(500);
        if (body)
            seen = body->find("vigil-marker-jq-budget") != std::string::npos;
    }
    CHECK(seen);
    // SIGTERM is still obeyed promptly.
    std::chrono::milliseconds took{};
    CHECK(vigild->stop(SIGTERM, 10s, took) != -1);
}

TEST_CASE("idle API connections cannot lock the CLI out", "[e2e][security][api]")
{
    ApiEnv env;
    auto vigild = env.start();
    std::vector<Client> idle;
    for (int i = 0; i < 80; ++i) {
        auto c = Client::connect(env.socket);
        REQUIRE(c);
        idle.push_back(std::move(*c));
    }
    std::this_thread::sleep_for(300ms);
    auto t0 = clock_type::now();
    CliResult r = env.cli({"status"}, 10s);
    CHECK(r.rc == 0);
    CHECK(r.out.find("vigild") != std::string::npos);
    CHECK(clock_type::now() - t0 < 5s);
}

TEST_CASE("held metrics connections of one user do not block scrapes", "[e2e][security][api]")
{
    ApiEnv env;
    auto vigild = env.start();
    // nobody holds 64 connections open without sending anything.
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t holder = ::fork();
    REQUIRE(holder >= 0);
    if (holder == 0) {
        ::close(ready[0]);
        if (::setgroups(0, nullptr) != 0 || ::setgid(nobody) != 0 || ::setuid(nobody) != 0)
            ::_exit(126);
        std::vector<int> fds;
        for (int i = 0; i < 64; ++i) {
            int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(env.metrics_port);
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0)
                fds.push_back(fd);
        }
        (void)!::write(ready[1], "x", 1);
        ::pause();
        ::_exit(0);
    }
    ::close(ready[1]);
    char c;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    ::close(ready[0]);
    std::this_thread::sleep_for(300ms);
    auto t0 = clock_type::now();
    std::string answer = http_request(env.metrics_port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(answer.starts_with("HTTP/1.1 200"));
    CHECK(clock_type::now() - t0 < 5s);
    ::kill(holder, SIGKILL);
    ::waitpid(holder, nullptr, 0);
}

TEST_CASE("policy add errors name the operator's file and show the whole message", "[e2e][security][api]")
{
    ApiEnv env;
    auto vigild = env.start();
    fs::path bad = env.dir / "bad-policy.yaml";
    std::ofstream(bad) << "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: x\nspec:\n  nope: 1\n";
    CliResult r = env.cli({"policy", "add", bad.string()});
    CHECK(r.rc != 0);
    CHECK(r.err.find(bad.string() + ":6:3") != std::string::npos);
    CHECK(r.err.find("<api>") == std::string::npos);

    // A NUL inside the YAML (an escape in a quoted scalar): the message after it is printed
    // too, the NUL escaped.
    fs::path nul = env.dir / "nul-policy.yaml";
    std::ofstream(nul) << "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: \"a\\0b\"\n"
                          "spec:\n  kprobes: []\n";
    r = env.cli({"policy", "add", nul.string()});
    CHECK(r.rc != 0);
    CHECK(r.err.find('\0') == std::string::npos);
    CHECK(r.err.find(nul.string() + ":4:9: metadata.name: \"a\\x00b\" is not a valid name") != std::string::npos);
    CHECK(r.err.find("[invalid_params]") != std::string::npos);
    // A raw NUL byte: yaml-cpp reads it with the next byte as U+2029, which would break the line.
    std::ofstream(nul, std::ios::binary) << std::string("apiVersion: cilium.io/v1alpha1\nkind: Tracing\0Policy\n", 49);
    r = env.cli({"policy", "add", nul.string()});
    CHECK(r.rc != 0);
    CHECK(r.err.find("\xe2\x80\xa9") == std::string::npos);
    CHECK(r.err.find("[invalid_params]") != std::string::npos);

    // Deep nesting: the limit is named.
    fs::path deep = env.dir / "deep-policy.yaml";
    std::ofstream(deep) << "apiVersion: " << std::string(3000, '[') << std::string(3000, ']') << "\n";
    r = env.cli({"policy", "add", deep.string()});
    CHECK(r.rc != 0);
    CHECK(r.err.find("nesting depth limit") != std::string::npos);
    CHECK(r.err.find("bad file") == std::string::npos);
}

TEST_CASE("memfd and deleted-file execs name the file the kernel ran and are flagged fileless", "[e2e][security]")
{
    VIGIL_E2E_NEEDS_ROOT();
    auto v = vigil::e2e::Vigild::start();
    pid_t memfd = exec_memfd("vigil-memfd-test");
    REQUIRE(vigil::e2e::wait_child(memfd) == 0);
    auto ev = v->wait_event(vigil::e2e::is("process_exec", memfd), 20s);
    REQUIRE(ev);
    const json& p = vigil::e2e::process_of(*ev);
    CHECK(p.value("binary", "") == "/memfd:vigil-memfd-test (deleted)");
    CHECK(p.value("flags", "").find("fileless") != std::string::npos);

    std::string path = (v->dir() / "vigil-deleted-true").string();
    pid_t deleted = exec_deleted(path);
    REQUIRE(vigil::e2e::wait_child(deleted) == 0);
    ev = v->wait_event(vigil::e2e::is("process_exec", deleted), 20s);
    REQUIRE(ev);
    const json& d = vigil::e2e::process_of(*ev);
    CHECK(d.value("binary", "") == path + " (deleted)");
    CHECK(d.value("flags", "").find("fileless") != std::string::npos);

    // An ordinary exec is not flagged.
    auto r = vigil::e2e::run({"/bin/true"});
    ev = v->wait_event(vigil::e2e::is("process_exec", r.pid), 20s);
    REQUIRE(ev);
    CHECK(vigil::e2e::process_of(*ev).value("flags", "").find("fileless") == std::string::npos);
}

TEST_CASE("getevents selects fileless execs, and compact output escapes bidi controls", "[e2e][security][api]")
{
    ApiEnv env;
    auto vigild = env.start();
    auto sub = env.cli_background({"getevents", "--process-flags", "fileless", "--timeout", "20"});
    // A name that would display reversed: U+202E RIGHT-TO-LEFT OVERRIDE.
    std::string bidi = env.marker("vigil-bidi-\xe2\x80\xae" "txt.exe");
    auto compact = env.cli_background({"getevents", "-o", "compact", "--process", "vigil-bidi-", "--timeout", "20"});
    REQUIRE(env.wait_subscribers(2));
    pid_t memfd = exec_memfd("vigil-memfd-getevents");
    REQUIRE(vigil::e2e::wait_child(memfd) == 0);
    exec_and_wait(bidi);
    exec_and_wait(env.marker("vigil-not-fileless"));
    sub->wait_exit(30s);
    compact->wait_exit(30s);
    std::string fileless = sub->out_text();
    CHECK(fileless.find("/memfd:vigil-memfd-getevents (deleted)") != std::string::npos);
    CHECK(fileless.find("vigil-not-fileless") == std::string::npos);
    std::string shown = compact->out_text();
    CHECK(shown.find("vigil-bidi-\\xe2\\x80\\xaetxt.exe") != std::string::npos);
    CHECK(shown.find("\xe2\x80\xae") == std::string::npos);
}
