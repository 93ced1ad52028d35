// The host's view of running processes, fed by lifecycle events (and the /proc bootstrap), used
// to put process and parent into every event.
#pragma once

#include <vigil/plugin_abi.h>
#include <vigil/sdk/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace vigil {

struct ProcessEntry {
    uint32_t pid = 0;
    uint32_t ppid = 0;
    uint64_t ktime = 0;
    uint64_t parent_ktime = 0;
    uint32_t uid = 0;
    uint32_t flags = 0;
    std::string binary;
    std::string args;
    std::string cwd;
    bool exited = false;
};

class ProcessCache {
public:
    explicit ProcessCache(std::string node_name, size_t capacity)
        : node_name_(std::move(node_name)), capacity_(capacity)
    {
    }

    void apply(const vigil_process_update& u);
    // The exit event has been written: the entry may go.
    void release(uint32_t pid, uint64_t ktime);

    const ProcessEntry* find(uint32_t pid) const;
    void write_process(sdk::JsonWriter& w, uint32_t pid, uint32_t tid, uint64_t ktime) const;
    void write_parent(sdk::JsonWriter& w, uint32_t pid, uint64_t ktime) const;
    std::string_view binary_of(uint32_t pid, uint64_t ktime) const;
    std::string exec_id(uint32_t pid, uint64_t ktime) const;

    size_t size() const { return by_pid_.size(); }
    size_t capacity() const { return capacity_; }

private:
    void write_entry(sdk::JsonWriter& w, const ProcessEntry& e, uint32_t tid) const;

    std::string node_name_;
    size_t capacity_;
    std::unordered_map<uint32_t, ProcessEntry> by_pid_;
};

} // namespace vigil
