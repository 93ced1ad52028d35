// Every selector kind and every matchArgs operator, with the argument types it accepts.
#include "policy/compiler.hpp"
#include "policy_test_util.hpp"

#include <set>

using namespace vigil;
using namespace vigil::policy;
using namespace vigil::policy::test;

namespace {

// One kprobe with one arg of `type` at index 0 and one matchArgs filter on it.
Result<Policy> parse_filter(std::string_view type, std::string_view op,
                            const std::vector<std::string>& values)
{
    std::string list;
    for (const auto& v : values)
        list += fmt::format("{}\"{}\"", list.empty() ? "" : ", ", v);
    return parse_policy(
        kprobe_policy(fmt::format("    args: [{{index: 0, type: {}}}]\n"
                                  "    selectors:\n"
                                  "    - matchArgs: [{{index: 0, operator: {}, values: [{}]}}]\n"
                                  "  lists: [{{name: sys, type: syscalls, values: [sys_dup]}}]\n",
                                  type, op, list)),
        "test.yaml");
}

} // namespace

TEST_CASE("every selector kind, with every field", "[policy][selectors]")
{
    Policy p = fixture_ok("selectors_all.yaml");
    const auto& sels = p.spec.kprobes.at(0).selectors;
    REQUIRE(sels.size() == 2);
    const Selector& s = sels[0];

    REQUIRE(s.match_pids.size() == 2);
    CHECK(s.match_pids[0].op == SetOperator::not_in);
    CHECK(s.match_pids[0].follow_forks);
    CHECK(s.match_pids[0].is_namespace_pid);
    CHECK(s.match_pids[0].values == std::vector<uint32_t>{0, 1});
    CHECK(s.match_pids[1].op == SetOperator::in);
    CHECK_FALSE(s.match_pids[1].follow_forks);
    CHECK(s.match_pids[1].values == std::vector<uint32_t>{4242});

    REQUIRE(s.match_args.size() == 1);
    CHECK(s.match_args[0].index == 0u);

    REQUIRE(s.match_binaries.size() == 1);
    CHECK(s.match_binaries[0].op == BinaryOperator::prefix);
    CHECK(s.match_binaries[0].values == std::vector<std::string>{"/usr/local/"});
    CHECK_FALSE(s.match_binaries[0].follow_children);

    REQUIRE(s.match_namespaces.size() == 2);
    CHECK(s.match_namespaces[0].type == NamespaceType::pid);
    CHECK(s.match_namespaces[0].op == SetOperator::not_in);
    REQUIRE(s.match_namespaces[0].values.size() == 1);
    CHECK(s.match_namespaces[0].values[0].host_ns);
    CHECK(s.match_namespaces[1].type == NamespaceType::mnt); // written "mnt"
    REQUIRE(s.match_namespaces[1].values.size() == 2);
    CHECK_FALSE(s.match_namespaces[1].values[0].host_ns);
    CHECK(s.match_namespaces[1].values[0].inum == 4026531841u);
    CHECK(s.match_namespaces[1].values[1].host_ns);

    REQUIRE(s.match_namespace_changes.size() == 1);
    CHECK(s.match_namespace_changes[0].op == SetOperator::in);
    CHECK(s.match_namespace_changes[0].values ==
          std::vector<NamespaceType>{NamespaceType::mnt, NamespaceType::user});

    REQUIRE(s.match_capabilities.size() == 1);
    CHECK(s.match_capabilities[0].type == CapabilitySet::permitted);
    CHECK(s.match_capabilities[0].is_namespace_capability);
    CHECK(s.match_capabilities[0].mask == ((uint64_t{1} << 21) | (uint64_t{1} << 13)));
    REQUIRE(s.match_capability_changes.size() == 1);
    CHECK(s.match_capability_changes[0].type == CapabilitySet::effective); // the default
    CHECK(s.match_capability_changes[0].op == SetOperator::not_in);
    CHECK(s.match_capability_changes[0].mask == uint64_t{1} << 7);

    REQUIRE(s.match_actions.size() == 3);
    CHECK(s.match_actions[0].kind == ActionKind::post);
    CHECK(s.match_actions[0].rate_limit_ms == 30'000);
    CHECK(s.match_actions[0].rate_limit_scope == RateLimitScope::thread);
    CHECK(s.match_actions[1].kind == ActionKind::get_url);
    CHECK(s.match_actions[1].arg_url == "http://canary.example/hit");
    CHECK(s.match_actions[2].kind == ActionKind::dns_lookup);
    CHECK(s.match_actions[2].arg_fqdn == "canary.example");

    CHECK(sels[1].match_binaries.at(0).follow_children);
    CHECK(sels[1].match_actions.at(0).kind == ActionKind::no_post);
}

TEST_CASE("an empty selector matches everything", "[policy][selectors]")
{
    Policy p = parse_ok(kprobe_policy("    selectors:\n    - {}\n"));
    const Selector& s = p.spec.kprobes[0].selectors.at(0);
    CHECK(s.match_args.empty());
    CHECK(s.match_actions.empty());
}

TEST_CASE("every matchArgs operator on the types it accepts", "[policy][selectors]")
{
    struct Case {
        std::string_view type;
        std::string_view op;
        ArgOperator expect;
        std::vector<std::string> values;
    };
    const Case cases[] = {
        {"string", "Equal", ArgOperator::equal, {"/etc/passwd", "/etc/shadow"}},
        {"int", "Equal", ArgOperator::equal, {"-1", "0x10", "017", "0b11"}},
        {"kernel_cap_t", "Equal", ArgOperator::equal, {"0x200000", "CAP_SYS_ADMIN,CAP_BPF"}},
        {"fd", "NotEqual", ArgOperator::not_equal, {"/dev/null"}},
        {"file", "Prefix", ArgOperator::prefix, {"/etc/"}},
        {"path", "NotPrefix", ArgOperator::not_prefix, {"/tmp/"}},
        {"char_buf", "Postfix", ArgOperator::postfix, {".so"}},
        {"linux_binprm", "NotPostfix", ArgOperator::not_postfix, {"/sh"}},
        {"size_t", "GT", ArgOperator::gt, {"4096"}},
        {"int64", "GreaterThan", ArgOperator::gt, {"-5"}},
        {"uint16", "LT", ArgOperator::lt, {"1024"}},
        {"int32", "LessThan", ArgOperator::lt, {"0"}},
        {"uint32", "Mask", ArgOperator::mask, {"0x200", "1"}},
        {"syscall64", "InMap", ArgOperator::in_map, {"list:sys", "59", "100:110"}},
        {"uint64", "NotInMap", ArgOperator::not_in_map, {"1", "2"}},
        {"int", "InRange", ArgOperator::in_range, {"-5:5"}},
        {"uint8", "NotInRange", ArgOperator::not_in_range, {"0:127"}},
        {"sock", "SPort", ArgOperator::sport, {"22", "8000:8080"}},
        {"sockaddr", "NotSPort", ArgOperator::not_sport, {"53"}},
        {"sock", "SPortPriv", ArgOperator::sport_priv, {}},
        {"skb", "NotSPortPriv", ArgOperator::not_sport_priv, {}},
        {"skb", "NotSportPriv", ArgOperator::not_sport_priv, {}},
        {"socket", "DPort", ArgOperator::dport, {"443"}},
        {"sock", "NotDPort", ArgOperator::not_dport, {"80"}},
        {"sock", "DPortPriv", ArgOperator::dport_priv, {}},
        {"sock", "NotDPortPriv", ArgOperator::not_dport_priv, {}},
        {"sockaddr", "SAddr", ArgOperator::saddr, {"10.0.0.0/8", "fd00::/8"}},
        {"sock", "NotSAddr", ArgOperator::not_saddr, {"127.0.0.1"}},
        {"skb", "DAddr", ArgOperator::daddr, {"::1", "192.168.0.0/16"}},
        {"sock", "NotDAddr", ArgOperator::not_daddr, {"0.0.0.0/0"}},
        {"sock", "Protocol", ArgOperator::protocol, {"IPPROTO_TCP", "17", "1:2"}},
        {"sockaddr_un", "Family", ArgOperator::family, {"AF_UNIX"}},
        {"socket", "Family", ArgOperator::family, {"AF_INET", "10"}},
        {"sock", "State", ArgOperator::state, {"TCP_ESTABLISHED", "TCP_NEW_SYN_RECV", "7"}},
        {"string", "SubString", ArgOperator::substring, {"passwd"}},
        {"char_buf", "SubStringIgnCase", ArgOperator::substring_ign_case, {"PASSWORD"}},
        {"string", "SubStringIgnoreCase", ArgOperator::substring_ign_case, {"x"}},
        {"int", "CelExpr", ArgOperator::cel_expr, {"arg0 > int32(5)"}},
        {"file", "FileType", ArgOperator::file_type, {"reg", "dir"}},
        {"path", "NotFileType", ArgOperator::not_file_type, {"fifo", "sock"}},
        {"auto", "Equal", ArgOperator::equal, {"anything"}},
        {"auto", "Prefix", ArgOperator::prefix, {"/"}},
        {"int", "eq", ArgOperator::equal, {"3"}},
        {"int", "neq", ArgOperator::not_equal, {"3"}},
        {"int", "gt", ArgOperator::gt, {"3"}},
    };
    for (const auto& c : cases) {
        INFO(c.type << " " << c.op);
        auto p = parse_filter(c.type, c.op, c.values);
        INFO((p ? std::string() : p.error().message()));
        REQUIRE(p);
        const ArgFilter& f = p->spec.kprobes[0].selectors[0].match_args.at(0);
        CHECK(f.op == c.expect);
        CHECK(f.values == c.values);
        if (c.expect == ArgOperator::cel_expr)
            CHECK(f.arg_positions.empty());
        else
            CHECK(f.arg_positions == std::vector<uint32_t>{0});
    }
}

TEST_CASE("every operator has a canonical spelling that parses back", "[policy][selectors]")
{
    for (size_t i = 0; i < static_cast<size_t>(ArgOperator::count_); ++i) {
        auto op = static_cast<ArgOperator>(i);
        CHECK(enum_from_string<ArgOperator>(name_of(op)) == op);
    }
    CHECK_FALSE(enum_from_string<ArgOperator>("equal")); // operators are case-sensitive
    CHECK_FALSE(enum_from_string<ArgOperator>("In"));
}

TEST_CASE("CapabilitiesGained compares two capability args", "[policy][selectors]")
{
    Policy p = parse_ok(kprobe_policy("    syscall: false\n"
                                      "    args:\n"
                                      "    - {index: 0, type: cap_effective}\n"
                                      "    - {index: 1, type: cap_permitted}\n"
                                      "    selectors:\n"
                                      "    - matchArgs:\n"
                                      "      - {args: [1, 0], operator: CapabilitiesGained}\n",
                                      "cap_capable"));
    const ArgFilter& f = p.spec.kprobes[0].selectors[0].match_args.at(0);
    CHECK(f.op == ArgOperator::capabilities_gained);
    CHECK(f.args == std::vector<uint32_t>{1, 0});
    CHECK(f.arg_positions == std::vector<uint32_t>{1, 0});
    CHECK_FALSE(f.index);
}

TEST_CASE("matchArgs by position with args, index 0 alongside", "[policy][selectors]")
{
    Policy p = parse_ok(kprobe_policy("    args:\n"
                                      "    - {index: 2, type: int}\n"
                                      "    - {index: 0, type: int}\n"
                                      "    selectors:\n"
                                      "    - matchArgs:\n"
                                      "      - {args: [1], index: 0, operator: Equal, values: [\"3\"]}\n"
                                      "      - {index: 2, operator: Equal, values: [\"4\"]}\n"));
    const auto& f = p.spec.kprobes[0].selectors[0].match_args;
    CHECK(f.at(0).arg_positions == std::vector<uint32_t>{1});
    CHECK(f.at(1).arg_positions == std::vector<uint32_t>{0});
}

TEST_CASE("CelExpr names args itself", "[policy][selectors]")
{
    Policy p = parse_ok(kprobe_policy("    args: [{index: 2, type: int}, {index: 0, type: int}]\n"
                                      "    selectors:\n"
                                      "    - matchArgs:\n"
                                      "      - operator: CelExpr\n"
                                      "        values: [\"arg0 == int32(-1) && arg1 >= int32(3)\"]\n"));
    const ArgFilter& f = p.spec.kprobes[0].selectors[0].match_args.at(0);
    CHECK(f.op == ArgOperator::cel_expr);
    CHECK(f.arg_positions.empty());
}

TEST_CASE("matchBinaries operators", "[policy][selectors]")
{
    for (std::string_view op : {"In", "NotIn", "Prefix", "NotPrefix", "Postfix", "NotPostfix"}) {
        Policy p = parse_ok(kprobe_policy(fmt::format(
            "    selectors:\n    - matchBinaries: [{{operator: {}, values: [/usr/bin/x]}}]\n", op)));
        CHECK(name_of(p.spec.kprobes[0].selectors[0].match_binaries.at(0).op) == op);
    }
    Policy p = parse_ok(kprobe_policy("    selectors:\n    - matchBinaries: [{operator: NotIn, "
                                      "values: [/usr/bin/x], followChildren: true}]\n"));
    CHECK(p.spec.kprobes[0].selectors[0].match_binaries.at(0).follow_children);
}

TEST_CASE("namespace types, capability sets and actions ignore case", "[policy][selectors]")
{
    for (size_t i = 0; i < static_cast<size_t>(NamespaceType::count_); ++i) {
        auto ns = static_cast<NamespaceType>(i);
        std::string lower(name_of(ns));
        for (auto& c : lower)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        Policy p = parse_ok(kprobe_policy(fmt::format(
            "    selectors:\n    - matchNamespaces: [{{namespace: {}, operator: In, "
            "values: [host_ns]}}]\n      matchNamespaceChanges: [{{operator: NotIn, values: [{}]}}]\n",
            lower, name_of(ns))));
        CHECK(p.spec.kprobes[0].selectors[0].match_namespaces.at(0).type == ns);
        CHECK(p.spec.kprobes[0].selectors[0].match_namespace_changes.at(0).values.at(0) == ns);
    }
    Policy p = parse_ok(kprobe_policy("    selectors:\n"
                                      "    - matchCapabilities: [{type: inheritable, operator: In, "
                                      "values: [\" cap_chown \"]}]\n"
                                      "      matchActions: [{action: sigkill}, {action: NOPOST}]\n"));
    const Selector& s = p.spec.kprobes[0].selectors[0];
    CHECK(s.match_capabilities.at(0).type == CapabilitySet::inheritable);
    CHECK(s.match_capabilities[0].mask == 1);
    CHECK(s.match_actions.at(0).kind == ActionKind::sigkill);
    CHECK(s.match_actions.at(1).kind == ActionKind::no_post);
}

TEST_CASE("every action with its arguments", "[policy][selectors]")
{
    Policy p = parse_ok(R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata: {name: actions}
spec:
  kprobes:
  - call: sys_connect
    args: [{index: 0, type: int}]
    selectors:
    - matchActions:
      - {action: Post, rateLimit: 2h, rateLimitScope: global, kernelStackTrace: true,
         userStackTrace: true, imaHash: true}
      - {action: Signal, argSig: 19}
      - {action: Override, argError: -1}
    - matchActions:
      - {action: TrackSock, argSock: 0}
      - {action: UntrackSock, argSock: 1}
      - {action: GetUrl, argUrl: "http://x/y"}
    - matchActions:
      - {action: DnsLookup, argFqdn: a.example}
      - {action: NoPost}
      - {action: Sigkill}
)");
    const auto& sels = p.spec.kprobes[0].selectors;
    const Action& post = sels[0].match_actions[0];
    CHECK(post.kind == ActionKind::post);
    CHECK(post.rate_limit_ms == 2 * 3600 * 1000);
    CHECK(post.rate_limit_scope == RateLimitScope::global);
    CHECK(post.kernel_stack_trace);
    CHECK(post.user_stack_trace);
    CHECK(post.ima_hash);
    CHECK(sels[0].match_actions[1].arg_sig == 19);
    CHECK(sels[0].match_actions[2].arg_error == -1);
    CHECK(sels[1].match_actions[0].kind == ActionKind::track_sock);
    CHECK(sels[1].match_actions[1].arg_sock == 1);
    CHECK(sels[1].match_actions[2].arg_url == "http://x/y");
    CHECK(sels[2].match_actions[0].arg_fqdn == "a.example");
    CHECK(sels[2].match_actions[1].kind == ActionKind::no_post);
    CHECK(sels[2].match_actions[2].kind == ActionKind::sigkill);
}

TEST_CASE("matchReturnArgs and matchReturnActions on uprobes", "[policy][selectors]")
{
    Policy p = fixture_ok("uprobe_full.yaml");
    const ArgFilter& f = p.spec.uprobes[0].selectors.at(0).match_return_args.at(0);
    CHECK(f.op == ArgOperator::prefix);
    CHECK_FALSE(f.index);
}

TEST_CASE("syscall lists: InMap values become syscall numbers, list calls become one hook each",
          "[policy][selectors][lists]")
{
    Policy p = parse_ok(R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: lists
spec:
  lists:
  - name: rare
    type: syscalls
    values: [sys_ptrace, __x64_sys_bpf, kexec_load]
  - name: all
    type: generated_syscalls
  - name: ids
    type: syscalls
    values: [sys_setuid, sys_setgid]
  kprobes:
  - call: list:ids
    syscall: true
    args:
    - index: 0
      type: int
  tracepoints:
  - subsystem: raw_syscalls
    event: sys_enter
    args:
    - index: 4
      type: uint64
    selectors:
    - matchArgs:
      - index: 4
        operator: InMap
        values: ["list:rare", "1000"]
    - matchArgs:
      - index: 4
        operator: NotInMap
        values: ["list:all"]
)");
    auto c = vigil::policy::compile_selectors(p, p.spec.tracepoints.at(0), {"spec.tracepoints[0]", false});
    INFO((c ? std::string() : c.error().message()));
    REQUIRE(c);
    std::set<std::pair<uint32_t, int64_t>> ints;
    for (const auto& k : c->ints)
        ints.insert({k.filter_id, k.value});
    uint32_t first = c->ints.at(0).filter_id;
    // x86-64: ptrace 101, bpf 321, kexec_load 246
    CHECK(ints.contains({first, 101}));
    CHECK(ints.contains({first, 321}));
    CHECK(ints.contains({first, 246}));
    CHECK(ints.contains({first, 1000}));
    size_t in_second = 0;
    for (const auto& [id, v] : ints)
        in_second += id != first;
    CHECK(in_second > 300); // every syscall

    REQUIRE(vigil::policy::expand_call_lists(p));
    REQUIRE(p.spec.kprobes.size() == 2);
    CHECK(p.spec.kprobes[0].call == "sys_setuid");
    CHECK(p.spec.kprobes[1].call == "sys_setgid");
    CHECK(p.spec.kprobes[1].syscall);
    CHECK(p.spec.kprobes[1].args.size() == 1);
}

TEST_CASE("syscall lists: what cannot be expanded is refused with its place", "[policy][selectors][lists]")
{
    auto with = [](const std::string& lists, const std::string& call) {
        return fmt::format("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: l\nspec:\n"
                           "  lists:\n{}  kprobes:\n  - call: {}\n",
                           lists, call);
    };
    CHECK(parse_error(with("  - name: s\n    type: syscalls\n    values: [sys_nosuch]\n", "list:s")) ==
          "test.yaml:9:13: spec.lists[0].values: \"sys_nosuch\" is not an x86-64 syscall");
    Policy p = parse_ok(with("  - name: all\n    type: generated_syscalls\n", "list:all"));
    auto r = vigil::policy::expand_call_lists(p);
    REQUIRE(!r);
    CHECK(r.error().message().starts_with("test.yaml:10:5: spec.kprobes[0].call: list \"all\" names every syscall"));
}
