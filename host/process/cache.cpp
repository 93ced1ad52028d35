#include "process/cache.hpp"

#include "process/exec_id.hpp"

#include <vigil/wire/process.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace vigil {

namespace {

std::string str(const char* p, size_t len) { return p ? std::string(p, len) : std::string(); }

} // namespace

ProcessCache::ProcessCache(std::string node_name, size_t capacity, std::chrono::milliseconds grace, Clock clock)
    : node_name_(std::move(node_name)), capacity_(std::max<size_t>(capacity, 1)), grace_(grace),
      clock_(std::move(clock))
{
    entries_.reserve(std::min<size_t>(capacity_, 1 << 16));
}

std::chrono::steady_clock::time_point ProcessCache::now() const
{
    return clock_ ? clock_() : std::chrono::steady_clock::now();
}

std::string ProcessCache::exec_id(uint32_t pid, uint64_t ktime) const
{
    return make_exec_id(node_name_, ktime, pid);
}

ProcessCacheStats ProcessCache::stats() const
{
    ProcessCacheStats s = stats_;
    s.size = entries_.size();
    s.capacity = capacity_;
    return s;
}

ProcessEntry* ProcessCache::find_mut(const ProcessKey& key)
{
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second.entry;
}

const ProcessEntry* ProcessCache::find(const ProcessKey& key) const
{
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second.entry;
}

ProcessEntry* ProcessCache::find_pid_mut(uint32_t pid)
{
    auto it = newest_.find(pid);
    return it == newest_.end() ? nullptr : find_mut({pid, it->second});
}

const ProcessEntry* ProcessCache::find_pid(uint32_t pid) const
{
    auto it = newest_.find(pid);
    return it == newest_.end() ? nullptr : find({pid, it->second});
}

const ProcessEntry* ProcessCache::lookup(uint32_t pid, uint64_t ktime, uint64_t at) const
{
    // A known key names one image: the pid's newest entry may be the program it exec'd since.
    if (ktime)
        return find({pid, ktime});
    const ProcessEntry* e = find_pid(pid);
    return e && (!at || e->key.ktime <= at) ? e : nullptr;
}

const ProcessEntry* ProcessCache::parent_of(const ProcessEntry& e) const
{
    return e.parent.ktime ? find(e.parent) : nullptr;
}

std::vector<const ProcessEntry*> ProcessCache::ancestors(const ProcessEntry& e, size_t max) const
{
    std::vector<const ProcessEntry*> out;
    const ProcessEntry* p = parent_of(e);
    for (p = p ? parent_of(*p) : nullptr; p && out.size() < max; p = parent_of(*p))
        out.push_back(p);
    return out;
}

void ProcessCache::acquire(const ProcessKey& key)
{
    if (ProcessEntry* e = find_mut(key))
        e->refcnt++;
}

void ProcessCache::release(const ProcessKey& key)
{
    if (ProcessEntry* e = find_mut(key))
        unref(*e);
}

void ProcessCache::unref(ProcessEntry& e)
{
    if (e.refcnt == 0)
        return;
    if (--e.refcnt == 0 && !e.gc_queued) {
        e.gc_queued = true;
        zero_.emplace_back(e.key, now());
    }
}

void ProcessCache::retire(ProcessEntry& e)
{
    if (e.exited)
        return;
    e.exited = true;
    unref(e);
}

void ProcessCache::erase(const ProcessKey& key)
{
    auto it = entries_.find(key);
    if (it == entries_.end())
        return;
    ProcessEntry& e = it->second.entry;
    ProcessKey parent = e.parent;
    bool held = e.holds_parent;
    if (auto n = newest_.find(key.pid); n != newest_.end() && n->second == key.ktime)
        newest_.erase(n);
    order_.erase(it->second.order);
    entries_.erase(it);
    if (held)
        if (ProcessEntry* p = find_mut(parent))
            unref(*p);
}

void ProcessCache::remove(const ProcessKey& key)
{
    erase(key);
}

size_t ProcessCache::collect()
{
    auto limit = now() - grace_;
    size_t freed = 0;
    while (!zero_.empty() && zero_.front().second <= limit) {
        ProcessKey key = zero_.front().first;
        zero_.pop_front();
        ProcessEntry* e = find_mut(key);
        if (!e)
            continue;
        e->gc_queued = false;
        if (e->refcnt != 0)
            continue; // picked up again by a holder
        erase(key);
        freed++;
    }
    stats_.collected += freed;
    return freed;
}

void ProcessCache::make_room()
{
    while (entries_.size() >= capacity_) {
        // entries nobody references go first, whatever their grace period
        if (!zero_.empty()) {
            ProcessKey key = zero_.front().first;
            zero_.pop_front();
            ProcessEntry* e = find_mut(key);
            if (!e)
                continue;
            e->gc_queued = false;
            if (e->refcnt != 0)
                continue;
            erase(key);
            stats_.evicted++;
            continue;
        }
        erase(order_.front());
        stats_.evicted++;
    }
}

