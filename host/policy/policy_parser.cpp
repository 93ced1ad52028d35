// TracingPolicy YAML -> Policy. One pass over the document: structure, types, enums, limits and
// cross references are all checked here, with the YAML node at hand so every error has a
// position. Sections are read in dependency order (lists before hooks, args before selectors).
//
// A field written with its default value (false, 0, "") is always accepted, even where it has
// no meaning: tools that write policies out tend to emit every field.
//
// Selectors and actions are read in selector_parser.cpp.
#include "policy/parser.hpp"

#include "policy/values.hpp"
#include "policy/syscalls.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

namespace vigil::policy {

namespace {

constexpr std::string_view api_version_v1alpha1 = "cilium.io/v1alpha1";

// The keys a containerSelector may name: the container's name, and its image without tag or digest.
constexpr std::string_view container_selector_keys = "name, repo";

// RFC 1123 label, as Kubernetes requires for namespace names.
bool is_dns_label(std::string_view s)
{
    if (s.empty() || s.size() > 63)
        return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(s.front()) || !alnum(s.back()))
        return false;
    for (char c : s)
        if (!alnum(c) && c != '-')
            return false;
    return true;
}

// RFC 1123 subdomain, as Kubernetes requires for object names.
bool is_dns_subdomain(std::string_view s)
{
    if (s.empty() || s.size() > limits::max_name_len)
        return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    size_t label_start = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == '.') {
            if (i == label_start || !alnum(s[label_start]) || !alnum(s[i - 1]))
                return false;
            label_start = i + 1;
        } else if (!alnum(s[i]) && s[i] != '-') {
            return false;
        }
    }
    return true;
}

} // namespace

