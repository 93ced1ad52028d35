#include "api/methods.hpp"

#include "api/process_service.hpp"
#include "api/subscribers.hpp"
#include "bpf/shared_maps.hpp"
#include "core/features.hpp"
#include "export/pipeline.hpp"
#include "metrics/bpf_errors.hpp"
#include "plugins/registry.hpp"

#include <vigil/plugin_abi.h>
#include <vigil/sdk/json.hpp>

#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

namespace vigil::api {

namespace {

using sdk::JsonWriter;

std::unexpected<MethodError> error(ErrorCode code, std::string message)
{
    return std::unexpected(MethodError{code, std::move(message)});
}

std::unexpected<MethodError> error(const Error& e) { return error(error_code_for(e.code), e.message()); }

std::optional<MethodError> only_keys(const JsonValue& params, const std::vector<std::string_view>& keys,
                                     std::string_view method)
{
    for (const auto& [key, value] : params.members())
        if (std::find(keys.begin(), keys.end(), key) == keys.end())
            return MethodError{ErrorCode::invalid_params,
                               keys.size() ? fmt::format("unknown parameter \"{}\" ({} takes {})", key, method,
                                                         fmt::join(keys, ", "))
                                           : fmt::format("unknown parameter \"{}\" ({} takes none)", key, method)};
    return std::nullopt;
}

std::expected<std::string, MethodError> required_string(const JsonValue& params, std::string_view key,
                                                        std::string_view method)
{
    JsonValue v = params.get(key);
    auto s = v.string();
    if (!s || s->empty())
        return error(ErrorCode::invalid_params,
                     v.present() ? fmt::format("{}: params.{} must be a non-empty string, not {}", method, key,
                                               v.kind_name())
                                 : fmt::format("{}: params.{} is required", method, key));
    return std::string(*s);
}

void write_string_array(JsonWriter& w, const char* const* items, uint32_t count)
{
    w.begin_array();
    for (uint32_t i = 0; i < count; ++i)
        w.value(items[i] ? items[i] : "");
    w.end_array();
}

void write_plugin(JsonWriter& w, const Plugin& p, bool detail)
{
    const vigil_descriptor& d = p.descriptor();
    w.begin_object();
    w.member("id", p.id());
    w.member("name", d.name ? d.name : "");
    w.member("version", d.version ? d.version : "");
    w.member("state", to_string(p.state()));
    w.member("last_error", p.last_error());
    w.member("links", static_cast<uint64_t>(p.link_count()));
    w.member("records", p.records());
    w.member("decode_errors", p.decode_errors());
    RingSetStats rs = p.ring_stats();
    w.member("ring_bytes", p.ring_bytes());
    w.member("ring_queue_full", rs.queue_full);
    w.member("ring_queue_peak_bytes", rs.queue_peak);
    w.member("ring_fill_peak_permille", rs.fill_peak_permille);
    if (detail) {
        w.member("description", d.description ? d.description : "");
        w.member("license", d.license ? d.license : "");
        w.member("path", p.path().string());
        w.key("hook_kinds");
        write_string_array(w, d.hook_kinds, d.hook_kind_count);
        w.key("event_kinds");
        write_string_array(w, d.event_kinds, d.event_kind_count);
        w.key("counters").begin_object();
        for (const auto& [name, value] : p.counters())
            w.member(name, value);
        w.end_object();
    }
    w.end_object();
}

void write_process(JsonWriter& w, const ProcessInfo& p, const EventPipeline& pipeline)
{
    w.begin_object();
    w.member("pid", p.pid);
    w.member("ppid", p.ppid);
    w.member("uid", p.uid);
    w.member("exec_id", p.exec_id);
    w.member("parent_exec_id", p.parent_exec_id);
    w.member("binary", p.binary);
    w.member("arguments", p.arguments);
    w.member("cwd", p.cwd);
    if (p.ktime)
        w.member("start_time", pipeline.format_time(p.ktime));
    w.member("exited", p.exited);
    if (!p.container_id.empty()) {
        w.member("docker", std::string_view(p.container_id).substr(0, 31));
        w.key("container").begin_object();
        w.member("id", p.container_id);
        w.member("runtime", p.container_runtime);
        w.end_object();
    }
    if (!p.pod_uid.empty())
        w.key("pod").begin_object().member("uid", p.pod_uid).end_object();
    w.end_object();
}

// params.pid, the only parameter of process.get (required) and process.tree (optional).
std::expected<std::optional<uint32_t>, MethodError> read_pid(const JsonValue& params, std::string_view method,
                                                             bool required)
{
    if (auto e = only_keys(params, {"pid"}, method))
        return std::unexpected(*e);
    JsonValue v = params.get("pid");
    if (!v.present() && !required)
        return std::nullopt;
    auto pid = v.integer(1, 0x3fffffff);
    if (!pid)
        return error(ErrorCode::invalid_params, fmt::format("{}: params.pid must be a process id", method));
    return static_cast<uint32_t>(*pid);
}

void write_policy(JsonWriter& w, const PolicyStatus& p)
{
    w.begin_object();
    w.member("name", p.name);
    w.member("mode", policy::name_of(p.mode));
    w.member("enabled", p.enabled);
    w.member("state", p.state);
    w.member("last_error", p.last_error);
    w.key("hook_kinds").begin_array();
    for (const auto& k : p.hook_kinds)
        w.value(k);
    w.end_array();
    w.key("hooks").begin_array();
    for (const auto& h : p.hooks)
        w.begin_object()
            .member("kind", h.kind)
            .member("index", h.index)
            .member("plugin", h.plugin)
            .member("strategy", h.strategy)
            .member("detail", h.detail)
            .end_object();
    w.end_array();
    w.key("counters").begin_object();
    w.member("matched", p.matched).member("posted", p.posted).member("rate_limited", p.rate_limited);
    w.member("enforced", p.enforced).member("monitored", p.monitored);
    w.member("shed", p.shed).member("ring_full", p.ring_full);
    w.end_object();
    w.end_object();
}

} // namespace

Methods::Methods(AgentServices& services) : s_(services) {}

// Every method with its handler; events.subscribe has none here (the server runs it, as it
// needs the connection) but is listed so the unknown_method message names it.
const std::vector<Methods::Entry>& Methods::table()
{
    using P = const JsonValue&;
    auto policy = [](Methods& m, const std::string& name, P p) { return m.policy_call(name, p); };
    auto plugins_list = [](Methods& m, const std::string& name, P p) { return m.plugins_list(name, p); };
    auto plugins_enable = [](Methods& m, const std::string& name, P p) { return m.plugins_set(name, p, true); };
    auto plugins_disable = [](Methods& m, const std::string& name, P p) { return m.plugins_set(name, p, false); };
    static const std::vector<Entry> t = {
        {"status", [](Methods& m, const std::string&, P p) { return m.status(p); }},
        {"plugins.list", plugins_list},
        {"plugins.enable", plugins_enable},
        {"plugins.disable", plugins_disable},
        // The names plugins.* had before: still accepted, and answered in their words.
        {"sensors.list", plugins_list},
        {"sensors.enable", plugins_enable},
        {"sensors.disable", plugins_disable},
        {"process.list", [](Methods& m, const std::string&, P p) { return m.process_list(p); }},
        {"process.get", [](Methods& m, const std::string&, P p) { return m.process_get(p); }},
        {"process.tree", [](Methods& m, const std::string&, P p) { return m.process_tree(p); }},
        {"policy.add", policy},
        {"policy.delete", policy},
        {"policy.list", policy},
        {"policy.enable", policy},
        {"policy.disable", policy},
        {"policy.set_mode", policy},
        {"events.subscribe", nullptr},
    };
    return t;
}

const std::set<std::string>& Methods::names()
{
    static const std::set<std::string> n = [] {
        std::set<std::string> out;
        for (const auto& e : table())
            out.insert(std::string(e.name));
        return out;
    }();
    return n;
}

std::set<std::string> Methods::known_event_kinds() const
{
    std::set<std::string> kinds;
    for (const auto& p : s_.plugins.plugins()) {
        const vigil_descriptor& d = p->descriptor();
        for (uint32_t i = 0; i < d.event_kind_count; ++i)
            if (d.event_kinds[i])
                kinds.insert(d.event_kinds[i]);
    }
    return kinds;
}

MethodResult Methods::call(const std::string& method, const JsonValue& params)
{
    for (const auto& e : table())
        if (e.name == method && e.run)
            return e.run(*this, method, params);
    return error(ErrorCode::unknown_method,
                 fmt::format("unknown method \"{}\" (this vigild has: {})", method, fmt::join(names(), ", ")));
}

MethodResult Methods::status(const JsonValue& params)
{
    if (auto e = only_keys(params, {}, "status"))
        return std::unexpected(*e);
    JsonWriter w;
    w.begin_object();
    w.member("version", VIGIL_VERSION);
    w.key("abi").begin_object().member("major", VIGIL_ABI_MAJOR).member("minor", VIGIL_ABI_MINOR).end_object();
    w.member("pid", static_cast<int64_t>(::getpid()));
    w.member("uptime_seconds", static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                                        std::chrono::steady_clock::now() - started_)
                                                        .count()));
    w.key("features").begin_array();
    for (const auto& f : s_.features.all())
        w.begin_object().member("name", f.name).member("supported", f.supported).end_object();
    w.end_array();

    uint64_t decode_errors = 0;
    w.key("plugins").begin_array();
    for (const auto& p : s_.plugins.plugins()) {
        write_plugin(w, *p, false);
        decode_errors += p->decode_errors();
    }
    w.end_array();

    w.key("counters").begin_object();
    const PipelineStats& ps = s_.pipeline.stats();
    w.member("events_total", ps.received);
    w.key("events_by_kind").begin_object();
    for (const auto& [kind, n] : ps.by_kind)
        w.member(kind, n);
    w.end_object();
    w.member("events_exported", ps.exported);
    w.member("events_filtered", ps.filtered);
    w.member("events_without_process", ps.process_misses);
    w.member("events_without_pod", ps.pod_misses);
    w.member("events_lost", bpf_events_lost(s_.maps));
    w.key("bpf_errors").begin_object();
    for (const auto& e : bpf_error_counts(s_.maps))
        w.member(e.kind, e.count);
    w.end_object();
    w.member("decode_errors", decode_errors);
    w.member("subscriber_dropped", s_.subscribers.dropped_total());
    w.end_object();

    w.key("outputs").begin_array();
    for (const SinkStats& o : s_.pipeline.sink_stats()) {
        w.begin_object().member("name", o.name).member("written", o.written);
        w.key("lost").begin_object();
        for (const auto& [reason, n] : o.lost)
            w.member(reason, n);
        w.end_object();
        w.member("write_errors", o.write_errors).member("last_error", o.last_error);
        w.member("rotations", o.rotations).member("rotated_away", o.rotated_away);
        w.member("reopens", o.reopens).member("closed", o.closed);
        if (o.delivered)
            w.member("delivered", *o.delivered).member("pending", o.pending.value_or(0));
        w.end_object();
    }
    w.end_array();

    if (s_.processes) {
        ProcessCacheCounts st = s_.processes->counts();
        w.key("process_cache").begin_object().member("size", st.size).member("capacity", st.capacity);
        if (st.evictions)
            w.member("evictions", *st.evictions);
        if (st.exit_misses)
            w.member("exit_misses", *st.exit_misses);
        w.end_object();
    }
    w.member("policy_engine", s_.policies != nullptr);

    w.key("subscribers").begin_array();
    for (const auto& sub : s_.subscribers.stats())
        w.begin_object()
            .member("id", sub.id)
            .member("pid", sub.pid)
            .member("filter", sub.filter)
            .member("delivered", sub.delivered)
            .member("queued", sub.queued)
            .member("dropped", sub.dropped)
            .member("jq_errors", sub.jq_errors)
            .end_object();
    w.end_array();
    w.end_object();
    return w.take();
}

