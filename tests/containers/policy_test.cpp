// Policies scoped to workloads, end to end: a private containerd driven through CRI as the
// kubelet drives it, vigild with the container plugin, and tracepoint policies on openat(2)
// whose scope (kind TracingPolicyNamespaced, podSelector) is checked in the kernel against the
// workload sets the host keeps. Each pod's container loops over `cat <its own path>`; a host
// process opens the same kind of path.
#include "support/containerd.hpp"
#include "support/vigild.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

using namespace vigil::e2e;
using namespace vigil::containers;
namespace fs = std::filesystem;

namespace {

// A policy on syscalls/sys_enter_openat for paths starting with `prefix`; `kind_meta` and
// `scope` are the lines that scope it.
std::string openat_policy(const std::string& kind_meta, const std::string& scope, const std::string& prefix)
{
    return fmt::format(R"(apiVersion: cilium.io/v1alpha1
{}
spec:
{}  tracepoints:
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
                       kind_meta, scope, prefix);
}

// Runs a pod whose one container opens `path` five times a second.
PodIds run_pod(Containerd& c, const std::string& name, const std::string& ns, const nlohmann::json& labels,
               const std::string& path)
{
    return run_shell_pod(c, name, ns, labels, fmt::format("while :; do cat {} 2>/dev/null; sleep 0.2; done", path));
}

// The exec of `cat path` (by the process sensor): the process ran, whatever the policies say.
std::function<bool(const json&)> cat_exec(const std::string& path)
{
    return [=](const json& ev) {
        auto it = ev.find("process_exec");
        return it != ev.end() && (*it)["process"].value("arguments", "") == path;
    };
}

RunResult cli(const Vigild& v, const std::vector<std::string>& args)
{
    std::vector<std::string> argv = {VIGIL_CLI_PATH, "--socket", (v.dir() / "vigil.sock").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
}

} // namespace

TEST_CASE("workload-scoped policies: namespace and pod labels checked in the kernel", "[containers][policy]")
{
    if (std::string m = cri_tests_unavailable(); !m.empty()) {
        WARN("skipped: " << m);
        return;
    }
    auto ctrd = Containerd::start({.cri = true});
    ctrd->import_test_images();

    const std::string tag = random_container_id().substr(0, 8);
    const std::string prefix = "/tmp/vigil-wl-" + tag;
    const std::string path_a = prefix + "-a", path_b = prefix + "-b", path_c = prefix + "-c", path_host = prefix + "-h";

    // loaded at start: applies to the pods of namespace team-a only
    TempDir policies;
    std::ofstream(policies.path() / "ns.yaml")
        << openat_policy("kind: TracingPolicyNamespaced\nmetadata: {name: wl-ns, namespace: team-a}", "", prefix);
    // loaded at start: host processes only
    std::ofstream(policies.path() / "host.yaml")
        << openat_policy("kind: TracingPolicy\nmetadata: {name: wl-host}", "  hostSelector: {}\n", prefix);
    VigildOptions vo;
    vo.plugins = {"tracepoint", "container"};
    vo.policy_dir = policies.path();
    vo.ready_timeout = std::chrono::seconds(90);
    vo.extra_toml = fmt::format("[plugins.container.config]\ncri_sockets = [\"{}\"]\n", ctrd->socket().string());
    auto v = Vigild::start(vo);

    PodIds a = run_pod(*ctrd, "a-" + tag, "team-a", {{"app", "a"}}, path_a);
    PodIds b = run_pod(*ctrd, "b-" + tag, "team-b", {{"app", "a"}}, path_b);

    // a podSelector policy added while vigild runs, before the pod it selects exists
    fs::path label_policy = v->dir() / "labels.yaml";
    std::ofstream(label_policy) << openat_policy("kind: TracingPolicy\nmetadata: {name: wl-labels}",
                                                 fmt::format("  podSelector:\n    matchLabels: {{app: c-{}}}\n", tag),
                                                 prefix);
    auto added = cli(*v, {"policy", "add", label_policy.string()});
    PodIds c = run_pod(*ctrd, "c-" + tag, "team-b", {{"app", "c-" + tag}}, path_c);

    auto a_hits = v->wait_events(tracepoint_event("wl-ns", path_a), 3, 60s);
    // A's cgroup is known to be a container's by now; what wl-host sent before that (the window
    // before the first exec is seen, docs/kubernetes.md) is out within a second
    std::this_thread::sleep_for(1s);
    v->events();
    size_t host_a_before = v->select(tracepoint_event("wl-host", path_a)).size();
    auto c_hit = v->wait_event(tracepoint_event("wl-labels", path_c), 60s);
    // B has run as long as A and been described by the runtime
    auto b_ran = v->wait_event(cat_exec(path_b), 20s);
    // host processes open the same kind of paths: neither policy applies to them
    for (int i = 0; i < 5; ++i) {
        run({"/bin/cat", path_host});
        run({"/bin/cat", path_c});
    }
    auto host_ran = v->wait_event(cat_exec(path_host), 10s);
    size_t host_b_before = v->select(tracepoint_event("wl-host", path_b)).size(); // B known since b_ran

    // deleted: no more events of it once the delete returned
    auto deleted = cli(*v, {"policy", "delete", "wl-labels"});
    std::this_thread::sleep_for(1s); // what the hook sent before it was removed comes out first
    v->events();
    size_t c_before = v->select(tracepoint_event("wl-labels", path_c)).size();
    std::this_thread::sleep_for(2s);
    v->events();
    size_t c_after = v->select(tracepoint_event("wl-labels", path_c)).size();
    size_t a_count = v->select(tracepoint_event("wl-ns", path_a)).size();
    size_t a_more = v->wait_events(tracepoint_event("wl-ns", path_a), a_count + 2, 10s).size(); // wl-ns still fires

    for (const PodIds* p : {&a, &b, &c}) {
        int st = 0;
        cri_pod(*ctrd, {"stop", p->pod_id}, st);
    }
    v->stop();
    ctrd->stop();

    INFO(v->log());
    CHECK(added.status == 0);
    CHECK(deleted.status == 0);
    CHECK(a_hits.size() >= 3);
    REQUIRE(b_ran);
    REQUIRE(host_ran);
    // namespace team-b is outside wl-ns, even with the same labels as A
    CHECK(v->select(tracepoint_event("wl-ns", path_b)).empty());
    CHECK(v->select(tracepoint_event("wl-ns", path_c)).empty());
    CHECK(v->select(tracepoint_event("wl-ns", path_host)).empty());
    // wl-labels: pod C, created after it, only; never A (other labels) nor the host, even for C's path
    CHECK(c_hit);
    CHECK(v->select(tracepoint_event("wl-labels", path_a)).empty());
    CHECK(v->select(tracepoint_event("wl-labels", path_host)).empty());
    for (const auto& ev : v->select(tracepoint_event("wl-labels", path_c)))
        CHECK(process_of(ev).contains("pod"));
    CHECK(c_after == c_before);
    // wl-host: the host's opens, and no more of A's once A is known as a container
    CHECK(v->wait_event(tracepoint_event("wl-host", path_host), 1s));
    CHECK(v->select(tracepoint_event("wl-host", path_a)).size() == host_a_before);
    CHECK(v->select(tracepoint_event("wl-host", path_b)).size() == host_b_before);
    CHECK(a_more >= a_count + 2);
}
