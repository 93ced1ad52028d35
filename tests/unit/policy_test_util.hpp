// Helpers shared by the policy_*_test.cpp files.
#pragma once

#include "policy/policy.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

namespace vigil::policy::test {

inline std::string read_text(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Parses tests/unit/policy_fixtures/NAME with NAME as the source, so messages do not depend on
// where the tree is checked out.
inline Result<Policy> parse_fixture(const std::string& name)
{
    return parse_policy(read_text(std::string(VIGIL_POLICY_FIXTURES) + "/" + name), name);
}

inline Policy parse_ok(std::string_view yaml, std::string_view source = "test.yaml")
{
    auto p = parse_policy(yaml, source);
    INFO((p ? std::string() : p.error().message()));
    REQUIRE(p.has_value());
    return *p;
}

inline Policy fixture_ok(const std::string& name)
{
    auto p = parse_fixture(name);
    INFO((p ? std::string() : p.error().message()));
    REQUIRE(p.has_value());
    return *p;
}

// The whole error text of a policy that must fail.
inline std::string parse_error(std::string_view yaml, std::string_view source = "test.yaml")
{
    auto p = parse_policy(yaml, source);
    REQUIRE_FALSE(p.has_value());
    return p.error().message();
}

// The warnings of a policy that parses, one per line.
inline std::string parse_warnings(std::string_view yaml, std::string_view source = "test.yaml")
{
    auto p = parse_policy(yaml, source);
    if (!p)
        FAIL(p.error().message());
    std::string out;
    for (const auto& w : p->warnings)
        out += (out.empty() ? "" : "\n") + w;
    return out;
}

inline Errc parse_errc(std::string_view yaml)
{
    auto p = parse_policy(yaml, "test.yaml");
    REQUIRE_FALSE(p.has_value());
    return p.error().code;
}

inline std::string fixture_error(const std::string& name)
{
    auto p = parse_fixture(name);
    REQUIRE_FALSE(p.has_value());
    return p.error().message();
}

// A one-kprobe policy around the given lines (each already indented for the kprobe entry).
// Line 1 is "apiVersion", the kprobe entry ("- call: ...") is line 7, `body` starts on line 8,
// indented by four spaces.
inline std::string kprobe_policy(std::string_view body, std::string_view call = "sys_openat")
{
    return fmt::format("apiVersion: cilium.io/v1alpha1\n"
                       "kind: TracingPolicy\n"
                       "metadata:\n"
                       "  name: test\n"
                       "spec:\n"
                       "  kprobes:\n"
                       "  - call: {}\n"
                       "{}",
                       call, body);
}

} // namespace vigil::policy::test
