#include "policy/compiler.hpp"
#include "policy/limits.hpp"
#include "policy/policy.hpp"
#include "policy/syscalls.hpp"

#include "policy/values.hpp"

#include <sys/socket.h>
#include <sys/stat.h>

#include <fmt/format.h>

namespace vigil::policy {

static_assert(static_cast<int>(NamespaceType::uts) == VSEL_NS_UTS && static_cast<int>(NamespaceType::net) == VSEL_NS_NET &&
                  static_cast<int>(NamespaceType::user) == VSEL_NS_USER,
              "NamespaceType and vsel_ns_type must list namespaces in the same order");

namespace {

class Compiler {
public:
    Compiler(const Policy& p, const HookCommon& h, const CompileContext& c) : policy_(p), hook_(h), ctx_(c) {}

    Result<sdk::CompiledSelectors> run()
    {
        if (hook_.selectors.size() > VSEL_MAX_SELECTORS)
            return err(hook_.loc, "", fmt::format("{} selectors, the limit is {}", hook_.selectors.size(),
                                                  VSEL_MAX_SELECTORS));
        out_.hook.nselectors = static_cast<uint32_t>(hook_.selectors.size());
        out_.hook.enforce = ctx_.enforce ? 1 : 0;
        for (size_t i = 0; i < hook_.selectors.size(); ++i)
            if (auto r = selector(static_cast<uint32_t>(i), hook_.selectors[i], out_.hook.sel[i]); !r)
                return std::unexpected(r.error());
        return std::move(out_);
    }

private:
    std::unexpected<Error> err(const SourceLoc& loc, std::string_view path, std::string msg) const
    {
        return fail(Errc::invalid_input, "{}:{}:{}: {}{}: {}", policy_.source, loc.line, loc.column, ctx_.where,
                    path, msg);
    }

