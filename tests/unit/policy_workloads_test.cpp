// podSelector, containerSelector, hostSelector, nodeSelector and kind TracingPolicyNamespaced as
// the parser reads them (the errors are in policy_errors_test.cpp).
#include "policy_test_util.hpp"

using namespace vigil;
using namespace vigil::policy;
using namespace vigil::policy::test;

TEST_CASE("workload selectors: null is absent, {} selects everything", "[policy][workloads]")
{
    auto spec = [](std::string_view lines) {
        return "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata: {name: t}\nspec:\n" + std::string(lines) +
               "  kprobes: [{call: sys_openat}]\n";
    };
    Policy none = parse_ok(spec("  podSelector: null\n  containerSelector:\n"));
    CHECK_FALSE(none.spec.workloads.scoped());
    CHECK_FALSE(none.spec.node_selector);

    Policy all_pods = parse_ok(spec("  podSelector: {}\n"));
    REQUIRE(all_pods.spec.workloads.pods);
    CHECK(all_pods.spec.workloads.pods->requirements.empty());
    CHECK_FALSE(all_pods.spec.workloads.containers);
    CHECK_FALSE(all_pods.spec.workloads.host);

    Policy host = parse_ok(spec("  hostSelector: {}\n"));
    CHECK(host.spec.workloads.host);
    CHECK(host.spec.workloads.scoped());
}

TEST_CASE("workload selectors: matchLabels and matchExpressions", "[policy][workloads]")
{
    Policy p = parse_ok(R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata: {name: t}
spec:
  podSelector:
    matchLabels: {app: web, tier: front}
    matchExpressions:
    - {key: track, operator: NotIn, values: [canary, beta]}
    - {key: debug, operator: DoesNotExist}
  containerSelector:
    matchExpressions:
    - {key: repo, operator: In, values: [docker.io/library/nginx]}
  nodeSelector:
    matchLabels: {zone: a}
  kprobes: [{call: sys_openat}]
)");
    REQUIRE(p.spec.workloads.pods);
    const auto& r = p.spec.workloads.pods->requirements;
    REQUIRE(r.size() == 4);
    CHECK(r[0].key == "app");
    CHECK(r[0].op == LabelOperator::in);
    CHECK(r[0].values == std::vector<std::string>{"web"});
    CHECK(r[0].loc.line == 6);
    CHECK(r[1].key == "tier");
    CHECK(r[2].key == "track");
    CHECK(r[2].op == LabelOperator::not_in);
    CHECK(r[2].values == std::vector<std::string>{"beta", "canary"}); // sorted for lookups
    CHECK(r[3].op == LabelOperator::does_not_exist);
    CHECK(r[3].values.empty());
    REQUIRE(p.spec.workloads.containers);
    CHECK(p.spec.workloads.containers->requirements.at(0).key == "repo");
    REQUIRE(p.spec.node_selector);
    CHECK(p.spec.node_selector->requirements.at(0).key == "zone");
}

TEST_CASE("TracingPolicyNamespaced keeps its namespace", "[policy][workloads]")
{
    Policy p = parse_ok("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicyNamespaced\n"
                        "metadata: {name: t, namespace: shop}\nspec:\n  kprobes: [{call: sys_openat}]\n");
    CHECK(p.kind == PolicyKind::tracing_policy_namespaced);
    CHECK(p.namespace_ == "shop");
    CHECK_FALSE(p.spec.workloads.scoped()); // the namespace alone scopes it (the host checks both)
}
