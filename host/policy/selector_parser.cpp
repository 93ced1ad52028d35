// TracingPolicy selectors -> Selector: matchArgs, matchPIDs, matchBinaries, matchNamespaces,
// matchCapabilities and the rest, checked against the hook they belong to (its arguments, kind
// and return value), and matchActions. The rest of the policy is read in policy_parser.cpp.
#include "policy/parser.hpp"

#include "policy/values.hpp"
#include "policy/syscalls.hpp"

#include <algorithm>
#include <limits>
#include <optional>

namespace vigil::policy::detail {

namespace {

// "a, b or c": the argument types a predicate accepts, for error messages.
std::string types_where(bool (*pred)(ArgType))
{
    std::vector<std::string_view> names;
    for (size_t i = 0; i < static_cast<size_t>(ArgType::count_); ++i)
        if (pred(static_cast<ArgType>(i)))
            names.push_back(name_of(static_cast<ArgType>(i)));
    std::string out;
    for (size_t i = 0; i < names.size(); ++i) {
        if (i)
            out += i + 1 == names.size() ? " or " : ", ";
        out += names[i];
    }
    return out;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Selectors

void Parser::parse_selectors(MapReader& r, const HookCtx& ctx, std::vector<Selector>& out)
{
    for_each_item(r, "selectors", limits::max_selectors_per_hook, "selectors per hook",
                  [&](const Field& item) {
                      Selector s;
                      parse_selector(item, ctx, s);
                      out.push_back(std::move(s));
                  });
}

void Parser::parse_selector(const Field& f, const HookCtx& ctx, Selector& s)
{
    MapReader r(d_, f);
    if (!r.valid())
        return;
    s.loc = f.loc;
    if (auto label = r.take("label"))
        if (auto v = read_string(d_, *label))
            s.label = std::move(*v);

    for_each_item(r, "matchPIDs", limits::max_match_pids_per_selector,
                  "matchPIDs filters per selector", [&](const Field& item) {
                      PidFilter p;
                      parse_pid_filter(item, p);
                      s.match_pids.push_back(std::move(p));
                  });
    for_each_item(r, "matchArgs", limits::max_match_args_per_selector,
                  "matchArgs filters per selector", [&](const Field& item) {
                      if (auto a = parse_arg_filter(item, ctx, false))
                          s.match_args.push_back(std::move(*a));
                  });
    if (auto mra = r.take("matchReturnArgs")) {
        if (!ctx.returns) {
            d_.error(mra->loc, mra->path,
                     ctx.kind == HookKind::kprobes || ctx.kind == HookKind::uprobes
                         ? std::string("needs return: true and a returnArg on the hook")
                         : fmt::format("not valid in {}: they do not return", name_of(ctx.kind)));
        } else if (auto items = read_list(d_, *mra)) {
            check_count(d_, *mra, items->size(), limits::max_match_args_per_selector,
                        "matchReturnArgs filters per selector");
            for (const auto& item : *items)
                if (auto a = parse_arg_filter(item, ctx, true))
                    s.match_return_args.push_back(std::move(*a));
        }
    }
    for_each_item(r, "matchBinaries", limits::max_match_binaries_per_selector,
                  "matchBinaries filter per selector", [&](const Field& item) {
                      BinaryFilter b;
                      parse_binary_filter(item, b);
                      s.match_binaries.push_back(std::move(b));
                  });
    for_each_item(r, "matchNamespaces", limits::max_match_namespaces_per_selector,
                  "matchNamespaces filters per selector", [&](const Field& item) {
                      NamespaceFilter n;
                      parse_namespace_filter(item, n);
                      s.match_namespaces.push_back(std::move(n));
                  });
    for_each_item(r, "matchNamespaceChanges", limits::max_match_namespace_changes_per_selector,
                  "matchNamespaceChanges filter per selector", [&](const Field& item) {
                      NamespaceChangesFilter n;
                      parse_namespace_changes_filter(item, n);
                      s.match_namespace_changes.push_back(std::move(n));
                  });
    for_each_item(r, "matchCapabilities", limits::max_match_capabilities_per_selector,
                  "matchCapabilities filters per selector", [&](const Field& item) {
                      CapabilitiesFilter c;
                      parse_capabilities_filter(item, c);
                      s.match_capabilities.push_back(c);
                  });
    for_each_item(r, "matchCapabilityChanges", limits::max_match_capabilities_per_selector,
                  "matchCapabilityChanges filters per selector", [&](const Field& item) {
                      CapabilitiesFilter c;
                      parse_capabilities_filter(item, c);
                      s.match_capability_changes.push_back(c);
                  });
    for_each_item(r, "matchActions", limits::max_actions_per_selector,
                  "matchActions per selector", [&](const Field& item) {
                      if (auto a = parse_action(item, ctx, false))
                          s.match_actions.push_back(std::move(*a));
                  });
    if (auto mra = r.take("matchReturnActions")) {
        if (!ctx.returns) {
            d_.error(mra->loc, mra->path,
                     ctx.kind == HookKind::kprobes || ctx.kind == HookKind::uprobes
                         ? std::string("needs return: true and a returnArg on the hook")
                         : fmt::format("not valid in {}: they do not return", name_of(ctx.kind)));
        } else if (auto items = read_list(d_, *mra)) {
            check_count(d_, *mra, items->size(), limits::max_actions_per_selector,
                        "matchReturnActions per selector");
            for (const auto& item : *items)
                if (auto a = parse_action(item, ctx, true))
                    s.match_return_actions.push_back(std::move(*a));
        }
    }
    r.reject_unsupported("matchData", "matchData (filters on data fields)");
    r.reject_unsupported("matchParentBinaries", "matchParentBinaries");
    r.reject_unsupported("matchWorkloads", "matchWorkloads in a selector; scope the whole policy with "
                                           "spec.podSelector, spec.containerSelector or spec.hostSelector");
    r.reject_unsupported("macros", "selector macros; write the filters in each selector");
    r.finish();
}

void Parser::parse_pid_filter(const Field& f, PidFilter& p)
{
    MapReader r(d_, f);
    if (!r.valid())
        return;
    if (auto op = r.take_required("operator"))
        if (auto v = read_enum<SetOperator>(d_, *op))
            p.op = *v;
    if (auto values = r.take_required("values")) {
        if (auto v = read_u32_list(d_, *values, std::numeric_limits<int32_t>::max())) {
            if (v->empty())
                d_.error(values->loc, values->path, "must have at least one value");
            check_count(d_, *values, v->size(), limits::max_pid_values,
                        "values per matchPIDs filter");
            p.values = std::move(*v);
        }
    }
    if (auto ff = r.take("followForks"))
        if (auto b = read_bool(d_, *ff))
            p.follow_forks = *b;
    if (auto ns = r.take("isNamespacePID"))
        if (auto b = read_bool(d_, *ns))
            p.is_namespace_pid = *b;
    r.finish();
}

std::optional<ArgFilter> Parser::parse_arg_filter(const Field& f, const HookCtx& ctx,
                                                  bool is_return)
{
    MapReader r(d_, f);
    if (!r.valid())
        return std::nullopt;
    ArgFilter a;
    bool ok = true;
    std::optional<Field> index_field = r.take("index");
    if (index_field) {
        if (auto v = read_u32(d_, *index_field, 0, std::numeric_limits<uint32_t>::max()))
            a.index = *v;
        else
            ok = false;
    }
    std::optional<Field> args_field = r.take("args");
    if (args_field) {
        if (auto v = read_u32_list(d_, *args_field, std::numeric_limits<uint32_t>::max()))
            a.args = std::move(*v);
        else
            ok = false;
    }
    std::optional<Field> op_field = r.take_required("operator");
    if (op_field) {
        if (auto v = read_enum<ArgOperator>(d_, *op_field))
            a.op = *v;
        else
            ok = false;
    } else {
        ok = false;
    }
    std::vector<Field> value_fields;
    std::optional<Field> values = r.take("values");
    if (values) {
        if (!values->node.IsSequence()) {
            d_.error(values->loc, values->path,
                     fmt::format("must be a list of strings, got {}", describe(values->node)));
            ok = false;
        } else {
            auto items = read_list(d_, *values);
            for (auto& item : *items) {
                if (auto s = read_string(d_, item)) {
                    a.values.push_back(std::move(*s));
                    value_fields.push_back(std::move(item));
                } else {
                    ok = false;
                }
            }
        }
    }
    r.finish();
    if (!ok)
        return std::nullopt;

    // Which argument(s) the filter reads.
    std::vector<FilterTarget> targets;
    const std::vector<Arg>& args = *ctx.args;
    auto declared = [&] {
        std::string out;
        for (const auto& arg : args)
            out += fmt::format("{}{}", out.empty() ? "" : ", ", arg.index);
        return out;
    };
    if (is_return) {
        if (args_field)
            d_.error(args_field->loc, args_field->path,
                     "not used in matchReturnArgs: they compare returnArg");
        if (a.index && ctx.return_arg && *a.index != ctx.return_arg->index)
            d_.error(index_field->loc, index_field->path,
                     fmt::format("{} does not match returnArg.index {}", *a.index,
                                 ctx.return_arg->index));
        if (ctx.return_arg)
            targets.push_back({ctx.return_arg->type, "returnArg"});
    } else if (a.op == ArgOperator::cel_expr) {
        // The expression names arguments itself (arg0, arg1, ... = positions in args[]).
    } else if (!a.args.empty()) {
        if (a.index && *a.index != 0)
            d_.error(index_field->loc, index_field->path,
                     "give either index (an argument number) or args (positions in args[]), "
                     "not both");
        size_t want = a.op == ArgOperator::capabilities_gained ? 2 : 1;
        if (a.args.size() != want)
            d_.error(args_field->loc, args_field->path,
                     want == 2 ? std::string("CapabilitiesGained compares two args: [new, old]")
                               : fmt::format("operator {} reads one argument; give one position",
                                             name_of(a.op)));
        for (size_t i = 0; i < a.args.size(); ++i) {
            uint32_t pos = a.args[i];
            if (pos >= args.size()) {
                d_.error(args_field->loc, fmt::format("{}[{}]", args_field->path, i),
                         fmt::format("refers to args[{}], but the hook has {} args", pos,
                                     args.size()));
                continue;
            }
            a.arg_positions.push_back(pos);
            targets.push_back({args[pos].type, fmt::format("args[{}]", pos)});
        }
    } else if (a.op == ArgOperator::capabilities_gained) {
        d_.error(f.loc, f.path,
                 "CapabilitiesGained needs args: [new, old], two positions in the hook's args[]");
    } else {
        uint32_t idx = a.index.value_or(0);
        const Field& where = index_field ? *index_field : f;
        auto it = std::find_if(args.begin(), args.end(),
                               [&](const Arg& arg) { return arg.index == idx; });
        // Tracepoint policies in the wild also give the position in args[] (e.g. args
        // [{index: 4}] filtered with index: 0), and the format accepts that when no argument
        // reads that field.
        if (it == args.end() && ctx.kind == HookKind::tracepoints && idx < args.size())
            it = args.begin() + idx;
        if (args.empty()) {
            d_.error(where.loc, index_field ? where.path : f.path,
                     fmt::format("the hook declares no args; add the argument with index {} to "
                                 "{}.args",
                                 idx, ctx.path));
        } else if (it == args.end()) {
            d_.error(where.loc, index_field ? where.path : f.path,
                     fmt::format("no entry of {}.args has index {} (declared: {})", ctx.path, idx,
                                 declared()));
        } else {
            auto pos = static_cast<uint32_t>(it - args.begin());
            a.arg_positions.push_back(pos);
            targets.push_back({it->type, fmt::format("args[{}]", pos)});
        }
    }

    size_t errors_before = d_.size();
    check_arg_values(f, op_field ? &*op_field : nullptr, values ? &*values : nullptr, a.op, targets,
                     value_fields, a.values);
    if (d_.size() != errors_before)
        return std::nullopt;
    return a;
}

void Parser::check_arg_values(const Field& filter, const Field* op_field,
                              const Field* values_field, ArgOperator op,
                              const std::vector<FilterTarget>& targets,
                              const std::vector<Field>& value_fields,
                              const std::vector<std::string>& values)
{
    const Field& opf = op_field ? *op_field : filter;
    std::string op_name(name_of(op));
    ArgType type = targets.empty() ? ArgType::auto_ : targets.front().type;
    bool known = type != ArgType::auto_;
    auto type_error = [&](std::string_view needs) {
        d_.error(opf.loc, opf.path,
                 fmt::format("operator {} needs an argument of type {}, but {} has type {}",
                             op_name, needs, targets.front().name, name_of(type)));
    };

    const ArgOperatorRule& rule = rule_of(op);
    if (rule.every_arg) {
        for (const auto& t : targets)
            if (t.type != ArgType::auto_ && !rule.applies_to(t.type))
                d_.error(opf.loc, opf.path,
                         fmt::format("operator {} needs arguments of type {}, but {} has type {}", op_name,
                                     rule.types, t.name, name_of(t.type)));
    } else if (known && rule.applies_to && !rule.applies_to(type)) {
        type_error(rule.types.empty() ? types_where(rule.applies_to) : std::string(rule.types));
        return;
    }
    bool takes_values = rule.values != OperatorValues::none;
    bool numeric = rule.values == OperatorValues::integers; // values are integers of the argument's type
    size_t max_values = rule.max_values;
    if (rule.values == OperatorValues::by_type) {
        numeric = known && is_integer_type(type);
        if (!known || !(numeric || is_capability_type(type)))
            max_values = limits::max_string_values;
    }

    if (!takes_values) {
        if (!values.empty())
            d_.error(values_field->loc, values_field->path,
                     fmt::format("operator {} takes no values", op_name));
        return;
    }
    if (values.empty()) {
        d_.error(filter.loc, filter.path,
                 fmt::format("operator {} needs at least one value in values", op_name));
        return;
    }
    if (values.size() > max_values)
        check_count(d_, *values_field, values.size(), max_values,
                    fmt::format("values for operator {}{}", op_name,
                                numeric && known ? fmt::format(" on {}", name_of(type))
                                                 : std::string()));
    for (size_t i = 0; i < values.size(); ++i)
        check_one_value(value_fields[i], values[i], op, type, numeric);
}

void Parser::check_one_value(const Field& vf, const std::string& v, ArgOperator op, ArgType type,
                             bool numeric)
{
    bool known = type != ArgType::auto_;
    auto too_long = [&](size_t limit, std::string_view what) {
        if (v.size() > limit)
            d_.error(vf.loc, vf.path,
                     fmt::format("is {} bytes; the limit is {} bytes for {} values", v.size(),
                                 limit, what));
    };
    auto check_int = [&](std::string_view text) {
        auto n = parse_integer(text);
        if (!n) {
            d_.error(vf.loc, vf.path, fmt::format("\"{}\" is not an integer", text));
            return false;
        }
        if (known && !integer_fits(type, *n)) {
            d_.error(vf.loc, vf.path,
                     fmt::format("\"{}\" is out of range for type {}", text, name_of(type)));
            return false;
        }
        return true;
    };
    auto check_range = [&](std::string_view text) {
        auto rng = parse_int_range(text);
        if (!rng) {
            d_.error(vf.loc, vf.path,
                     fmt::format("\"{}\" is not a range \"min:max\" of integers with min <= max",
                                 text));
            return;
        }
        if (known && (!integer_fits(type, rng->min) || !integer_fits(type, rng->max)))
            d_.error(vf.loc, vf.path,
                     fmt::format("\"{}\" is out of range for type {}", text, name_of(type)));
    };
    // Protocol, Family and State take a name, a number or a numeric range.
    auto check_named = [&](auto lookup, std::string_view what) {
        if (v.find(':') != std::string::npos) {
            if (!parse_int_range(v))
                d_.error(vf.loc, vf.path,
                         fmt::format("\"{}\" is not a range \"min:max\" of integers", v));
        } else if (!lookup(v)) {
            d_.error(vf.loc, vf.path, fmt::format("\"{}\" is not {}", v, what));
        }
    };

    switch (op) {
    case ArgOperator::equal:
    case ArgOperator::not_equal:
        if (numeric)
            check_int(v);
        else if (known && is_capability_type(type)) {
            if (!parse_capability_mask(v))
                d_.error(vf.loc, vf.path,
                         fmt::format("\"{}\" is not a capability mask: give a number or "
                                     "comma-separated CAP_* names",
                                     v));
        } else
            too_long(limits::max_string_value_len, "Equal/NotEqual");
        break;
    case ArgOperator::prefix:
    case ArgOperator::not_prefix:
        too_long(limits::max_prefix_len, "Prefix/NotPrefix");
        break;
    case ArgOperator::postfix:
    case ArgOperator::not_postfix:
        too_long(limits::max_postfix_len, "Postfix/NotPostfix");
        break;
    case ArgOperator::substring:
    case ArgOperator::substring_ign_case:
        if (v.empty())
            d_.error(vf.loc, vf.path, "must not be empty");
        too_long(limits::max_substring_len, "SubString");
        break;
    case ArgOperator::gt:
    case ArgOperator::lt:
    case ArgOperator::mask:
        check_int(v);
        break;
    case ArgOperator::in_range:
    case ArgOperator::not_in_range:
        check_range(v);
        break;
    case ArgOperator::in_map:
    case ArgOperator::not_in_map:
        if (v.starts_with(list_prefix)) {
            std::string_view name = std::string_view(v).substr(list_prefix.size());
            const ListSpec* list = find_list(name);
            if (!list)
                d_.error(vf.loc, vf.path,
                         fmt::format("list \"{}\" is not defined in spec.lists", name));
            else if (!is_syscall_list(list->type))
                d_.error(vf.loc, vf.path,
                         fmt::format("list \"{}\" must have type syscalls or generated_syscalls "
                                     "to be used in {}",
                                     name, name_of(op)));
            else if (known && type != ArgType::syscall64 && type != ArgType::uint64)
                d_.error(vf.loc, vf.path,
                         fmt::format("a syscall list needs an argument of type syscall64 or uint64, "
                                     "not {}",
                                     name_of(type)));
        } else if (v.find(':') != std::string::npos) {
            check_range(v);
        } else {
            check_int(v);
        }
        break;
    case ArgOperator::sport:
    case ArgOperator::not_sport:
    case ArgOperator::dport:
    case ArgOperator::not_dport:
        if (!parse_port_range(v))
            d_.error(vf.loc, vf.path,
                     fmt::format("\"{}\" is not a port (0-65535) or a port range \"min:max\"", v));
        break;
    case ArgOperator::saddr:
    case ArgOperator::not_saddr:
    case ArgOperator::daddr:
    case ArgOperator::not_daddr:
        if (!parse_addr(v))
            d_.error(vf.loc, vf.path,
                     fmt::format("\"{}\" is not an IPv4/IPv6 address or CIDR prefix", v));
        break;
    case ArgOperator::protocol:
        check_named(protocol_number, "a protocol number or IPPROTO_* name");
        break;
    case ArgOperator::family:
        check_named(family_number, "an address family number or AF_* name");
        break;
    case ArgOperator::state:
        check_named(tcp_state_number, "a TCP state number or TCP_* name");
        break;
    case ArgOperator::file_type:
    case ArgOperator::not_file_type:
        if (!file_type_mode(v))
            d_.error(vf.loc, vf.path,
                     fmt::format("\"{}\" is not a file type (allowed: sock, socket, lnk, link, "
                                 "reg, regular, blk, block, dir, chr, char, fifo, pipe)",
                                 v));
        break;
    case ArgOperator::cel_expr:
        if (v.empty())
            d_.error(vf.loc, vf.path, "must not be empty");
        break;
    default:
        break;
    }
}

void Parser::parse_binary_filter(const Field& f, BinaryFilter& b)
{
    MapReader r(d_, f);
    if (!r.valid())
        return;
    bool have_op = false;
    if (auto op = r.take_required("operator")) {
        if (auto v = read_enum<BinaryOperator>(d_, *op)) {
            b.op = *v;
            have_op = true;
        }
    }
    if (auto values = r.take_required("values")) {
        if (auto v = read_string_list(d_, *values)) {
            if (v->empty())
                d_.error(values->loc, values->path, "must have at least one value");
            check_count(d_, *values, v->size(), limits::max_binary_values,
                        "values per matchBinaries filter");
            size_t limit = limits::max_binary_path_len;
            std::string_view what = "binary paths";
            if (b.op == BinaryOperator::prefix || b.op == BinaryOperator::not_prefix) {
                limit = limits::max_prefix_len;
                what = "Prefix/NotPrefix";
            } else if (b.op == BinaryOperator::postfix || b.op == BinaryOperator::not_postfix) {
                limit = limits::max_postfix_len;
                what = "Postfix/NotPostfix";
            }
            for (size_t i = 0; i < v->size(); ++i) {
                const std::string& s = (*v)[i];
                SourceLoc loc = loc_of(values->node[i]);
                std::string path = fmt::format("{}[{}]", values->path, i);
                if (s.empty())
                    d_.error(loc, path, "must not be empty");
                else if (have_op && s.size() > limit)
                    d_.error(loc, path,
                             fmt::format("is {} bytes; the limit is {} bytes for {} values",
                                         s.size(), limit, what));
            }
            b.values = std::move(*v);
        }
    }
    if (auto fc = r.take("followChildren")) {
        if (auto v = read_bool(d_, *fc)) {
            b.follow_children = *v;
            if (*v && have_op && b.op != BinaryOperator::in && b.op != BinaryOperator::not_in)
                d_.error(fc->loc, fc->path,
                         fmt::format("followChildren works with operators In and NotIn, not {}",
                                     name_of(b.op)));
        }
    }
    r.finish();
}

void Parser::parse_namespace_filter(const Field& f, NamespaceFilter& n)
{
    MapReader r(d_, f);
    if (!r.valid())
        return;
    if (auto ns = r.take_required("namespace"))
        if (auto v = read_enum<NamespaceType>(d_, *ns))
            n.type = *v;
    if (auto op = r.take_required("operator"))
        if (auto v = read_enum<SetOperator>(d_, *op))
            n.op = *v;
    if (auto values = r.take_required("values")) {
        if (auto v = read_string_list(d_, *values)) {
            if (v->empty())
                d_.error(values->loc, values->path, "must have at least one value");
            check_count(d_, *values, v->size(), limits::max_namespace_values,
                        "values per matchNamespaces filter");
            for (size_t i = 0; i < v->size(); ++i) {
                const std::string& s = (*v)[i];
                if (s == "host_ns") {
                    n.values.push_back({true, 0});
                    continue;
                }
                auto num = parse_integer(s);
                if (!num || !integer_fits(ArgType::uint32, *num)) {
                    d_.error(loc_of(values->node[i]), fmt::format("{}[{}]", values->path, i),
                             fmt::format("\"{}\" is not a namespace inode number or \"host_ns\"",
                                         s));
                    continue;
                }
                n.values.push_back({false, static_cast<uint32_t>(num->magnitude)});
            }
        }
    }
    r.finish();
}

void Parser::parse_namespace_changes_filter(const Field& f, NamespaceChangesFilter& n)
{
    MapReader r(d_, f);
    if (!r.valid())
        return;
    if (auto op = r.take_required("operator"))
        if (auto v = read_enum<SetOperator>(d_, *op))
            n.op = *v;
    if (auto values = r.take_required("values")) {
        if (auto items = read_list(d_, *values)) {
            if (items->empty())
                d_.error(values->loc, values->path, "must have at least one value");
            for (const auto& item : *items)
                if (auto v = read_enum<NamespaceType>(d_, item))
                    n.values.push_back(*v);
        }
    }
    r.finish();
}

void Parser::parse_capabilities_filter(const Field& f, CapabilitiesFilter& c)
{
    MapReader r(d_, f);
    if (!r.valid())
        return;
    if (auto type = r.take("type"))
        if (auto v = read_enum<CapabilitySet>(d_, *type))
            c.type = *v;
    if (auto op = r.take_required("operator"))
        if (auto v = read_enum<SetOperator>(d_, *op))
            c.op = *v;
    if (auto ns = r.take("isNamespaceCapability"))
        if (auto v = read_bool(d_, *ns))
            c.is_namespace_capability = *v;
    if (auto values = r.take_required("values")) {
        if (auto items = read_list(d_, *values)) {
            if (items->empty())
                d_.error(values->loc, values->path, "must have at least one value");
            for (const auto& item : *items) {
                auto s = read_string(d_, item);
                if (!s)
                    continue;
                if (auto cap = capability_number(*s))
                    c.mask |= uint64_t{1} << *cap;
                else
                    d_.error(item.loc, item.path,
                             fmt::format("\"{}\" is not a capability (CAP_CHOWN ... "
                                         "CAP_CHECKPOINT_RESTORE)",
                                         *s));
            }
        }
    }
    r.finish();
}

// ---------------------------------------------------------------------------------------------
// Actions

std::optional<Action> Parser::parse_action(const Field& f, const HookCtx& ctx, bool is_return)
{
    MapReader r(d_, f);
    if (!r.valid())
        return std::nullopt;
    Action a;
    a.loc = f.loc;
    bool have_action = false;
    bool removed = false;
    if (auto act = r.take_required("action")) {
        if (auto s = read_string(d_, *act)) {
            static constexpr std::string_view removed_actions[] = {"FollowFD", "UnfollowFD",
                                                                   "CopyFD"};
            for (auto name : removed_actions) {
                if (names_equal<ActionKind>(name, *s)) {
                    removed = true;
                    d_.error(act->loc, act->path,
                             fmt::format("action {} has been removed: declare the argument with "
                                         "type \"file\" or \"path\" (or \"fd\", which vigil "
                                         "resolves to the file's path in the kernel) and filter "
                                         "on it with matchArgs",
                                         name));
                }
            }
            if (!removed) {
                if (auto k = read_enum<ActionKind>(d_, *act)) {
                    a.kind = *k;
                    have_action = true;
                }
            }
        }
    }

    // Every argument field, with whether it holds a non-default value.
    struct ActionField {
        std::string_view key;
        std::optional<Field> field;
        bool set = false;       // holds a non-default value
        bool invalid = false;   // present but unreadable: already reported
    };
    auto take = [&](std::string_view key) { return ActionField{key, r.take(key), false}; };
    ActionField arg_error = take("argError"), arg_sig = take("argSig"), arg_sock = take("argSock"),
        arg_index = take("argIndex"), arg_value = take("argValue"), arg_url = take("argUrl"),
        arg_fqdn = take("argFqdn"), rate_limit = take("rateLimit"),
        rate_limit_scope = take("rateLimitScope"), kernel_stack = take("kernelStackTrace"),
        user_stack = take("userStackTrace"), ima_hash = take("imaHash");

    // Stores a read value; `set` when it differs from the default.
    auto store = [](ActionField& field, auto v, auto& out) {
        if (!v) {
            field.invalid = true;
            return;
        }
        out = std::move(*v);
        field.set = out != std::remove_reference_t<decltype(out)>{};
    };
    if (arg_error.field)
        store(arg_error, read_i32(d_, *arg_error.field), a.arg_error);
    if (arg_sig.field)
        store(arg_sig, read_u32(d_, *arg_sig.field, 0, limits::max_signal), a.arg_sig);
    if (arg_sock.field)
        store(arg_sock, read_u32(d_, *arg_sock.field, 0, limits::max_args_per_hook - 1),
              a.arg_sock);
    constexpr uint32_t u32_max = std::numeric_limits<uint32_t>::max();
    if (arg_index.field)
        store(arg_index, read_u32(d_, *arg_index.field, 0, u32_max), a.arg_index);
    if (arg_value.field)
        store(arg_value, read_u32(d_, *arg_value.field, 0, u32_max), a.arg_value);
    if (arg_url.field)
        store(arg_url, read_string(d_, *arg_url.field), a.arg_url);
    if (arg_fqdn.field)
        store(arg_fqdn, read_string(d_, *arg_fqdn.field), a.arg_fqdn);
    std::string rate_limit_text;
    if (rate_limit.field)
        store(rate_limit, read_string(d_, *rate_limit.field), rate_limit_text);
    if (rate_limit_scope.field) {
        std::string scope;
        store(rate_limit_scope, read_string(d_, *rate_limit_scope.field), scope);
        if (rate_limit_scope.set) {
            if (auto s = read_enum<RateLimitScope>(d_, *rate_limit_scope.field))
                a.rate_limit_scope = *s;
            else
                rate_limit_scope.invalid = true;
        }
    }
    if (kernel_stack.field)
        store(kernel_stack, read_bool(d_, *kernel_stack.field), a.kernel_stack_trace);
    if (user_stack.field)
        store(user_stack, read_bool(d_, *user_stack.field), a.user_stack_trace);
    if (ima_hash.field)
        store(ima_hash, read_bool(d_, *ima_hash.field), a.ima_hash);
    // Arguments of the removed actions: redundant to report when the action itself is.
    for (std::string_view key : {"argFd", "argName"}) {
        if (auto old = r.take(key); old && !removed)
            d_.error(old->loc, old->path,
                     "belonged to the removed FollowFD, UnfollowFD and CopyFD actions");
    }
    for (std::string_view key : {"argRegs", "argNewSymbol", "argNewAddr", "argNewOffset"})
        r.reject_unsupported(key, "Override of registers or of the call target in uprobes");
    r.finish();
    if (!have_action)
        return std::nullopt;

    std::string act_name(name_of(a.kind));
    // Fields each action uses; any other field set to a non-default value is an error.
    std::vector<const ActionField*> used;
    switch (a.kind) {
    case ActionKind::post:
        used = {&rate_limit, &rate_limit_scope, &kernel_stack, &user_stack, &ima_hash};
        break;
    case ActionKind::signal: used = {&arg_sig}; break;
    case ActionKind::override_: used = {&arg_error}; break;
    case ActionKind::get_url: used = {&arg_url}; break;
    case ActionKind::dns_lookup: used = {&arg_fqdn}; break;
    case ActionKind::track_sock:
    case ActionKind::untrack_sock: used = {&arg_sock}; break;
    case ActionKind::notify_enforcer: used = {&arg_error, &arg_sig}; break;
    case ActionKind::set: used = {&arg_index, &arg_value}; break;
    default: used = {}; break;
    }
    size_t errors_before = d_.size();
    for (const ActionField* arg : {&arg_error, &arg_sig, &arg_sock, &arg_index, &arg_value, &arg_url,
                           &arg_fqdn, &rate_limit, &rate_limit_scope, &kernel_stack, &user_stack,
                           &ima_hash}) {
        if (!arg->set || std::find(used.begin(), used.end(), arg) != used.end())
            continue;
        std::string_view hint;
        if (arg == &rate_limit || arg == &kernel_stack || arg == &user_stack || arg == &ima_hash)
            hint = "; it is only valid with action Post";
        d_.warning(arg->field->loc, arg->field->path, fmt::format("ignored: not used by action {}{}", act_name, hint));
    }

    if (a.kind == ActionKind::post && rate_limit.set) {
        if (auto ms = parse_rate_limit_ms(rate_limit_text))
            a.rate_limit_ms = *ms;
        else
            d_.error(rate_limit.field->loc, rate_limit.field->path,
                     fmt::format("\"{}\" is not a rate limit: give a positive number of seconds, "
                                 "optionally with an s, m or h suffix, below 49 days",
                                 rate_limit_text));
    }
    if (a.kind == ActionKind::post && rate_limit_scope.set && !rate_limit.set)
        d_.error(rate_limit_scope.field->loc, rate_limit_scope.field->path,
                 "needs rateLimit");
    if (a.kind == ActionKind::signal && !arg_sig.set && !arg_sig.invalid)
        d_.error(f.loc, f.path, fmt::format("action Signal needs argSig, a signal number from 1 "
                                            "to {}",
                                            limits::max_signal));
    if (a.kind == ActionKind::get_url && !arg_url.set && !arg_url.invalid)
        d_.error(f.loc, f.path, "action GetUrl needs argUrl");
    if (a.kind == ActionKind::dns_lookup && !arg_fqdn.set && !arg_fqdn.invalid)
        d_.error(f.loc, f.path, "action DnsLookup needs argFqdn");

    const Field& where = f;
    if (a.kind == ActionKind::override_) {
        if (is_return)
            d_.error(where.loc, where.path,
                     "Override cannot run when the call has already returned; put it in "
                     "matchActions");
        else if (ctx.kind == HookKind::tracepoints)
            d_.error(where.loc, where.path,
                     "Override is not possible on tracepoints; use kprobes, lsmhooks or uprobes");
        else if (ctx.kind == HookKind::connects && a.arg_error != -1)
            d_.error(where.loc, where.path,
                     fmt::format("on connects the call can only fail with EPERM: use argError: -1, "
                                 "not {}",
                                 a.arg_error));
        else if (ctx.kind == HookKind::kprobes && !ctx.syscall &&
                 !ctx.call.starts_with("security_"))
            d_.error(where.loc, where.path,
                     fmt::format("Override on kprobes needs a syscall (syscall: true) or a "
                                 "security_* function, and \"{}\" is neither",
                                 ctx.call));
    }
    if ((a.kind == ActionKind::sigkill || a.kind == ActionKind::signal) &&
        ctx.kind == HookKind::connects)
        d_.error(where.loc, where.path,
                 fmt::format("{} is not possible on connects: the cgroup socket programs that check "
                             "them cannot send signals; use Override with argError: -1 to make the "
                             "call fail with EPERM",
                             act_name));
    if (a.kind == ActionKind::notify_enforcer || a.kind == ActionKind::cleanup_enforcer_notification)
        d_.unsupported(where.loc, where.path,
                       fmt::format("action {} (it needs spec.enforcers); use Sigkill, Signal or "
                                   "Override",
                                   act_name));
    if (a.kind == ActionKind::set)
        d_.unsupported(where.loc, where.path, "action Set (it writes usdts probe arguments)");
    if (d_.size() != errors_before)
        return std::nullopt;
    return a;
}

} // namespace vigil::policy::detail