    Result<void> selector(uint32_t si, const Selector& s, vsel_selector& out)
    {
        std::string path = fmt::format(".selectors[{}]", si);
        auto unsupported = [&](std::string_view what) {
            return err(s.loc, path, fmt::format("{} is not supported by vigil's in-kernel evaluator", what));
        };
        if (!s.match_namespace_changes.empty())
            return unsupported("matchNamespaceChanges");
        if (!s.match_capability_changes.empty())
            return unsupported("matchCapabilityChanges");

        if (s.match_pids.size() > VSEL_MAX_PID_FILTERS)
            return err(s.loc, path, fmt::format("{} matchPIDs filters, the limit is {}", s.match_pids.size(),
                                                VSEL_MAX_PID_FILTERS));
        for (const auto& f : s.match_pids) {
            if (f.values.size() > VSEL_MAX_PID_VALUES)
                return err(s.loc, path, fmt::format("matchPIDs has {} values, the limit is {}", f.values.size(),
                                                    VSEL_MAX_PID_VALUES));
            auto& p = out.pids[out.npids++];
            p.op = f.op == SetOperator::in ? VSEL_OP_IN : VSEL_OP_NOT_IN;
            p.flags = (f.follow_forks ? VSEL_PID_FOLLOW_FORKS : 0) | (f.is_namespace_pid ? VSEL_PID_NAMESPACE : 0);
            for (uint32_t v : f.values)
                p.values[p.nvalues++] = v;
        }

        if (s.match_binaries.size() > 1)
            return err(s.loc, path, "more than one matchBinaries filter in a selector");
        for (const auto& f : s.match_binaries) {
            out.has_binary = 1;
            out.binary.op = binary_op(f.op);
            out.binary.follow_children = f.follow_children;
            out.binary.filter_id = VSEL_FILTER_ID(si, VSEL_GROUP_BINARY, 0);
            for (const auto& v : f.values)
                if (!add_string_value(out.binary.op, out.binary.filter_id, v))
                    return err(s.loc, path + ".matchBinaries",
                               fmt::format("value \"{}\" is {} bytes, the in-kernel limit is {}", v, v.size(),
                                           sdk::CompiledSelectors::max_value_len));
        }

        if (s.match_namespaces.size() > VSEL_MAX_NS_FILTERS)
            return err(s.loc, path, fmt::format("{} matchNamespaces filters, the limit is {}",
                                                s.match_namespaces.size(), VSEL_MAX_NS_FILTERS));
        for (const auto& f : s.match_namespaces) {
            if (f.values.size() > VSEL_MAX_NS_VALUES)
                return err(s.loc, path, fmt::format("matchNamespaces has {} values, the limit is {}",
                                                    f.values.size(), VSEL_MAX_NS_VALUES));
            auto& n = out.ns[out.nns++];
            n.ns = static_cast<uint8_t>(f.type); // NamespaceType follows vsel_ns_type's order
            n.op = f.op == SetOperator::in ? VSEL_OP_IN : VSEL_OP_NOT_IN;
            for (const auto& v : f.values) {
                uint32_t inum = v.inum;
                if (v.host_ns) {
                    auto host = host_namespace_inode(f.type);
                    if (!host)
                        return err(s.loc, path, host.error().message());
                    inum = *host;
                }
                n.values[n.nvalues++] = inum;
            }
        }

        if (s.match_capabilities.size() > VSEL_MAX_CAP_FILTERS)
            return err(s.loc, path, fmt::format("{} matchCapabilities filters, the limit is {}",
                                                s.match_capabilities.size(), VSEL_MAX_CAP_FILTERS));
        for (const auto& f : s.match_capabilities) {
            if (f.is_namespace_capability)
                return unsupported("matchCapabilities with isNamespaceCapability: true");
            auto& c = out.caps[out.ncaps++];
            c.type = f.type == CapabilitySet::effective     ? VSEL_CAP_EFFECTIVE
                     : f.type == CapabilitySet::inheritable ? VSEL_CAP_INHERITABLE
                                                            : VSEL_CAP_PERMITTED;
            c.op = f.op == SetOperator::in ? VSEL_OP_IN : VSEL_OP_NOT_IN;
            c.mask = f.mask;
        }

        if (auto r = arg_filters(si, s, path + ".matchArgs", s.match_args, out.args, out.nargs, false); !r)
            return r;
        if (auto r = arg_filters(si, s, path + ".matchReturnArgs", s.match_return_args, out.ret_args,
                                 out.nret_args, true);
            !r)
            return r;
        if (auto r = actions(s, path + ".matchActions", s.match_actions, out.actions, out.nactions); !r)
            return r;
        return actions(s, path + ".matchReturnActions", s.match_return_actions, out.ret_actions, out.nret_actions);
    }

    static uint8_t binary_op(BinaryOperator op)
    {
        switch (op) {
        case BinaryOperator::in: return VSEL_OP_IN;
        case BinaryOperator::not_in: return VSEL_OP_NOT_IN;
        case BinaryOperator::prefix: return VSEL_OP_PREFIX;
        case BinaryOperator::not_prefix: return VSEL_OP_NOT_PREFIX;
        case BinaryOperator::postfix: return VSEL_OP_POSTFIX;
        case BinaryOperator::not_postfix: return VSEL_OP_NOT_POSTFIX;
        default: return VSEL_OP_NONE;
        }
    }

    bool add_string_value(uint8_t op, uint32_t id, const std::string& v)
    {
        switch (op) {
        case VSEL_OP_PREFIX:
        case VSEL_OP_NOT_PREFIX: return out_.add_prefix(id, v);
        case VSEL_OP_POSTFIX:
        case VSEL_OP_NOT_POSTFIX: return out_.add_postfix(id, v);
        default: return out_.add_string(id, v);
        }
    }

