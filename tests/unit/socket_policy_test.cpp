// The `connects` hook kind (parser, analysis, JSON) and the network selector operators as the
// compiler encodes them for the in-kernel evaluator (vsel_net entries).
#include "policy/compiler.hpp"
#include "policy_test_util.hpp"

#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <random>
#include <set>

using namespace vigil::policy;
using namespace vigil::policy::test;
using vigil::sdk::CompiledSelectors;

namespace {

std::string connects_policy(const std::string& hook)
{
    return fmt::format(R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: egress
spec:
  connects:
{})",
                       hook);
}

const char* deny_curl = R"(  - message: "curl stays inside"
    tags: [egress]
    selectors:
    - matchBinaries:
      - operator: In
        values: [/usr/bin/curl]
      matchArgs:
      - index: 0
        operator: NotDAddr
        values: ["127.0.0.0/8", "10.0.0.0/8", "::1/128", "fd00::/8"]
      - operator: DPort
        values: ["80", "443", "8000:8999"]
      matchActions:
      - action: Override
        argError: -1
)";

CompiledSelectors compile(const Policy& p, const HookCommon& h)
{
    auto c = compile_selectors(p, h, {"spec.x[0]", true});
    INFO((c ? std::string() : c.error().message()));
    REQUIRE(c);
    return *c;
}

std::string compile_error(const Policy& p, const HookCommon& h)
{
    auto c = compile_selectors(p, h, {"spec.x[0]", true});
    REQUIRE_FALSE(c);
    return c.error().message();
}

// A kprobes policy with one argument of `type` filtered by `op` with `values`.
Policy kprobe_filter(const std::string& type, const std::string& op, const std::string& values)
{
    return parse_ok(fmt::format(R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: k
spec:
  kprobes:
  - call: tcp_connect
    syscall: false
    args:
    - index: 0
      type: {}
    selectors:
    - matchArgs:
      - index: 0
        operator: {}
{})",
                                type, op, values.empty() ? "" : "        values: " + values + "\n"));
}

// The values a vsel_net entry stands for: [first, last] of the 16-bit values, or the prefix.
std::pair<uint32_t, uint32_t> span_of(const vsel_net_key& k)
{
    uint32_t bits = k.prefixlen - VSEL_NET_HEADER_BITS;
    uint32_t v = (uint32_t(k.data[0]) << 8) | k.data[1];
    return {v, v + (1u << (16 - bits)) - 1};
}

} // namespace

TEST_CASE("connects: parsed with a fixed socket argument and datagrams on by default", "[unit][socket][policy]")
{
    Policy p = parse_ok(connects_policy(deny_curl));
    REQUIRE(p.spec.connects.size() == 1);
    const Connect& c = p.spec.connects[0];
    CHECK(c.datagrams);
    CHECK(c.message == "curl stays inside");
    REQUIRE(c.args.size() == 1);
    CHECK(c.args[0].type == ArgType::sock);
    CHECK(c.args[0].index == 0);
    REQUIRE(c.selectors.size() == 1);
    CHECK(c.selectors[0].match_args[0].op == ArgOperator::not_daddr);
    CHECK(c.selectors[0].match_args[1].arg_positions == std::vector<uint32_t>{0});

    Policy q = parse_ok(connects_policy("  - datagrams: false\n"));
    CHECK_FALSE(q.spec.connects[0].datagrams);
    CHECK(q.spec.connects[0].selectors.empty());
}

TEST_CASE("connects: analysis, routing and the JSON a plugin receives", "[unit][socket][policy]")
{
    Policy p = parse_ok(connects_policy(deny_curl));
    PolicyInfo info = analyse_policy(p);
    CHECK(info.hook_kinds == std::vector<HookKind>{HookKind::connects});
    REQUIRE(info.hooks.size() == 1);
    CHECK(info.hooks[0].target == "connect,sendmsg");
    CHECK(info.has_enforcement);
    CHECK(std::count(info.hooks[0].features.begin(), info.hooks[0].features.end(), "operator:NotDAddr") == 1);
    auto j = hook_to_json(p, HookKind::connects, 0);
    REQUIRE(j);
    auto doc = nlohmann::json::parse(*j);
    CHECK(doc.at("kind") == "connects");
    CHECK(doc.at("datagrams") == true);
    CHECK(doc.at("message") == "curl stays inside");
    CHECK(doc.at("args").at(0).at("type") == "sock");
    CHECK(doc.at("selectors").at(0).at("matchArgs").at(1).at("operator") == "DPort");
    CHECK(enum_from_string<HookKind>("connects") == HookKind::connects);
}

