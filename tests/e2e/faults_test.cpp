// vigild under faults (docs/reliability.md): a full ring while it is stalled, a plugin whose
// decoder fails or whose init throws or start fails, SIGKILL and restart, a SIGHUP storm under
// load, processes exiting during the /proc scan. Each time the loss is counted,
// the rest keeps running, and nothing is left behind.
#include "support/cgroup.hpp"
#include "support/vigild.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <bpf/bpf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

using namespace vigil::e2e;
namespace fs = std::filesystem;

namespace {

// The BPF objects a process holds, from its fdinfo: "prog_id:", "map_id:" and "link_id:" lines.
struct BpfIds {
    std::set<uint32_t> progs, maps, links;
    bool empty() const { return progs.empty() && maps.empty() && links.empty(); }
};

BpfIds bpf_ids_of(pid_t pid)
{
    BpfIds ids;
    for (const auto& e : fs::directory_iterator(fmt::format("/proc/{}/fdinfo", pid))) {
        std::ifstream in(e.path());
        for (std::string line; std::getline(in, line);) {
            auto take = [&](const char* key, std::set<uint32_t>& into) {
                if (line.starts_with(key))
                    into.insert(static_cast<uint32_t>(std::stoul(line.substr(std::strlen(key)))));
            };
            take("prog_id:", ids.progs);
            take("map_id:", ids.maps);
            take("link_id:", ids.links);
        }
    }
    return ids;
}

// Which of `ids` still exist in the kernel.
BpfIds still_alive(const BpfIds& ids)
{
    BpfIds alive;
    auto check = [](const std::set<uint32_t>& in, std::set<uint32_t>& out, int (*get)(__u32)) {
        for (uint32_t id : in) {
            int fd = get(id);
            if (fd >= 0) {
                out.insert(id);
                ::close(fd);
            }
        }
    };
    check(ids.progs, alive.progs, bpf_prog_get_fd_by_id);
    check(ids.maps, alive.maps, bpf_map_get_fd_by_id);
    check(ids.links, alive.links, bpf_link_get_fd_by_id);
    return alive;
}

size_t fd_count(pid_t pid)
{
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(fmt::format("/proc/{}/fd", pid)))
        ++n;
    return n;
}

std::string fake_plugin(const char* name) { return (fs::path(VIGIL_FAKE_PLUGIN_DIR) / name).string(); }

// A policy on openat of files under `prefix`: one event per open.
std::string openat_policy(const std::string& prefix)
{
    return fmt::format(R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: faults-openat
spec:
  tracepoints:
  - subsystem: syscalls
    event: sys_enter_openat
    args:
    - index: 6
      type: string
    selectors:
    - matchArgs:
      - index: 0
        operator: Prefix
        values: ["{}"]
)",
                       prefix);
}

// A policy directory with openat_policy on a work directory, and a file in it to open.
struct OpenatWork {
    TempDir policies, work;
    std::string file = (work.path() / "f").string();
    OpenatWork()
    {
        std::ofstream(policies.path() / "openat.yaml") << openat_policy(work.path().string() + "/");
        std::ofstream(file) << "x";
    }
};

} // namespace

TEST_CASE("a full ring while vigild is stalled: the loss is counted and vigild recovers", "[e2e][faults]")
{
    if (!is_root()) {
        WARN("skipped: e2e tests load BPF programs and need root");
        return;
    }
    VigildOptions o;
    o.extra_toml = "[plugins.tracepoint.config]\nring_buffer_mb = 1\n";
    auto v = Vigild::start(o);
    // ~300 bytes of records per spawned /bin/true (clone, exec, exit): 8000 overflow 1 MiB.
    constexpr int execs = 8000;
    REQUIRE(::kill(v->pid(), SIGSTOP) == 0);
    RunResult r = run(workload({"storm", std::to_string(execs), "/bin/true"}));
    REQUIRE(::kill(v->pid(), SIGCONT) == 0);
    REQUIRE(WIFEXITED(r.status));

    // Recovered: what happens after the stall is reported again.
    RunResult after = run({"/bin/true"});
    REQUIRE(v->wait_event(is("process_exit", after.pid), 30s));
    auto s = v->stats();
    INFO(fmt::format("received={} lost={} decode_errors={}", s["received"], s["lost"], s["decode_errors"]));
    CHECK(s["lost"] > 0);
    CHECK(s["decode_errors"] == 0);
    // Nothing vanished without a trace: every record was either received or counted as lost.
    CHECK(s["received"] + s["lost"] >= 3 * execs);
    CHECK(v->wait_log("event(s) lost: a plugin ring buffer was full", 5s));
}

