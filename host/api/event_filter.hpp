// The server-side filter of an events.subscribe: event types, a regex on the process binary,
// pids, Kubernetes namespaces, policy names and a jq expression. Every given criterion must
// match (AND); inside a list any entry may (OR). The jq expression is compiled here (so errors
// answer the request) but run by the subscriber's jq worker (api/jq_worker.hpp), never here.
#pragma once

#include "api/jq_program.hpp"
#include "api/json_value.hpp"
#include "core/error.hpp"
#include "core/regex.hpp"
#include "policy/model.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::api {

// One event's JSON as the pipeline wrote it, parsed at most once however many subscribers look.
class EventView {
public:
    explicit EventView(std::string_view json) : json_(json) {}

    std::string_view json() const { return json_; }
    // The parsed event; absent when the text is not a JSON object.
    const JsonValue& doc();
    // The event's type: its one member other than node_name and time ("process_exec").
    std::string_view kind();
    // The event body (the value of the kind member).
    JsonValue body();

private:
    std::string_view json_;
    std::optional<JsonValue> doc_;
    std::string kind_;
    bool kind_done_ = false;
};

class EventFilter {
public:
    // From events.subscribe params. `known_kinds` are the event types the loaded plugins emit;
    // a type outside it is refused (a typo would otherwise filter out everything silently).
    [[nodiscard]] static Result<EventFilter> make(const JsonValue& params, const std::set<std::string>& known_kinds);

    EventFilter() = default;
    EventFilter(EventFilter&&) = default;
    EventFilter& operator=(EventFilter&&) = default;

    // Every criterion but the jq expression.
    bool matches(EventView& ev);
    bool empty() const;
    // The compiled jq expression, if one was given.
    JqProgram* jq() const { return jq_.get(); }
    // A one-line description for logs and status.
    std::string describe() const;

private:
    bool selects() const; // any criterion but jq is set
    bool matches_workload(const JsonValue& process) const;

    std::set<std::string> event_types_;
    std::optional<Regex> process_;
    std::set<uint32_t> pids_;
    std::set<std::string> namespaces_;
    std::set<std::string> policy_names_;
    std::set<std::string> process_flags_;
    std::vector<Regex> pod_regex_;                 // any matches process.pod.name
    std::vector<policy::LabelSelector> labels_;    // any matches process.pod.pod_labels
    std::vector<Regex> container_id_;              // any matches the container id
    std::unique_ptr<JqProgram> jq_;
};

} // namespace vigil::api