    Result<void> arg_filters(uint32_t si, const Selector& s, const std::string& path,
                             const std::vector<ArgFilter>& filters, vsel_arg_filter* out, uint8_t& n, bool ret)
    {
        if (filters.size() > VSEL_MAX_ARG_FILTERS)
            return err(s.loc, path, fmt::format("{} filters, the limit is {}", filters.size(), VSEL_MAX_ARG_FILTERS));
        for (size_t fi = 0; fi < filters.size(); ++fi) {
            const ArgFilter& f = filters[fi];
            std::string fpath = fmt::format("{}[{}]", path, fi);
            // matchReturnArgs compare the return value, which the plugin puts in slot 0.
            uint32_t slot = 0;
            ArgType type = ArgType::int64;
            if (!ret) {
                if (f.arg_positions.size() != 1)
                    return err(s.loc, fpath, fmt::format("operator {} is not supported by vigil's in-kernel "
                                                         "evaluator",
                                                         name_of(f.op)));
                slot = f.arg_positions[0];
                if (slot >= VSEL_MAX_ARGS || slot >= hook_.args.size())
                    return err(s.loc, fpath, fmt::format("argument position {} is not recorded by the hook", slot));
                type = hook_.args[slot].type;
            }
            ArgClass cls = arg_class(type);
            vsel_arg_filter& a = out[n++];
            a.arg = static_cast<uint8_t>(slot);
            a.filter_id = VSEL_FILTER_ID(si, ret ? VSEL_GROUP_RET_ARGS : VSEL_GROUP_ARGS, fi);
            if (f.op == ArgOperator::family && type == ArgType::sockaddr_un)
                return err(s.loc, fpath, "a sockaddr_un is always AF_UNIX: remove the Family filter, or declare "
                                         "the argument as sockaddr to compare its family");
            auto op = arg_op(f.op, cls);
            if (!op)
                return err(s.loc, fpath, fmt::format("operator {} on an argument of type {} is not supported by "
                                                     "vigil's in-kernel evaluator",
                                                     name_of(f.op), name_of(type)));
            a.op = *op;
            if (cls == ArgClass::socket) {
                a.kind = VSEL_ARG_SOCK;
                if (auto r = net_values(s, fpath, f, a); !r)
                    return r;
                continue;
            }
            if (cls == ArgClass::string) {
                a.kind = VSEL_ARG_STR;
                if (a.op == VSEL_OP_POSTFIX || a.op == VSEL_OP_NOT_POSTFIX)
                    out_.hook.postfix_args |= 1u << slot;
                for (const auto& v : f.values)
                    if (!add_string_value(a.op, a.filter_id, v))
                        return err(s.loc, fpath, fmt::format("value of {} bytes, the in-kernel limit is {}", v.size(),
                                                             sdk::CompiledSelectors::max_value_len));
                continue;
            }
            a.kind = VSEL_ARG_INT;
            bool map = a.op == VSEL_OP_IN_MAP || a.op == VSEL_OP_NOT_IN_MAP;
            if (!map && f.values.size() > VSEL_MAX_NUM_VALUES)
                return err(s.loc, fpath, fmt::format("{} values, the limit for {} is {}", f.values.size(),
                                                     name_of(f.op), VSEL_MAX_NUM_VALUES));
            for (const auto& v : f.values) {
                if (map && v.starts_with("list:")) {
                    auto nrs = list_numbers(std::string_view(v).substr(5));
                    if (!nrs)
                        return err(s.loc, fpath, nrs.error());
                    for (int32_t nr : *nrs)
                        out_.add_int(a.filter_id, nr);
                    continue;
                }
                auto iv = parse_integer(v);
                if (!iv)
                    return err(s.loc, fpath, fmt::format("\"{}\" is not an integer", v));
                if (map)
                    out_.add_int(a.filter_id, iv->as_signed());
                else
                    a.values[a.nvalues++] = iv->as_signed();
            }
        }
        return {};
    }

    // The syscall numbers of spec.lists entry `name` (a syscall list, checked by the parser).
    std::expected<std::vector<int32_t>, std::string> list_numbers(std::string_view name) const
    {
        for (const auto& l : policy_.spec.lists) {
            if (l.name != name)
                continue;
            if (l.type == ListType::generated_syscalls)
                return all_syscall_numbers();
            if (l.type != ListType::syscalls)
                return std::unexpected(fmt::format("list \"{}\" of type {} cannot be used as values", name,
                                                   name_of(l.type)));
            std::vector<int32_t> out;
            for (const auto& v : l.values) {
                auto nr = syscall_number(v);
                if (!nr)
                    return std::unexpected(fmt::format("\"{}\" in list \"{}\" is not an x86-64 syscall{}", v, name,
                                                       v.find('/') != std::string::npos
                                                           ? " (32-bit syscalls are not matched by vigil's hooks)"
                                                           : ""));
                out.push_back(*nr);
            }
            return out;
        }
        return std::unexpected(fmt::format("list \"{}\" is not defined in spec.lists", name));
    }

