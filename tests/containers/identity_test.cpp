// Container identity end to end: a private containerd runs busybox containers with
// `ctr run --rootfs`, vigild runs for real, and the events of processes inside carry the
// container's id (Tetragon's "docker" field) while host processes carry none.
#include "support/containerd.hpp"
#include "support/vigild.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

using namespace vigil::e2e;
namespace fs = std::filesystem;
using namespace vigil::containers;

namespace {

#define VIGIL_CONTAINERS_NEEDS_PREREQUISITES()                                                                 \
    do {                                                                                                       \
        if (std::string m = missing_prerequisite(); !m.empty()) {                                              \
            WARN("skipped: the container tests need " << m << " (scripts/setup.sh installs the packages)");   \
            return;                                                                                            \
        }                                                                                                      \
    } while (0)

// process_exec events whose arguments are `args`.
std::function<bool(const json&)> exec_with_args(std::string args)
{
    return [args](const json& ev) {
        auto it = ev.find("process_exec");
        return it != ev.end() && (*it)["process"].value("arguments", "") == args;
    };
}

// Runs the vigil CLI against v; its standard output.
std::string cli(const Vigild& v, const std::vector<std::string>& args)
{
    fs::path out = v.dir() / "cli.out";
    std::string cmd = fmt::format("{} --socket {}", VIGIL_CLI_PATH, (v.dir() / "vigil.sock").string());
    for (const auto& a : args)
        cmd += " '" + a + "'";
    cmd += " > " + out.string() + " 2>&1";
    run({"/bin/sh", "-c", cmd});
    std::ifstream in(out);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

} // namespace

TEST_CASE("an exec inside a ctr container carries the container id; a host exec none", "[containers][identity]")
{
    VIGIL_CONTAINERS_NEEDS_PREREQUISITES();
    auto ctrd = Containerd::start();
    auto v = Vigild::start();
    std::string id = random_container_id();
    std::string marker = "vigil-container-" + id.substr(0, 8);

    pid_t ctr = ctrd->spawn_rootfs(id, {"/bin/sh", "-c", fmt::format("/bin/true {}; exec /bin/sleep 5", marker)});
    auto exec = v->wait_event(exec_with_args(marker), 20s);
    auto sleeper = v->wait_event(exec_with_args("5"), 20s);

    RunResult host = run({"/bin/true", marker + "-host"});
    auto host_exec = v->wait_event(exec_with_args(marker + "-host"));

    // `vigil process list/get` while the container runs
    std::string got, list;
    if (sleeper) {
        got = cli(*v, {"process", "get", std::to_string(process_of(*sleeper).value("pid", 0)), "-o", "json"});
        list = cli(*v, {"process", "list"});
    }
    ctrd->ctr({"tasks", "kill", "--signal", "SIGKILL", id});
    int status = wait_child(ctr);
    ctrd->stop();

    INFO(ctrd->log());
    REQUIRE(exec);
    const json& p = process_of(*exec);
    CHECK(p["binary"] == "/bin/true");
    CHECK(p["docker"] == id.substr(0, 31));
    CHECK_FALSE(p.contains("pod")); // plain containerd: no pod
    // the shell that ran it is in the container too
    const json& parent = body_of(*exec)["parent"];
    CHECK(parent["binary"] == "/bin/sh");
    CHECK(parent["docker"] == id.substr(0, 31));
    // the container's first process and its descendants
    CHECK(p["in_init_tree"] == true);
    CHECK(parent["in_init_tree"] == true);

    REQUIRE(sleeper);
    CHECK(process_of(*sleeper)["docker"] == id.substr(0, 31));
    INFO(got);
    CHECK(got.find(fmt::format("\"id\":\"{}\"", id)) != std::string::npos);
    CHECK(got.find("\"runtime\":\"containerd\"") != std::string::npos);
    INFO(list);
    CHECK(list.find(id.substr(0, 12)) != std::string::npos);

    REQUIRE(host_exec);
    CHECK_FALSE(process_of(*host_exec).contains("docker"));
    CHECK_FALSE(process_of(*host_exec).contains("pod"));
    CHECK(WIFEXITED(host.status));
    (void)status;
}

TEST_CASE("a container's processes running before vigild starts are attributed from /proc", "[containers][identity]")
{
    VIGIL_CONTAINERS_NEEDS_PREREQUISITES();
    auto ctrd = Containerd::start();
    std::string id = random_container_id();
    pid_t ctr = ctrd->spawn_rootfs(id, {"/bin/sleep", "30"});
    // wait until the container's sleep runs: its cgroup has a process
    fs::path procs = fs::path("/sys/fs/cgroup/pids/default") / id / "cgroup.procs";
    if (!fs::exists("/sys/fs/cgroup/pids"))
        procs = fs::path("/sys/fs/cgroup/default") / id / "cgroup.procs";
    // runc's own setup processes pass through the cgroup first: wait for the sleep itself
    std::string pid;
    for (int i = 0; i < 200 && pid.empty(); ++i) {
        std::ifstream in(procs);
        for (std::string p; std::getline(in, p);) {
            std::ifstream cmd(fs::path("/proc") / p / "cmdline");
            std::string argv0;
            std::getline(cmd, argv0, '\0');
            if (argv0 == "/bin/sleep")
                pid = p;
        }
        if (pid.empty())
            std::this_thread::sleep_for(50ms);
    }
    std::string got;
    if (!pid.empty()) {
        auto v = Vigild::start();
        got = cli(*v, {"process", "get", pid, "-o", "json"});
    }
    ctrd->ctr({"tasks", "kill", "--signal", "SIGKILL", id});
    wait_child(ctr);
    ctrd->stop();
    REQUIRE(!pid.empty());
    INFO(got);
    CHECK(got.find(fmt::format("\"docker\":\"{}\"", id.substr(0, 31))) != std::string::npos);
    CHECK(got.find("\"runtime\":\"containerd\"") != std::string::npos);
}

TEST_CASE("on a hybrid host a process only in a v1 controller's container cgroup is attributed",
          "[containers][identity]")
{
    // Runtimes that do not join the unified hierarchy leave a container's processes at the
    // cgroup v2 root; the process sensor then names them by the v1 controller's cgroup.
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    fs::path memory = "/sys/fs/cgroup/memory";
    std::string v2 = [] {
        std::ifstream in("/proc/self/cgroup");
        for (std::string line; std::getline(in, line);)
            if (line.starts_with("0::"))
                return line.substr(3);
        return std::string();
    }();
    if (!fs::exists(memory / "cgroup.procs") || v2 != "/") {
        WARN("skipped: needs a hybrid host (cgroup v1 memory controller) and this test at the cgroup v2 root");
        return;
    }
    auto v = Vigild::start();
    std::string id = random_container_id();
    std::string marker = "vigil-v1-" + id.substr(0, 8);
    bool made_parent = !fs::exists(memory / "docker");
    fs::path cg = memory / "docker" / id;
    fs::create_directories(cg);

    int go[2];
    REQUIRE(::pipe(go) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(go[1]);
        char c;
        if (::read(go[0], &c, 1) != 1)
            ::_exit(1);
        ::execl("/bin/true", "/bin/true", marker.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(go[0]);
    {
        std::ofstream procs(cg / "cgroup.procs");
        procs << child << std::flush;
    }
    bool moved = [&] {
        std::ifstream in(fs::path("/proc") / std::to_string(child) / "cgroup");
        for (std::string line; std::getline(in, line);)
            if (line.find(":memory:/docker/" + id) != std::string::npos)
                return true;
        return false;
    }();
    (void)!::write(go[1], "x", 1);
    ::close(go[1]);
    wait_child(child);
    auto exec = v->wait_event(exec_with_args(marker));
    ::rmdir(cg.c_str());
    if (made_parent)
        ::rmdir((memory / "docker").c_str());

    REQUIRE(moved);
    REQUIRE(exec);
    CHECK(process_of(*exec)["docker"] == id.substr(0, 31));
}
