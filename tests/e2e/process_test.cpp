// The process lifecycle sensor end to end: vigild runs for real, known programs are started,
// and the process_exec / process_exit events it exports are checked field by field.
#include "support/vigild.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unordered_map>

using namespace vigil::e2e;
namespace fs = std::filesystem;

namespace {

std::string self_exe() { return fs::read_symlink("/proc/self/exe").string(); }

bool has_flag(const json& process, std::string_view flag)
{
    std::string flags = process.value("flags", "");
    for (size_t i = 0; i <= flags.size();) {
        size_t j = flags.find(' ', i);
        if (j == std::string::npos)
            j = flags.size();
        if (std::string_view(flags).substr(i, j - i) == flag)
            return true;
        i = j + 1;
    }
    return false;
}

// Events of `kind` whose process is `binary` and whose parent is `ppid`.
std::function<bool(const json&)> child_event(std::string kind, pid_t ppid, std::string binary = {})
{
    return [=](const json& ev) {
        auto it = ev.find(kind);
        if (it == ev.end() || !it->contains("parent"))
            return false;
        if (!binary.empty() && (*it)["process"].value("binary", "") != binary)
            return false;
        return (*it)["parent"].value("pid", -1) == ppid;
    };
}

} // namespace

TEST_CASE("exec and exit of a known program, field by field", "[e2e][process]")
{
    VIGIL_E2E_NEEDS_ROOT();
    auto v = Vigild::start();
    TempDir work;
    fs::path cwd = work.path() / "dir with space";
    fs::create_directories(cwd);

    RunResult r = run({"/bin/sh", "-c", "exit 5", "x", "y z"}, cwd);
    REQUIRE(WIFEXITED(r.status));
    REQUIRE(WEXITSTATUS(r.status) == 5);

    auto exec = v->wait_event(is("process_exec", r.pid));
    REQUIRE(exec);
    const json& p = process_of(*exec);
    CHECK(p["binary"] == "/bin/sh");
    CHECK(p["arguments"] == "-c \"exit 5\" x \"y z\"");
    CHECK(p["cwd"] == cwd.string());
    CHECK(p["uid"] == 0);
    CHECK(p["pid"] == r.pid);
    CHECK(p["tid"] == r.pid);
    CHECK(p["flags"] == "execve");
    CHECK(p["in_init_tree"] == false);
    CHECK(p["auid"].is_number_unsigned());
    CHECK(p["start_time"].get<std::string>().ends_with("Z"));
    CHECK(!p["exec_id"].get<std::string>().empty());
    CHECK((*exec)["node_name"].is_string());
    const json& parent = body_of(*exec)["parent"];
    CHECK(parent["pid"] == ::getpid());
    CHECK(parent["binary"] == self_exe());
    CHECK(p["parent_exec_id"] == parent["exec_id"]);

    auto exit = v->wait_event(is("process_exit", r.pid));
    REQUIRE(exit);
    CHECK(body_of(*exit)["status"] == 5);
    CHECK(!body_of(*exit).contains("signal"));
    CHECK(body_of(*exit)["time"].is_string());
    CHECK(process_of(*exit)["exec_id"] == p["exec_id"]);
    CHECK(body_of(*exit)["parent"]["exec_id"] == parent["exec_id"]);

    std::this_thread::sleep_for(300ms);
    CHECK(v->select(is("process_exec", r.pid)).size() == 1);
    CHECK(v->select(is("process_exit", r.pid)).size() == 1);
}