    // The values of a network operator as vsel_net entries: CIDR prefixes, port ranges, and
    // protocol/family/state numbers or ranges, each range as aligned power-of-two blocks.
    Result<void> net_values(const Selector& s, const std::string& fpath, const ArgFilter& f, const vsel_arg_filter& a)
    {
        auto within_limit = [&]() -> Result<void> {
            if (out_.nets.size() > VSEL_MAP_ENTRIES)
                return err(s.loc, fpath, fmt::format("the addresses, ports and value ranges of this hook need more "
                                                     "than {} in-kernel entries; use fewer or wider ranges",
                                                     VSEL_MAP_ENTRIES));
            return {};
        };
        auto range = [&](uint8_t field, uint64_t lo, uint64_t hi) {
            out_.add_net_range(a.filter_id, field, static_cast<uint16_t>(lo), static_cast<uint16_t>(hi));
            return within_limit();
        };
        switch (f.op) {
        case ArgOperator::sport_priv:
        case ArgOperator::not_sport_priv:
        case ArgOperator::dport_priv:
        case ArgOperator::not_dport_priv:
            return range(VSEL_NET_PORT, 0, 1023);
        default:
            break;
        }
        for (const auto& v : f.values) {
            Result<void> r;
            switch (f.op) {
            case ArgOperator::saddr:
            case ArgOperator::not_saddr:
            case ArgOperator::daddr:
            case ArgOperator::not_daddr: {
                auto addr = parse_addr(v);
                if (!addr)
                    return err(s.loc, fpath, fmt::format("\"{}\" is not an IPv4/IPv6 address or CIDR prefix", v));
                size_t len = addr->family == AF_INET ? 4 : 16;
                out_.add_net_prefix(a.filter_id, std::span(addr->bytes.data(), len), addr->prefix_len);
                r = within_limit();
                break;
            }
            case ArgOperator::sport:
            case ArgOperator::not_sport:
            case ArgOperator::dport:
            case ArgOperator::not_dport: {
                auto p = parse_port_range(v);
                if (!p)
                    return err(s.loc, fpath, fmt::format("\"{}\" is not a port or a port range \"min:max\"", v));
                r = range(VSEL_NET_PORT, p->min, p->max);
                break;
            }
            default: {
                uint8_t field = f.op == ArgOperator::protocol ? VSEL_NET_PROTOCOL
                                : f.op == ArgOperator::family ? VSEL_NET_FAMILY
                                                              : VSEL_NET_STATE;
                auto lookup = f.op == ArgOperator::protocol ? protocol_number
                              : f.op == ArgOperator::family ? family_number
                                                            : tcp_state_number;
                if (v.find(':') != std::string::npos) {
                    auto rng = parse_int_range(v);
                    if (!rng || rng->min.negative || rng->max.magnitude > 0xffff)
                        return err(s.loc, fpath, fmt::format("\"{}\" is not a range \"min:max\" within 0..65535", v));
                    r = range(field, rng->min.magnitude, rng->max.magnitude);
                } else if (auto num = lookup(v); num && *num <= 0xffff) {
                    r = range(field, *num, *num);
                } else {
                    return err(s.loc, fpath, fmt::format("\"{}\" is not a known {} name or a number within 0..65535",
                                                         v, name_of(f.op)));
                }
                break;
            }
            }
            if (!r)
                return r;
        }
        return {};
    }