TEST_CASE("an overloaded hook ring sheds reporting-only events, counted, and says so in the stream",
          "[e2e][faults]")
{
    if (!is_root()) {
        WARN("skipped: e2e tests load BPF programs and need root");
        return;
    }
    OpenatWork w;
    const std::string& file = w.file;
    VigildOptions o;
    o.policy_dir = w.policies.path();
    o.extra_toml = "[plugins.tracepoint.config]\nhook_ring_buffer_mb = 1\n";
    auto v = Vigild::start(o);
    REQUIRE(v->wait_log("policy faults-openat loaded", 10s));
    // 1 MiB holds ~8000 of these records: 30 000 opens while vigild is stalled overflow it.
    constexpr int opens = 30000;
    REQUIRE(::kill(v->pid(), SIGSTOP) == 0);
    for (int i = 0; i < opens; ++i)
        ::close(::open(file.c_str(), O_RDONLY));
    REQUIRE(::kill(v->pid(), SIGCONT) == 0);

    auto start = v->wait_event([](const json& ev) {
        return ev.contains("process_throttle") && ev["process_throttle"]["type"] == "THROTTLE_START";
    }, 10s);
    REQUIRE(start);
    CHECK(!(*start)["process_throttle"].contains("process"));
    auto stop = v->wait_event([](const json& ev) {
        return ev.contains("process_throttle") && ev["process_throttle"]["type"] == "THROTTLE_STOP";
    }, 10s);
    REQUIRE(stop);
    CHECK(!(*stop)["process_throttle"].contains("process"));
    uint64_t shed = (*stop)["process_throttle"]["shed"];
    size_t got = v->select([](const json& ev) {
        return ev.contains("process_tracepoint") && ev["process_tracepoint"]["policy_name"] == "faults-openat";
    }).size();
    auto s = v->stats();
    INFO(fmt::format("opens={} exported={} shed={} lost={}", opens, got, shed, s["lost"]));
    CHECK(shed > 0);
    // Shedding starts at three quarters: the ring never filled, and every open is accounted for.
    CHECK(got + shed == opens);
    CHECK(s["shed"] == shed);
    CHECK(s["lost"] == 0);

    // Whose events went: only this process opened the file, and its own THROTTLE_STOP names it
    // (with its exec identity) and all that was shed.
    CHECK((*stop)["process_throttle"]["processes"] == 1);
    auto mine = v->wait_event([](const json& ev) {
        return ev.contains("process_throttle") && ev["process_throttle"].contains("process") &&
               ev["process_throttle"]["process"]["pid"] == ::getpid();
    }, 5s);
    REQUIRE(mine);
    CHECK((*mine)["process_throttle"]["type"] == "THROTTLE_STOP");
    CHECK((*mine)["process_throttle"]["shed"] == shed);
    CHECK((*mine)["process_throttle"]["process"].contains("exec_id"));
    CHECK((*mine)["process_throttle"]["duration_ms"].get<uint64_t>() < 60000);

    // And which policy's: its counters say what was posted and what was shed.
    json policies = v->policy_list();
    REQUIRE(policies.is_array());
    REQUIRE(policies.size() == 1);
    const json& c = policies[0]["counters"];
    CHECK(c["shed"] == shed);
    CHECK(c["ring_full"] == 0);
    CHECK(c["posted"] == got);
}