namespace detail {

void Parser::parse(const YAML::Node& root, Policy& out)
{
    Field top{root, "", loc_of(root)};
    if (!root.IsMap()) {
        d_.error(top.loc, "",
                 fmt::format("a policy must be a mapping with apiVersion, kind, metadata and "
                             "spec, got {}",
                             describe(root)));
        return;
    }
    MapReader r(d_, top);
    if (auto f = r.take_required("apiVersion")) {
        if (auto s = read_string(d_, *f)) {
            if (*s != api_version_v1alpha1)
                d_.error(f->loc, f->path,
                         fmt::format("invalid value \"{}\" (allowed: {})", *s,
                                     api_version_v1alpha1));
            out.api_version = *s;
        }
    }
    if (auto f = r.take_required("kind")) {
        out.kind_loc = f->loc;
        if (auto k = read_enum<PolicyKind>(d_, *f)) {
            out.kind = *k;
        }
    }
    if (auto f = r.take_required("metadata"))
        parse_metadata(*f, out);
    if (auto f = r.take_required("spec"))
        parse_spec(*f, out);
    r.finish();
}

void Parser::parse_metadata(const Field& f, Policy& out)
{
    MapReader r(d_, f);
    if (!r.valid())
        return;
    if (auto name = r.take_required("name")) {
        if (auto s = read_string(d_, *name)) {
            if (!is_dns_subdomain(*s))
                d_.error(name->loc, name->path,
                         fmt::format("\"{}\" is not a valid name: use lowercase letters, digits, "
                                     "'-' and '.', start and end with a letter or digit, at most "
                                     "{} characters",
                                     *s, limits::max_name_len));
            out.name = std::move(*s);
        }
    }
    if (auto ns = r.take("namespace")) {
        if (auto s = read_string(d_, *ns)) {
            if (out.kind != PolicyKind::tracing_policy_namespaced)
                d_.error(ns->loc, ns->path, "only valid with kind TracingPolicyNamespaced");
            else if (!is_dns_label(*s))
                d_.error(ns->loc, ns->path,
                         fmt::format("\"{}\" is not a valid namespace: use lowercase letters, digits "
                                     "and '-', start and end with a letter or digit, at most 63 characters",
                                     *s));
            out.namespace_ = std::move(*s);
        }
    } else if (out.kind == PolicyKind::tracing_policy_namespaced && r.valid()) {
        d_.error(f.loc, f.path + ".namespace",
                 "missing required field: a TracingPolicyNamespaced applies to the pods of this namespace");
    }
    if (auto labels = r.take("labels"))
        if (auto m = read_string_map(d_, *labels))
            out.labels = std::move(*m);
    if (auto ann = r.take("annotations"))
        if (auto m = read_string_map(d_, *ann))
            out.annotations = std::move(*m);
    // Set by a Kubernetes API server; present when a policy was exported from a cluster.
    r.ignore("creationTimestamp");
    r.ignore("generation");
    r.ignore("resourceVersion");
    r.ignore("uid");
    r.finish();
}

void Parser::parse_spec(const Field& f, Policy& out)
{
    MapReader r(d_, f);
    if (!r.valid())
        return;
    Spec& spec = out.spec;

    if (auto lists = r.take("lists"))
        parse_lists(*lists, spec.lists);
    lists_ = &spec.lists;
    if (auto options = r.take("options"))
        parse_options(*options, spec);

    auto hooks = [&](std::string_view key, auto& vec, auto parse_one) {
        auto field = r.take(key);
        if (!field)
            return;
        auto items = read_list(d_, *field);
        if (!items)
            return;
        vec.resize(items->size());
        for (size_t i = 0; i < items->size(); ++i)
            (this->*parse_one)((*items)[i], vec[i]);
    };
    hooks("kprobes", spec.kprobes, &Parser::parse_kprobe);
    hooks("tracepoints", spec.tracepoints, &Parser::parse_tracepoint);
    hooks("uprobes", spec.uprobes, &Parser::parse_uprobe);
    hooks("usdts", spec.usdts, &Parser::parse_usdt);
    hooks("lsmhooks", spec.lsmhooks, &Parser::parse_lsmhook);
    hooks("connects", spec.connects, &Parser::parse_connect);

    if (auto sel = r.take("podSelector"))
        spec.workloads.pods = parse_label_selector(*sel, "pod label", {});
    if (auto sel = r.take("containerSelector"))
        spec.workloads.containers = parse_label_selector(*sel, "container field", container_selector_keys);
    if (auto sel = r.take("hostSelector")) {
        if (!sel->node.IsMap())
            d_.error(sel->loc, sel->path, fmt::format("must be {{}} (every host process) or null, got {}",
                                                      describe(sel->node)));
        else if (sel->node.size() != 0)
            d_.unsupported(sel->loc, sel->path,
                           "filters in hostSelector; {} selects every process outside a container");
        else if (out.kind == PolicyKind::tracing_policy_namespaced)
            d_.error(sel->loc, sel->path, "not valid in a TracingPolicyNamespaced, which applies to the pods "
                                          "of its namespace only");
        else
            spec.workloads.host = true;
    }
    if (auto sel = r.take("nodeSelector"))
        spec.node_selector = parse_label_selector(*sel, "node label", {});
    r.reject_unsupported("fentries", "fentries hooks; use kprobes");
    r.reject_unsupported("enforcers",
                         "enforcers (NotifyEnforcer programs); use Sigkill, Signal or Override "
                         "in the hook's matchActions");
    r.reject_unsupported("selectorsMacros", "selectorsMacros; write the filters in each selector");
    if (auto loader = r.take("loader")) {
        if (auto b = read_bool(d_, *loader); b && *b)
            d_.unsupported(loader->loc, loader->path, "loader events");
    }
    r.finish();

    // Only when no hook section was written at all: a malformed one has its own error.
    bool any_hooks = false;
    for (std::string_view key : {"kprobes", "tracepoints", "uprobes", "usdts", "lsmhooks",
                                 "connects", "fentries"})
        any_hooks = any_hooks || r.has(key);
    if (r.valid() && !any_hooks)
        d_.error(f.loc, f.path, "the policy has no hooks: add kprobes, tracepoints, uprobes, "
                                "usdts, lsmhooks or connects");
}

bool Parser::check_label_key(const Field& f, const std::string& key, std::string_view keys)
{
    if (key.empty()) {
        d_.error(f.loc, f.path, "a label key must not be empty");
        return false;
    }
    if (keys.empty())
        return true;
    for (size_t pos = 0; pos <= keys.size();) {
        size_t comma = keys.find(", ", pos);
        if (keys.substr(pos, comma == std::string_view::npos ? comma : comma - pos) == key)
            return true;
        pos = comma == std::string_view::npos ? keys.size() + 1 : comma + 2;
    }
    d_.error(f.loc, f.path, fmt::format("unknown key \"{}\" (allowed: {})", key, keys));
    return false;
}

std::optional<LabelSelector> Parser::parse_label_selector(const Field& f, std::string_view what,
                                                          std::string_view keys)
{
    MapReader r(d_, f);
    if (!r.valid())
        return std::nullopt;
    LabelSelector sel;
    size_t errors = d_.size();
    if (auto labels = r.take("matchLabels")) {
        if (auto m = read_string_map(d_, *labels)) {
            check_count(d_, *labels, m->size(), limits::max_label_requirements, fmt::format("{} requirements", what));
            for (const auto& kv : labels->node) {
                std::string k = kv.first.Scalar();
                Field kf{kv.second, labels->path + "." + k, detail::loc_of(kv.first)};
                if (check_label_key(kf, k, keys))
                    sel.requirements.push_back({kf.loc, k, LabelOperator::in, {(*m)[k]}});
            }
        }
    }
    for_each_item(r, "matchExpressions", limits::max_label_requirements, fmt::format("{} requirements", what),
                  [&](const Field& item) {
                      MapReader er(d_, item);
                      if (!er.valid())
                          return;
                      LabelRequirement req;
                      req.loc = item.loc;
                      bool ok = true;
                      if (auto k = er.take_required("key")) {
                          auto key = read_string(d_, *k);
                          ok = key && check_label_key(*k, *key, keys);
                          if (key)
                              req.key = std::move(*key);
                      } else {
                          ok = false;
                      }
                      std::optional<Field> op_field = er.take_required("operator");
                      std::optional<LabelOperator> op;
                      if (op_field)
                          op = read_enum<LabelOperator>(d_, *op_field);
                      std::optional<Field> values = er.take("values");
                      if (values) {
                          if (auto v = read_string_list(d_, *values)) {
                              check_count(d_, *values, v->size(), limits::max_label_values, "values");
                              req.values = std::move(*v);
                          }
                      }
                      er.finish();
                      if (!op || !ok)
                          return;
                      req.op = *op;
                      bool set_op = req.op == LabelOperator::in || req.op == LabelOperator::not_in;
                      if (set_op && req.values.empty())
                          d_.error(values ? values->loc : item.loc, values ? values->path : item.path,
                                   fmt::format("operator {} needs at least one value", name_of(req.op)));
                      else if (!set_op && !req.values.empty())
                          d_.error(values->loc, values->path,
                                   fmt::format("operator {} takes no values", name_of(req.op)));
                      std::sort(req.values.begin(), req.values.end());
                      sel.requirements.push_back(std::move(req));
                  });
    r.finish();
    check_count(d_, f, sel.requirements.size(), limits::max_label_requirements,
                fmt::format("{} requirements", what));
    if (d_.size() != errors)
        return std::nullopt;
    return sel;
}

void Parser::parse_lists(const Field& f, std::vector<ListSpec>& out)
{
    auto items = read_list(d_, f);
    if (!items)
        return;
    check_count(d_, f, items->size(), limits::max_lists, "lists per policy");
    for (const auto& item : *items) {
        MapReader r(d_, item);
        if (!r.valid())
            continue;
        ListSpec list;
        list.loc = item.loc;
        if (auto name = r.take_required("name")) {
            if (auto s = read_string(d_, *name)) {
                if (s->empty())
                    d_.error(name->loc, name->path, "must not be empty");
                for (const auto& other : out)
                    if (other.name == *s)
                        d_.error(name->loc, name->path,
                                 fmt::format("list \"{}\" is defined twice", *s));
                list.name = std::move(*s);
            }
        }
        if (auto type = r.take("type")) {
            auto s = read_string(d_, *type);
            if (s && !s->empty()) {
                if (auto t = read_enum<ListType>(d_, *type))
                    list.type = *t;
            }
        }
        std::optional<Field> values_field = r.take("values");
        if (values_field) {
            if (auto values = read_string_list(d_, *values_field)) {
                check_count(d_, *values_field, values->size(), limits::max_list_values,
                            "values per list");
                list.values = std::move(*values);
            }
            // "i386/sys_dup" names a 32-bit syscall; the compiler says those cannot be matched.
            if (list.type == ListType::syscalls)
                for (const auto& v : list.values)
                    if (v.find('/') == std::string::npos && !syscall_number(v))
                        d_.error(values_field->loc, values_field->path,
                                 fmt::format("\"{}\" is not an x86-64 syscall", v));
        }
        std::optional<Field> pattern_field = r.take("pattern");
        if (pattern_field)
            if (auto s = read_string(d_, *pattern_field))
                list.pattern = std::move(*s);
        // Bookkeeping of the format's own controller, not user input.
        r.ignore("validated");
        r.finish();

        bool generated = list.type == ListType::generated_syscalls ||
                         list.type == ListType::generated_ftrace;
        if (generated && !list.values.empty())
            d_.error(values_field->loc, values_field->path,
                     fmt::format("a {} list is generated and must not have values",
                                 name_of(list.type)));
        if (!generated && list.values.empty())
            d_.error(item.loc, item.path, "missing required field \"values\"");
        if (list.type == ListType::generated_ftrace && list.pattern.empty())
            d_.error(item.loc, item.path,
                     "a generated_ftrace list needs a pattern (a regular expression over "
                     "function names)");
        if (list.type != ListType::generated_ftrace && !list.pattern.empty())
            d_.error(pattern_field->loc, pattern_field->path,
                     "only used by lists of type generated_ftrace");
        out.push_back(std::move(list));
    }
}

void Parser::parse_options(const Field& f, Spec& spec)
{
    auto items = read_list(d_, f);
    if (!items)
        return;
    constexpr std::string_view known = "policy-mode, disable-kprobe-multi, disable-uprobe-multi";
    for (const auto& item : *items) {
        MapReader r(d_, item);
        if (!r.valid())
            continue;
        OptionSpec opt;
        opt.loc = item.loc;
        auto name_field = r.take_required("name");
        std::optional<Field> value_field = r.take("value");
        r.finish();
        if (!name_field)
            continue;
        auto name = read_string(d_, *name_field);
        if (!name)
            continue;
        opt.name = *name;
        if (value_field) {
            auto v = read_string(d_, *value_field);
            if (!v)
                continue;
            opt.value = std::move(*v);
        }
        for (const auto& other : spec.options)
            if (other.name == opt.name)
                d_.error(name_field->loc, name_field->path,
                         fmt::format("option \"{}\" is given twice", opt.name));
        const Field& where = value_field ? *value_field : item;
        std::string where_path = value_field ? value_field->path : item.path + ".value";
        if (opt.name == "policy-mode") {
            if (auto m = enum_from_string<PolicyMode>(opt.value))
                spec.mode = *m;
            else
                d_.error(where.loc, where_path,
                         fmt::format("invalid value \"{}\" for option policy-mode (allowed: {})",
                                     opt.value, allowed_names<PolicyMode>()));
        } else if (opt.name == "disable-kprobe-multi" || opt.name == "disable-uprobe-multi") {
            // The format takes any spelling Go's strconv.ParseBool does.
            static constexpr std::string_view yes[] = {"1", "t", "T", "true", "TRUE", "True"};
            static constexpr std::string_view no[] = {"0", "f", "F", "false", "FALSE", "False"};
            bool value = false;
            if (std::find(std::begin(yes), std::end(yes), opt.value) != std::end(yes))
                value = true;
            else if (std::find(std::begin(no), std::end(no), opt.value) == std::end(no))
                d_.error(where.loc, where_path,
                         fmt::format("invalid value \"{}\" for option {} (allowed: true, false, "
                                     "1, 0)",
                                     opt.value, opt.name));
            (opt.name == "disable-kprobe-multi" ? spec.disable_kprobe_multi
                                                : spec.disable_uprobe_multi) = value;
        } else {
            d_.error(name_field->loc, name_field->path,
                     fmt::format("unknown option \"{}\" (known: {})", opt.name, known));
        }
        spec.options.push_back(std::move(opt));
    }
}

const ListSpec* Parser::find_list(std::string_view name) const
{
    if (!lists_)
        return nullptr;
    for (const auto& l : *lists_)
        if (l.name == name)
            return &l;
    return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Hooks

void Parser::parse_message(MapReader& r, std::string& out)
{
    auto f = r.take("message");
    if (!f)
        return;
    auto s = read_string(d_, *f);
    if (!s)
        return;
    if (s->size() > limits::max_message_len)
        d_.error(f->loc, f->path,
                 fmt::format("is {} bytes; the limit is {} bytes", s->size(),
                             limits::max_message_len));
    out = std::move(*s);
}

void Parser::parse_tags(MapReader& r, std::vector<std::string>& out)
{
    auto f = r.take("tags");
    if (!f)
        return;
    auto items = read_list(d_, *f);
    if (!items)
        return;
    check_count(d_, *f, items->size(), limits::max_tags_per_hook, "tags per hook");
    for (const auto& item : *items) {
        auto s = read_string(d_, item);
        if (!s)
            continue;
        if (s->size() < limits::min_tag_len || s->size() > limits::max_tag_len)
            d_.error(item.loc, item.path,
                     fmt::format("is {} bytes; tags must be {} to {} bytes", s->size(),
                                 limits::min_tag_len, limits::max_tag_len));
        out.push_back(std::move(*s));
    }
}

void Parser::parse_args(MapReader& r, HookKind kind, bool raw, std::vector<Arg>& out)
{
    for_each_item(r, "args", limits::max_args_per_hook, "args per hook", [&](const Field& item) {
        if (auto a = parse_arg(item, kind, raw, false))
            out.push_back(std::move(*a));
    });
}

std::optional<Arg> Parser::parse_arg(const Field& f, HookKind kind, bool raw, bool is_return)
{
    MapReader r(d_, f);
    if (!r.valid())
        return std::nullopt;
    Arg a;
    a.loc = f.loc;
    bool ok = true;
    uint32_t max_index = limits::max_func_arg_index;
    if (kind == HookKind::tracepoints)
        max_index = raw ? limits::max_raw_tracepoint_arg_index : limits::max_tracepoint_arg_index;
    if (auto idx = r.take_required("index")) {
        if (auto v = read_u32(d_, *idx, 0, is_return ? std::numeric_limits<uint32_t>::max()
                                                     : max_index))
            a.index = *v;
        else
            ok = false;
    } else {
        ok = false;
    }
    std::optional<Field> type_field = r.take("type");
    if (type_field) {
        if (auto t = read_enum<ArgType>(d_, *type_field))
            a.type = *t;
        else
            ok = false;
    }
    if (auto label = r.take("label"))
        if (auto s = read_string(d_, *label))
            a.label = std::move(*s);
    if (auto resolve = r.take("resolve")) {
        if (auto s = read_string(d_, *resolve)) {
            if (!s->empty() && kind == HookKind::uprobes)
                d_.unsupported(resolve->loc, resolve->path,
                               "resolve in uprobe arguments (there is no BTF for user space)");
            a.resolve = std::move(*s);
        }
    }

    bool is_buffer = a.type == ArgType::char_buf || a.type == ArgType::char_iovec;
    if (auto md = r.take("maxData")) {
        if (auto b = read_bool(d_, *md); b && *b) {
            a.max_data = true;
            if (is_return)
                d_.error(md->loc, md->path, "not valid in returnArg");
            else if (a.type != ArgType::char_buf) {
                d_.warning(md->loc, md->path,
                           fmt::format("ignored: maxData applies to type char_buf, not {}", name_of(a.type)));
                a.max_data = false;
            }
        }
    }
    if (auto rc = r.take("returnCopy")) {
        if (auto b = read_bool(d_, *rc); b && *b) {
            a.return_copy = true;
            if (is_return)
                d_.error(rc->loc, rc->path, "not valid in returnArg");
            else if (!is_buffer)
                d_.error(rc->loc, rc->path,
                         fmt::format("only valid for types char_buf and char_iovec, not {}",
                                     name_of(a.type)));
            else if (kind != HookKind::kprobes && kind != HookKind::uprobes)
                d_.error(rc->loc, rc->path,
                         fmt::format("needs a hook that returns (kprobes or uprobes), not {}",
                                     name_of(kind)));
        }
    }
    if (auto sai = r.take("sizeArgIndex")) {
        // 1-based: the number of the argument that holds the size (its index + 1).
        uint32_t max_size_arg = (kind == HookKind::tracepoints ? max_index
                                                               : limits::max_func_arg_index) +
                                1;
        if (auto v = read_u32(d_, *sai, 0, max_size_arg); v && *v) {
            a.size_arg_index = *v;
            if (is_return)
                d_.error(sai->loc, sai->path, "not valid in returnArg");
            else if (!is_buffer)
                d_.error(sai->loc, sai->path,
                         fmt::format("only valid for types char_buf and char_iovec, not {}",
                                     name_of(a.type)));
        }
    }
    r.reject_unsupported("source", "args read from the current task or registers (source)");
    r.reject_unsupported("btfType", "btfType (casting an argument to another BTF type)");
    r.reject_unsupported("btfTypeModule", "btfTypeModule (BTF of kernel modules)");
    r.finish();
    if (!ok)
        return std::nullopt;
    return a;
}

void Parser::parse_kprobe(const Field& f, Kprobe& k)
{
    MapReader r(d_, f);
    if (!r.valid())
        return;
    k.loc = f.loc;
    HookCtx ctx;
    ctx.kind = HookKind::kprobes;
    ctx.path = f.path;

    const ListSpec* list = nullptr;
    if (auto call = r.take_required("call")) {
        if (auto s = read_string(d_, *call)) {
            if (s->empty())
                d_.error(call->loc, call->path, "must not be empty");
            if (s->starts_with(list_prefix)) {
                std::string_view name = std::string_view(*s).substr(list_prefix.size());
                list = find_list(name);
                if (!list)
                    d_.error(call->loc, call->path,
                             fmt::format("list \"{}\" is not defined in spec.lists", name));
            }
            k.call = std::move(*s);
        }
    }
    if (auto sc = r.take("syscall")) {
        if (auto b = read_bool(d_, *sc)) {
            k.syscall = *b;
            if (!*b && list && is_syscall_list(list->type))
                d_.error(sc->loc, sc->path,
                         fmt::format("syscall: false contradicts list \"{}\" of type {}",
                                     list->name, name_of(list->type)));
        }
    }
    if (list && is_syscall_list(list->type))
        k.syscall = true;

    std::optional<Field> return_field = r.take("return");
    if (return_field)
        if (auto b = read_bool(d_, *return_field))
            k.return_ = *b;
    if (auto ignore = r.take("ignore")) {
        MapReader ir(d_, *ignore);
        if (ir.valid()) {
            if (auto cnf = ir.take("callNotFound"))
                if (auto b = read_bool(d_, *cnf))
                    k.ignore_call_not_found = *b;
            ir.finish();
        }
    }
    parse_message(r, k.message);
    parse_tags(r, k.tags);
    parse_args(r, HookKind::kprobes, false, k.args);

    std::optional<Field> ra_field = r.take("returnArg");
    if (ra_field) {
        k.return_arg = parse_arg(*ra_field, HookKind::kprobes, false, true);
        if (!k.return_) {
            d_.warning(ra_field->loc, ra_field->path, "ignored: without return: true no return value is read");
            k.return_arg.reset();
        }
    } else if (k.return_) {
        d_.error(return_field->loc, return_field->path,
                 "return: true needs a returnArg that gives the type of the return value");
    }
    if (auto raa = r.take("returnArgAction")) {
        if (auto s = read_string(d_, *raa)) {
            auto a = enum_from_string<ActionKind>(*s);
            if (a != ActionKind::track_sock && a != ActionKind::untrack_sock)
                d_.error(raa->loc, raa->path,
                         fmt::format("invalid value \"{}\" (allowed: TrackSock, UntrackSock)",
                                     *s));
            else if (!k.return_)
                d_.error(raa->loc, raa->path, "needs return: true");
            else if (k.return_arg && k.return_arg->type != ArgType::sock)
                d_.error(raa->loc, raa->path,
                         fmt::format("{} needs a returnArg of type sock, not {}", name_of(*a),
                                     name_of(k.return_arg->type)));
            else
                k.return_arg_action = a;
        }
    }
    r.reject_unsupported("data", "data (values read from the current task or registers)");

    ctx.args = &k.args;
    ctx.returns = k.return_;
    ctx.return_arg = k.return_arg ? &*k.return_arg : nullptr;
    ctx.syscall = k.syscall;
    ctx.call = k.call;
    parse_selectors(r, ctx, k.selectors);
    r.finish();
}

void Parser::parse_tracepoint(const Field& f, Tracepoint& t)
{
    MapReader r(d_, f);
    if (!r.valid())
        return;
    t.loc = f.loc;
    for (auto [key, out] : {std::pair{"subsystem", &t.subsystem}, std::pair{"event", &t.event}}) {
        if (auto fld = r.take_required(key)) {
            if (auto s = read_string(d_, *fld)) {
                if (s->empty() || s->find('/') != std::string::npos)
                    d_.error(fld->loc, fld->path,
                             fmt::format("\"{}\" is not a tracepoint {} name", *s, key));
                *out = std::move(*s);
            }
        }
    }
    if (auto raw = r.take("raw"))
        if (auto b = read_bool(d_, *raw))
            t.raw = *b;
    parse_message(r, t.message);
    parse_tags(r, t.tags);
    parse_args(r, HookKind::tracepoints, t.raw, t.args);

    HookCtx ctx;
    ctx.kind = HookKind::tracepoints;
    ctx.path = f.path;
    ctx.args = &t.args;
    parse_selectors(r, ctx, t.selectors);
    r.finish();
}

namespace {

// File offsets in a binary (offsets, refCtrOffsets): unsigned integers, decimal or 0x hex.
std::optional<std::vector<uint64_t>> read_offsets(Diagnostics& d, const Field& f)
{
    auto items = read_list(d, f);
    if (!items)
        return std::nullopt;
    std::vector<uint64_t> out;
    bool ok = true;
    for (const auto& item : *items) {
        std::string text = item.node.IsScalar() ? item.node.Scalar() : "";
        uint64_t v = 0;
        bool hex = text.starts_with("0x") || text.starts_with("0X");
        std::string_view digits = std::string_view(text).substr(hex ? 2 : 0);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, hex ? 16 : 10);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
            d.error(item.loc, item.path,
                    fmt::format("must be a file offset (an unsigned integer, decimal or 0x hex), got {}",
                                describe(item.node)));
            ok = false;
        } else {
            out.push_back(v);
        }
    }
    if (!ok)
        return std::nullopt;
    return out;
}

} // namespace

