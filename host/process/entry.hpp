// One process as the host knows it: what an exec (or fork, or /proc at start) told us, plus
// the bookkeeping of the cache that owns it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "container/cgroup_identity.hpp"

namespace vigil {

// A process incarnation: a thread group between two execs. ktime is boot-time ns.
struct ProcessKey {
    uint32_t pid = 0;
    uint64_t ktime = 0;
    bool operator==(const ProcessKey&) const = default;
};

struct ProcessKeyHash {
    size_t operator()(const ProcessKey& k) const noexcept
    {
        return std::hash<uint64_t>{}(k.ktime * 0x9E3779B97F4A7C15ull ^ k.pid);
    }
};

// Namespace slots, the order of vigil_process_update.ns and of /proc/PID/ns names below.
inline constexpr size_t ns_slot_count = 10;
inline constexpr const char* ns_names[ns_slot_count] = {
    "uts", "ipc", "mnt", "pid", "pid_for_children", "net", "time", "time_for_children", "cgroup", "user"};
inline constexpr size_t ns_pid_slot = 3;

// Text rendered from an entry's description and kept for the events that follow (the export
// path writes the same process into every one of its events). A copy starts empty: a forked
// child begins as a copy of its parent and must not carry the parent's rendering.
struct RenderedText {
    RenderedText() = default;
    RenderedText(const RenderedText&) {}
    RenderedText& operator=(const RenderedText&)
    {
        text.clear();
        valid = false;
        return *this;
    }
    std::string text;
    int64_t tag = 0; // what the text was rendered with (the wall clock's offset)
    bool valid = false;
};

struct ProcessEntry {
    ProcessKey key;
    ProcessKey parent;         // parent.ktime == 0: the parent is unknown
    uint32_t tid = 0;          // the thread that exec'd
    uint32_t nspid = 0;        // pid inside its own PID namespace, 0 if unknown
    uint32_t uid = 0, euid = 0, gid = 0, egid = 0;
    uint32_t auid = 0xffffffff;
    uint32_t flags = 0;        // VIGIL_PROC_F_*
    std::string exec_id;
    std::string parent_exec_id; // empty when the parent is unknown
    std::string binary;
    std::string args;          // after argv[0], NUL-separated
    std::string cwd;
    std::string cgroup_name;   // last component of cgroup_path
    std::string cgroup_path;   // the cgroup that names the container (vigil_process_update.cgroup_path)
    uint64_t cgroup_id = 0;    // cgroup v2
    uint64_t cgroup1_id = 0;   // in the hybrid host's v1 controller hierarchy, 0 = none
    ContainerIdentity container; // from cgroup_path
    uint64_t cap_permitted = 0, cap_effective = 0, cap_inheritable = 0;
    std::array<uint32_t, ns_slot_count> ns{};

    // Cache bookkeeping. refcnt counts: 1 while the process runs, 1 per child entry linked to
    // it, 1 per holder that acquired it (an event still being delivered).
    uint32_t refcnt = 0;
    bool exited = false;       // exited, or replaced by an exec of the same thread group
    bool holds_parent = false; // this entry counts in its parent's refcnt
    bool gc_queued = false;

    // The fields above refcnt, as process JSON (host/export/process_json.cpp). The described
    // fields never change once an entry is in the cache, so it stays valid for the entry's life.
    mutable RenderedText json_head;
};

} // namespace vigil
