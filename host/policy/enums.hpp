// The closed sets of values a TracingPolicy uses (hook kinds, argument types, operators, actions,
// ...), each with its spelling table right below it. `name_of()` gives the canonical spelling
// (what the JSON handed to plugins carries), `enum_from_string()` also accepts the aliases the
// format allows, and `allowed_names()` lists the canonical spellings for error messages.
#pragma once

#include "policy/limits.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::policy {

template <class E>
struct EnumAlias {
    std::string_view name;
    E value;
};

// Specialised below for every enum: `names` in enumerator order, `aliases`, and whether the
// format compares the spelling case-insensitively.
template <class E>
struct EnumInfo;

template <class E>
[[nodiscard]] constexpr std::string_view name_of(E e)
{
    return EnumInfo<E>::names[static_cast<size_t>(e)];
}

template <class E>
[[nodiscard]] constexpr bool names_equal(std::string_view a, std::string_view b)
{
    if constexpr (!EnumInfo<E>::case_insensitive) {
        return a == b;
    } else {
        if (a.size() != b.size())
            return false;
        for (size_t i = 0; i < a.size(); ++i) {
            char x = a[i], y = b[i];
            if (x >= 'A' && x <= 'Z')
                x = static_cast<char>(x - 'A' + 'a');
            if (y >= 'A' && y <= 'Z')
                y = static_cast<char>(y - 'A' + 'a');
            if (x != y)
                return false;
        }
        return true;
    }
}

template <class E>
[[nodiscard]] constexpr std::optional<E> enum_from_string(std::string_view s)
{
    const auto& names = EnumInfo<E>::names;
    for (size_t i = 0; i < names.size(); ++i)
        if (!names[i].empty() && names_equal<E>(names[i], s))
            return static_cast<E>(i);
    for (const auto& a : EnumInfo<E>::aliases)
        if (names_equal<E>(a.name, s))
            return a.value;
    return std::nullopt;
}

// "A, B, C": the canonical spellings, for "allowed: ..." in error messages.
template <class E>
[[nodiscard]] std::string allowed_names()
{
    std::string out;
    for (auto n : EnumInfo<E>::names) {
        if (n.empty())
            continue;
        if (!out.empty())
            out += ", ";
        out += n;
    }
    return out;
}