TEST_CASE("a cgroup over throttle.cgroup_rate has its reporting-only events dropped, counted and announced",
          "[e2e]")
{
    if (!is_root()) {
        WARN("skipped: e2e tests load BPF programs and need root");
        return;
    }
    OpenatWork w;
    const std::string& file = w.file;
    constexpr int rate = 100;
    VigildOptions o;
    o.policy_dir = w.policies.path();
    o.extra_toml = fmt::format("[throttle]\ncgroup_rate = {}\n", rate);
    auto v = Vigild::start(o);
    REQUIRE(v->wait_log("policy faults-openat loaded", 10s));

    // A cgroup of its own for the flood; this process's opens stay in its cgroup.
    TempCgroup cgroup("vigil-e2e-rate");
    constexpr int flood = 3000, mine = 50;
    RunResult r = run(workload({"cgroup-opens", cgroup.path().string(), std::to_string(flood), file}));
    REQUIRE(WIFEXITED(r.status));
    REQUIRE(WEXITSTATUS(r.status) == 0);
    for (int i = 0; i < mine; ++i)
        ::close(::open(file.c_str(), O_RDONLY));

    auto of_cgroup = [&](const char* type) {
        return [&, type](const json& ev) {
            return ev.contains("process_throttle") && ev["process_throttle"]["type"] == type &&
                   ev["process_throttle"]["cgroup"] == cgroup.event_path();
        };
    };
    auto start = v->wait_event(of_cgroup("THROTTLE_START"), 10s);
    REQUIRE(start);
    auto stop = v->wait_event(of_cgroup("THROTTLE_STOP"), 10s);
    REQUIRE(stop);
    uint64_t dropped = (*stop)["process_throttle"]["dropped"];
    auto opens_of = [&](int pid) {
        return v->select([pid](const json& ev) {
            return ev.contains("process_tracepoint") && ev["process_tracepoint"]["policy_name"] == "faults-openat" &&
                   ev["process_tracepoint"]["process"]["pid"] == pid;
        }).size();
    };
    size_t got_flood = opens_of(r.pid), got_mine = opens_of(::getpid());
    auto s = v->stats();
    INFO(fmt::format("flood={} exported={} dropped={} mine={}", flood, got_flood, dropped, got_mine));
    // The flood ran within a window or two: at most the rate per window got through.
    CHECK(got_flood >= rate);
    CHECK(got_flood <= 2 * rate + 8);
    CHECK(got_flood + dropped == flood);
    CHECK(s["cgroup_rate"] == dropped);
    // Another cgroup under the rate lost nothing.
    CHECK(got_mine == mine);
}

TEST_CASE("a plugin the verifier refuses fails with the verifier's reason in its error", "[e2e][faults]")
{
    if (!is_root()) {
        WARN("skipped: e2e tests load BPF programs and need root");
        return;
    }
    VigildOptions o;
    o.extra_toml = fmt::format("[plugins.baddec]\nlibrary = \"{}\"\non_error = \"skip\"\n"
                               "[plugins.baddec.config]\nverifier_refuses = true\n",
                               fake_plugin("libfake_bad_decoder.so"));
    auto v = Vigild::start(o);
    // The kernel's own words, from the end of the verifier log, in the one error line.
    auto at = v->wait_log("start failed", 10s);
    REQUIRE(at);
    std::string line = v->log().substr(*at);
    line = line.substr(0, line.find('\n'));
    INFO(line);
    CHECK(line.find("Permission denied") != std::string::npos);
    CHECK(line.find("(verifier: ") != std::string::npos);
    CHECK(line.find("invalid mem access 'map_value_or_null'") != std::string::npos);
    CHECK(::kill(v->pid(), 0) == 0);
}