TEST_CASE("connects: what a cgroup program cannot do is refused with the place", "[unit][socket][policy]")
{
    CHECK(parse_error(connects_policy("  - args: [{index: 0, type: sock}]\n")) ==
          "test.yaml:7:11: spec.connects[0].args: connects have one fixed argument, the socket being connected "
          "(index 0, type sock, its destination as the remote end); remove args");
    CHECK(parse_error(connects_policy("  - selectors:\n    - matchActions: [{action: Sigkill}]\n")) ==
          "test.yaml:8:22: spec.connects[0].selectors[0].matchActions[0]: Sigkill is not possible on connects: the "
          "cgroup socket programs that check them cannot send signals; use Override with argError: -1 to make "
          "the call fail with EPERM");
    CHECK(parse_error(connects_policy("  - selectors:\n    - matchActions: [{action: Override, argError: -13}]\n")) ==
          "test.yaml:8:22: spec.connects[0].selectors[0].matchActions[0]: on connects the call can only fail with "
          "EPERM: use argError: -1, not -13");
    CHECK(parse_error(connects_policy("  - selectors:\n    - matchReturnArgs: [{operator: Equal, values: [\"0\"]}]\n")) ==
          "test.yaml:8:24: spec.connects[0].selectors[0].matchReturnArgs: not valid in connects: they do not return");
    CHECK(parse_error(connects_policy("  - selectors:\n    - matchArgs: [{index: 0, operator: Prefix, values: [a]}]\n"))
              .find("operator Prefix needs an argument of type") != std::string::npos);
    CHECK(parse_error(connects_policy("  - datagram: true\n")) ==
          "test.yaml:7:5: spec.connects[0]: unknown field \"datagram\" (did you mean \"datagrams\"?)");
    CHECK(parse_error(connects_policy("  - selectors:\n    - matchArgs: [{index: 1, operator: DPort, values: [\"1\"]}]\n"))
              .find("no entry of spec.connects[0].args has index 1") != std::string::npos);
}

TEST_CASE("compiler: DAddr/NotDAddr CIDR lists become masked v4/v6 prefixes", "[unit][socket][policy]")
{
    Policy p = parse_ok(connects_policy(deny_curl));
    CompiledSelectors c = compile(p, p.spec.connects[0]);
    const vsel_selector& s = c.hook.sel[0];
    REQUIRE(s.nargs == 2);
    CHECK(s.args[0].kind == VSEL_ARG_SOCK);
    CHECK(s.args[0].op == VSEL_OP_NOT_DADDR);
    CHECK(s.args[1].op == VSEL_OP_DPORT);
    std::vector<vsel_net_key> addrs, ports;
    for (const auto& k : c.nets)
        (k.filter_id == s.args[0].filter_id ? addrs : ports).push_back(k);
    REQUIRE(addrs.size() == 4);
    CHECK(addrs[0].field == VSEL_NET_V4);
    CHECK(addrs[0].prefixlen == VSEL_NET_HEADER_BITS + 8);
    CHECK(addrs[0].data[0] == 127);
    CHECK(addrs[0].data[1] == 0);
    CHECK(addrs[2].field == VSEL_NET_V6);
    CHECK(addrs[2].prefixlen == VSEL_NET_HEADER_BITS + 128);
    CHECK(addrs[2].data[15] == 1);
    CHECK(addrs[3].prefixlen == VSEL_NET_HEADER_BITS + 8);
    CHECK(addrs[3].data[0] == 0xfd);
    // 80, 443, and 8000:8999 as aligned blocks: 8000-8191 ... 8960-8999
    std::set<uint32_t> covered;
    for (const auto& k : ports) {
        CHECK(k.field == VSEL_NET_PORT);
        auto [lo, hi] = span_of(k);
        for (uint32_t v = lo; v <= hi; ++v)
            CHECK(covered.insert(v).second);
    }
    CHECK(covered.size() == 2 + 1000);
    CHECK(covered.count(80));
    CHECK(covered.count(8999));
    CHECK_FALSE(covered.count(9000));

    // Host bits of a prefix are cleared: 10.1.2.3/8 is stored as 10.0.0.0/8.
    CompiledSelectors m;
    uint8_t a[4] = {10, 1, 2, 3};
    REQUIRE(m.add_net_prefix(1, a, 8));
    CHECK((m.nets[0].data[1] | m.nets[0].data[2] | m.nets[0].data[3]) == 0);
    uint8_t b[4] = {192, 168, 255, 255};
    REQUIRE(m.add_net_prefix(1, b, 17));
    CHECK(m.nets[1].data[2] == 0x80);
    CHECK_FALSE(m.add_net_prefix(1, b, 33));
}

