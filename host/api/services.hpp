// What the API server and the metrics endpoint need from the rest of vigild; the agent wires it.
// Either service may be absent (null): its methods then answer "unavailable".
#pragma once

#include "core/error.hpp"
#include "policy/enums.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

class PluginRegistry;
class Features;
class SharedMaps;
class EventPipeline;

namespace api {

class SubscriberHub;

struct ProcessInfo {
    uint32_t pid = 0;
    uint32_t ppid = 0;
    uint32_t uid = 0;
    uint64_t ktime = 0; // boot-time ns of the exec
    std::string exec_id;
    std::string parent_exec_id;
    std::string binary;
    std::string arguments;
    std::string cwd;
    bool exited = false; // exit seen, entry kept until its events are written
    std::string container_id;      // full id, "" outside a container
    std::string container_runtime; // runtime_name()
    std::string pod_uid;
};

struct ProcessCacheCounts {
    uint64_t size = 0;
    uint64_t capacity = 0;
    // What a cache does not count is absent (and not exported as a metric).
    std::optional<uint64_t> evictions;   // entries forced out because the cache was full
    std::optional<uint64_t> exit_misses; // exits of processes the cache did not know
};

class ProcessService; // api/process_service.hpp

struct PolicyHookInfo {
    std::string kind;     // "tracepoints", "kprobes", ...
    uint64_t index = 0;   // position in its spec section
    std::string plugin;   // the plugin serving it
    std::string strategy; // how it attached ("tracepoint", "raw_tp", "kprobe", ...); empty: detached
    std::string detail;
};

// A policy as the running agent holds it: mode, state, hooks and counters (policy::PolicyInfo
// is something else: what analysing its text tells).
struct PolicyStatus {
    std::string name;
    policy::PolicyMode mode = policy::PolicyMode::enforce; // spelled as policy::name_of gives it
    bool enabled = true;
    std::string state;      // e.g. "loaded", "error"
    std::string last_error; // empty when none
    std::vector<std::string> hook_kinds;
    std::vector<PolicyHookInfo> hooks;
    // Counters summed over the policy's hooks.
    uint64_t matched = 0, posted = 0, rate_limited = 0, enforced = 0, monitored = 0;
    uint64_t shed = 0, ring_full = 0; // posts dropped: overload or cgroup rate; no room in the ring
};

// Runtime policy management (TracingPolicy YAML). Errors use Errc: invalid_input for a policy
// that does not parse or validate, not_found for an unknown name, conflict for a name in use.
// An interface because its one implementation (policy_host/service.hpp) sits above api/.
class PolicyService {
public:
    virtual ~PolicyService() = default;
    // `yaml` is the file's content; `mode` overrides spec.options policy-mode when given;
    // `source` names the text in error messages (the file the operator passed to the CLI).
    [[nodiscard]] virtual Result<PolicyStatus> add(std::string_view yaml, std::optional<policy::PolicyMode> mode,
                                                   std::string_view source) = 0;
    [[nodiscard]] virtual Result<void> remove(const std::string& name) = 0;
    [[nodiscard]] virtual std::vector<PolicyStatus> list() const = 0;
    [[nodiscard]] virtual Result<void> enable(const std::string& name) = 0;
    [[nodiscard]] virtual Result<void> disable(const std::string& name) = 0;
    [[nodiscard]] virtual Result<void> set_mode(const std::string& name, policy::PolicyMode mode) = 0;
};

// The running agent as the API and metrics see it. References outlive the servers.
struct AgentServices {
    PluginRegistry& plugins;
    Features& features;
    const SharedMaps& maps;
    const EventPipeline& pipeline;
    SubscriberHub& subscribers;
    const ProcessService* processes = nullptr; // null: process.* answers "unavailable"
    PolicyService* policies = nullptr;         // null: policy.* answers "unavailable"
};

} // namespace api
} // namespace vigil
