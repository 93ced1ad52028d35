// Policies of a running vigild: each hook is routed to the plugin whose descriptor declares its
// kind, compiled, and attached; a policy loads all-or-nothing. Runtime add / delete / enable /
// disable / set-mode, per-policy state and counters.
#pragma once

#include "core/error.hpp"
#include "policy/model.hpp"

#include <vigil/plugin_abi.h>

#include <cstdint>
#include <filesystem>
#include <list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vigil {

class PluginRegistry;
class Plugin;
class WorkloadSets;

// other_node: the policy's nodeSelector does not match this node's labels; kept, not attached.
enum class PolicyState { loaded, error, disabled, other_node };
const char* to_string(PolicyState s);

struct HookStatus {
    std::string kind;     // "tracepoints", ...
    size_t index = 0;
    std::string plugin;   // id of the plugin serving it
    uint64_t handle = 0;  // 0: not attached
    std::string strategy; // how it attached ("tracepoint", "raw_tp", ...)
    std::string detail;
    std::vector<std::string> features; // what serving it takes (policy::HookSummary::features)
};

struct PolicyCounters {
    uint64_t matched = 0;
    uint64_t posted = 0;
    uint64_t rate_limited = 0;
    uint64_t enforced = 0;     // actions carried out
    uint64_t monitored = 0;    // actions monitor mode suppressed
    uint64_t shed = 0;         // posts dropped for overload or the cgroup rate
    uint64_t ring_full = 0;    // posts the ring had no room for
};

struct PolicyEntry {
    policy::Policy policy;
    PolicyState state = PolicyState::disabled;
    bool enforce = false;      // effective mode
    bool monitor_only = false; // no enforcement actions: can never enforce
    std::string error;
    std::vector<HookStatus> hooks;
    uint32_t workload_set = 0; // its set in vigil_workloads while attached; 0: none (not scoped)
};

class PolicyManager {
public:
    explicit PolicyManager(PluginRegistry& plugins) : plugins_(plugins) {}
    // Where workload-scoped policies keep their cgroup sets; without it such a policy is refused.
    // node_labels: what nodeSelector is matched against (sorted by key).
    void set_workloads(WorkloadSets* sets, std::vector<std::pair<std::string, std::string>> node_labels)
    {
        workloads_ = sets;
        node_labels_ = std::move(node_labels);
    }
    ~PolicyManager();

    // Adds and attaches a policy; on any failure nothing of it stays attached and the error
    // names the hook. `mode` overrides the policy's own policy-mode option.
    [[nodiscard]] Result<void> add(policy::Policy p, std::optional<policy::PolicyMode> mode = std::nullopt);
    [[nodiscard]] Result<void> add_file(const std::filesystem::path& file,
                                        std::optional<policy::PolicyMode> mode = std::nullopt);
    [[nodiscard]] Result<void> remove(const std::string& name);
    [[nodiscard]] Result<void> enable(const std::string& name);
    [[nodiscard]] Result<void> disable(const std::string& name);
    [[nodiscard]] Result<void> set_mode(const std::string& name, policy::PolicyMode mode);
    [[nodiscard]] Result<PolicyCounters> counters(const std::string& name) const;
    void remove_all();

    const std::list<PolicyEntry>& policies() const { return policies_; }
    const PolicyEntry* find(const std::string& name) const;

private:
    PolicyEntry* find_mut(const std::string& name);
    [[nodiscard]] Result<void> attach(PolicyEntry& e);
    void detach(PolicyEntry& e);

    PluginRegistry& plugins_;
    WorkloadSets* workloads_ = nullptr;
    std::vector<std::pair<std::string, std::string>> node_labels_;
    std::list<PolicyEntry> policies_;
    uint32_t next_id_ = 1;
};

} // namespace vigil
