// The host's container table: what metadata providers (the container plugin, third-party
// ones) told about containers, keyed by the full container id that cgroup names carry. Updates
// may come from any provider thread; they are queued onto the event loop, where every read
// happens, so a lookup never waits on a runtime.
#pragma once

#include "container/cgroup_identity.hpp"
#include "container/workload.hpp"

#include <vigil/plugin_abi.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace vigil {

struct ContainerMeta {
    std::string id;
    std::string runtime;
    std::string name;
    std::string image_name, image_id;
    int64_t start_time_ns = 0; // wall clock
    std::string pod_name, pod_namespace, pod_uid; // pod_name empty: not in a pod
    Labels pod_labels, pod_annotations;           // sorted by key
    Workload workload;
};

// Copies a provider's record; validates nothing but lengths (the strings are the provider's).
ContainerMeta container_meta_from(const vigil_container_info& info);

struct ContainerTableStats {
    uint64_t known = 0;
    uint64_t updates = 0;       // upserts and deletes applied
    uint64_t wanted = 0;        // hints sent to providers for unknown containers
};

class ContainerTable {
public:
    using WantedFn = std::function<void(const std::string& id)>;

    explicit ContainerTable(boost::asio::io_context& io) : io_(io) {}

    // Any thread: queues the update for the event loop. Never blocks.
    void post(const vigil_container_info& info);
    // Event loop: applies an update now.
    void apply(uint32_t op, ContainerMeta meta);

    // Event loop. The metadata of a container, or nullptr; on a miss the providers are asked
    // (at most once per id per retry interval), and the caller goes on with what it has.
    const ContainerMeta* lookup(const ContainerIdentity& c);
    const ContainerMeta* find(std::string_view id) const;

    // Told after every applied update (VIGIL_CONTAINER_UPSERT / DELETE and the id).
    using ChangeFn = std::function<void(uint32_t op, const std::string& id)>;
    void set_on_change(ChangeFn fn) { on_change_ = std::move(fn); }

    // Who answers hints: the plugin registry's providers.
    void set_wanted(WantedFn fn) { wanted_ = std::move(fn); }

    // Changes with every applied update: what was rendered with an older value is stale.
    uint64_t generation() const { return generation_; }
    ContainerTableStats stats() const
    {
        ContainerTableStats s = stats_;
        s.known = by_id_.size();
        return s;
    }

    static constexpr std::chrono::seconds wanted_retry{2};

private:
    boost::asio::io_context& io_;
    std::unordered_map<std::string, std::shared_ptr<const ContainerMeta>> by_id_;
    std::unordered_map<std::string, std::chrono::steady_clock::time_point> asked_;
    WantedFn wanted_;
    ChangeFn on_change_;
    uint64_t generation_ = 0;
    ContainerTableStats stats_;
};

} // namespace vigil
