// Which containers each workload-scoped policy selects (podSelector, containerSelector,
// hostSelector, kind TracingPolicyNamespaced), kept in the kernel's vigil_workloads map so that
// a hook drops a task outside its policy's workloads with one lookup. Everything runs on the
// event loop: the process cache says which cgroup a container's processes live in, the
// container table says what the container is, the policy manager adds and removes sets.
#pragma once

#include "container/table.hpp"
#include "core/error.hpp"
#include "policy/model.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace vigil {

// A policy's workload scope as the host matches it.
struct WorkloadPolicy {
    std::string namespace_;         // kind TracingPolicyNamespaced: only pods of this namespace
    policy::WorkloadScope scope;
    // Whether the policy needs a set at all: a plain TracingPolicy with no selector applies to
    // every process and costs nothing.
    bool scoped() const { return !namespace_.empty() || scope.scoped(); }
};

// Whether `sel` holds for `labels` (Kubernetes semantics: NotIn and DoesNotExist hold when the
// key is absent).
bool label_selector_matches(const policy::LabelSelector& sel, const Labels& labels);

// A label selector in Kubernetes' text form, as `kubectl -l` takes it: requirements separated
// by commas, each `key=value`, `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`,
// `key` (exists) or `!key` (does not exist). Errors name the requirement and what is wrong.
[[nodiscard]] Result<policy::LabelSelector> parse_label_selector(std::string_view text);

// "docker.io/library/busybox" for "docker.io/library/busybox:1.36" or "...@sha256:...".
std::string image_repo(std::string_view image);

// Whether the policy applies to the container. nullptr (metadata not known yet): no.
bool workload_selects(const WorkloadPolicy& p, const ContainerMeta* meta);

// Whether a node with `labels` loads a policy with this nodeSelector.
bool node_selected(const std::optional<policy::LabelSelector>& sel, const Labels& node_labels);

class WorkloadSets {
public:
    // map_fd: vigil_workloads (not owned). cgroup1_subsys: the v1 controller hybrid hosts key
    // by ((u32)-1 on cgroup v2); the process sensor records that controller's cgroup.
    WorkloadSets(const ContainerTable& containers, int map_fd, uint32_t cgroup1_subsys)
        : containers_(containers), map_fd_(map_fd), cgroup1_subsys_(cgroup1_subsys)
    {
    }

    uint32_t cgroup1_subsys() const { return cgroup1_subsys_; }

    // The id a process's cgroups are keyed by in the kernel map.
    uint64_t cgroup_key(uint64_t cgroup_id, uint64_t cgroup1_id) const
    {
        return cgroup1_subsys_ != uint32_t(-1) && cgroup1_id ? cgroup1_id : cgroup_id;
    }

    // Policy manager: a set for a policy, filled with what is known now.
    [[nodiscard]] Result<void> add(uint32_t set, WorkloadPolicy p);
    void remove(uint32_t set);

    // Process cache: a process of container `id` lives in cgroup `key`.
    void on_cgroup(const std::string& id, uint64_t key);
    // Container table: a container's metadata changed or it is gone.
    void on_container(uint32_t op, const std::string& id);

    size_t containers_known() const { return cgroups_.size(); }
    uint64_t update_errors() const { return update_errors_; }

private:
    void put(uint32_t set, uint64_t cgroup);
    void del(uint32_t set, uint64_t cgroup);
    void refresh(const std::string& id);

    const ContainerTable& containers_;
    int map_fd_;
    uint32_t cgroup1_subsys_;
    std::unordered_map<std::string, std::vector<uint64_t>> cgroups_; // container id -> cgroup keys
    std::unordered_map<uint32_t, WorkloadPolicy> policies_;
    std::unordered_map<uint32_t, std::unordered_set<uint64_t>> members_; // what the map holds per set
    uint64_t update_errors_ = 0;
};

} // namespace vigil
