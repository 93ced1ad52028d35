// The descriptor is the contract the policy manager routes by: a hook goes to the plugin serving
// its kind only when that plugin declares every argument type the hook reads (needs root: the
// registry's shared maps).
#include "policy_host/manager.hpp"
#include "policy/policy.hpp"
#include "registry_fixture.hpp"

#include <fmt/format.h>

#include <string>

namespace {

std::string tracepoint_policy(const char* name, const char* type)
{
    return fmt::format(R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: {}
spec:
  tracepoints:
  - subsystem: syscalls
    event: sys_enter_openat
    args:
    - index: 6
      type: {}
)",
                       name, type);
}

} // namespace

TEST_CASE("a hook reading an argument type its plugin does not declare is refused", "[bpf][policy_routing]")
{
    test::RegistryFixture f;
    REQUIRE(f.load("[plugins.intonly]\nlibrary = \"libfake_int_tracepoints.so\"\n"));
    vigil::PolicyManager policies(f.registry);

    auto refused = vigil::policy::parse_policy(tracepoint_policy("strings", "string"), "strings.yaml");
    REQUIRE(refused);
    auto r = policies.add(std::move(*refused));
    REQUIRE_FALSE(r);
    CHECK(r.error().message() ==
          "policy strings: strings.yaml:7:5: spec.tracepoints[0]: plugin intonly serves \"tracepoints\" but does not "
          "declare the argument type(s) string in its descriptor (it declares: int)");
    CHECK(policies.find("strings") == nullptr);

    auto ints = vigil::policy::parse_policy(tracepoint_policy("ints", "int"), "ints.yaml");
    REQUIRE(ints);
    REQUIRE(policies.add(std::move(*ints)));
    REQUIRE(policies.find("ints"));
    CHECK(policies.find("ints")->hooks.at(0).plugin == "intonly");
    policies.remove_all();
}