TEST_CASE("raw tracepoints give the same events as tp_btf", "[e2e][process]")
{
    VIGIL_E2E_NEEDS_ROOT();
    auto v = Vigild::start({.extra_toml = "[plugins.tracepoint.config]\nattach = \"raw_tp\"\n"});
    CHECK(v->log().find("process sensor attached with raw_tp") != std::string::npos);
    RunResult r = run({"/bin/sh", "-c", "exit 9"}, "/");
    auto exec = v->wait_event(is("process_exec", r.pid));
    REQUIRE(exec);
    CHECK(process_of(*exec)["binary"] == "/bin/sh");
    CHECK(process_of(*exec)["arguments"] == "-c \"exit 9\"");
    CHECK(process_of(*exec)["flags"] == "execve rootcwd");
    CHECK(process_of(*exec)["cwd"] == "/");
    CHECK(body_of(*exec)["parent"]["pid"] == ::getpid());
    auto exit = v->wait_event(is("process_exit", r.pid));
    REQUIRE(exit);
    CHECK(body_of(*exit)["status"] == 9);
}

TEST_CASE("a relative exec path is made absolute with the cwd", "[e2e][process]")
{
    VIGIL_E2E_NEEDS_ROOT();
    auto v = Vigild::start();
    TempDir work;
    fs::create_directories(work.path() / "a" / "b");
    fs::copy_file(workload_path(), work.path() / "a" / "tool");
    RunResult r = run({"./../tool", "--workload", "exit", "0"}, work.path() / "a" / "b");
    REQUIRE(WIFEXITED(r.status));
    auto exec = v->wait_event(is("process_exec", r.pid));
    REQUIRE(exec);
    CHECK(process_of(*exec)["binary"] == (work.path() / "a" / "tool").string());
    CHECK(process_of(*exec)["cwd"] == (work.path() / "a" / "b").string());
}

TEST_CASE("a killed process exits with SIGKILL", "[e2e][process]")
{
    VIGIL_E2E_NEEDS_ROOT();
    auto v = Vigild::start();
    pid_t pid = spawn({"/bin/sleep", "30"});
    REQUIRE(v->wait_event(is("process_exec", pid)));
    ::kill(pid, SIGKILL);
    wait_child(pid);
    auto exit = v->wait_event(is("process_exit", pid));
    REQUIRE(exit);
    CHECK(body_of(*exit)["signal"] == "SIGKILL");
    CHECK(body_of(*exit)["status"] == 0);
    CHECK(process_of(*exit)["binary"] == "/bin/sleep");
    CHECK(process_of(*exit)["arguments"] == "30");
}

TEST_CASE("fork without exec: the child exits as a clone of its parent", "[e2e][process]")
{
    VIGIL_E2E_NEEDS_ROOT();
    auto v = Vigild::start();
    RunResult r = run(workload({"fork-exit", "7"}));
    REQUIRE(WIFEXITED(r.status));
    auto exit = v->wait_event(child_event("process_exit", r.pid));
    REQUIRE(exit);
    const json& p = process_of(*exit);
    CHECK(p["binary"] == workload_path().string());
    CHECK(p["arguments"] == "--workload fork-exit 7");
    CHECK(has_flag(p, "clone"));
    CHECK(body_of(*exit)["status"] == 7);
    CHECK(body_of(*exit)["parent"]["binary"] == workload_path().string());
    pid_t child = p["pid"];
    CHECK(child != r.pid);
    CHECK(v->select(is("process_exec", child)).empty());
    REQUIRE(v->wait_event(is("process_exit", r.pid)));
}

TEST_CASE("exec from a thread of a multi-threaded process", "[e2e][process]")
{
    VIGIL_E2E_NEEDS_ROOT();
    auto v = Vigild::start();
    RunResult r = run(workload({"threads-exec", "4", "/bin/true", "after-exec"}));
    REQUIRE(WIFEXITED(r.status));
    CHECK(WEXITSTATUS(r.status) == 0);
    auto execs = v->wait_events(is("process_exec", r.pid), 2);
    REQUIRE(execs.size() == 2);
    CHECK(process_of(execs[0])["binary"] == workload_path().string());
    const json& p = process_of(execs[1]);
    CHECK(p["binary"] == "/bin/true");
    CHECK(p["arguments"] == "after-exec");
    CHECK(p["tid"] == r.pid); // the exec'ing thread took over the thread-group id
    CHECK(body_of(execs[1])["parent"]["pid"] == ::getpid());

    auto exit = v->wait_event(is("process_exit", r.pid));
    REQUIRE(exit);
    CHECK(process_of(*exit)["exec_id"] == p["exec_id"]);
    CHECK(body_of(*exit)["status"] == 0);
    std::this_thread::sleep_for(300ms);
    CHECK(v->select(is("process_exit", r.pid)).size() == 1); // the threads killed by exec are no exit
}

