// Every sample policy shipped in examples/policies parses, and says what it needs.
#include "policy_test_util.hpp"

#include <filesystem>

using namespace vigil;
using namespace vigil::policy;
using namespace vigil::policy::test;

TEST_CASE("examples/policies all parse", "[policy][examples]")
{
    size_t count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(VIGIL_EXAMPLE_POLICIES)) {
        if (entry.path().extension() != ".yaml")
            continue;
        ++count;
        INFO(entry.path().string());
        auto p = load_policy_file(entry.path());
        INFO((p ? std::string() : p.error().message()));
        REQUIRE(p);
        PolicyInfo info = analyse_policy(*p);
        CHECK_FALSE(info.hooks.empty());
        for (const auto& h : info.hooks)
            CHECK(hook_to_json(*p, h.kind, h.index));
    }
    CHECK(count >= 7);
}

TEST_CASE("the linkat example kills, the egress one can deny, the others only report", "[policy][examples]")
{
    std::string dir = VIGIL_EXAMPLE_POLICIES;
    auto kill = load_policy_file(dir + "/linkat-etc-passwd-sigkill.yaml");
    REQUIRE(kill);
    PolicyInfo info = analyse_policy(*kill);
    CHECK(info.has_enforcement);
    CHECK(info.requested_mode == PolicyMode::enforce);
    CHECK(info.hook_kinds == std::vector<HookKind>{HookKind::tracepoints});

    for (std::string_view name : {"openat-tracepoint.yaml", "openat-kprobe.yaml",
                                  "write-stdout-kprobe.yaml", "raw-syscalls-list.yaml",
                                  "setuid-root-monitor.yaml", "tcp-connect-kprobe.yaml"}) {
        INFO(name);
        auto p = load_policy_file(dir + "/" + std::string(name));
        REQUIRE(p);
        CHECK(analyse_policy(*p).monitor_only());
    }

    auto write = load_policy_file(dir + "/write-stdout-kprobe.yaml");
    REQUIRE(write);
    const Arg& buf = write->spec.kprobes.at(0).args.at(1);
    CHECK(buf.type == ArgType::char_buf);
    CHECK(buf.size_arg_index == 3);

    auto egress = load_policy_file(dir + "/egress-private-only.yaml");
    REQUIRE(egress);
    PolicyInfo e = analyse_policy(*egress);
    CHECK(e.has_enforcement);
    CHECK(e.requested_mode == PolicyMode::monitor);
    CHECK(e.hook_kinds == std::vector<HookKind>{HookKind::connects});
}
