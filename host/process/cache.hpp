// The host's view of running processes, fed by lifecycle events (and the /proc bootstrap), used
// to put process, parent and ancestors into every event.
//
// Entries are keyed by (pid, ktime) and reference-counted: a running process holds one
// reference on itself, each child entry one on its parent, and each holder that acquire()d it
// one more. An entry whose count drops to zero (the process and all its children gone) stays
// for a grace period, so events still in other plugins' rings find it, then collect() frees
// it. The cache never holds more than `capacity` entries: past that, entries waiting for
// collection go first, then the oldest entries, and each forced removal is counted.
#pragma once

#include "process/entry.hpp"
#include "process/redaction.hpp"

#include <vigil/plugin_abi.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vigil {

struct ProcessCacheStats {
    size_t size = 0;
    size_t capacity = 0;
    uint64_t inserted = 0;
    uint64_t collected = 0;   // freed after their grace period
    uint64_t evicted = 0;     // forced out because the cache was full
    uint64_t exit_misses = 0; // exits of processes the cache did not know
};

class ProcessCache {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    ProcessCache(std::string node_name, size_t capacity,
                 std::chrono::milliseconds grace = std::chrono::milliseconds(2000), Clock clock = {});

    // A lifecycle fact from the process sensor. Returns the entry the event is about (the new
    // process for exec and clone, the exiting one for exit), or nullptr for an exit of an
    // unknown process.
    const ProcessEntry* apply(const vigil_process_update& u);
    // Adds a fully described entry (the /proc bootstrap). Its parent, when cached, is linked.
    // An entry with the same key is left as it is and returned.
    const ProcessEntry* insert(ProcessEntry e);
    // Drops an entry that turned out never to have been alive (bootstrap races), unlinking it.
    void remove(const ProcessKey& key);

    const ProcessEntry* find(const ProcessKey& key) const;
    // The newest entry of a thread-group id.
    const ProcessEntry* find_pid(uint32_t pid) const;
    // The process an event names: exactly the image with that key when ktime is known (never
    // another incarnation of the pid), else the pid's newest entry if it started by `at` (the
    // event's time; 0: any).
    const ProcessEntry* lookup(uint32_t pid, uint64_t ktime, uint64_t at = 0) const;
    const ProcessEntry* parent_of(const ProcessEntry& e) const;
    // The parent's ancestors, nearest first (Tetragon's "ancestors": the parent itself is not
    // included), up to the first unknown one or `max` entries.
    std::vector<const ProcessEntry*> ancestors(const ProcessEntry& e, size_t max = 128) const;

    // Secrets in arguments are masked as entries come in (process/redaction.hpp).
    void set_redactor(Redactor r) { redactor_ = std::move(r); }

    // A holder (an event on its way out) keeps the entry from being collected.
    void acquire(const ProcessKey& key);
    void release(const ProcessKey& key);

    // Frees entries whose grace period is over; returns how many.
    size_t collect();

    template <class F>
    void for_each(F&& f) const
    {
        for (const auto& [k, n] : entries_)
            f(n.entry);
    }

    // Told of every new entry in a container (exec, clone, bootstrap): where its cgroups are.
    using ContainerObserver = std::function<void(const ProcessEntry&)>;
    void set_container_observer(ContainerObserver f) { container_observer_ = std::move(f); }

    std::string exec_id(uint32_t pid, uint64_t ktime) const;
    const std::string& node_name() const { return node_name_; }
    size_t size() const { return entries_.size(); }
    size_t capacity() const { return capacity_; }
    ProcessCacheStats stats() const;

private:
    struct Node {
        ProcessEntry entry;
        std::list<ProcessKey>::iterator order;
    };

    ProcessEntry* find_mut(const ProcessKey& key);
    void redact(ProcessEntry& e) const
    {
        if (!redactor_.empty())
            redactor_.apply(e.args, e.binary);
    }
    Redactor redactor_;
    ProcessEntry* find_pid_mut(uint32_t pid);
    const ProcessEntry* on_exec(const vigil_process_update& u);
    const ProcessEntry* on_clone(const vigil_process_update& u);
    const ProcessEntry* on_exit(const vigil_process_update& u);
    void replace_older(const ProcessKey& key);
    const ProcessEntry* live_parent(uint32_t ppid, uint64_t parent_ktime) const;
    // The process ended or exec'd: it no longer holds itself.
    void retire(ProcessEntry& e);
    void unref(ProcessEntry& e);
    void erase(const ProcessKey& key);
    void make_room();
    ProcessEntry* link(ProcessEntry&& e);
    std::chrono::steady_clock::time_point now() const;

    std::string node_name_;
    size_t capacity_;
    std::chrono::milliseconds grace_;
    Clock clock_;
    std::unordered_map<ProcessKey, Node, ProcessKeyHash> entries_;
    std::list<ProcessKey> order_; // insertion order, oldest first: eviction order
    std::unordered_map<uint32_t, uint64_t> newest_; // pid -> ktime of its newest entry
    std::deque<std::pair<ProcessKey, std::chrono::steady_clock::time_point>> zero_; // refcnt hit 0
    ProcessCacheStats stats_;
    ContainerObserver container_observer_;
};

} // namespace vigil
