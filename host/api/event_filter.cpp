#include "api/event_filter.hpp"

#include "container/workload_sets.hpp"

#include "export/process_json.hpp"

#include <fmt/ranges.h>

#include <algorithm>

namespace vigil::api {

const JsonValue& EventView::doc()
{
    if (!doc_) {
        auto d = JsonValue::parse(json_);
        doc_ = d && d->is_object() ? std::move(*d) : JsonValue();
    }
    return *doc_;
}

std::string_view EventView::kind()
{
    if (!kind_done_) {
        kind_done_ = true;
        for (const auto& [key, value] : doc().members())
            if (key != "node_name" && key != "time" && value.is_object()) {
                kind_ = key;
                break;
            }
    }
    return kind_;
}

JsonValue EventView::body()
{
    std::string_view k = kind();
    return k.empty() ? JsonValue() : doc().get(k);
}

namespace {

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

Result<std::set<std::string>> string_set(const JsonValue& params, std::string_view key, bool empty_ok = false)
{
    std::set<std::string> out;
    JsonValue v = params.get(key);
    if (!v.present() || v.is_null())
        return out;
    if (!v.is_array())
        return fail(Errc::invalid_input, "params.{} must be an array of strings, not {}", key, v.kind_name());
    for (size_t i = 0; i < v.size(); ++i) {
        auto s = v.at(i).string();
        if (!s || (s->empty() && !empty_ok))
            return fail(Errc::invalid_input, "params.{}[{}] must be a{} string", key, i, empty_ok ? "" : " non-empty");
        out.emplace(*s);
    }
    return out;
}

} // namespace

Result<EventFilter> EventFilter::make(const JsonValue& params, const std::set<std::string>& known_kinds)
{
    static constexpr std::string_view keys[] = {"event_types", "process",   "pids",   "namespaces",  "policy_names",
                                                "process_flags", "pod_regex", "labels", "container_id", "filter"};
    for (const auto& [key, value] : params.members())
        if (std::find(std::begin(keys), std::end(keys), key) == std::end(keys))
            return fail(Errc::invalid_input, "unknown parameter \"{}\" (events.subscribe takes {})", key,
                        fmt::join(keys, ", "));
    EventFilter f;

    auto types = string_set(params, "event_types");
    if (!types)
        return std::unexpected(types.error());
    for (const auto& t : *types) {
        std::string k = lower(t); // Tetragon spells them PROCESS_EXEC
        if (!known_kinds.contains(k))
            return fail(Errc::invalid_input, "unknown event type \"{}\" (the loaded plugins emit: {})", t,
                        known_kinds.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(known_kinds, ", ")));
        f.event_types_.insert(std::move(k));
    }

    JsonValue proc = params.get("process");
    if (proc.present() && !proc.is_null()) {
        auto s = proc.string();
        if (!s || s->empty())
            return fail(Errc::invalid_input, "params.process must be a non-empty string (a regular expression)");
        auto re = Regex::make(*s);
        if (!re)
            return fail(Errc::invalid_input, "params.process \"{}\" is not a valid regular expression: {}", *s,
                        re.error().message());
        f.process_ = std::move(*re);
    }

    JsonValue pids = params.get("pids");
    if (pids.present() && !pids.is_null()) {
        if (!pids.is_array())
            return fail(Errc::invalid_input, "params.pids must be an array of process ids, not {}", pids.kind_name());
        for (size_t i = 0; i < pids.size(); ++i) {
            auto p = pids.at(i).integer(1, 0x3fffffff);
            if (!p)
                return fail(Errc::invalid_input, "params.pids[{}] must be a process id, not {}", i, pids.at(i).dump());
            f.pids_.insert(static_cast<uint32_t>(*p));
        }
    }

    auto ns = string_set(params, "namespaces", true);
    if (!ns)
        return std::unexpected(ns.error());
    f.namespaces_ = std::move(*ns);
    auto flags = string_set(params, "process_flags");
    if (!flags)
        return std::unexpected(flags.error());
    for (const auto& name : *flags)
        if (!process_flag_bit(name))
            return fail(Errc::invalid_input, "params.process_flags: unknown flag \"{}\" (flags: {})", name,
                        process_flag_names());
    f.process_flags_ = std::move(*flags);
    auto policies = string_set(params, "policy_names");
    if (!policies)
        return std::unexpected(policies.error());
    f.policy_names_ = std::move(*policies);

    for (std::string_view key : {"pod_regex", "container_id"}) {
        auto patterns = string_set(params, key);
        if (!patterns)
            return std::unexpected(patterns.error());
        for (const auto& p : *patterns) {
            auto re = Regex::make(p);
            if (!re)
                return fail(Errc::invalid_input, "params.{} \"{}\" is not a valid regular expression: {}", key, p,
                            re.error().message());
            (key == "pod_regex" ? f.pod_regex_ : f.container_id_).push_back(std::move(*re));
        }
    }
    auto labels = string_set(params, "labels");
    if (!labels)
        return std::unexpected(labels.error());
    for (const auto& l : *labels) {
        auto sel = parse_label_selector(l);
        if (!sel)
            return fail(Errc::invalid_input, "params.labels: {}", sel.error().message());
        f.labels_.push_back(std::move(*sel));
    }