// The binary of a uprobe or usdt hook: an absolute path.
void Parser::parse_binary_path(MapReader& r, std::string& out)
{
    if (auto path = r.take_required("path")) {
        if (auto s = read_string(d_, *path)) {
            if (!s->starts_with('/'))
                d_.error(path->loc, path->path, fmt::format("\"{}\" is not an absolute path", *s));
            out = std::move(*s);
        }
    }
}

void Parser::parse_uprobe(const Field& f, Uprobe& u)
{
    MapReader r(d_, f);
    if (!r.valid())
        return;
    u.loc = f.loc;
    parse_binary_path(r, u.path);
    std::optional<Field> syms = r.take("symbols");
    std::optional<Field> offsets = r.take("offsets");
    if (syms) {
        if (auto list = read_string_list(d_, *syms)) {
            if (list->empty())
                d_.error(syms->loc, syms->path, "must name at least one symbol");
            check_count(d_, *syms, list->size(), limits::max_uprobe_symbols,
                        "symbols per uprobe");
            for (size_t i = 0; i < list->size(); ++i)
                if ((*list)[i].empty())
                    d_.error(syms->loc, fmt::format("{}[{}]", syms->path, i), "must not be empty");
            u.symbols = std::move(*list);
        }
    }
    if (offsets) {
        if (syms)
            d_.error(offsets->loc, offsets->path, "a uprobe names symbols or offsets, not both");
        else if (auto list = read_offsets(d_, *offsets)) {
            if (list->empty())
                d_.error(offsets->loc, offsets->path, "must give at least one offset");
            check_count(d_, *offsets, list->size(), limits::max_uprobe_symbols,
                        "offsets per uprobe");
            u.offsets = std::move(*list);
        }
    }
    if (!syms && !offsets)
        d_.error(f.loc, f.path, "a uprobe needs symbols or offsets");
    if (auto ref = r.take("refCtrOffsets")) {
        if (auto list = read_offsets(d_, *ref)) {
            size_t targets = syms ? u.symbols.size() : u.offsets.size();
            if (list->size() != targets)
                d_.error(ref->loc, ref->path,
                         fmt::format("gives {} offsets for {} {}: one semaphore offset per {} (0 for none)",
                                     list->size(), targets, syms ? "symbols" : "offsets",
                                     syms ? "symbol" : "offset"));
            u.ref_ctr_offsets = std::move(*list);
        }
    }
    std::optional<Field> return_field = r.take("return");
    if (return_field)
        if (auto b = read_bool(d_, *return_field))
            u.return_ = *b;
    parse_message(r, u.message);
    parse_tags(r, u.tags);
    parse_args(r, HookKind::uprobes, false, u.args);
    std::optional<Field> ra_field = r.take("returnArg");
    if (ra_field) {
        u.return_arg = parse_arg(*ra_field, HookKind::uprobes, false, true);
        if (!u.return_)
            d_.error(ra_field->loc, ra_field->path, "needs return: true");
    } else if (u.return_) {
        d_.error(return_field->loc, return_field->path,
                 "return: true needs a returnArg that gives the type of the return value");
    }
    r.reject_unsupported("addrs", "uprobes on addresses; name the symbols or give file offsets");
    r.reject_unsupported("btfPath", "btfPath (BTF of user-space binaries)");
    r.reject_unsupported("binaryDigests", "binaryDigests (checking the binary before attaching)");
    r.reject_unsupported("ignore", "ignore (digest verification is not supported)");
    r.reject_unsupported("data", "data (values read from the current task or registers)");

    HookCtx ctx;
    ctx.kind = HookKind::uprobes;
    ctx.path = f.path;
    ctx.args = &u.args;
    ctx.returns = u.return_;
    ctx.return_arg = u.return_arg ? &*u.return_arg : nullptr;
    parse_selectors(r, ctx, u.selectors);
    r.finish();
}

