// Which containers a workload-scoped policy selects (host/container/workload_sets): the
// matching the host does before it puts a container's cgroups into the kernel's sets.
#include "container/workload_sets.hpp"

#include <catch2/catch.hpp>

using namespace vigil;
using policy::LabelOperator;
using policy::LabelSelector;

namespace {

LabelSelector selector(std::vector<policy::LabelRequirement> r) { return LabelSelector{std::move(r)}; }

policy::LabelRequirement req(std::string key, LabelOperator op, std::vector<std::string> values = {})
{
    std::sort(values.begin(), values.end());
    return {{}, std::move(key), op, std::move(values)};
}

ContainerMeta pod_container(std::string ns, Labels labels, std::string name = "app",
                            std::string image = "docker.io/library/nginx:1.27")
{
    ContainerMeta m;
    m.id = "c1";
    m.name = std::move(name);
    m.image_name = std::move(image);
    m.pod_name = "web-1";
    m.pod_namespace = std::move(ns);
    std::sort(labels.begin(), labels.end());
    m.pod_labels = std::move(labels);
    return m;
}

} // namespace

TEST_CASE("label selectors: Kubernetes semantics of each operator", "[workloads]")
{
    Labels l{{"app", "web"}, {"tier", "front"}};
    CHECK(label_selector_matches(selector({}), l));
    CHECK(label_selector_matches(selector({req("app", LabelOperator::in, {"web", "api"})}), l));
    CHECK_FALSE(label_selector_matches(selector({req("app", LabelOperator::in, {"api"})}), l));
    CHECK(label_selector_matches(selector({req("app", LabelOperator::not_in, {"api"})}), l));
    CHECK(label_selector_matches(selector({req("zone", LabelOperator::not_in, {"a"})}), l)); // absent key
    CHECK_FALSE(label_selector_matches(selector({req("app", LabelOperator::not_in, {"web"})}), l));
    CHECK(label_selector_matches(selector({req("tier", LabelOperator::exists)}), l));
    CHECK_FALSE(label_selector_matches(selector({req("zone", LabelOperator::exists)}), l));
    CHECK(label_selector_matches(selector({req("zone", LabelOperator::does_not_exist)}), l));
    // every requirement must hold
    CHECK_FALSE(label_selector_matches(
        selector({req("app", LabelOperator::in, {"web"}), req("tier", LabelOperator::does_not_exist)}), l));
}

TEST_CASE("image repo: the image name without tag or digest", "[workloads]")
{
    CHECK(image_repo("docker.io/library/nginx:1.27") == "docker.io/library/nginx");
    CHECK(image_repo("localhost:5000/app") == "localhost:5000/app");
    CHECK(image_repo("localhost:5000/app:v1@sha256:abcd") == "localhost:5000/app");
    CHECK(image_repo("busybox") == "busybox");
}

