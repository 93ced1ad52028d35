// Pod metadata end to end: a private containerd with its CRI plugin, driven as the kubelet
// drives it (RunPodSandbox with pod labels and the io.kubernetes.* labels, CreateContainer,
// StartContainer, StopPodSandbox) by tests/containers/cri/cri_pod.py; vigild runs with the
// container plugin pointed at that containerd's socket. An exec inside the pod's container
// must carry the pod, namespace, labels, container name, image and workload.
#include "support/containerd.hpp"
#include "support/vigild.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>

using namespace vigil::e2e;
using namespace vigil::containers;
namespace fs = std::filesystem;


TEST_CASE("an exec inside a CRI pod carries pod, namespace, labels, container, image and workload",
          "[containers][pod]")
{
    if (std::string m = cri_tests_unavailable(); !m.empty()) {
        WARN("skipped: " << m);
        return;
    }
    auto ctrd = Containerd::start({.cri = true});
    ctrd->import_test_images();
    std::string uid = random_uuid();
    ctrd->track_cgroup("kubepods/besteffort/pod" + uid);

    VigildOptions vo;
    vo.plugins = {"tracepoint", "container"};
    // a second runtime socket that nothing serves: it must not hold up the one that answers
    fs::path absent = ctrd->dir() / "absent.sock";
    vo.extra_toml = fmt::format("[plugins.container.config]\ncri_sockets = [\"{}\", \"{}\"]\n", absent.string(),
                                ctrd->socket().string());
    auto v = Vigild::start(vo);

    const std::string marker = "vigil-pod-" + uid.substr(0, 8);
    nlohmann::json spec = {
        {"uid", uid},
        {"name", "cart-7d9f8b6c5d-x2x4z"},
        {"namespace", "shop"},
        {"labels", {{"app", "cart"}, {"pod-template-hash", "7d9f8b6c5d"}}},
        {"annotations", {{"team", "checkout"}}},
        {"log_directory", (ctrd->dir() / "pods" / uid).string()},
        {"container",
         {{"name", "cart"},
          {"image", "localhost/app:vigil"},
          {"command", {"/bin/sh", "-c", fmt::format("while :; do /bin/true {}; sleep 0.2; done", marker)}}}}};
    fs::path spec_file = ctrd->dir() / "pod.json";
    std::ofstream(spec_file) << spec.dump();
    int st = 0;
    std::string created = cri_pod(*ctrd, {"run", spec_file.string()}, st);
    INFO(created);
    nlohmann::json ids = exited_ok(st) ? nlohmann::json::parse(created, nullptr, false) : nlohmann::json();
    std::string cid = ids.is_object() ? ids.value("container_id", "") : "";

    // the first execs may go out before the runtime has described the pod; later ones carry it
    auto with_pod = v->wait_event(
        [&](const json& ev) {
            auto it = ev.find("process_exec");
            return it != ev.end() && (*it)["process"].value("arguments", "") == marker &&
                   (*it)["process"].contains("pod") && (*it)["process"]["pod"].contains("name");
        },
        30s);
    auto first = v->wait_event([&](const json& ev) {
        auto it = ev.find("process_exec");
        return it != ev.end() && (*it)["process"].value("arguments", "") == marker;
    });
    auto counters = vigil_counters(*v);
    // the API filters by workload, as `vigil getevents` asks for them: events for 2 s each
    auto getevents = [&](const std::string& name, const std::string& opts) {
        fs::path out = v->dir() / (name + ".jsonl");
        run({"/bin/sh", "-c",
             fmt::format("{} --socket {} getevents --event-types process_exec --timeout 2 {} > {}", VIGIL_CLI_PATH,
                         (v->dir() / "vigil.sock").string(), opts, out.string())});
        std::vector<json> evs;
        std::istringstream lines(slurp(out));
        for (std::string line; std::getline(lines, line);)
            if (auto j = json::parse(line, nullptr, false); j.is_object())
                evs.push_back(std::move(j));
        return evs;
    };
    auto by_pod = getevents("by_pod", "--pod '^cart-7d9f'");
    auto by_labels = getevents("by_labels", "--pod-labels 'app in (cart,web),pod-template-hash'");
    auto by_id = getevents("by_id", fmt::format("--container-id '^{}'", cid.substr(0, 12)));
    auto none = getevents("none", "--pod-labels 'app=web'");

    if (ids.is_object())
        cri_pod(*ctrd, {"stop", ids.value("pod_id", "")}, st);
    v->stop();
    ctrd->stop();

    REQUIRE(!cid.empty());
    REQUIRE(first);
    CHECK(process_of(*first)["docker"] == cid.substr(0, 31));
    INFO(v->log());
    REQUIRE(with_pod);
    const json& p = process_of(*with_pod);
    CHECK(p["docker"] == cid.substr(0, 31));
    const json& pod = p["pod"];
    CHECK(pod["namespace"] == "shop");
    CHECK(pod["name"] == "cart-7d9f8b6c5d-x2x4z");
    CHECK(pod["uid"] == uid);
    CHECK(pod["pod_labels"]["app"] == "cart");
    CHECK(pod["pod_labels"]["io.kubernetes.pod.namespace"] == "shop");
    CHECK(pod["container"]["id"] == "containerd://" + cid);
    CHECK(pod["container"]["name"] == "cart");
    CHECK(pod["container"]["image"]["name"] == "localhost/app:vigil");
    CHECK(pod["container"]["image"]["id"].get<std::string>().starts_with("sha256:"));
    CHECK(pod["container"]["start_time"].get<std::string>().ends_with("Z"));
    CHECK(pod["workload"] == "cart");
    CHECK(pod["workload_kind"] == "Deployment");
    CHECK_FALSE(pod.contains("pod_annotations")); // off by default
    // the shell of the loop is the parent, in the same pod
    CHECK(body_of(*with_pod)["parent"]["pod"]["name"] == "cart-7d9f8b6c5d-x2x4z");
    CHECK(v->log().find(fmt::format("CRI runtime at {}", absent.string())) != std::string::npos);
    // events of the pod went out before its metadata came, with the container id: counted
    INFO(counters.dump());
    CHECK(counters.value("events_without_pod", 0) >= 1);
    for (const auto* evs : {&by_pod, &by_labels, &by_id}) {
        CHECK(evs->size() >= 3); // the loop execs five times a second
        for (const auto& ev : *evs)
            CHECK(process_of(ev)["pod"]["name"] == "cart-7d9f8b6c5d-x2x4z");
    }
    CHECK(none.empty());
}