void Parser::parse_usdt(const Field& f, Usdt& u)
{
    MapReader r(d_, f);
    if (!r.valid())
        return;
    u.loc = f.loc;
    parse_binary_path(r, u.path);
    for (auto [key, out] : {std::pair{"provider", &u.provider}, std::pair{"name", &u.name}}) {
        if (auto field = r.take_required(key)) {
            if (auto s = read_string(d_, *field)) {
                if (s->empty())
                    d_.error(field->loc, field->path, "must not be empty");
                *out = std::move(*s);
            }
        }
    }
    parse_message(r, u.message);
    parse_tags(r, u.tags);
    parse_args(r, HookKind::usdts, false, u.args);
    r.reject_unsupported("btfPath", "btfPath (BTF of user-space binaries)");

    HookCtx ctx;
    ctx.kind = HookKind::usdts;
    ctx.path = f.path;
    ctx.args = &u.args;
    parse_selectors(r, ctx, u.selectors);
    r.finish();
}

void Parser::parse_lsmhook(const Field& f, LsmHook& h)
{
    MapReader r(d_, f);
    if (!r.valid())
        return;
    h.loc = f.loc;
    if (auto hook = r.take_required("hook")) {
        if (auto s = read_string(d_, *hook)) {
            if (s->empty())
                d_.error(hook->loc, hook->path, "must not be empty");
            h.hook = std::move(*s);
        }
    }
    parse_message(r, h.message);
    parse_tags(r, h.tags);
    parse_args(r, HookKind::lsmhooks, false, h.args);
    HookCtx ctx;
    ctx.kind = HookKind::lsmhooks;
    ctx.path = f.path;
    ctx.args = &h.args;
    parse_selectors(r, ctx, h.selectors);
    r.finish();
}

