// The runtime failing under vigild: containerd killed (SIGKILL, as a crash) and restarted while
// a pod runs, and processes of a pod container no runtime can describe. Events never wait for
// the runtime: they go out with the container id, a counter says how many had no pod data, and
// once the runtime is back new containers get their pod data again.
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

// A pod whose one container execs `cat marker` five times a second.
std::string run_pod(Containerd& c, const std::string& name, const std::string& marker)
{
    return run_shell_pod(c, name, "faults", {{"app", name}}, fmt::format("while :; do cat {}; sleep 0.2; done", marker))
        .pod_id;
}

// vigild with the container plugin on `c`'s CRI socket.
std::unique_ptr<Vigild> start_vigild(const Containerd& c)
{
    VigildOptions vo;
    vo.plugins = {"tracepoint", "container"};
    vo.extra_toml = fmt::format("[plugins.container.config]\ncri_sockets = [\"{}\"]\n", c.socket().string());
    return Vigild::start(vo);
}

std::function<bool(const json&)> exec_of(const std::string& marker, bool with_pod)
{
    return [=](const json& ev) {
        auto it = ev.find("process_exec");
        return it != ev.end() && (*it)["process"].value("arguments", "") == marker &&
               (!with_pod || (*it)["process"]["pod"].contains("name"));
    };
}

} // namespace

TEST_CASE("containerd killed and restarted mid-run: no stall, container ids kept, pod data back",
          "[containers][faults]")
{
    if (std::string m = cri_tests_unavailable(); !m.empty()) {
        WARN("skipped: " << m);
        return;
    }
    auto ctrd = Containerd::start({.cri = true});
    ctrd->import_test_images();
    auto v = start_vigild(*ctrd);

    const std::string tag = random_container_id().substr(0, 8);
    const std::string m1 = "vigil-f1-" + tag, m2 = "vigil-f2-" + tag, orphan = "vigil-orphan-" + tag;
    std::string pod1 = run_pod(*ctrd, "one-" + tag, m1);
    auto described = v->wait_event(exec_of(m1, true), 30s);
    uint64_t without_before = vigil_counters(*v).value("events_without_pod", 0);

    ctrd->kill_daemon();
    auto killed_at = v->events().size();
    size_t before_kill = v->select(exec_of(m1, true)).size();
    // while the runtime is gone: the running pod goes on being reported, with its pod data (the
    // count covers every event so far: five more than at the kill)
    auto during = v->wait_events(exec_of(m1, true), before_kill + 5, 10s);
    // a process in a pod container no runtime knows: out at once, with its container id
    std::string fake_uid = random_uuid(), fake_id = random_container_id();
    fs::path cg = naming_cgroup_root() / "kubepods" / "besteffort" / ("pod" + fake_uid);
    ctrd->track_cgroup(fs::path("kubepods") / "besteffort" / ("pod" + fake_uid) / fake_id);
    fs::create_directories(cg / fake_id);
    auto r = run({"/bin/sh", "-c",
                  fmt::format("echo $$ > {} && exec /bin/cat {}", (cg / fake_id / "cgroup.procs").string(), orphan)});
    auto orphan_ev = v->wait_event(exec_of(orphan, false), 10s);
    uint64_t without_after = vigil_counters(*v).value("events_without_pod", 0);

    ctrd->restart();
    std::string pod2 = run_pod(*ctrd, "two-" + tag, m2);
    auto back = v->wait_event(exec_of(m2, true), 30s);

    int st = 0;
    for (const auto& p : {pod1, pod2})
        cri_pod(*ctrd, {"stop", p}, st);
    v->stop();
    ctrd->stop();
    ::rmdir((cg / fake_id).c_str());
    ::rmdir(cg.c_str());

    INFO(v->log());
    REQUIRE(described);
    CHECK(killed_at > 0);
    CHECK(during.size() >= before_kill + 5);
    REQUIRE(orphan_ev);
    const json& p = process_of(*orphan_ev);
    CHECK(p["docker"] == fake_id.substr(0, 31));
    CHECK_FALSE((p.contains("pod") && p["pod"].contains("name")));
    CHECK(without_after > without_before);
    INFO(ctrd->log());
    CHECK(back);
    if (back)
        CHECK(process_of(*back)["pod"]["name"] == "two-" + tag);
}

TEST_CASE("a pod container that exits and is removed before its metadata is read", "[containers][faults]")
{
    if (std::string m = cri_tests_unavailable(); !m.empty()) {
        WARN("skipped: " << m);
        return;
    }
    auto ctrd = Containerd::start({.cri = true});
    ctrd->import_test_images();
    auto v = start_vigild(*ctrd);

    const std::string tag = random_container_id().substr(0, 8);
    const std::string marker = "vigil-brief-" + tag, after = "vigil-after-" + tag;
    // the container runs one short command; the pod is stopped and removed right away
    PodIds brief = run_shell_pod(*ctrd, "brief-" + tag, "faults", {{"app", "brief"}}, "cat " + marker);
    int st = 0;
    cri_pod(*ctrd, {"stop", brief.pod_id}, st);
    bool removed = exited_ok(st);
    auto ev = v->wait_event(exec_of(marker, false), 20s);
    // vigild goes on: a later pod is described as usual
    PodIds later = run_shell_pod(*ctrd, "later-" + tag, "faults", {{"app", "later"}},
                                 fmt::format("while :; do cat {}; sleep 0.2; done", after));
    auto later_ev = v->wait_event(exec_of(after, true), 30s);
    auto counters = vigil_counters(*v);
    cri_pod(*ctrd, {"stop", later.pod_id}, st);
    v->stop();
    ctrd->stop();

    INFO(v->log());
    CHECK(removed);
    REQUIRE(ev);
    const json& p = process_of(*ev);
    CHECK(p["docker"] == brief.container_id.substr(0, 31));
    CHECK(p["pod"]["container"]["id"] == "containerd://" + brief.container_id);
    CHECK(later_ev);
    CHECK(counters.value("events_without_pod", 0) >= 1);
}