TEST_CASE("a plugin whose decoder fails is counted and the rest keeps running", "[e2e][faults]")
{
    if (!is_root()) {
        WARN("skipped: e2e tests load BPF programs and need root");
        return;
    }
    VigildOptions o;
    o.extra_toml = fmt::format("[plugins.baddec]\nlibrary = \"{}\"\n[plugins.baddec.config]\ntarget_pid = {}\n",
                               fake_plugin("libfake_bad_decoder.so"), ::getpid());
    auto v = Vigild::start(o);
    // Each getppid() of this process is one record the fake decoder refuses (three ways in turn).
    constexpr int records = 300;
    for (int i = 0; i < records; ++i)
        ::syscall(SYS_getppid);
    RunResult r = run({"/bin/true"});
    REQUIRE(v->wait_event(is("process_exit", r.pid), 30s));
    std::map<std::string, uint64_t> s;
    for (int i = 0; i < 50 && s["decode_errors"] < records; ++i) {
        s = v->stats();
        std::this_thread::sleep_for(100ms);
    }
    CHECK(s["decode_errors"] == records);
    CHECK(s["lost"] == 0);
    CHECK(v->log().find("decode error on ring 0") != std::string::npos);
    CHECK(::kill(v->pid(), 0) == 0);
    CHECK(v->stop() == 0);
}

TEST_CASE("vigild killed with SIGKILL leaves no BPF program, map or link behind; a restart works",
          "[e2e][faults]")
{
    if (!is_root()) {
        WARN("skipped: e2e tests load BPF programs and need root");
        return;
    }
    TempDir policies;
    std::ofstream(policies.path() / "openat.yaml") << openat_policy("/nonexistent/vigil-faults/");
    VigildOptions o;
    o.policy_dir = policies.path();
    BpfIds held;
    {
        auto v = Vigild::start(o);
        REQUIRE(v->wait_log("policy faults-openat loaded", 10s));
        held = bpf_ids_of(v->pid());
        INFO(fmt::format("progs={} maps={} links={}", held.progs.size(), held.maps.size(), held.links.size()));
        REQUIRE(held.progs.size() >= 4); // exec, fork, exit and the policy's hook
        REQUIRE(held.links.size() >= 4);
        REQUIRE(::kill(v->pid(), SIGKILL) == 0);
        int status = v->stop();
        REQUIRE(WIFSIGNALED(status));
        REQUIRE(WTERMSIG(status) == SIGKILL);
    }
    // The kernel frees them once the last fd is gone; that takes an RCU grace period or so.
    BpfIds alive = still_alive(held);
    for (int i = 0; i < 100 && !alive.empty(); ++i) {
        std::this_thread::sleep_for(50ms);
        alive = still_alive(held);
    }
    INFO(fmt::format("still alive: progs={} maps={} links={}", alive.progs.size(), alive.maps.size(),
                     alive.links.size()));
    CHECK(alive.empty());
    // vigil pins nothing: bpffs holds nothing of it.
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator("/sys/fs/bpf", ec))
        CHECK(e.path().filename().string().find("vigil") == std::string::npos);

    auto v = Vigild::start(o);
    REQUIRE(v->wait_log("policy faults-openat loaded", 10s));
    RunResult r = run({"/bin/true"});
    CHECK(v->wait_event(is("process_exec", r.pid), 10s));
    CHECK(v->stop() == 0);
}