void Parser::parse_connect(const Field& f, Connect& c)
{
    MapReader r(d_, f);
    if (!r.valid())
        return;
    c.loc = f.loc;
    if (auto dg = r.take("datagrams"))
        if (auto b = read_bool(d_, *dg))
            c.datagrams = *b;
    parse_message(r, c.message);
    parse_tags(r, c.tags);
    if (auto args = r.take("args"))
        d_.error(args->loc, args->path,
                 "connects have one fixed argument, the socket being connected (index 0, type "
                 "sock, its destination as the remote end); remove args");
    Arg sock;
    sock.loc = f.loc;
    sock.type = ArgType::sock;
    sock.label = "socket";
    c.args = {sock};
    HookCtx ctx;
    ctx.kind = HookKind::connects;
    ctx.path = f.path;
    ctx.args = &c.args;
    parse_selectors(r, ctx, c.selectors);
    r.finish();
}
} // namespace detail

namespace {

using detail::Diagnostics;
using detail::Parser;
using detail::loc_of;

// Reads and parses; the one place yaml-cpp may throw.
// yaml-cpp 0.7's LoadAll loops for ever, making empty documents without consuming input, on
// some malformed input (a ',' at the top level of a document is enough; found by fuzz/policy).
// A first pass that only counts documents stops at this many and says where it was.
constexpr size_t max_yaml_documents = 64;

class DocumentCounter : public YAML::EventHandler {
public:
    size_t documents = 0;
    YAML::Mark last; // where the last document started