TEST_CASE("a process whose threads are still running exits once", "[e2e][process]")
{
    VIGIL_E2E_NEEDS_ROOT();
    auto v = Vigild::start();
    SECTION("exit() with threads running")
    {
        RunResult r = run(workload({"threads-exit", "8", "3"}));
        REQUIRE(WEXITSTATUS(r.status) == 3);
        auto exit = v->wait_event(is("process_exit", r.pid));
        REQUIRE(exit);
        CHECK(body_of(*exit)["status"] == 3);
        std::this_thread::sleep_for(300ms);
        CHECK(v->select(is("process_exit", r.pid)).size() == 1);
    }
    SECTION("the main thread ends first, the others later")
    {
        RunResult r = run(workload({"leader-exit", "8"}));
        REQUIRE(WIFEXITED(r.status));
        auto exit = v->wait_event(is("process_exit", r.pid));
        REQUIRE(exit);
        CHECK(body_of(*exit)["status"] == 0);
        CHECK(process_of(*exit)["binary"] == workload_path().string());
        std::this_thread::sleep_for(300ms);
        CHECK(v->select(is("process_exit", r.pid)).size() == 1);
    }
}

TEST_CASE("a process started before vigild comes from /proc", "[e2e][process]")
{
    VIGIL_E2E_NEEDS_ROOT();
    pid_t pid = spawn({"/bin/sleep", "30"});
    // wait until it runs sleep, not the forked copy of this test
    for (int i = 0; i < 200 && fs::read_symlink(fmt::format("/proc/{}/exe", pid)).string() == self_exe(); ++i)
        std::this_thread::sleep_for(5ms);
    auto v = Vigild::start();
    ::kill(pid, SIGKILL);
    wait_child(pid);
    auto exit = v->wait_event(is("process_exit", pid));
    REQUIRE(exit);
    const json& p = process_of(*exit);
    CHECK(p["flags"] == "procFS");
    CHECK(p["binary"] == fs::canonical("/bin/sleep").string());
    CHECK(p["arguments"] == "30");
    CHECK(p["cwd"] == fs::current_path().string());
    CHECK(body_of(*exit)["signal"] == "SIGKILL");
    const json& parent = body_of(*exit)["parent"];
    CHECK(parent["pid"] == ::getpid());
    CHECK(parent["binary"] == self_exe());
    CHECK(has_flag(parent, "procFS"));
    CHECK(p["parent_exec_id"] == parent["exec_id"]);
}

TEST_CASE("in_init_tree: a new PID namespace's init and its children", "[e2e][process]")
{
    VIGIL_E2E_NEEDS_ROOT();
    if (!fs::exists("/usr/bin/unshare")) {
        WARN("skipped: /usr/bin/unshare (util-linux) is not installed");
        return;
    }
    auto v = Vigild::start();
    RunResult r = run({"/usr/bin/unshare", "--pid", "--fork", "/bin/sh", "-c", "/bin/true; exit 4"});
    REQUIRE(WIFEXITED(r.status));
    auto unshare = v->wait_event(is("process_exec", r.pid));
    REQUIRE(unshare);
    CHECK(process_of(*unshare)["in_init_tree"] == false);
    auto init = v->wait_event(child_event("process_exec", r.pid, "/bin/sh"));
    REQUIRE(init);
    CHECK(process_of(*init)["in_init_tree"] == true);
    CHECK(has_flag(process_of(*init), "inInitTree"));
    pid_t init_pid = process_of(*init)["pid"];
    auto child = v->wait_event(child_event("process_exec", init_pid, "/bin/true"));
    REQUIRE(child);
    CHECK(process_of(*child)["in_init_tree"] == true);
    auto init_exit = v->wait_event(is("process_exit", init_pid));
    REQUIRE(init_exit);
    CHECK(body_of(*init_exit)["status"] == 4);
    CHECK(process_of(*init_exit)["in_init_tree"] == true);
}