TEST_CASE("a SIGHUP storm under an exec load: vigild keeps running and leaks nothing", "[e2e][faults]")
{
    if (!is_root()) {
        WARN("skipped: e2e tests load BPF programs and need root");
        return;
    }
    // Each reload turns a plugin with a BPF program, a ring and a link on or off.
    auto config_extra = [](bool enabled) {
        return fmt::format("[plugins.baddec]\nenabled = {}\nlibrary = \"{}\"\n", enabled,
                           fake_plugin("libfake_bad_decoder.so"));
    };
    VigildOptions o;
    o.extra_toml = config_extra(true);
    auto v = Vigild::start(o);
    fs::path config = v->dir() / "vigild.toml";
    std::string base;
    {
        std::ifstream in(config);
        base.assign(std::istreambuf_iterator<char>(in), {});
        base.resize(base.find("[plugins.baddec]"));
    }
    size_t fds_before = fd_count(v->pid());
    size_t links_before = bpf_ids_of(v->pid()).links.size();

    RunResult load{};
    std::thread storm([&] { load = run(workload({"storm", "3000", "/bin/true"})); });
    constexpr int hups = 60;
    for (int i = 1; i <= hups; ++i) {
        // Replaced whole, so vigild never reads half a file.
        fs::path tmp = config.string() + ".tmp";
        std::ofstream(tmp) << base << config_extra(i % 2 == 0);
        fs::rename(tmp, config);
        ::kill(v->pid(), SIGHUP);
        std::this_thread::sleep_for(30ms);
    }
    storm.join();
    REQUIRE(WIFEXITED(load.status));
    // Signals that arrive together may be handled as one: one more reload, waited for, so
    // none is still in progress. The last config (i = 60) enables the plugin, as at the start.
    size_t from = v->log().size();
    ::kill(v->pid(), SIGHUP);
    REQUIRE(v->wait_log("after the reload", 10s, from));
    RunResult r = run({"/bin/true"});
    CHECK(v->wait_event(is("process_exec", r.pid), 30s));
    auto s = v->stats();
    CHECK(s["decode_errors"] == 0);
    CHECK(fd_count(v->pid()) == fds_before);
    CHECK(bpf_ids_of(v->pid()).links.size() == links_before);
    std::string log = v->log();
    CHECK(log.find("reload failed") == std::string::npos);
    CHECK(log.find("critical") == std::string::npos);
    CHECK(v->stop() == 0);
}

TEST_CASE("plugins whose init throws or whose start fails are reported; the rest keeps running",
          "[e2e][faults]")
{
    if (!is_root()) {
        WARN("skipped: e2e tests load BPF programs and need root");
        return;
    }
    VigildOptions o;
    o.extra_toml = fmt::format("[plugins.fake]\nlibrary = \"{}\"\non_error = \"skip\"\n"
                               "[plugins.other]\nlibrary = \"{}\"\non_error = \"skip\"\n"
                               "[plugins.other.config]\nfail_start = true\n",
                               fake_plugin("libfake_init_throws.so"), fake_plugin("libfake_other.so"));
    auto v = Vigild::start(o);
    CHECK(v->wait_log(fmt::format("{}: init failed (internal): constructor exploded",
                                  fake_plugin("libfake_init_throws.so")),
                      5s));
    CHECK(v->wait_log("start failed (kernel): start failed on purpose", 5s));
    RunResult r = run({"/bin/true"});
    CHECK(v->wait_event(is("process_exec", r.pid), 10s));
    CHECK(v->wait_event(is("process_exit", r.pid), 10s));
    CHECK(v->stop() == 0);
}

TEST_CASE("processes exiting while the /proc scan reads them are skipped, not errors", "[e2e][faults]")
{
    if (!is_root()) {
        WARN("skipped: e2e tests load BPF programs and need root");
        return;
    }
    // Short-lived processes the whole time vigild starts and rescans /proc (every SIGHUP).
    std::atomic<bool> stop{false};
    std::thread churn([&] {
        while (!stop)
            run(workload({"storm", "50", "/bin/true"}));
    });
    auto v = Vigild::start();
    size_t from = 0;
    for (int i = 0; i < 10; ++i) {
        ::kill(v->pid(), SIGHUP);
        auto at = v->wait_log("/proc scan after the reload", 10s, from);
        REQUIRE(at);
        from = *at + 1;
    }
    stop = true;
    churn.join();
    std::string log = v->log();
    INFO(log.substr(0, 4000));
    CHECK(log.find("could not be read") == std::string::npos);
    CHECK(log.find("reload failed") == std::string::npos);
    RunResult r = run({"/bin/true"});
    CHECK(v->wait_event(is("process_exec", r.pid), 10s));
    CHECK(v->stop() == 0);
}