#define VIGIL_POLICY_ENUM_SIZE_CHECK(E)                                                            \
    static_assert(EnumInfo<E>::names.size() == static_cast<size_t>(E::count_),                    \
                  "spelling table of " #E " does not match its enumerators")

// ---------------------------------------------------------------------------------------------
// The sections of spec that hold hooks; also the "kind" a plugin declares it serves.
// `connects` is vigil's own: outbound connections checked by cgroup socket programs.
enum class HookKind : uint8_t { kprobes, tracepoints, uprobes, lsmhooks, connects, usdts, count_ };

template <>
struct EnumInfo<HookKind> {
    static constexpr std::array<std::string_view, 6> names{"kprobes", "tracepoints", "uprobes",
                                                           "lsmhooks", "connects", "usdts"};
    static constexpr std::array<EnumAlias<HookKind>, 0> aliases{};
    static constexpr bool case_insensitive = false;
};
VIGIL_POLICY_ENUM_SIZE_CHECK(HookKind);

enum class PolicyKind : uint8_t { tracing_policy, tracing_policy_namespaced, count_ };

template <>
struct EnumInfo<PolicyKind> {
    static constexpr std::array<std::string_view, 2> names{"TracingPolicy",
                                                           "TracingPolicyNamespaced"};
    static constexpr std::array<EnumAlias<PolicyKind>, 0> aliases{};
    static constexpr bool case_insensitive = false;
};
VIGIL_POLICY_ENUM_SIZE_CHECK(PolicyKind);

// matchExpressions of podSelector, containerSelector and nodeSelector (Kubernetes label selectors).
enum class LabelOperator : uint8_t { in, not_in, exists, does_not_exist, count_ };

template <>
struct EnumInfo<LabelOperator> {
    static constexpr std::array<std::string_view, 4> names{"In", "NotIn", "Exists", "DoesNotExist"};
    static constexpr std::array<EnumAlias<LabelOperator>, 0> aliases{};
    static constexpr bool case_insensitive = false;
};
VIGIL_POLICY_ENUM_SIZE_CHECK(LabelOperator);

// spec.options "policy-mode": whether enforcement actions are carried out or only counted.
enum class PolicyMode : uint8_t { enforce, monitor, count_ };

template <>
struct EnumInfo<PolicyMode> {
    static constexpr std::array<std::string_view, 2> names{"enforce", "monitor"};
    static constexpr std::array<EnumAlias<PolicyMode>, 0> aliases{};
    static constexpr bool case_insensitive = false;
};
VIGIL_POLICY_ENUM_SIZE_CHECK(PolicyMode);

// args[].type / returnArg.type. `auto_` means "take the type from BTF".
enum class ArgType : uint8_t {
    auto_,
    int_,
    int8,
    uint8,
    int16,
    uint16,
    int32,
    uint32,
    int64,
    uint64,
    size_t_,
    syscall64,
    char_buf,
    char_iovec,
    const_buf,
    string,
    data_loc,
    fd,
    file,
    filename,
    path,
    dentry,
    skb,
    sock,
    sockaddr,
    sockaddr_un,
    socket,
    net_device,
    cred,
    user_namespace,
    capability,
    kernel_cap_t,
    cap_inheritable,
    cap_permitted,
    cap_effective,
    bpf_attr,
    bpf_cmd,
    bpf_map,
    bpf_prog,
    perf_event,
    kiocb,
    iov_iter,
    load_info,
    module,
    linux_binprm,
    nop,
    count_
};

template <>
struct EnumInfo<ArgType> {
    static constexpr std::array<std::string_view, 46> names{
        "auto",         "int",           "int8",           "uint8",         "int16",
        "uint16",       "int32",         "uint32",         "int64",         "uint64",
        "size_t",       "syscall64",     "char_buf",       "char_iovec",    "const_buf",
        "string",       "data_loc",      "fd",             "file",          "filename",
        "path",         "dentry",        "skb",            "sock",          "sockaddr",
        "sockaddr_un",  "socket",        "net_device",     "cred",          "user_namespace",
        "capability",   "kernel_cap_t",  "cap_inheritable", "cap_permitted", "cap_effective",
        "bpf_attr",     "bpf_cmd",       "bpf_map",        "bpf_prog",      "perf_event",
        "kiocb",        "iov_iter",      "load_info",      "module",        "linux_binprm",
        "nop"};
    static constexpr std::array<EnumAlias<ArgType>, 6> aliases{{
        {"sint8", ArgType::int8},
        {"sint16", ArgType::int16},
        {"sint32", ArgType::int32},
        {"sint64", ArgType::int64},
        {"long", ArgType::int64},
        {"ulong", ArgType::uint64},
    }};
    static constexpr bool case_insensitive = false;
};
VIGIL_POLICY_ENUM_SIZE_CHECK(ArgType);

// Integers that selectors compare numerically.
[[nodiscard]] constexpr bool is_integer_type(ArgType t)
{
    switch (t) {
    case ArgType::int_: case ArgType::int8: case ArgType::uint8: case ArgType::int16:
    case ArgType::uint16: case ArgType::int32: case ArgType::uint32: case ArgType::int64:
    case ArgType::uint64: case ArgType::size_t_: case ArgType::syscall64:
        return true;
    default:
        return false;
    }
}

// Types whose value is compared as a string (a path for fd/file/path/dentry/linux_binprm).
[[nodiscard]] constexpr bool is_string_type(ArgType t)
{
    switch (t) {
    case ArgType::string: case ArgType::char_buf: case ArgType::data_loc: case ArgType::fd:
    case ArgType::file: case ArgType::path: case ArgType::dentry: case ArgType::linux_binprm:
    case ArgType::net_device: case ArgType::sockaddr_un:
        return true;
    default:
        return false;
    }
}

[[nodiscard]] constexpr bool is_socket_type(ArgType t)
{
    return t == ArgType::sock || t == ArgType::skb || t == ArgType::sockaddr ||
           t == ArgType::socket;
}

[[nodiscard]] constexpr bool is_capability_type(ArgType t)
{
    return t == ArgType::kernel_cap_t || t == ArgType::cap_inheritable ||
           t == ArgType::cap_permitted || t == ArgType::cap_effective;
}

// ---------------------------------------------------------------------------------------------
// matchArgs / matchReturnArgs operators.
enum class ArgOperator : uint8_t {
    equal,
    not_equal,
    prefix,
    not_prefix,
    postfix,
    not_postfix,
    gt,
    lt,
    mask,
    in_map,
    not_in_map,
    in_range,
    not_in_range,
    sport,
    not_sport,
    sport_priv,
    not_sport_priv,
    dport,
    not_dport,
    dport_priv,
    not_dport_priv,
    saddr,
    not_saddr,
    daddr,
    not_daddr,
    protocol,
    family,
    state,
    capabilities_gained,
    substring,
    substring_ign_case,
    cel_expr,
    file_type,
    not_file_type,
    count_
};

template <>
struct EnumInfo<ArgOperator> {
    static constexpr std::array<std::string_view, 34> names{
        "Equal",        "NotEqual",    "Prefix",       "NotPrefix",     "Postfix",
        "NotPostfix",   "GT",          "LT",           "Mask",          "InMap",
        "NotInMap",     "InRange",     "NotInRange",   "SPort",         "NotSPort",
        "SPortPriv",    "NotSPortPriv", "DPort",       "NotDPort",      "DPortPriv",
        "NotDPortPriv", "SAddr",       "NotSAddr",     "DAddr",         "NotDAddr",
        "Protocol",     "Family",      "State",        "CapabilitiesGained", "SubString",
        "SubStringIgnCase", "CelExpr", "FileType",     "NotFileType"};
    // Older spellings that policies in the wild still use.
    static constexpr std::array<EnumAlias<ArgOperator>, 39> aliases{{
        {"GreaterThan", ArgOperator::gt},   {"gt", ArgOperator::gt},
        {"LessThan", ArgOperator::lt},      {"lt", ArgOperator::lt},
        {"eq", ArgOperator::equal},         {"neq", ArgOperator::not_equal},
        {"prefix", ArgOperator::prefix},    {"notprefix", ArgOperator::not_prefix},
        {"postfix", ArgOperator::postfix},  {"notpostfix", ArgOperator::not_postfix},
        {"mask", ArgOperator::mask},
        {"saddr", ArgOperator::saddr},      {"Saddr", ArgOperator::saddr},
        {"daddr", ArgOperator::daddr},      {"Daddr", ArgOperator::daddr},
        {"notsaddr", ArgOperator::not_saddr}, {"NotSaddr", ArgOperator::not_saddr},
        {"notdaddr", ArgOperator::not_daddr}, {"NotDaddr", ArgOperator::not_daddr},
        {"sport", ArgOperator::sport},      {"Sport", ArgOperator::sport},
        {"dport", ArgOperator::dport},      {"Dport", ArgOperator::dport},
        {"notsport", ArgOperator::not_sport}, {"NotSport", ArgOperator::not_sport},
        {"notdport", ArgOperator::not_dport}, {"NotDport", ArgOperator::not_dport},
        {"sportpriv", ArgOperator::sport_priv}, {"SportPriv", ArgOperator::sport_priv},
        {"dportpriv", ArgOperator::dport_priv}, {"DportPriv", ArgOperator::dport_priv},
        {"notsportpriv", ArgOperator::not_sport_priv},
        {"NotSportPriv", ArgOperator::not_sport_priv},
        {"notdportpriv", ArgOperator::not_dport_priv},
        {"NotDportPriv", ArgOperator::not_dport_priv},
        {"protocol", ArgOperator::protocol},
        {"family", ArgOperator::family},    {"state", ArgOperator::state},
        {"SubStringIgnoreCase", ArgOperator::substring_ign_case},
    }};
    static constexpr bool case_insensitive = false;
};
VIGIL_POLICY_ENUM_SIZE_CHECK(ArgOperator);

// What each matchArgs operator accepts, one row per operator in enumerator order: the argument
// types it applies to and what values it takes. The parser checks every filter against its row
// (check_arg_values in selector_parser.cpp); a new operator is a new row.
enum class OperatorValues : uint8_t {
    none,     // takes no values (SPortPriv, CapabilitiesGained)
    text,     // values are kept as written: strings, addresses, names
    integers, // values are integers of the argument's type
    by_type,  // Equal/NotEqual: integers on an integer argument, otherwise text (at most
              // max_string_values of them, unless the argument is a capability set)
};

struct ArgOperatorRule {
    ArgOperator op;
    bool (*applies_to)(ArgType); // the argument types it applies to; null: any
    std::string_view types;      // those types as messages name them; "": listed from applies_to
    OperatorValues values;
    size_t max_values;           // values per filter (by_type: on an integer or capability argument)
    bool every_arg = false;      // reads all the filter's args, each checked (CapabilitiesGained)
};

namespace operator_types {
constexpr bool equality(ArgType t) { return is_string_type(t) || is_integer_type(t) || is_capability_type(t); }
constexpr bool local_socket(ArgType t) { return is_socket_type(t); }
// A sockaddr only has the local side of a connection.
constexpr bool remote_socket(ArgType t) { return is_socket_type(t) && t != ArgType::sockaddr; }
constexpr bool family(ArgType t) { return is_socket_type(t) || t == ArgType::sockaddr_un; }
constexpr bool file(ArgType t) { return t == ArgType::file || t == ArgType::path; }
} // namespace operator_types

inline constexpr std::array<ArgOperatorRule, static_cast<size_t>(ArgOperator::count_)> arg_operator_rules{{
    // clang-format off
    {ArgOperator::equal,       operator_types::equality, "string, integer or capability set (see docs/policies.md)",
                               OperatorValues::by_type, limits::max_numeric_values},
    {ArgOperator::not_equal,   operator_types::equality, "string, integer or capability set (see docs/policies.md)",
                               OperatorValues::by_type, limits::max_numeric_values},
    {ArgOperator::prefix,      is_string_type, "", OperatorValues::text, limits::max_string_values},
    {ArgOperator::not_prefix,  is_string_type, "", OperatorValues::text, limits::max_string_values},
    {ArgOperator::postfix,     is_string_type, "", OperatorValues::text, limits::max_string_values},
    {ArgOperator::not_postfix, is_string_type, "", OperatorValues::text, limits::max_string_values},
    {ArgOperator::gt,          is_integer_type, "", OperatorValues::integers, limits::max_numeric_values},
    {ArgOperator::lt,          is_integer_type, "", OperatorValues::integers, limits::max_numeric_values},
    {ArgOperator::mask,        is_integer_type, "", OperatorValues::integers, limits::max_numeric_values},
    {ArgOperator::in_map,      is_integer_type, "", OperatorValues::integers, limits::max_map_values},
    {ArgOperator::not_in_map,  is_integer_type, "", OperatorValues::integers, limits::max_map_values},
    {ArgOperator::in_range,    is_integer_type, "", OperatorValues::integers, limits::max_numeric_values},
    {ArgOperator::not_in_range, is_integer_type, "", OperatorValues::integers, limits::max_numeric_values},
    {ArgOperator::sport,       operator_types::local_socket, "sock, skb, sockaddr or socket", OperatorValues::text, limits::max_map_values},
    {ArgOperator::not_sport,   operator_types::local_socket, "sock, skb, sockaddr or socket", OperatorValues::text, limits::max_map_values},
    {ArgOperator::sport_priv,  operator_types::local_socket, "sock, skb, sockaddr or socket", OperatorValues::none, limits::max_map_values},
    {ArgOperator::not_sport_priv, operator_types::local_socket, "sock, skb, sockaddr or socket", OperatorValues::none, limits::max_map_values},
    {ArgOperator::dport,       operator_types::remote_socket, "sock, skb or socket", OperatorValues::text, limits::max_map_values},
    {ArgOperator::not_dport,   operator_types::remote_socket, "sock, skb or socket", OperatorValues::text, limits::max_map_values},
    {ArgOperator::dport_priv,  operator_types::remote_socket, "sock, skb or socket", OperatorValues::none, limits::max_map_values},
    {ArgOperator::not_dport_priv, operator_types::remote_socket, "sock, skb or socket", OperatorValues::none, limits::max_map_values},
    {ArgOperator::saddr,       operator_types::local_socket, "sock, skb, sockaddr or socket", OperatorValues::text, limits::max_map_values},
    {ArgOperator::not_saddr,   operator_types::local_socket, "sock, skb, sockaddr or socket", OperatorValues::text, limits::max_map_values},
    {ArgOperator::daddr,       operator_types::remote_socket, "sock, skb or socket", OperatorValues::text, limits::max_map_values},
    {ArgOperator::not_daddr,   operator_types::remote_socket, "sock, skb or socket", OperatorValues::text, limits::max_map_values},
    {ArgOperator::protocol,    operator_types::remote_socket, "sock, skb or socket", OperatorValues::text, limits::max_map_values},
    {ArgOperator::family,      operator_types::family, "sock, skb, sockaddr, socket or sockaddr_un", OperatorValues::text, limits::max_map_values},
    {ArgOperator::state,       operator_types::remote_socket, "sock, skb or socket", OperatorValues::text, limits::max_map_values},
    {ArgOperator::capabilities_gained, is_capability_type, "kernel_cap_t, cap_inheritable, cap_permitted or cap_effective",
                               OperatorValues::none, limits::max_string_values, true},
    {ArgOperator::substring,   is_string_type, "", OperatorValues::text, limits::max_string_values},
    {ArgOperator::substring_ign_case, is_string_type, "", OperatorValues::text, limits::max_string_values},
    {ArgOperator::cel_expr,    nullptr, "", OperatorValues::text, limits::max_string_values},
    {ArgOperator::file_type,   operator_types::file, "file or path", OperatorValues::text, limits::max_numeric_values},
    {ArgOperator::not_file_type, operator_types::file, "file or path", OperatorValues::text, limits::max_numeric_values},
    // clang-format on
}};

[[nodiscard]] constexpr const ArgOperatorRule& rule_of(ArgOperator op)
{
    return arg_operator_rules[static_cast<size_t>(op)];
}

constexpr bool arg_operator_rules_in_order()
{
    for (size_t i = 0; i < arg_operator_rules.size(); ++i)
        if (static_cast<size_t>(arg_operator_rules[i].op) != i)
            return false;
    return true;
}
static_assert(arg_operator_rules_in_order(), "arg_operator_rules: one row per ArgOperator, in enumerator order");

// In / NotIn, for matchPIDs, matchNamespaces, matchNamespaceChanges, matchCapabilities and
// matchCapabilityChanges.
enum class SetOperator : uint8_t { in, not_in, count_ };

template <>
struct EnumInfo<SetOperator> {
    static constexpr std::array<std::string_view, 2> names{"In", "NotIn"};
    static constexpr std::array<EnumAlias<SetOperator>, 0> aliases{};
    static constexpr bool case_insensitive = false;
};
VIGIL_POLICY_ENUM_SIZE_CHECK(SetOperator);

enum class BinaryOperator : uint8_t { in, not_in, prefix, not_prefix, postfix, not_postfix, count_ };

template <>
struct EnumInfo<BinaryOperator> {
    static constexpr std::array<std::string_view, 6> names{"In",     "NotIn",   "Prefix",
                                                           "NotPrefix", "Postfix", "NotPostfix"};
    static constexpr std::array<EnumAlias<BinaryOperator>, 0> aliases{};
    static constexpr bool case_insensitive = false;
};
VIGIL_POLICY_ENUM_SIZE_CHECK(BinaryOperator);

enum class NamespaceType : uint8_t {
    uts,
    ipc,
    mnt,
    pid,
    pid_for_children,
    net,
    time,
    time_for_children,
    cgroup,
    user,
    count_
};

template <>
struct EnumInfo<NamespaceType> {
    static constexpr std::array<std::string_view, 10> names{
        "Uts", "Ipc", "Mnt", "Pid", "PidForChildren", "Net", "Time", "TimeForChildren", "Cgroup",
        "User"};
    static constexpr std::array<EnumAlias<NamespaceType>, 0> aliases{};
    static constexpr bool case_insensitive = true;
};
VIGIL_POLICY_ENUM_SIZE_CHECK(NamespaceType);

enum class CapabilitySet : uint8_t { effective, inheritable, permitted, count_ };

template <>
struct EnumInfo<CapabilitySet> {
    static constexpr std::array<std::string_view, 3> names{"Effective", "Inheritable",
                                                           "Permitted"};
    static constexpr std::array<EnumAlias<CapabilitySet>, 0> aliases{};
    static constexpr bool case_insensitive = true;
};
VIGIL_POLICY_ENUM_SIZE_CHECK(CapabilitySet);

// matchActions / matchReturnActions. The removed FollowFD, UnfollowFD and CopyFD are not here:
// the parser recognises their names only to say what replaces them.
enum class ActionKind : uint8_t {
    post,
    no_post,
    sigkill,
    signal,
    override_,
    get_url,
    dns_lookup,
    track_sock,
    untrack_sock,
    notify_enforcer,
    cleanup_enforcer_notification,
    set,
    count_
};

template <>
struct EnumInfo<ActionKind> {
    static constexpr std::array<std::string_view, 12> names{
        "Post",      "NoPost",      "Sigkill",        "Signal",
        "Override",  "GetUrl",      "DnsLookup",      "TrackSock",
        "UntrackSock", "NotifyEnforcer", "CleanupEnforcerNotification", "Set"};
    static constexpr std::array<EnumAlias<ActionKind>, 0> aliases{};
    static constexpr bool case_insensitive = true;
};
VIGIL_POLICY_ENUM_SIZE_CHECK(ActionKind);

// Actions that change what the traced process experiences; a policy without any is monitor-only.
[[nodiscard]] constexpr bool is_enforcement_action(ActionKind a)
{
    return a == ActionKind::sigkill || a == ActionKind::signal || a == ActionKind::override_ ||
           a == ActionKind::notify_enforcer;
}

enum class RateLimitScope : uint8_t { thread, process, global, count_ };

template <>
struct EnumInfo<RateLimitScope> {
    static constexpr std::array<std::string_view, 3> names{"thread", "process", "global"};
    static constexpr std::array<EnumAlias<RateLimitScope>, 0> aliases{};
    static constexpr bool case_insensitive = false;
};
VIGIL_POLICY_ENUM_SIZE_CHECK(RateLimitScope);

// lists[].type. `none` (no type, or "") is a list of plain function names.
enum class ListType : uint8_t { none, syscalls, generated_syscalls, generated_ftrace, count_ };

template <>
struct EnumInfo<ListType> {
    static constexpr std::array<std::string_view, 4> names{"", "syscalls", "generated_syscalls",
                                                           "generated_ftrace"};
    static constexpr std::array<EnumAlias<ListType>, 0> aliases{};
    static constexpr bool case_insensitive = true;
};
VIGIL_POLICY_ENUM_SIZE_CHECK(ListType);

[[nodiscard]] constexpr bool is_syscall_list(ListType t)
{
    return t == ListType::syscalls || t == ListType::generated_syscalls;
}

#undef VIGIL_POLICY_ENUM_SIZE_CHECK

} // namespace vigil::policy
