#include "process/bootstrap.hpp"

#include <vigil/wire/process.h>

#include <bpf/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace vigil {

namespace {

vigil_proc map_value(const ProcessEntry& e)
{
    vigil_proc v{};
    v.ktime = e.key.ktime;
    v.parent_ktime = e.parent.ktime;
    v.pid = e.key.pid;
    v.ppid = e.parent.pid;
    v.nspid = e.nspid;
    v.flags = e.flags;
    v.uid = e.uid;
    v.euid = e.euid;
    v.cgroup_id = e.cgroup_id;
    v.pidns = e.ns[ns_pid_slot];
    size_t n = std::min<size_t>(e.binary.size(), VIGIL_BINARY_MAX - 1);
    if (n < e.binary.size())
        v.flags |= VIGIL_PROC_F_TRUNC_FILENAME;
    std::memcpy(v.binary, e.binary.data(), n);
    v.binary_len = static_cast<uint32_t>(n);
    return v;
}

} // namespace

ProcBootstrap::ProcBootstrap(ProcessCache& cache, int procs_map_fd, procfs::ReadOptions opts, uint32_t host_pidns)
    : cache_(cache), map_fd_(procs_map_fd), opts_(std::move(opts)), host_pidns_(host_pidns)
{
}

BootstrapStats ProcBootstrap::scan()
{
    BootstrapStats stats;
    std::vector<procfs::Snapshot> snaps;
    for (uint32_t pid : procfs::list_pids(opts_.proc_root)) {
        if (const ProcessEntry* e = cache_.find_pid(pid); e && !e->exited) {
            stats.known++;
            continue;
        }
        auto s = procfs::read_process(pid, opts_);
        if (!s) {
            if (s.error().code == Errc::not_found) {
                stats.vanished++;
            } else {
                if (stats.errors++ == 0)
                    stats.first_error = s.error().message();
            }
            continue;
        }
        if (s->kernel_thread) {
            stats.kernel_threads++;
            continue;
        }
        snaps.push_back(std::move(*s));
    }

    std::unordered_map<uint32_t, size_t> index;
    for (size_t i = 0; i < snaps.size(); ++i)
        index[snaps[i].pid] = i;
    enum class State : uint8_t { pending, busy, done };
    std::vector<State> state(snaps.size(), State::pending);

    // Parents first, so each child links to (and counts in) its parent and inherits
    // in_init_tree from it.
    auto add = [&](auto& self, size_t i) -> void {
        if (state[i] != State::pending)
            return; // done, or a ppid cycle (possible only in a corrupt tree)
        state[i] = State::busy;
        procfs::Snapshot& s = snaps[i];
        if (auto p = index.find(s.ppid); p != index.end() && s.ppid != s.pid)
            self(self, p->second);
        const ProcessEntry* parent = cache_.find_pid(s.ppid);
        if (parent && parent->exited)
            parent = nullptr;

        ProcessEntry e;
        e.key = {s.pid, s.ktime};
        e.parent = parent ? parent->key : ProcessKey{s.ppid, 0};
        e.tid = s.pid;
        e.nspid = s.nspid;
        e.uid = s.uid;
        e.euid = s.euid;
        e.gid = s.gid;
        e.egid = s.egid;
        e.auid = s.auid;
        e.flags = VIGIL_PROC_F_PROCFS;
        if (s.cwd_error)
            e.flags |= VIGIL_PROC_F_ERROR_CWD;
        else if (s.cwd == "/")
            e.flags |= VIGIL_PROC_F_ROOTCWD;
        uint32_t pidns = s.ns[ns_pid_slot];
        if (pidns && pidns != host_pidns_ &&
            (s.nspid == 1 || (parent && (parent->flags & VIGIL_PROC_F_IN_INIT_TREE) &&
                              parent->ns[ns_pid_slot] == pidns)))
            e.flags |= VIGIL_PROC_F_IN_INIT_TREE;
        e.binary = std::move(s.binary);
        e.args = std::move(s.args);
        e.cwd = std::move(s.cwd);
        // as the process sensor names it: the v2 cgroup, or the v1 controller's for a task at
        // the v2 root of a hybrid host
        e.cgroup_path = (s.cgroup_path.empty() || s.cgroup_path == "/") && !s.cgroup1_path.empty()
                            ? std::move(s.cgroup1_path)
                            : std::move(s.cgroup_path);
        auto slash = e.cgroup_path.rfind('/');
        e.cgroup_name = slash == std::string::npos ? e.cgroup_path : e.cgroup_path.substr(slash + 1);
        e.cgroup_id = s.cgroup_id;
        e.cgroup1_id = s.cgroup1_id;
        e.container = parse_container_cgroup(e.cgroup_path);
        e.cap_permitted = s.cap_permitted;
        e.cap_effective = s.cap_effective;
        e.cap_inheritable = s.cap_inheritable;
        e.ns = s.ns;

        if (map_fd_ >= 0) {
            vigil_proc v = map_value(e);
            uint32_t key = s.pid;
            if (bpf_map_update_elem(map_fd_, &key, &v, BPF_NOEXIST) != 0) {
                if (errno == EEXIST) {
                    // the sensor saw this process fork or exec first; its event will follow
                    stats.known++;
                    state[i] = State::done;
                    return;
                }
                if (stats.errors++ == 0)
                    stats.first_error = fmt::format("adding pid {} to {}: {}", s.pid, VIGIL_PROCS_MAP,
                                                    std::strerror(errno));
            }
        }
        cache_.insert(std::move(e));
        stats.inserted++;
        state[i] = State::done;
    };
    for (size_t i = 0; i < snaps.size(); ++i)
        add(add, i);
    return stats;
}

bool ProcBootstrap::alive(const ProcessEntry& e) const
{
    auto start = procfs::read_start_ktime(e.key.pid, opts_);
    return start && *start == e.key.ktime;
}

size_t ProcBootstrap::prune()
{
    std::vector<ProcessKey> candidates;
    cache_.for_each([&](const ProcessEntry& e) {
        if ((e.flags & VIGIL_PROC_F_PROCFS) && !e.exited)
            candidates.push_back(e.key);
    });
    size_t removed = 0;
    for (const ProcessKey& key : candidates) {
        const ProcessEntry* e = cache_.find(key);
        if (!e || alive(*e))
            continue;
        if (map_fd_ >= 0) {
            vigil_proc v{};
            uint32_t pid = key.pid;
            // No map entry: the exit hook removed it and its exit event is on its way.
            if (bpf_map_lookup_elem(map_fd_, &pid, &v) != 0 || v.ktime != key.ktime)
                continue;
            bpf_map_delete_elem(map_fd_, &pid);
        }
        cache_.remove(key);
        removed++;
    }
    return removed;
}

} // namespace vigil