    JsonValue jq = params.get("filter");
    if (jq.present() && !jq.is_null()) {
        auto s = jq.string();
        if (!s || s->empty())
            return fail(Errc::invalid_input, "params.filter must be a non-empty jq expression");
        auto prog = JqProgram::make(*s);
        if (!prog)
            return std::unexpected(prog.error());
        f.jq_ = std::move(*prog);
    }
    return f;
}

bool EventFilter::empty() const
{
    return !selects() && !jq_;
}

bool EventFilter::matches(EventView& ev)
{
    if (!selects())
        return true;
    if (!ev.doc().is_object())
        return false;
    if (!event_types_.empty() && !event_types_.contains(std::string(ev.kind())))
        return false;
    if (process_ || !pids_.empty() || !namespaces_.empty() || !policy_names_.empty() || !process_flags_.empty() ||
        !pod_regex_.empty() || !labels_.empty() || !container_id_.empty()) {
        JsonValue body = ev.body();
        JsonValue process = body.get("process");
        if (process_) {
            auto bin = process.get("binary").string();
            if (!bin || !process_->search(*bin))
                return false;
        }
        if (!pids_.empty()) {
            auto pid = process.get("pid").integer(0, UINT32_MAX);
            if (!pid || !pids_.contains(static_cast<uint32_t>(*pid)))
                return false;
        }
        if (!namespaces_.empty()) {
            // No pod: the "" namespace, as Tetragon reports host processes (and as [export]
            // namespaces filters treat them). A pod the runtime has not named yet (only its
            // uid from the cgroup) matches no namespace.
            JsonValue pod = process.get("pod");
            auto ns = pod.get("namespace").string();
            if (pod.present() && !ns)
                return false;
            if (!namespaces_.contains(std::string(ns.value_or(""))))
                return false;
        }
        if (!process_flags_.empty()) {
            std::string flags = " " + std::string(process.get("flags").string().value_or("")) + " ";
            for (const auto& f : process_flags_)
                if (flags.find(" " + f + " ") == std::string::npos)
                    return false;
        }
        if (!policy_names_.empty()) {
            auto name = body.get("policy_name").string();
            if (!name || !policy_names_.contains(std::string(*name)))
                return false;
        }
        if (!matches_workload(process))
            return false;
    }
    return true;
}

bool EventFilter::selects() const
{
    return !event_types_.empty() || process_ || !pids_.empty() || !namespaces_.empty() || !policy_names_.empty() ||
           !process_flags_.empty() || !pod_regex_.empty() || !labels_.empty() || !container_id_.empty();
}

bool EventFilter::matches_workload(const JsonValue& process) const
{
    JsonValue pod = process.get("pod");
    if (!container_id_.empty()) {
        // the full id once the runtime described the pod ("containerd://<id>"), else "docker"
        // (the first 31 characters), which containers outside pods have too
        std::string_view id = pod.get("container").get("id").string().value_or("");
        if (auto scheme = id.find("://"); scheme != std::string_view::npos)
            id.remove_prefix(scheme + 3);
        if (id.empty())
            id = process.get("docker").string().value_or("");
        if (id.empty() ||
            std::none_of(container_id_.begin(), container_id_.end(), [&](const Regex& re) { return re.search(id); }))
            return false;
    }
    if (!pod_regex_.empty()) {
        auto name = pod.get("name").string();
        if (!name || std::none_of(pod_regex_.begin(), pod_regex_.end(),
                                  [&](const Regex& re) { return re.search(*name); }))
            return false;
    }
    if (!labels_.empty()) {
        if (!pod.get("name").string())
            return false;
        Labels labels;
        for (const auto& [k, v] : pod.get("pod_labels").members())
            labels.emplace_back(k, std::string(v.string().value_or("")));
        std::sort(labels.begin(), labels.end());
        if (std::none_of(labels_.begin(), labels_.end(),
                         [&](const policy::LabelSelector& l) { return label_selector_matches(l, labels); }))
            return false;
    }
    return true;
}

std::string EventFilter::describe() const
{
    std::vector<std::string> parts;
    if (!event_types_.empty())
        parts.push_back(fmt::format("event_types={}", fmt::join(event_types_, ",")));
    if (process_)
        parts.push_back(fmt::format("process={}", process_->pattern()));
    if (!pids_.empty())
        parts.push_back(fmt::format("pids={}", fmt::join(pids_, ",")));
    if (!namespaces_.empty())
        parts.push_back(fmt::format("namespaces={}", fmt::join(namespaces_, ",")));
    if (!policy_names_.empty())
        parts.push_back(fmt::format("policy_names={}", fmt::join(policy_names_, ",")));
    if (!process_flags_.empty())
        parts.push_back(fmt::format("process_flags={}", fmt::join(process_flags_, ",")));
    auto patterns = [](const std::vector<Regex>& v) {
        std::vector<std::string> out;
        for (const auto& re : v)
            out.push_back(re.pattern());
        return out;
    };
    if (!pod_regex_.empty())
        parts.push_back(fmt::format("pod_regex={}", fmt::join(patterns(pod_regex_), ",")));
    if (!labels_.empty())
        parts.push_back(fmt::format("labels={} selector(s)", labels_.size()));
    if (!container_id_.empty())
        parts.push_back(fmt::format("container_id={}", fmt::join(patterns(container_id_), ",")));
    if (jq_)
        parts.push_back(fmt::format("filter={}", jq_->expression()));
    return parts.empty() ? std::string("all events") : fmt::format("{}", fmt::join(parts, " "));
}

} // namespace vigil::api