TEST_CASE("ancestors: a chain of four shells", "[e2e][process]")
{
    VIGIL_E2E_NEEDS_ROOT();
    auto v = Vigild::start({.extra_toml = "[process]\nancestors = true\n"});
    // "; exit 0" after each command keeps a shell from exec'ing its last command in place
    std::string c3 = "/bin/true; exit 0";
    std::string c2 = "/bin/sh -c '" + c3 + "'; exit 0";
    std::string c1 = "/bin/sh -c \"" + c2 + "\"; exit 0";
    RunResult r = run({"/bin/sh", "-c", c1});
    REQUIRE(WIFEXITED(r.status));
    auto exec = v->wait_event([&](const json& ev) {
        if (!ev.contains("process_exec") || process_of(ev).value("binary", "") != "/bin/true")
            return false;
        const json& a = body_of(ev).value("ancestors", json::array());
        return a.size() >= 2 && a[1].value("pid", -1) == r.pid;
    });
    REQUIRE(exec);
    const json& body = body_of(*exec);
    const json& a = body["ancestors"];
    REQUIRE(a.size() >= 3);
    CHECK(body["parent"]["binary"] == "/bin/sh");
    CHECK(body["parent"]["arguments"] == "-c \"" + c3 + "\"");
    CHECK(a[0]["binary"] == "/bin/sh");
    CHECK(a[0]["arguments"] == "-c \"" + c2 + "\"");
    CHECK(a[1]["binary"] == "/bin/sh");
    CHECK(a[1]["arguments"] == "-c \"" + c1 + "\"");
    CHECK(a[2]["pid"] == ::getpid());
    // every link of the chain names the next one
    CHECK(process_of(*exec)["parent_exec_id"] == body["parent"]["exec_id"]);
    CHECK(body["parent"]["parent_exec_id"] == a[0]["exec_id"]);
    for (size_t i = 0; i + 1 < a.size(); ++i)
        CHECK(a[i]["parent_exec_id"] == a[i + 1]["exec_id"]);
}

TEST_CASE("long arguments and deep directories are flagged, not silently cut", "[e2e][process]")
{
    VIGIL_E2E_NEEDS_ROOT();
    auto v = Vigild::start();
    TempDir work;
    fs::path deep = work.path();
    for (int i = 0; i < 70; ++i)
        deep /= "d";
    fs::create_directories(deep);
    std::vector<std::string> argv = {"/bin/true"};
    for (int i = 0; i < 100; ++i)
        argv.push_back(std::string(99, char('a' + i % 26)));
    RunResult r = run(argv, deep);
    auto exec = v->wait_event(is("process_exec", r.pid));
    REQUIRE(exec);
    const json& p = process_of(*exec);
    CHECK(has_flag(p, "truncArgs"));
    CHECK(has_flag(p, "truncCwd"));
    std::string args = p["arguments"];
    CHECK(args.size() >= 8000);
    CHECK(args.size() <= 8192);
    CHECK(args.starts_with(std::string(99, 'a') + " " + std::string(99, 'b')));
    std::string cwd = p["cwd"];
    CHECK(cwd.ends_with("/d/d/d"));
    CHECK(cwd.size() < deep.string().size());
}

