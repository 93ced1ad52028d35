// TracingPolicy `kprobes:` and `lsmhooks:` end to end: vigild loads policies from a directory,
// the kprobe plugin attaches each hook by the strategy the kernel allows (kprobes on the syscall
// wrapper, or the syscall tracepoints where there are no kprobes), selectors are evaluated in the
// kernel, and the process_kprobe events are checked field by field. The syscalls are made by
// forked children of this test, so each test knows exactly which call it made and with what.
// Kernel-function and LSM hooks run for real where the kernel has kprobes / BPF-LSM (the 6.1
// kernel-matrix guest) and must fail with a message naming the missing feature elsewhere.
#include "support/vigild.hpp"

#include "support/vigil_skip.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

using namespace vigil::e2e;
namespace fs = std::filesystem;

namespace {

std::string policy(const std::string& name, const std::string& hooks, const std::string& options = "")
{
    return fmt::format("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: {}\nspec:\n{}{}", name,
                       options.empty() ? "" : "  options:\n" + options, hooks);
}

const std::string monitor_mode = "  - name: policy-mode\n    value: monitor\n";

// A hook on a link syscall whose `from` argument names the link target and `to` the new name,
// acting when the target is /etc/passwd.
std::string link_hook(const std::string& call, int from, int to, const std::string& action)
{
    return fmt::format(R"(  - call: {}
    syscall: true
    args:
    - index: {}
      type: string
    - index: {}
      type: string
    selectors:
    - matchArgs:
      - index: {}
        operator: Equal
        values: ["/etc/passwd"]
      matchActions:
      - action: {}
)",
                       call, from, to, from, action);
}

// A selector for calls made by this test process and its descendants, then `rest`.
std::string children_selector(const std::string& rest)
{
    return fmt::format("    selectors:\n    - matchPIDs:\n      - operator: In\n        followForks: true\n"
                       "        values: [{}]\n{}",
                       getpid(), rest);
}

// vigild with the tracepoint (process cache) and kprobe plugins and these policy files.
std::unique_ptr<Vigild> start_with(const TempDir& dir, const std::vector<std::pair<std::string, std::string>>& files)
{
    for (const auto& [file, text] : files)
        std::ofstream(dir.path() / file) << text;
    VigildOptions o;
    o.plugins = {"tracepoint", "kprobe"};
    // Hook objects load before vigild is ready; under the kernel matrix's emulation each load
    // verifies for seconds.
    o.ready_timeout = 60s;
    o.policy_dir = dir.path();
    return Vigild::start(o);
}

// Runs fn in a forked child that exits with fn's return value; returns {pid, wait status}.
RunResult in_child(const std::function<int()>& fn)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn());
    return {pid, wait_child(pid)};
}

std::function<bool(const json&)> kprobe_of(const std::string& policy_name, pid_t pid)
{
    return [=](const json& ev) {
        auto it = ev.find("process_kprobe");
        return it != ev.end() && it->value("policy_name", "") == policy_name &&
               (*it)["process"].value("pid", -1) == pid;
    };
}

