// One hook of a policy as JSON, the form a plugin receives across the C ABI. Field names follow
// the policy format; values are the validated model's (canonical enum spellings, defaults
// written out, rate limits in milliseconds, capabilities as names plus mask).
#include "policy/policy.hpp"

#include "policy/values.hpp"

#include <vigil/sdk/json.hpp>

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace vigil::policy {

namespace {

// Appends JSON to a string; tracks where commas go.
class JsonOut {
public:
    std::string take() { return std::move(buf_); }

    JsonOut& begin_object() { sep(); buf_ += '{'; first_ = true; return *this; }
    JsonOut& end_object() { buf_ += '}'; first_ = false; return *this; }
    JsonOut& begin_array() { sep(); buf_ += '['; first_ = true; return *this; }
    JsonOut& end_array() { buf_ += ']'; first_ = false; return *this; }
    JsonOut& key(std::string_view k)
    {
        sep();
        quoted(k);
        buf_ += ':';
        first_ = true;
        return *this;
    }
    JsonOut& value(std::string_view s) { sep(); quoted(s); return *this; }
    JsonOut& value(const char* s) { return value(std::string_view(s)); }
    JsonOut& value(const std::string& s) { return value(std::string_view(s)); }
    JsonOut& value(bool b) { sep(); buf_ += b ? "true" : "false"; return *this; }
    JsonOut& value(int64_t v) { sep(); fmt::format_to(std::back_inserter(buf_), "{}", v); return *this; }
    JsonOut& value(uint64_t v) { sep(); fmt::format_to(std::back_inserter(buf_), "{}", v); return *this; }
    JsonOut& value(int32_t v) { return value(static_cast<int64_t>(v)); }
    JsonOut& value(uint32_t v) { return value(static_cast<uint64_t>(v)); }
    JsonOut& null() { sep(); buf_ += "null"; return *this; }

    template <class V>
    JsonOut& member(std::string_view k, const V& v)
    {
        key(k);
        return value(v);
    }
    template <class E>
    JsonOut& member_enum(std::string_view k, E e)
    {
        key(k);
        return value(name_of(e));
    }
    template <class Range>
    JsonOut& member_array(std::string_view k, const Range& items)
    {
        key(k).begin_array();
        for (const auto& item : items)
            value(item);
        return end_array();
    }

private:
    void sep()
    {
        if (!first_)
            buf_ += ',';
        first_ = false;
    }
    void quoted(std::string_view s)
    {
        buf_ += '"';
        sdk::JsonWriter::escape_into(buf_, s); // invalid UTF-8 becomes U+FFFD
        buf_ += '"';
    }

    std::string buf_;
    bool first_ = true;
};

void write_arg(JsonOut& j, const Arg& a)
{
    j.begin_object()
        .member("index", a.index)
        .member_enum("type", a.type)
        .member("label", a.label)
        .member("resolve", a.resolve)
        .member("maxData", a.max_data)
        .member("returnCopy", a.return_copy)
        .member("sizeArgIndex", a.size_arg_index)
        .end_object();
}

void write_arg_filters(JsonOut& j, std::string_view key, const std::vector<ArgFilter>& filters)
{
    j.key(key).begin_array();
    for (const auto& f : filters) {
        j.begin_object();
        j.key("index");
        if (f.index)
            j.value(*f.index);
        else
            j.null();
        j.member_array("args", f.args)
            .member_enum("operator", f.op)
            .member_array("values", f.values)
            .member_array("argPositions", f.arg_positions)
            .end_object();
    }
    j.end_array();
}

void write_capabilities(JsonOut& j, std::string_view key,
                        const std::vector<CapabilitiesFilter>& filters)
{
    j.key(key).begin_array();
    for (const auto& c : filters) {
        j.begin_object()
            .member_enum("type", c.type)
            .member_enum("operator", c.op)
            .member("isNamespaceCapability", c.is_namespace_capability);
        j.key("values").begin_array();
        for (uint32_t n = 0; n < capability_count; ++n)
            if (c.mask & (uint64_t{1} << n))
                j.value(capability_name(n));
        j.end_array();
        j.member("mask", c.mask).end_object();
    }
    j.end_array();
}

void write_actions(JsonOut& j, std::string_view key, const std::vector<Action>& actions)
{
    j.key(key).begin_array();
    for (const auto& a : actions) {
        j.begin_object().member_enum("action", a.kind);
        switch (a.kind) {
        case ActionKind::post:
            j.member("rateLimitMs", a.rate_limit_ms)
                .member_enum("rateLimitScope", a.rate_limit_scope)
                .member("kernelStackTrace", a.kernel_stack_trace)
                .member("userStackTrace", a.user_stack_trace)
                .member("imaHash", a.ima_hash);
            break;
        case ActionKind::signal: j.member("argSig", a.arg_sig); break;
        case ActionKind::override_: j.member("argError", a.arg_error); break;
        case ActionKind::get_url: j.member("argUrl", a.arg_url); break;
        case ActionKind::dns_lookup: j.member("argFqdn", a.arg_fqdn); break;
        case ActionKind::track_sock:
        case ActionKind::untrack_sock: j.member("argSock", a.arg_sock); break;
        case ActionKind::notify_enforcer:
            j.member("argError", a.arg_error).member("argSig", a.arg_sig);
            break;
        case ActionKind::set: j.member("argIndex", a.arg_index).member("argValue", a.arg_value); break;
        default: break;
        }
        j.end_object();
    }
    j.end_array();
}

void write_selector(JsonOut& j, const Selector& s)
{
    j.begin_object().member("label", s.label);

    j.key("matchPIDs").begin_array();
    for (const auto& p : s.match_pids)
        j.begin_object()
            .member_enum("operator", p.op)
            .member("followForks", p.follow_forks)
            .member("isNamespacePID", p.is_namespace_pid)
            .member_array("values", p.values)
            .end_object();
    j.end_array();

    write_arg_filters(j, "matchArgs", s.match_args);
    write_arg_filters(j, "matchReturnArgs", s.match_return_args);

    j.key("matchBinaries").begin_array();
    for (const auto& b : s.match_binaries)
        j.begin_object()
            .member_enum("operator", b.op)
            .member_array("values", b.values)
            .member("followChildren", b.follow_children)
            .end_object();
    j.end_array();

    j.key("matchNamespaces").begin_array();
    for (const auto& n : s.match_namespaces) {
        j.begin_object().member_enum("namespace", n.type).member_enum("operator", n.op);
        j.key("values").begin_array();
        for (const auto& v : n.values) {
            if (v.host_ns)
                j.value("host_ns");
            else
                j.value(fmt::format("{}", v.inum));
        }
        j.end_array().end_object();
    }
    j.end_array();

    j.key("matchNamespaceChanges").begin_array();
    for (const auto& n : s.match_namespace_changes) {
        j.begin_object().member_enum("operator", n.op);
        j.key("values").begin_array();
        for (auto t : n.values)
            j.value(name_of(t));
        j.end_array().end_object();
    }
    j.end_array();

    write_capabilities(j, "matchCapabilities", s.match_capabilities);
    write_capabilities(j, "matchCapabilityChanges", s.match_capability_changes);
    write_actions(j, "matchActions", s.match_actions);
    write_actions(j, "matchReturnActions", s.match_return_actions);
    j.end_object();
}

void write_common(JsonOut& j, const HookCommon& h)
{
    j.member("message", h.message).member_array("tags", h.tags);
    j.key("args").begin_array();
    for (const auto& a : h.args)
        write_arg(j, a);
    j.end_array();
    j.key("selectors").begin_array();
    for (const auto& s : h.selectors)
        write_selector(j, s);
    j.end_array();
}

// The lists a hook names ("list:NAME" in call or in InMap values), in order of first use.
std::vector<const ListSpec*> referenced_lists(const Policy& p, const HookCommon& h,
                                              std::string_view call)
{
    std::vector<const ListSpec*> out;
    auto use = [&](std::string_view ref) {
        if (!ref.starts_with("list:"))
            return;
        ref.remove_prefix(5);
        for (const auto& l : p.spec.lists)
            if (l.name == ref && std::find(out.begin(), out.end(), &l) == out.end())
                out.push_back(&l);
    };
    use(call);
    for (const auto& s : h.selectors)
        for (const auto* filters : {&s.match_args, &s.match_return_args})
            for (const auto& f : *filters)
                if (f.op == ArgOperator::in_map || f.op == ArgOperator::not_in_map)
                    for (const auto& v : f.values)
                        use(v);
    return out;
}

void write_lists(JsonOut& j, const std::vector<const ListSpec*>& lists)
{
    j.key("lists").begin_array();
    for (const auto* l : lists)
        j.begin_object()
            .member("name", l->name)
            .member_enum("type", l->type)
            .member_array("values", l->values)
            .member("pattern", l->pattern)
            .end_object();
    j.end_array();
}

} // namespace

Result<std::string> hook_to_json(const Policy& policy, HookKind kind, size_t index)
{
    JsonOut j;
    auto header = [&](size_t count) -> bool {
        if (index >= count)
            return false;
        j.begin_object()
            .member("policy", policy.name)
            .member_enum("kind", kind)
            .member("index", static_cast<uint64_t>(index));
        return true;
    };
    const Spec& spec = policy.spec;
    bool found = false;
    switch (kind) {
    case HookKind::kprobes:
        if ((found = header(spec.kprobes.size()))) {
            const Kprobe& k = spec.kprobes[index];
            j.member("call", k.call).member("syscall", k.syscall).member("return", k.return_);
            j.key("returnArg");
            if (k.return_arg)
                write_arg(j, *k.return_arg);
            else
                j.null();
            j.key("returnArgAction");
            if (k.return_arg_action)
                j.value(name_of(*k.return_arg_action));
            else
                j.null();
            j.key("ignore").begin_object().member("callNotFound", k.ignore_call_not_found).end_object();
            write_common(j, k);
            write_lists(j, referenced_lists(policy, k, k.call));
            j.key("options").begin_object()
                .member("disable-kprobe-multi", spec.disable_kprobe_multi)
                .end_object();
        }
        break;
    case HookKind::tracepoints:
        if ((found = header(spec.tracepoints.size()))) {
            const Tracepoint& t = spec.tracepoints[index];
            j.member("subsystem", t.subsystem).member("event", t.event).member("raw", t.raw);
            write_common(j, t);
            write_lists(j, referenced_lists(policy, t, {}));
        }
        break;
    case HookKind::uprobes:
        if ((found = header(spec.uprobes.size()))) {
            const Uprobe& u = spec.uprobes[index];
            j.member("path", u.path).member_array("symbols", u.symbols).member("return", u.return_);
            j.member_array("offsets", u.offsets).member_array("refCtrOffsets", u.ref_ctr_offsets);
            j.key("returnArg");
            if (u.return_arg)
                write_arg(j, *u.return_arg);
            else
                j.null();
            write_common(j, u);
            write_lists(j, referenced_lists(policy, u, {}));
            j.key("options").begin_object()
                .member("disable-uprobe-multi", spec.disable_uprobe_multi)
                .end_object();
        }
        break;
    case HookKind::lsmhooks:
        if ((found = header(spec.lsmhooks.size()))) {
            const LsmHook& h = spec.lsmhooks[index];
            j.member("hook", h.hook);
            write_common(j, h);
            write_lists(j, referenced_lists(policy, h, {}));
        }
        break;
    case HookKind::connects:
        if ((found = header(spec.connects.size()))) {
            const Connect& c = spec.connects[index];
            j.member("datagrams", c.datagrams);
            write_common(j, c);
            write_lists(j, referenced_lists(policy, c, {}));
        }
        break;
    case HookKind::usdts:
        if ((found = header(spec.usdts.size()))) {
            const Usdt& u = spec.usdts[index];
            j.member("path", u.path).member("provider", u.provider).member("name", u.name);
            write_common(j, u);
            write_lists(j, referenced_lists(policy, u, {}));
        }
        break;
    case HookKind::count_:
        return fail(Errc::invalid_input, "policy {}: invalid hook kind", policy.name);
    }
    if (!found)
        return fail(Errc::not_found, "policy {}: there is no {}[{}]", policy.name, name_of(kind),
                    index);
    j.end_object();
    return j.take();
}

} // namespace vigil::policy