namespace {

// plugins.* answer in the word "plugin"; their old names sensors.* in "sensor", as they did.
bool old_name(const std::string& method) { return method.starts_with("sensors."); }

} // namespace

MethodResult Methods::plugins_list(const std::string& method, const JsonValue& params)
{
    if (auto e = only_keys(params, {}, method))
        return std::unexpected(*e);
    JsonWriter w;
    w.begin_object().key(old_name(method) ? "sensors" : "plugins").begin_array();
    for (const auto& p : s_.plugins.plugins())
        write_plugin(w, *p, true);
    w.end_array().end_object();
    return w.take();
}

MethodResult Methods::plugins_set(const std::string& method, const JsonValue& params, bool enable)
{
    if (auto e = only_keys(params, {"id"}, method))
        return std::unexpected(*e);
    auto id = required_string(params, "id", method);
    if (!id)
        return std::unexpected(id.error());
    if (!s_.plugins.find(*id)) {
        std::vector<std::string> ids;
        for (const auto& p : s_.plugins.plugins())
            ids.push_back(p->id());
        return error(ErrorCode::not_found,
                     fmt::format("no {} \"{}\" (loaded: {})", old_name(method) ? "sensor" : "plugin", *id,
                                 ids.empty() ? std::string("none") : fmt::format("{}", fmt::join(ids, ", "))));
    }
    auto r = enable ? s_.plugins.enable(*id) : s_.plugins.disable(*id);
    if (!r)
        return error(r.error());
    JsonWriter w;
    write_plugin(w, *s_.plugins.find(*id), true);
    return w.take();
}