TEST_CASE("workload scope: namespaces, pods, containers, host", "[workloads]")
{
    ContainerMeta shop = pod_container("shop", {{"app", "cart"}});
    ContainerMeta plain; // a container outside Kubernetes (ctr, podman)
    plain.id = "c2";
    plain.name = "db";
    plain.image_name = "localhost/db:1";

    WorkloadPolicy ns{"shop", {}};
    CHECK(ns.scoped());
    CHECK(workload_selects(ns, &shop));
    CHECK_FALSE(workload_selects(WorkloadPolicy{"other", {}}, &shop));
    CHECK_FALSE(workload_selects(ns, &plain));
    CHECK_FALSE(workload_selects(ns, nullptr)); // metadata not known yet

    WorkloadPolicy all_pods{"", {LabelSelector{}, std::nullopt, false}};
    CHECK(workload_selects(all_pods, &shop));
    CHECK_FALSE(workload_selects(all_pods, &plain));

    WorkloadPolicy by_label{"", {selector({req("app", LabelOperator::in, {"cart"})}), std::nullopt, false}};
    CHECK(workload_selects(by_label, &shop));
    CHECK_FALSE(workload_selects(by_label, &plain));
    // the pod's namespace as a label key
    WorkloadPolicy by_ns_label{
        "", {selector({req("k8s:io.kubernetes.pod.namespace", LabelOperator::in, {"shop"})}), std::nullopt, false}};
    CHECK(workload_selects(by_ns_label, &shop));

    // containerSelector alone: any container, in a pod or not
    WorkloadPolicy by_repo{"", {std::nullopt, selector({req("repo", LabelOperator::in, {"localhost/db"})}), false}};
    CHECK(workload_selects(by_repo, &plain));
    CHECK_FALSE(workload_selects(by_repo, &shop));
    WorkloadPolicy pod_and_name{"",
                                {selector({req("app", LabelOperator::exists)}),
                                 selector({req("name", LabelOperator::in, {"sidecar"})}), false}};
    CHECK_FALSE(workload_selects(pod_and_name, &shop));
    ContainerMeta sidecar = pod_container("shop", {{"app", "x"}}, "sidecar");
    CHECK(workload_selects(pod_and_name, &sidecar));

    // hostSelector alone: no container at all (host processes are matched in the kernel)
    WorkloadPolicy host_only{"", {std::nullopt, std::nullopt, true}};
    CHECK(host_only.scoped());
    CHECK_FALSE(workload_selects(host_only, &shop));
    CHECK_FALSE(workload_selects(host_only, &plain));
    // with a podSelector: the host and the selected pods
    WorkloadPolicy host_and_pods{"", {LabelSelector{}, std::nullopt, true}};
    CHECK(workload_selects(host_and_pods, &shop));
    CHECK_FALSE(workload_selects(host_and_pods, &plain));

    CHECK_FALSE(WorkloadPolicy{}.scoped());
}

TEST_CASE("nodeSelector against the node labels of the config", "[workloads]")
{
    Labels node{{"zone", "a"}};
    CHECK(node_selected(std::nullopt, node));
    CHECK(node_selected(selector({req("zone", LabelOperator::in, {"a"})}), node));
    CHECK_FALSE(node_selected(selector({req("zone", LabelOperator::in, {"b"})}), node));
    CHECK_FALSE(node_selected(selector({req("gpu", LabelOperator::exists)}), {}));
}

TEST_CASE("label selectors in text form, as kubectl -l takes them", "[workloads]")
{
    auto sel = parse_label_selector("app=web, tier==front,zone!=a,track in (canary, beta),env notin (prod),debug,!gpu");
    REQUIRE(sel);
    const auto& r = sel->requirements;
    REQUIRE(r.size() == 7);
    CHECK((r[0].key == "app" && r[0].op == LabelOperator::in && r[0].values == std::vector<std::string>{"web"}));
    CHECK((r[1].key == "tier" && r[1].op == LabelOperator::in && r[1].values == std::vector<std::string>{"front"}));
    CHECK((r[2].key == "zone" && r[2].op == LabelOperator::not_in));
    CHECK((r[3].key == "track" && r[3].values == std::vector<std::string>{"beta", "canary"}));
    CHECK((r[4].key == "env" && r[4].op == LabelOperator::not_in));
    CHECK((r[5].key == "debug" && r[5].op == LabelOperator::exists));
    CHECK((r[6].key == "gpu" && r[6].op == LabelOperator::does_not_exist));
    CHECK(label_selector_matches(*sel, {{"app", "web"}, {"debug", "1"}, {"tier", "front"}, {"track", "beta"}}));

    auto error = [](std::string_view text) {
        auto s = parse_label_selector(text);
        REQUIRE_FALSE(s);
        return s.error().message();
    };
    CHECK(error("app=web,,x") == "label selector \"app=web,,x\": \"\": empty requirement");
    CHECK(error("app ~ web") ==
          "label selector \"app ~ web\": \"app ~ web\": expected =, ==, !=, in (...) or notin (...) after the key");
    CHECK(error("app=we b") == "label selector \"app=we b\": \"app=we b\": \"we b\" is not a valid label value");
    CHECK(error("=web") == "label selector \"=web\": \"=web\": not a valid label key");
}