    static std::optional<uint8_t> arg_op(ArgOperator op, ArgClass cls)
    {
        if (cls == ArgClass::none)
            return std::nullopt;
        if (cls == ArgClass::socket) {
            switch (op) {
            case ArgOperator::saddr: return VSEL_OP_SADDR;
            case ArgOperator::not_saddr: return VSEL_OP_NOT_SADDR;
            case ArgOperator::daddr: return VSEL_OP_DADDR;
            case ArgOperator::not_daddr: return VSEL_OP_NOT_DADDR;
            case ArgOperator::sport:
            case ArgOperator::sport_priv: return VSEL_OP_SPORT;
            case ArgOperator::not_sport:
            case ArgOperator::not_sport_priv: return VSEL_OP_NOT_SPORT;
            case ArgOperator::dport:
            case ArgOperator::dport_priv: return VSEL_OP_DPORT;
            case ArgOperator::not_dport:
            case ArgOperator::not_dport_priv: return VSEL_OP_NOT_DPORT;
            case ArgOperator::protocol: return VSEL_OP_PROTOCOL;
            case ArgOperator::family: return VSEL_OP_FAMILY;
            case ArgOperator::state: return VSEL_OP_STATE;
            default: return std::nullopt;
            }
        }
        switch (op) {
        case ArgOperator::equal: return VSEL_OP_EQUAL;
        case ArgOperator::not_equal: return VSEL_OP_NOT_EQUAL;
        default: break;
        }
        if (cls == ArgClass::string) {
            switch (op) {
            case ArgOperator::prefix: return VSEL_OP_PREFIX;
            case ArgOperator::not_prefix: return VSEL_OP_NOT_PREFIX;
            case ArgOperator::postfix: return VSEL_OP_POSTFIX;
            case ArgOperator::not_postfix: return VSEL_OP_NOT_POSTFIX;
            default: return std::nullopt;
            }
        }
        switch (op) {
        case ArgOperator::gt: return VSEL_OP_GT;
        case ArgOperator::lt: return VSEL_OP_LT;
        case ArgOperator::mask: return VSEL_OP_MASK;
        case ArgOperator::in_map: return VSEL_OP_IN_MAP;
        case ArgOperator::not_in_map: return VSEL_OP_NOT_IN_MAP;
        default: return std::nullopt;
        }
    }

    Result<void> actions(const Selector& s, const std::string& path, const std::vector<Action>& acts,
                         vsel_action* out, uint8_t& n)
    {
        if (acts.size() > VSEL_MAX_ACTIONS)
            return err(s.loc, path, fmt::format("{} actions, the limit is {}", acts.size(), VSEL_MAX_ACTIONS));
        for (size_t i = 0; i < acts.size(); ++i) {
            const Action& a = acts[i];
            std::string apath = fmt::format("{}[{}]", path, i);
            vsel_action& o = out[n++];
            if (a.kernel_stack_trace || a.user_stack_trace)
                return err(a.loc, apath, "kernelStackTrace/userStackTrace are not supported by vigil yet");
            if (a.ima_hash)
                return err(a.loc, apath, "imaHash is not supported by vigil");
            switch (a.kind) {
            case ActionKind::post:
                o.kind = VSEL_ACT_POST;
                o.rate_limit_ns = uint64_t(a.rate_limit_ms) * 1'000'000;
                o.rate_scope = a.rate_limit_scope == RateLimitScope::thread    ? VSEL_RATE_THREAD
                               : a.rate_limit_scope == RateLimitScope::process ? VSEL_RATE_PROCESS
                                                                               : VSEL_RATE_GLOBAL;
                break;
            case ActionKind::no_post: o.kind = VSEL_ACT_NOPOST; break;
            case ActionKind::sigkill: o.kind = VSEL_ACT_SIGKILL; break;
            case ActionKind::signal:
                o.kind = VSEL_ACT_SIGNAL;
                o.arg = a.arg_sig;
                break;
            case ActionKind::override_:
                o.kind = VSEL_ACT_OVERRIDE;
                // The format writes the value to return (e.g. -1); the record carries the errno.
                o.arg = static_cast<uint32_t>(a.arg_error < 0 ? -a.arg_error : a.arg_error);
                break;
            default:
                return err(a.loc, apath, fmt::format("action {} is not supported by vigil", name_of(a.kind)));
            }
        }
        return {};
    }