MethodResult Methods::process_list(const JsonValue& params)
{
    if (auto e = only_keys(params, {"limit"}, "process.list"))
        return std::unexpected(*e);
    size_t limit = 10000;
    if (JsonValue l = params.get("limit"); l.present()) {
        auto n = l.integer(1, 1'000'000);
        if (!n)
            return error(ErrorCode::invalid_params, "process.list: params.limit must be an integer from 1 to 1000000");
        limit = static_cast<size_t>(*n);
    }
    if (!s_.processes)
        return error(ErrorCode::unavailable, "process cache not available in this build");
    auto all = s_.processes->list();
    JsonWriter w;
    w.begin_object().key("processes").begin_array();
    for (size_t i = 0; i < all.size() && i < limit; ++i)
        write_process(w, all[i], s_.pipeline);
    w.end_array();
    w.member("total", static_cast<uint64_t>(all.size()));
    w.member("truncated", all.size() > limit);
    w.end_object();
    return w.take();
}

MethodResult Methods::process_get(const JsonValue& params)
{
    auto pid = read_pid(params, "process.get", true);
    if (!pid)
        return std::unexpected(pid.error());
    if (!s_.processes)
        return error(ErrorCode::unavailable, "process cache not available in this build");
    auto p = s_.processes->get(**pid);
    if (!p)
        return error(ErrorCode::not_found, fmt::format("process {} is not in the process cache", **pid));
    JsonWriter w;
    w.begin_object().key("process");
    write_process(w, *p, s_.pipeline);
    w.end_object();
    return w.take();
}