ProcessEntry* ProcessCache::link(ProcessEntry&& e)
{
    make_room();
    ProcessKey key = e.key;
    e.exec_id = exec_id(key.pid, key.ktime);
    e.refcnt = 1; // the process itself
    e.exited = false;
    e.gc_queued = false;
    e.holds_parent = false;
    if (e.parent.ktime) {
        e.parent_exec_id = exec_id(e.parent.pid, e.parent.ktime);
        if (ProcessEntry* p = find_mut(e.parent)) {
            p->refcnt++;
            e.holds_parent = true;
        }
    } else {
        e.parent_exec_id.clear();
    }
    order_.push_back(key);
    auto [it, fresh] = entries_.emplace(key, Node{std::move(e), std::prev(order_.end())});
    (void)fresh;
    auto n = newest_.find(key.pid);
    if (n == newest_.end() || n->second <= key.ktime)
        newest_[key.pid] = key.ktime;
    stats_.inserted++;
    if (container_observer_ && !it->second.entry.container.empty())
        container_observer_(it->second.entry);
    return &it->second.entry;
}

const ProcessEntry* ProcessCache::insert(ProcessEntry e)
{
    if (const ProcessEntry* existing = find(e.key))
        return existing;
    redact(e);
    return link(std::move(e));
}

const ProcessEntry* ProcessCache::apply(const vigil_process_update& u)
{
    switch (u.op) {
    case VIGIL_PROC_EXEC: return on_exec(u);
    case VIGIL_PROC_CLONE: return on_clone(u);
    case VIGIL_PROC_EXIT: return on_exit(u);
    default: return nullptr;
    }
}

void ProcessCache::replace_older(const ProcessKey& key)
{
    // The incarnation a new one replaces: the fork child or previous program of an exec, or a
    // reused pid's process whose exit was lost.
    if (ProcessEntry* prev = find_pid_mut(key.pid); prev && prev->key.ktime < key.ktime)
        retire(*prev);
}

const ProcessEntry* ProcessCache::live_parent(uint32_t ppid, uint64_t parent_ktime) const
{
    if (parent_ktime)
        if (const ProcessEntry* p = find({ppid, parent_ktime}))
            return p;
    // the kernel-side lookup missed; the cache may still know the parent
    const ProcessEntry* p = find_pid(ppid);
    return p && !p->exited ? p : nullptr;
}

const ProcessEntry* ProcessCache::on_exec(const vigil_process_update& u)
{
    ProcessKey key{u.pid, u.ktime};
    if (const ProcessEntry* existing = find(key))
        return existing;
    replace_older(key);

    ProcessEntry e;
    e.key = key;
    const ProcessEntry* parent = live_parent(u.ppid, u.parent_ktime);
    e.parent = parent ? parent->key : ProcessKey{u.ppid, u.parent_ktime};
    e.tid = u.tid;
    e.uid = u.uid;
    e.euid = u.euid;
    e.gid = u.gid;
    e.egid = u.egid;
    e.auid = u.auid;
    e.flags = u.flags;
    e.binary = str(u.binary, u.binary_len);
    e.args = str(u.args, u.args_len);
    e.cwd = str(u.cwd, u.cwd_len);
    redact(e);
    e.cgroup_name = str(u.cgroup_name, u.cgroup_name_len);
    e.cgroup_id = u.cgroup_id;
    // a plugin built before ABI 1.1 gives only the leaf name
    if (u.struct_size >= offsetof(vigil_process_update, cgroup1_id) + sizeof u.cgroup1_id) {
        e.cgroup_path = str(u.cgroup_path, u.cgroup_path_len);
        e.cgroup1_id = u.cgroup1_id;
    } else if (!e.cgroup_name.empty()) {
        e.cgroup_path = ".../" + e.cgroup_name;
    }
    e.container = parse_container_cgroup(e.cgroup_path);
    e.cap_permitted = u.cap_permitted;
    e.cap_effective = u.cap_effective;
    e.cap_inheritable = u.cap_inheritable;
    std::copy(std::begin(u.ns), std::end(u.ns), e.ns.begin());
    return link(std::move(e));
}

const ProcessEntry* ProcessCache::on_clone(const vigil_process_update& u)
{
    ProcessKey key{u.pid, u.ktime};
    if (const ProcessEntry* existing = find(key))
        return existing;
    replace_older(key);

    ProcessEntry e;
    if (const ProcessEntry* parent = live_parent(u.ppid, u.parent_ktime)) {
        // the child runs its parent's program until it execs; link() resets the bookkeeping
        e = *parent;
        e.parent = parent->key;
        e.flags = (parent->flags & ~(VIGIL_PROC_F_IN_INIT_TREE | VIGIL_PROC_F_MISS)) | VIGIL_PROC_F_CLONE |
                  (u.flags & VIGIL_PROC_F_IN_INIT_TREE);
    } else {
        e.parent = {u.ppid, 0};
        e.flags = u.flags | VIGIL_PROC_F_CLONE | VIGIL_PROC_F_MISS;
    }
    e.key = key;
    e.tid = u.pid;
    return link(std::move(e));
}

const ProcessEntry* ProcessCache::on_exit(const vigil_process_update& u)
{
    ProcessEntry* e = u.ktime ? find_mut({u.pid, u.ktime}) : nullptr;
    if (!e && !u.ktime)
        e = find_pid_mut(u.pid);
    if (!e) {
        stats_.exit_misses++;
        return nullptr;
    }
    retire(*e);
    return e;
}

} // namespace vigil