    const Policy& policy_;
    const HookCommon& hook_;
    const CompileContext& ctx_;
    sdk::CompiledSelectors out_;
};

} // namespace

ArgClass arg_class(ArgType t)
{
    switch (t) {
    case ArgType::int_:
    case ArgType::int8:
    case ArgType::uint8:
    case ArgType::int16:
    case ArgType::uint16:
    case ArgType::int32:
    case ArgType::uint32:
    case ArgType::int64:
    case ArgType::uint64:
    case ArgType::size_t_:
    case ArgType::syscall64:
    case ArgType::bpf_cmd:
    case ArgType::kernel_cap_t:
    case ArgType::cap_inheritable:
    case ArgType::cap_permitted:
    case ArgType::cap_effective:
    case ArgType::capability:
        return ArgClass::integer;
    case ArgType::string:
    case ArgType::data_loc:
    case ArgType::char_buf:
    case ArgType::filename:
    case ArgType::fd:
    case ArgType::file:
    case ArgType::path:
    case ArgType::dentry:
    case ArgType::sockaddr_un: // the path, an abstract name as "@name"
        return ArgClass::string;
    case ArgType::sock:
    case ArgType::socket:
    case ArgType::skb:
    case ArgType::sockaddr:
        return ArgClass::socket;
    default:
        return ArgClass::none;
    }
}

Result<sdk::CompiledSelectors> compile_selectors(const Policy& policy, const HookCommon& hook,
                                                 const CompileContext& ctx)
{
    return Compiler(policy, hook, ctx).run();
}

Result<uint32_t> host_namespace_inode(NamespaceType type)
{
    static constexpr const char* files[] = {"uts", "ipc", "mnt", "pid", "pid_for_children", "net",
                                            "time", "time_for_children", "cgroup", "user"};
    std::string path = fmt::format("/proc/1/ns/{}", files[static_cast<size_t>(type)]);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return fail_errno(Errc::io, errno, "host_ns: {}", path);
    return static_cast<uint32_t>(st.st_ino);
}

Result<void> expand_call_lists(Policy& policy)
{
    std::vector<Kprobe> out;
    for (size_t i = 0; i < policy.spec.kprobes.size(); ++i) {
        Kprobe& k = policy.spec.kprobes[i];
        const ListSpec* list = nullptr;
        if (k.call.starts_with("list:"))
            for (const auto& l : policy.spec.lists)
                if (l.name == std::string_view(k.call).substr(5))
                    list = &l;
        if (!list) { // not a list (an undefined one was refused by the parser)
            out.push_back(std::move(k));
            continue;
        }
        auto refuse = [&](std::string why) {
            return fail(Errc::invalid_input, "{}:{}:{}: spec.kprobes[{}].call: {}", policy.source, k.loc.line,
                        k.loc.column, i, why);
        };
        if (list->type == ListType::generated_syscalls)
            return refuse(fmt::format("list \"{}\" names every syscall: as calls it would be one hook per syscall; "
                                      "hook raw_syscalls/sys_enter and match the syscall id with InMap \"list:{}\"",
                                      list->name, list->name));
        if (list->type == ListType::generated_ftrace)
            return refuse(fmt::format("list \"{}\" of type generated_ftrace is not supported as calls: name the "
                                      "functions in a list without a type",
                                      list->name));
        if (list->values.size() > limits::max_list_call_hooks)
            return refuse(fmt::format("list \"{}\" expands to {} hooks, more than the {} one call may have",
                                      list->name, list->values.size(), limits::max_list_call_hooks));
        for (const auto& fn : list->values) {
            if (fn.find('/') != std::string::npos)
                return refuse(fmt::format("\"{}\" in list \"{}\": only x86-64 syscalls can be hooked", fn,
                                          list->name));
            Kprobe one = k;
            one.call = fn;
            out.push_back(std::move(one));
        }
    }
    policy.spec.kprobes = std::move(out);
    return {};
}

} // namespace vigil::policy