MethodResult Methods::process_tree(const JsonValue& params)
{
    auto pid = read_pid(params, "process.tree", false);
    if (!pid)
        return std::unexpected(pid.error());
    std::optional<uint32_t> root = *pid;
    if (!s_.processes)
        return error(ErrorCode::unavailable, "process cache not available in this build");
    auto all = s_.processes->list();
    // The tree holds the newest incarnation of each pid (list() is sorted by pid, then start).
    std::unordered_map<uint32_t, size_t> index;
    for (size_t i = 0; i < all.size(); ++i)
        index[all[i].pid] = i;
    std::vector<size_t> nodes;
    for (const auto& [p, i] : index)
        nodes.push_back(i);
    std::sort(nodes.begin(), nodes.end());
    std::map<uint32_t, std::vector<size_t>> children; // by parent pid
    for (size_t i : nodes)
        if (all[i].ppid != all[i].pid)
            children[all[i].ppid].push_back(i);
    std::vector<size_t> roots;
    if (root) {
        auto it = index.find(*root);
        if (it == index.end())
            return error(ErrorCode::not_found, fmt::format("process {} is not in the process cache", *root));
        roots.push_back(it->second);
    } else {
        for (size_t i : nodes)
            if (!index.contains(all[i].ppid) || all[i].ppid == all[i].pid)
                roots.push_back(i);
    }
    // Flat, in depth-first order with a depth: no nesting limit for either side, and pid reuse
    // cannot make it loop.
    JsonWriter w;
    w.begin_object().key("tree").begin_array();
    std::vector<bool> seen(all.size(), false);
    std::vector<std::pair<size_t, uint32_t>> stack;
    for (auto it = roots.rbegin(); it != roots.rend(); ++it)
        stack.emplace_back(*it, 0);
    while (!stack.empty()) {
        auto [i, depth] = stack.back();
        stack.pop_back();
        if (seen[i])
            continue;
        seen[i] = true;
        w.begin_object().member("depth", depth).key("process");
        write_process(w, all[i], s_.pipeline);
        w.end_object();
        if (auto c = children.find(all[i].pid); c != children.end())
            for (auto it = c->second.rbegin(); it != c->second.rend(); ++it)
                stack.emplace_back(*it, depth + 1);
    }
    w.end_array().end_object();
    return w.take();
}