// vigild with one policy posting every setuid(uid) call.
std::unique_ptr<Vigild> start_setuid(const TempDir& dir, const std::string& name, int uid)
{
    return start_with(dir, {{"setuid.yaml", policy(name, fmt::format(R"(  kprobes:
  - call: __x64_sys_setuid
    syscall: true
    args:
    - index: 0
      type: int
    selectors:
    - matchArgs:
      - index: 0
        operator: Equal
        values: ["{}"]
)", uid))}});
}

bool has_kprobes() { return fs::exists("/sys/bus/event_source/devices/kprobe/type"); }

// Whether the policy loaded; when it did not, the log line saying why is in *why.
bool loaded(Vigild& v, const std::string& name, std::string* why = nullptr)
{
    if (v.wait_log(fmt::format("policy {} loaded", name), 2s))
        return true;
    if (why)
        *why = v.log();
    return false;
}

// A TCP connect from a forked child to ip:port (nothing listens: the connect is refused); the
// child exits 0 when the connect failed with ECONNREFUSED, as it should.
RunResult connect_refused(const std::string& ip, uint16_t port)
{
    return in_child([&] {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
        int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        return rc != 0 && errno == ECONNREFUSED ? 0 : 1;
    });
}

} // namespace

TEST_CASE("kprobe policy: sys_openat string argument with a Prefix filter", "[e2e][kprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol, work;
    const std::string mine = (work.path() / "not-etc").string();
    std::ofstream(mine) << "x";
    auto v = start_with(pol, {{"openat.yaml", policy("kp-openat", R"(  kprobes:
  - call: sys_openat
    syscall: true
    args:
    - index: 1
      type: string
    - index: 2
      type: int
    selectors:
    - matchArgs:
      - index: 1
        operator: Prefix
        values: ["/etc/"]
)")}});
    std::string why;
    bool ok = loaded(*v, "kp-openat", &why);
    INFO(why);
    REQUIRE(ok);

    // Paths live in this process's written memory: a hook that cannot fault pages in cannot read
    // a string from a page the child has not touched yet (see docs/policies.md).
    const std::string etc_passwd = "/etc/passwd";
    auto r = in_child([&] {
        int a = ::open(etc_passwd.c_str(), O_RDONLY | O_CLOEXEC);
        int b = ::open(mine.c_str(), O_RDONLY);
        return a >= 0 && b >= 0 ? 0 : 1;
    });
    REQUIRE(WIFEXITED(r.status));
    REQUIRE(WEXITSTATUS(r.status) == 0);
    auto ev = v->wait_event(kprobe_of("kp-openat", r.pid));
    REQUIRE(ev);
    const json& k = (*ev)["process_kprobe"];
    CHECK(k["function_name"] == "__x64_sys_openat");
    REQUIRE(k["args"].size() == 2);
    CHECK(k["args"][0]["string_arg"] == "/etc/passwd");
    CHECK(k["args"][1]["int_arg"] == (O_RDONLY | O_CLOEXEC));
    CHECK(k["action"] == "KPROBE_ACTION_POST");
    // The file outside /etc was filtered out in the kernel.
    for (const auto& e : v->select(kprobe_of("kp-openat", r.pid)))
        CHECK(e["process_kprobe"]["args"][0]["string_arg"] != mine);
}

TEST_CASE("kprobe policy: Sigkill on sys_symlinkat and sys_linkat of /etc/passwd", "[e2e][kprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    const std::string hooks = "  kprobes:\n" + link_hook("sys_symlinkat", 0, 2, "Sigkill") +
                              link_hook("sys_linkat", 1, 3, "Sigkill");
    TempDir pol, work;
    // Links go into the temp dir; the hard link's directory does not exist, so even a call
    // that got through would change nothing under /etc.
    const std::string sym = (work.path() / "passwd-link").string();
    const std::string hard = (work.path() / "missing" / "passwd-hard").string();
    const std::string etc_passwd = "/etc/passwd"; // written memory, see the openat test
    auto symlink_it = [&] { return ::symlinkat(etc_passwd.c_str(), AT_FDCWD, sym.c_str()) == 0 ? 0 : 3; };
    auto link_it = [&] { return ::linkat(AT_FDCWD, etc_passwd.c_str(), AT_FDCWD, hard.c_str(), 0) == 0 ? 0 : 4; };

    SECTION("enforce: the caller is killed")
    {
        auto v = start_with(pol, {{"links.yaml", policy("kp-links", hooks)}});
        std::string why;
        bool ok = loaded(*v, "kp-links", &why);
        INFO(why);
        REQUIRE(ok);
        for (const auto& call : {std::function<int()>(symlink_it), std::function<int()>(link_it)}) {
            auto r = in_child(call);
            CHECK(WIFSIGNALED(r.status));
            CHECK(WTERMSIG(r.status) == SIGKILL);
            auto ev = v->wait_event(kprobe_of("kp-links", r.pid));
            REQUIRE(ev);
            CHECK((*ev)["process_kprobe"]["action"] == "KPROBE_ACTION_SIGKILL");
            CHECK((*ev)["process_kprobe"]["enforced"] == true);
            CHECK((*ev)["process_kprobe"]["args"][0]["string_arg"] == "/etc/passwd");
        }
        fs::remove(sym);
    }
    SECTION("monitor: the caller survives and the event says what would have happened")
    {
        auto v = start_with(pol, {{"links.yaml", policy("kp-links-mon", hooks, monitor_mode)}});
        std::string why;
        bool ok = loaded(*v, "kp-links-mon", &why);
        INFO(why);
        REQUIRE(ok);
        auto r = in_child(symlink_it);
        CHECK(WIFEXITED(r.status));
        CHECK(WEXITSTATUS(r.status) == 0);
        fs::remove(sym);
        auto ev = v->wait_event(kprobe_of("kp-links-mon", r.pid));
        REQUIRE(ev);
        const json& k = (*ev)["process_kprobe"];
        CHECK(k["function_name"] == "__x64_sys_symlinkat");
        CHECK(k["action"] == "KPROBE_ACTION_SIGKILL");
        CHECK(k["enforced"] == false);
        CHECK(k["args"][1]["string_arg"] == sym);
        auto h = in_child(link_it);
        CHECK(WIFEXITED(h.status));
        CHECK(WEXITSTATUS(h.status) == 4); // ENOENT from the kernel, not a signal
    }
}

TEST_CASE("kprobe policy: sys_write char_buf sized by its count argument, with matchPIDs", "[e2e][kprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    // Children of this test only (followForks); fd 77 keeps vigild's own writes out.
    auto v = start_with(pol, {{"write.yaml", policy("kp-write", fmt::format(R"(  kprobes:
  - call: sys_write
    syscall: true
    args:
    - index: 0
      type: int
    - index: 1
      type: char_buf
      sizeArgIndex: 3
    - index: 2
      type: size_t
    - index: 0
      type: fd
    selectors:
    - matchPIDs:
      - operator: In
        followForks: true
        values: [{}]
      matchArgs:
      - index: 0
        operator: Equal
        values: ["77"]
)",
                                                                                          getpid()))}});
    std::string why;
    bool ok = loaded(*v, "kp-write", &why);
    INFO(why);
    REQUIRE(ok);

    const std::string small = "hello kprobe";
    const std::string big(1000, 'z');
    auto r = in_child([&] {
        int fd = ::open("/dev/null", O_WRONLY);
        if (fd < 0 || ::dup2(fd, 77) != 77)
            return 1;
        bool ok = ::write(77, small.data(), small.size()) == ssize_t(small.size()) &&
                  ::write(77, big.data(), big.size()) == ssize_t(big.size());
        return ok ? 0 : 2;
    });
    REQUIRE(WIFEXITED(r.status));
    REQUIRE(WEXITSTATUS(r.status) == 0);
    auto evs = v->wait_events(kprobe_of("kp-write", r.pid), 2);
    REQUIRE(evs.size() == 2);
    const json& a = evs[0]["process_kprobe"]["args"];
    CHECK(a[0]["int_arg"] == 77);
    CHECK(a[1]["bytes_arg"] == "aGVsbG8ga3Byb2Jl"); // base64("hello kprobe")
    CHECK(a[2]["size_arg"] == small.size());
    CHECK(a[3]["file_arg"]["path"] == "/dev/null"); // the fd resolved through the task's fd table
    const json& b = evs[1]["process_kprobe"]["args"];
    REQUIRE(b[1].contains("truncated_bytes_arg"));
    CHECK(b[1]["truncated_bytes_arg"]["orig_size"] == big.size());
    CHECK(b[1]["truncated_bytes_arg"]["bytes_arg"].get<std::string>().starts_with("enp6"));
    CHECK(b[2]["size_arg"] == big.size());
    // A write by a process outside the followed tree is not reported.
    CHECK(v->select([](const json& ev) {
               auto it = ev.find("process_kprobe");
               return it != ev.end() && it->value("policy_name", "") == "kp-write" &&
                      (*it)["process"].value("pid", -1) == 1;
           }).empty());
}

TEST_CASE("kprobe policy: sys_setuid int argument", "[e2e][kprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    auto v = start_setuid(pol, "kp-setuid", 4242);
    std::string why;
    bool ok = loaded(*v, "kp-setuid", &why);
    INFO(why);
    REQUIRE(ok);
    auto r = in_child([] { return ::syscall(SYS_setuid, 4242) == 0 ? 0 : 1; });
    REQUIRE(WIFEXITED(r.status));
    CHECK(WEXITSTATUS(r.status) == 0);
    auto ev = v->wait_event(kprobe_of("kp-setuid", r.pid));
    REQUIRE(ev);
    CHECK((*ev)["process_kprobe"]["function_name"] == "__x64_sys_setuid");
    CHECK((*ev)["process_kprobe"]["args"][0]["int_arg"] == 4242);
}

TEST_CASE("kprobe policy: a call made just before an exec is pinned on the image that made it",
          "[e2e][kprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    auto v = start_setuid(pol, "kp-setuid-exec", 4243);
    std::string why;
    bool ok = loaded(*v, "kp-setuid-exec", &why);
    INFO(why);
    REQUIRE(ok);
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    // Each child runs this test's program, calls setuid and execs at once: the exec's event
    // often reaches vigild before the hook's, and must not take the hook's event over.
    constexpr int rounds = 20;
    std::vector<pid_t> pids;
    for (int i = 0; i < rounds; ++i) {
        auto r = in_child([] {
            ::syscall(SYS_setuid, 4243);
            execl("/bin/true", "true", nullptr);
            return 127;
        });
        REQUIRE(WIFEXITED(r.status));
        REQUIRE(WEXITSTATUS(r.status) == 0);
        pids.push_back(r.pid);
    }
    for (pid_t pid : pids) {
        auto ev = v->wait_event(kprobe_of("kp-setuid-exec", pid));
        REQUIRE(ev);
        const json& p = (*ev)["process_kprobe"]["process"];
        INFO(ev->dump());
        CHECK(p["binary"] == self);
        CHECK(p["start_time"].get<std::string>() <= (*ev)["time"].get<std::string>());
    }
}

TEST_CASE("kprobe policy: return probe with matchReturnArgs on a failing openat", "[e2e][kprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol, work;
    const std::string present = (work.path() / "present").string();
    const std::string missing = (work.path() / "missing").string();
    std::ofstream(present) << "x";
    auto v = start_with(pol, {{"ret.yaml", policy("kp-openat-ret", fmt::format(R"(  kprobes:
  - call: sys_openat
    syscall: true
    return: true
    returnArg:
      index: 0
      type: int
    args:
    - index: 1
      type: string
    selectors:
    - matchArgs:
      - index: 1
        operator: Prefix
        values: ["{}"]
      matchReturnArgs:
      - index: 0
        operator: Equal
        values: ["-2"]
)",
                                                                                           work.path().string()))}});
    std::string why;
    bool ok = loaded(*v, "kp-openat-ret", &why);
    INFO(why);
    REQUIRE(ok);
    auto r = in_child([&] {
        bool ok = ::open(present.c_str(), O_RDONLY) >= 0 && ::open(missing.c_str(), O_RDONLY) < 0 && errno == ENOENT;
        return ok ? 0 : 1;
    });
    REQUIRE(WIFEXITED(r.status));
    REQUIRE(WEXITSTATUS(r.status) == 0);
    auto ev = v->wait_event(kprobe_of("kp-openat-ret", r.pid));
    REQUIRE(ev);
    const json& k = (*ev)["process_kprobe"];
    CHECK(k["args"][0]["string_arg"] == missing);
    CHECK(k["return"]["int_arg"] == -2);
    CHECK(k["action"] == "KPROBE_ACTION_POST");
    CHECK(k["return_action"] == "KPROBE_ACTION_POST");
    // The successful open passed matchArgs but not matchReturnArgs: one event only.
    std::this_thread::sleep_for(300ms);
    CHECK(v->select(kprobe_of("kp-openat-ret", r.pid)).size() == 1);
}

TEST_CASE("kprobe policy: Override is refused with the missing feature named", "[e2e][kprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    auto v = start_with(
        pol, {{"override.yaml", policy("kp-override", "  kprobes:\n" + link_hook("sys_symlinkat", 0, 2, "Override\n        argError: -1"))}});
    auto at = v->wait_log("kp-override", 5s);
    REQUIRE(at);
    if (v->wait_log("policy kp-override loaded", 500ms)) {
        SUCCEED("this kernel has bpf_override_return");
        return;
    }
    CHECK(v->log().find("Override needs bpf_override_return") != std::string::npos);
}

TEST_CASE("kprobe policy: kernel functions fd_install, commit_creds and security_file_permission", "[e2e][kprobe][kfunc]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol, work;
    const std::string file = (work.path() / "installed").string();
    std::ofstream(file) << "x";
    // Calls by this test's children only (vigild, also a child, opens no file once running).
    const std::string hooks = fmt::format(R"(  kprobes:
  - call: fd_install
    syscall: false
    args:
    - index: 0
      type: int
{0}  - call: commit_creds
    syscall: false
    args:
    - index: 0
      type: cred
{0}  - call: security_file_permission
    syscall: false
    args:
    - index: 0
      type: file
    - index: 1
      type: int
{1})",
                                          children_selector(""),
                                          // not vigild's writes of these very events
                                          children_selector(fmt::format("      matchArgs:\n      - index: 0\n"
                                                                        "        operator: Prefix\n"
                                                                        "        values: [\"{}\"]\n",
                                                                        work.path().string())));
    auto v = start_with(pol, {{"kfunc.yaml", policy("kp-kfunc", hooks)}});
    if (!has_kprobes()) {
        // This kernel: the policy is refused, naming the function and the missing features.
        REQUIRE(v->wait_log("kp-kfunc", 5s));
        std::string log = v->log();
        CHECK(log.find("hook fd_install: kernel function hooks need kprobe or fentry support, this kernel has "
                       "neither (kprobe PMU missing, fentry load refused: EPERM)") != std::string::npos);
        // libbpf's "try raising 'ulimit -l'" after the EPERM would point at the wrong cause.
        CHECK(log.find("ulimit") == std::string::npos);
        VIGIL_SKIP_MISSING_FEATURE("kprobe");
    }
    std::string why;
    bool ok = loaded(*v, "kp-kfunc", &why);
    INFO(why);
    REQUIRE(ok);
    auto r = in_child([&] {
        char c;
        int fd = ::open(file.c_str(), O_RDONLY);
        return fd >= 0 && ::read(fd, &c, 1) == 1 && ::syscall(SYS_setuid, 4242) == 0 ? 0 : 1;
    });
    REQUIRE(WIFEXITED(r.status));
    REQUIRE(WEXITSTATUS(r.status) == 0);
    auto evs = v->wait_events(kprobe_of("kp-kfunc", r.pid), 3);
    bool fd_seen = false, cred_seen = false, file_seen = false;
    for (const auto& e : evs) {
        const json& k = e["process_kprobe"];
        if (k["function_name"] == "fd_install")
            fd_seen = k["args"][0].contains("int_arg");
        if (k["function_name"] == "security_file_permission" && k["args"][0]["file_arg"]["path"] == file)
            file_seen = true;
        if (k["function_name"] == "commit_creds") {
            const json& c = k["args"][0]["process_credentials_arg"];
            cred_seen = c["uid"] == 4242 && c["euid"] == 4242;
        }
    }
    CHECK(fd_seen);
    CHECK(cred_seen);
    CHECK(file_seen);
}

TEST_CASE("kprobe policy: LSM hook task_fix_setuid with Override", "[e2e][kprobe][lsm]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    auto v = start_with(pol, {{"lsm.yaml", policy("kp-lsm", R"(  lsmhooks:
  - hook: task_fix_setuid
    args:
    - index: 0
      type: cred
)" + children_selector("      matchActions:\n      - action: Override\n        argError: -1\n"))}});
    // Some kernels list "bpf" as an active LSM and still refuse LSM programs (this machine's 6.18
    // does, EPERM): whether the policy loaded decides, and a refusal must say why.
    std::string why;
    if (!loaded(*v, "kp-lsm", &why)) {
        CHECK(why.find("lsmhooks: hook task_fix_setuid: LSM hooks need BPF-LSM") != std::string::npos);
        VIGIL_SKIP_MISSING_FEATURE("lsm");
    }
    auto r = in_child([] { return ::syscall(SYS_setuid, 4243) == -1 && errno == EPERM ? 0 : 1; });
    REQUIRE(WIFEXITED(r.status));
    CHECK(WEXITSTATUS(r.status) == 0); // the LSM hook refused the setuid
    auto ev = v->wait_event([&](const json& e) {
        auto it = e.find("process_lsm");
        return it != e.end() && (*it)["process"].value("pid", -1) == r.pid;
    });
    REQUIRE(ev);
    const json& k = (*ev)["process_lsm"];
    CHECK(k["function_name"] == "task_fix_setuid");
    CHECK(k["action"] == "KPROBE_ACTION_OVERRIDE");
    CHECK(k["args"][0]["process_credentials_arg"]["uid"] == 4243);
}

TEST_CASE("kprobe policy: a missing kernel function fails the policy unless ignore.callNotFound", "[e2e][kprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    const std::string hook = "  kprobes:\n  - call: vigil_no_such_function\n    syscall: false\n";
    TempDir pol;
    auto v = start_with(pol, {{"a.yaml", policy("kp-missing", hook)},
                              {"b.yaml", policy("kp-missing-ok", hook + "    ignore:\n      callNotFound: true\n")}});
    std::string why;
    CHECK_FALSE(loaded(*v, "kp-missing", &why));
    CHECK(why.find("hook vigil_no_such_function: no kernel function vigil_no_such_function") != std::string::npos);
    CHECK(loaded(*v, "kp-missing-ok"));
}

TEST_CASE("kprobe policy: sys_connect sockaddr argument with SAddr and SPort", "[e2e][kprobe][socket]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    // A sockaddr has one address and port, compared with SAddr and SPort.
    auto v = start_with(pol, {{"connect.yaml", policy("kp-connect", R"(  kprobes:
  - call: sys_connect
    syscall: true
    args:
    - index: 0
      type: int
    - index: 1
      type: sockaddr
)" + children_selector(R"(      matchArgs:
      - index: 1
        operator: SAddr
        values: ["127.0.0.3/32"]
      - index: 1
        operator: SPort
        values: ["9"]
)"))}});
    std::string why;
    bool ok = loaded(*v, "kp-connect", &why);
    INFO(why);
    REQUIRE(ok);
    auto hit = connect_refused("127.0.0.3", 9);
    auto other_port = connect_refused("127.0.0.3", 10);
    auto other_addr = connect_refused("127.0.0.1", 9);
    for (const auto& r : {hit, other_port, other_addr}) {
        REQUIRE(WIFEXITED(r.status));
        CHECK(WEXITSTATUS(r.status) == 0);
    }
    auto ev = v->wait_event(kprobe_of("kp-connect", hit.pid));
    REQUIRE(ev);
    const json& k = (*ev)["process_kprobe"];
    CHECK(k["function_name"] == "__x64_sys_connect");
    CHECK(k["args"][1]["sockaddr_arg"] == json::parse(R"({"family":"AF_INET","addr":"127.0.0.3","port":9})"));
    v->stop();
    CHECK(v->select(kprobe_of("kp-connect", other_port.pid)).empty());
    CHECK(v->select(kprobe_of("kp-connect", other_addr.pid)).empty());
}

TEST_CASE("kprobe policy: tcp_connect sock argument with network selectors", "[e2e][kprobe][kfunc][socket]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    auto v = start_with(pol, {{"tcp.yaml", policy("kp-tcp-connect", R"(  kprobes:
  - call: tcp_connect
    syscall: false
    args:
    - index: 0
      type: sock
)" + children_selector(R"(      matchArgs:
      - index: 0
        operator: DAddr
        values: ["127.0.0.4/32"]
      - index: 0
        operator: NotDPort
        values: ["10"]
)"))}});
    if (!has_kprobes()) {
        REQUIRE(v->wait_log("kp-tcp-connect", 5s));
        CHECK(v->log().find("hook tcp_connect: kernel function hooks need kprobe or fentry support") !=
              std::string::npos);
        VIGIL_SKIP_MISSING_FEATURE("kprobe");
    }
    std::string why;
    bool ok = loaded(*v, "kp-tcp-connect", &why);
    INFO(why);
    REQUIRE(ok);
    auto hit = connect_refused("127.0.0.4", 9);
    auto excluded_port = connect_refused("127.0.0.4", 10);
    auto other_addr = connect_refused("127.0.0.1", 9);
    for (const auto& r : {hit, excluded_port, other_addr}) {
        REQUIRE(WIFEXITED(r.status));
        CHECK(WEXITSTATUS(r.status) == 0);
    }
    auto ev = v->wait_event(kprobe_of("kp-tcp-connect", hit.pid));
    REQUIRE(ev);
    const json& s = (*ev)["process_kprobe"]["args"][0]["sock_arg"];
    CHECK(s["family"] == "AF_INET");
    CHECK(s["type"] == "SOCK_STREAM");
    CHECK(s["protocol"] == "IPPROTO_TCP");
    CHECK(s["daddr"] == "127.0.0.4");
    CHECK(s["dport"] == 9);
    CHECK(s["saddr"] == "127.0.0.1");
    CHECK(s["state"] == "TCP_SYN_SENT");
    v->stop();
    CHECK(v->select(kprobe_of("kp-tcp-connect", excluded_port.pid)).empty());
    CHECK(v->select(kprobe_of("kp-tcp-connect", other_addr.pid)).empty());
}

TEST_CASE("kprobe policy: args that do not fit the function's prototype are refused with it", "[e2e][kprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    // tty_write as Linux 5.4 had it (file, buf, count); since 5.11 it is (kiocb, iov_iter).
    const std::string old_signature = R"(  kprobes:
  - call: tty_write
    syscall: false
    args:
    - index: 0
      type: file
    - index: 1
      type: char_buf
      sizeArgIndex: 3
    - index: 2
      type: size_t
)";
    const std::string beyond = "  kprobes:\n  - call: commit_creds\n    syscall: false\n    args:\n"
                               "    - index: 3\n      type: int\n";
    auto v = start_with(pol, {{"tty.yaml", policy("kp-tty-54", old_signature)},
                              {"beyond.yaml", policy("kp-beyond", beyond)}});
    REQUIRE(v->wait_log("kp-tty-54", 10s));
    REQUIRE(v->wait_log("kp-beyond", 10s));
    std::string log = v->log();
    CHECK(log.find("args[0]: type file reads a struct file *, but the parameter is struct kiocb * of this kernel's "
                   "tty_write(struct kiocb *iocb, struct iov_iter *from)") != std::string::npos);
    CHECK(log.find("args[0]: index 3, but this kernel's commit_creds(struct cred *new) has 1 argument") !=
          std::string::npos);
    CHECK(!v->wait_log("policy kp-tty-54 loaded", 200ms));
}