TEST_CASE("compiler: port ranges are exactly covered by aligned blocks", "[unit][socket][policy]")
{
    std::mt19937 rng(7);
    std::uniform_int_distribution<uint32_t> port(0, 65535);
    std::vector<std::pair<uint32_t, uint32_t>> ranges = {{0, 65535}, {0, 0}, {65535, 65535}, {0, 1023},
                                                          {1024, 65535}, {1, 65534}};
    for (int i = 0; i < 200; ++i) {
        uint32_t a = port(rng), b = port(rng);
        ranges.push_back({std::min(a, b), std::max(a, b)});
    }
    for (auto [lo, hi] : ranges) {
        CompiledSelectors c;
        size_t n = c.add_net_range(9, VSEL_NET_PORT, lo, hi);
        INFO(lo << ":" << hi);
        CHECK(n == c.nets.size());
        CHECK(n <= 32);
        uint64_t total = 0;
        uint32_t next = lo;
        for (const auto& k : c.nets) {
            auto [first, last] = span_of(k);
            CHECK(first == next); // in order, no gap, no overlap
            CHECK((first & (last - first)) == 0); // aligned
            total += last - first + 1;
            next = last + 1;
        }
        CHECK(total == hi - lo + 1);
    }
    CompiledSelectors priv;
    CHECK(priv.add_net_range(1, VSEL_NET_PORT, 0, 1023) == 1);
}

TEST_CASE("compiler: Priv ports, Protocol, Family and State by name, number and range", "[unit][socket][policy]")
{
    auto entries = [](const Policy& p) {
        CompiledSelectors c = compile(p, p.spec.kprobes[0]);
        std::set<uint32_t> v;
        for (const auto& k : c.nets) {
            auto [lo, hi] = span_of(k);
            for (uint32_t x = lo; x <= hi; ++x)
                v.insert(x);
        }
        return std::make_pair(c, v);
    };
    {
        auto [c, v] = entries(kprobe_filter("sock", "DPortPriv", ""));
        CHECK(c.hook.sel[0].args[0].op == VSEL_OP_DPORT);
        CHECK(v.size() == 1024);
        CHECK(*v.rbegin() == 1023);
    }
    {
        auto [c, v] = entries(kprobe_filter("sock", "NotSPortPriv", ""));
        CHECK(c.hook.sel[0].args[0].op == VSEL_OP_NOT_SPORT);
    }
    {
        auto [c, v] = entries(kprobe_filter("socket", "Protocol", "[IPPROTO_TCP, \"17\", \"132:136\"]"));
        CHECK(c.hook.sel[0].args[0].op == VSEL_OP_PROTOCOL);
        CHECK(v == std::set<uint32_t>{6, 17, 132, 133, 134, 135, 136});
        CHECK(c.nets[0].field == VSEL_NET_PROTOCOL);
    }
    {
        auto [c, v] = entries(kprobe_filter("sockaddr", "Family", "[AF_INET, AF_INET6]"));
        CHECK(c.hook.sel[0].args[0].op == VSEL_OP_FAMILY);
        CHECK(v == std::set<uint32_t>{AF_INET, AF_INET6});
    }
    {
        auto [c, v] = entries(kprobe_filter("skb", "State", "[TCP_SYN_SENT, TCP_ESTABLISHED]"));
        CHECK(c.hook.sel[0].args[0].op == VSEL_OP_STATE);
        CHECK(v == std::set<uint32_t>{1, 2});
    }
    {
        auto [c, v] = entries(kprobe_filter("sockaddr", "SAddr", "[\"10.0.0.0/8\"]"));
        CHECK(c.hook.sel[0].args[0].op == VSEL_OP_SADDR);
        CHECK(c.hook.sel[0].args[0].kind == VSEL_ARG_SOCK);
    }
}

TEST_CASE("compiler: sockaddr_un compares its path; Family on it is refused", "[unit][socket][policy]")
{
    Policy p = kprobe_filter("sockaddr_un", "Prefix", "[\"@dbus\"]");
    CompiledSelectors c = compile(p, p.spec.kprobes[0]);
    CHECK(c.hook.sel[0].args[0].kind == VSEL_ARG_STR);
    REQUIRE(c.prefixes.size() == 1);
    Policy f = kprobe_filter("sockaddr_un", "Family", "[AF_UNIX]");
    CHECK(compile_error(f, f.spec.kprobes[0]).ends_with(
        "a sockaddr_un is always AF_UNIX: remove the Family filter, or declare the argument as sockaddr to "
        "compare its family"));
}

TEST_CASE("compiler: more network entries than the kernel map holds is an error naming the limit",
          "[unit][socket][policy]")
{
    // 1024 ranges of alternating single ports: 1024 entries each for 5 filters > 4096.
    std::string values = "[";
    for (int i = 0; i < 1024; ++i)
        values += fmt::format("{}\"{}\"", i ? ", " : "", i * 2 + 1);
    values += "]";
    std::string filters;
    for (int i = 0; i < 5; ++i)
        filters += fmt::format("      - index: 0\n        operator: DPort\n        values: {}\n", values);
    Policy p = parse_ok(connects_policy(fmt::format("  - selectors:\n    - matchArgs:\n{}", filters)));
    CHECK(compile_error(p, p.spec.connects[0]).ends_with(
        "the addresses, ports and value ranges of this hook need more than 4096 in-kernel entries; use fewer or "
        "wider ranges"));
}