namespace {

struct PolicyParams {
    std::string name, yaml;
    std::string file = "<api>"; // policy.add: what the text is called in error messages
    std::optional<policy::PolicyMode> mode;
};

// policy.add takes yaml and maybe mode, set_mode name and mode, list nothing, the others a name.
std::expected<PolicyParams, MethodError> read_policy_params(const std::string& method, const JsonValue& params)
{
    bool add = method == "policy.add", set_mode = method == "policy.set_mode";
    bool takes_name = !add && method != "policy.list";
    std::vector<std::string_view> keys;
    if (takes_name)
        keys.push_back("name");
    if (add) {
        keys.push_back("yaml");
        keys.push_back("file");
    }
    if (add || set_mode)
        keys.push_back("mode");
    if (auto e = only_keys(params, keys, method))
        return std::unexpected(*e);
    PolicyParams p;
    for (auto [wanted, key, out] : {std::tuple{takes_name, "name", &p.name}, std::tuple{add, "yaml", &p.yaml}}) {
        if (!wanted)
            continue;
        auto v = required_string(params, key, method);
        if (!v)
            return std::unexpected(v.error());
        *out = std::move(*v);
    }
    if (JsonValue f = params.get("file"); add && f.present()) {
        auto s = f.string();
        // Printed in messages: a name, not a place for control characters or a novel.
        if (!s || s->empty() || s->size() > 4096 ||
            std::any_of(s->begin(), s->end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
            return error(ErrorCode::invalid_params,
                         fmt::format("{}: params.file must be a file name of 1 to 4096 printable bytes", method));
        p.file = std::string(*s);
    }
    JsonValue m = params.get("mode");
    if (set_mode && !m.present())
        return error(ErrorCode::invalid_params, fmt::format("{}: params.mode is required", method));
    if (m.present()) {
        auto s = m.string();
        p.mode = s ? policy::enum_from_string<policy::PolicyMode>(*s) : std::nullopt;
        if (!p.mode)
            return error(ErrorCode::invalid_params,
                         fmt::format("{}: params.mode must be \"enforce\" or \"monitor\", not {}", method, m.dump()));
    }
    return p;
}

} // namespace

MethodResult Methods::policy_call(const std::string& method, const JsonValue& params)
{
    // Parameters are checked first so that a malformed call says so whatever this build has.
    auto pp = read_policy_params(method, params);
    if (!pp)
        return std::unexpected(pp.error());
    const std::string& name = pp->name;
    PolicyService* ps = s_.policies;
    if (!ps)
        return error(ErrorCode::unavailable, policy_unavailable);
    JsonWriter w;
    if (method == "policy.list") {
        w.begin_object().key("policies").begin_array();
        for (const auto& p : ps->list())
            write_policy(w, p);
        w.end_array().end_object();
        return w.take();
    }
    if (method == "policy.add") {
        auto r = ps->add(pp->yaml, pp->mode, pp->file);
        if (!r)
            return error(r.error());
        write_policy(w, *r);
        return w.take();
    }
    Result<void> r = method == "policy.delete"    ? ps->remove(name)
                     : method == "policy.enable"  ? ps->enable(name)
                     : method == "policy.disable" ? ps->disable(name)
                                                  : ps->set_mode(name, *pp->mode);
    if (!r)
        return error(r.error());
    w.begin_object().member("name", name).end_object();
    return w.take();
}

} // namespace vigil::api