    void OnDocumentStart(const YAML::Mark& mark) override
    {
        ++documents;
        last = mark;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

// Where the text holds more than max_yaml_documents documents, if it does. Throws what yaml-cpp
// throws on a syntax error, as LoadAll would.
std::optional<YAML::Mark> too_many_documents(const std::string& text)
{
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentCounter counter;
    while (parser.HandleNextDocument(counter))
        if (counter.documents > max_yaml_documents)
            return counter.last;
    return std::nullopt;
}

Result<Policy> parse_text(std::string_view text, std::string_view source)
{
    Diagnostics d(source);
    std::vector<YAML::Node> docs;
    try {
        std::string owned(text);
        if (auto at = too_many_documents(owned)) {
            d.error(loc_of(*at), "",
                    fmt::format("invalid YAML: more than {} documents (a stray ',' outside a flow collection "
                                "makes yaml-cpp see endless empty ones)",
                                max_yaml_documents));
            return std::unexpected(d.to_error());
        }
        docs = YAML::LoadAll(owned);
    } catch (const YAML::DeepRecursion& e) {
        d.error(loc_of(e.mark),
                "", fmt::format("invalid YAML: nested more than {} levels deep (the YAML nesting depth limit)",
                                e.depth()));
        return std::unexpected(d.to_error());
    } catch (const YAML::ParserException& e) {
        d.error(loc_of(e.mark), "", fmt::format("invalid YAML: {}", e.msg));
        return std::unexpected(d.to_error());
    } catch (const YAML::Exception& e) {
        d.error(loc_of(e.mark), "", fmt::format("invalid YAML: {}", e.msg));
        return std::unexpected(d.to_error());
    }
    std::vector<const YAML::Node*> policies;
    for (const auto& doc : docs)
        if (!doc.IsNull())
            policies.push_back(&doc);
    if (policies.empty()) {
        d.error({}, "", "no policy in the document: expected a TracingPolicy "
                        "(apiVersion: cilium.io/v1alpha1)");
        return std::unexpected(d.to_error());
    }
    if (policies.size() > 1) {
        d.error(loc_of(*policies[1]), "",
                fmt::format("{} YAML documents hold a policy, but a policy file must hold exactly "
                            "one; put each policy in its own file",
                            policies.size()));
        return std::unexpected(d.to_error());
    }

    Policy policy;
    policy.source = std::string(source);
    try {
        Parser parser(d);
        parser.parse(*policies.front(), policy);
    } catch (const YAML::Exception& e) {
        // Accessors do not throw on the checked paths; a throw here is a bug, still reported.
        d.error(loc_of(e.mark), "", fmt::format("internal error reading the policy: {}", e.msg));
    } catch (const std::exception& e) {
        d.error({}, "", fmt::format("internal error reading the policy: {}", e.what()));
    }
    if (!d.empty())
        return std::unexpected(d.to_error());
    policy.warnings = d.take_warnings();
    return policy;
}

} // namespace

Result<Policy> parse_policy(std::string_view yaml_text, std::string_view source_name)
{
    return parse_text(yaml_text, source_name);
}

Result<Policy> load_policy_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fail_errno(Errc::io, errno, "{}: cannot open", path.string());
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
        return fail_errno(Errc::io, errno, "{}: read failed", path.string());
    return parse_text(text.str(), path.string());
}

} // namespace vigil::policy