TEST_CASE("exec storm: every exec and exit exactly once, the cache back to its size", "[e2e][process][storm]")
{
    VIGIL_E2E_NEEDS_ROOT();
    // VIGIL_E2E_STORM_EXECS: fewer where execs are slow (the kernel-matrix guest runs under TCG)
    const char* env = std::getenv("VIGIL_E2E_STORM_EXECS");
    const size_t execs_wanted = env ? std::strtoul(env, nullptr, 10) : 20000;
    auto v = Vigild::start();
    auto before = v->stats();
    REQUIRE(before.contains("cache_size"));

    auto t0 = std::chrono::steady_clock::now();
    RunResult r = run(workload({"storm", std::to_string(execs_wanted), "/bin/true"}));
    auto t1 = std::chrono::steady_clock::now();
    REQUIRE(WIFEXITED(r.status));
    REQUIRE(WEXITSTATUS(r.status) == 0);
    // the storm's own exit comes after all its children's events
    REQUIRE(v->wait_event(is("process_exit", r.pid), 120s));
    auto t2 = std::chrono::steady_clock::now();

    std::unordered_map<std::string, int> execs, exits;
    for (const json& ev : v->events()) {
        std::string kind = kind_of(ev);
        if (kind != "process_exec" && kind != "process_exit")
            continue;
        const json& body = body_of(ev);
        if (!body.contains("parent") || body["parent"].value("pid", -1) != r.pid ||
            body["process"].value("binary", "") != "/bin/true")
            continue;
        (kind == "process_exec" ? execs : exits)[body["process"]["exec_id"]]++;
    }
    auto after = v->stats();
    INFO(fmt::format("lost={} received={} exported={} map_update_errors={}", after["lost"], after["received"],
                     after["exported"], after["map_update_errors"]));
    CHECK(after["lost"] == 0);
    CHECK(after["decode_errors"] == 0);
    CHECK(execs.size() == execs_wanted);
    CHECK(exits.size() == execs_wanted);
    size_t dup_execs = 0, dup_exits = 0, orphan_exits = 0;
    for (const auto& [id, n] : execs)
        dup_execs += n != 1;
    for (const auto& [id, n] : exits) {
        dup_exits += n != 1;
        orphan_exits += !execs.contains(id);
    }
    CHECK(dup_execs == 0);
    CHECK(dup_exits == 0);
    CHECK(orphan_exits == 0);

    // Exited entries are freed after their grace period: the cache returns to its size
    // (give or take what the rest of the machine started meanwhile).
    uint64_t baseline = before["cache_size"], peak = after["cache_size"], settled = peak;
    for (int i = 0; i < 40 && settled > baseline + 64; ++i) {
        std::this_thread::sleep_for(250ms);
        settled = v->stats()["cache_size"];
    }
    CHECK(settled <= baseline + 64);
    CHECK(after["cache_evicted"] == 0);

    auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    WARN(fmt::format("exec storm: {} execs in {} ms ({:.0f}/s), all events exported {} ms after the last exit; "
                     "cache size {} before, {} right after, {} settled",
                     execs_wanted, ms(t1 - t0), execs_wanted * 1000.0 / std::max<int64_t>(1, ms(t1 - t0)),
                     ms(t2 - t1), baseline, peak, settled));
}

TEST_CASE("[[redaction]] masks a secret on a command line before it leaves vigild", "[e2e][process]")
{
    VIGIL_E2E_NEEDS_ROOT();
    VigildOptions o;
    o.extra_toml = "[[redaction]]\nredact = ['(?:--password|-p)(?:\\s+|=)(\\S+)']\n";
    auto v = Vigild::start(o);
    RunResult r = run({"/bin/sh", "-c", "exit 0", "sh", "--password", "hunter2", "-p=swordfish"});
    REQUIRE(WIFEXITED(r.status));
    auto exit = v->wait_event(is("process_exit", r.pid));
    REQUIRE(exit);
    auto exec = v->select(is("process_exec", r.pid));
    REQUIRE(exec.size() == 1);
    CHECK(process_of(exec[0])["arguments"] == "-c \"exit 0\" sh --password ***** -p=*****");
    CHECK(process_of(*exit)["arguments"] == "-c \"exit 0\" sh --password ***** -p=*****");
    // Nowhere in what vigild wrote: the export file holds every event.
    std::ifstream f(v->export_file());
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    CHECK(all.find(fmt::format("\"pid\":{}", r.pid)) != std::string::npos);
    CHECK(all.find("hunter2") == std::string::npos);
    CHECK(all.find("swordfish") == std::string::npos);
}
