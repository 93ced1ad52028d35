#include "process_sensor.hpp"

#include <vigil/sdk/cgroups.hpp>

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <variant>

namespace vigil::tracepoint {

namespace {

using sdk::Error;

// A small proc file's text; empty when it cannot be read.
std::string read_text(const char* path)
{
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

vigil_process_update update_for(uint32_t op, uint32_t pid, uint32_t tid, uint64_t ktime)
{
    vigil_process_update u{};
    u.struct_size = sizeof u;
    u.op = op;
    u.pid = pid;
    u.tid = tid;
    u.ktime = ktime;
    return u;
}

vigil_event event_for(const char* kind, uint32_t pid, uint32_t tid, uint64_t ktime, uint64_t proc_ktime,
                      const std::string& summary, const vigil_process_update& u)
{
    vigil_event ev{};
    ev.struct_size = sizeof ev;
    ev.pid = pid;
    ev.tid = tid;
    ev.ktime = ktime;
    ev.proc_ktime = proc_ktime;
    ev.kind = kind;
    ev.summary = summary.data();
    ev.summary_len = summary.size();
    ev.process = &u;
    return ev;
}

} // namespace

void ProcessSensor::start()
{
    // tp_btf where the kernel has it, raw tracepoints otherwise: same program bodies.
    bool btf = attach_ == "tp_btf" || (attach_ == "auto" && host_.has_feature("tp_btf"));
    const char* kind = btf ? "tp_btf" : "raw_tp";
    if (!host_.has_feature(kind))
        throw Error(VIGIL_ERR_UNSUPPORTED,
                    attach_ == "auto"
                        ? std::string("the process sensor needs tp_btf or raw_tp programs; this kernel has neither")
                        : fmt::format("attach = \"{}\": this kernel does not support {} programs", attach_, kind));
    struct stat st {};
    if (::stat("/proc/self/ns/pid", &st) != 0)
        throw Error(VIGIL_ERR_KERNEL, fmt::format("stat /proc/self/ns/pid: {}", std::strerror(errno)));

    skel_.start([&](process& p) {
        p.rodata->host_pidns = static_cast<uint32_t>(st.st_ino);
        if (auto ctrl = sdk::pick_cgroup1_controller(read_text("/proc/cgroups"))) {
            p.rodata->cgrp1_subsys = ctrl->subsys_id;
            host_.info(fmt::format("hybrid cgroups: tasks at the cgroup v2 root are named by their {} cgroup",
                                   ctrl->name));
        }
        // one attach strategy: the other's programs are not loaded (nor attached)
        for (bpf_program* unused : {btf ? p.progs.raw_tp_exec : p.progs.tp_btf_exec,
                                    btf ? p.progs.raw_tp_fork : p.progs.tp_btf_fork,
                                    btf ? p.progs.raw_tp_exit : p.progs.tp_btf_exit})
            bpf_program__set_autoload(unused, false);
        skel_.ring(p.maps.process_events, TP_RING_PROCESS, ring_bytes_);
    });
    host_.info(fmt::format("process sensor attached with {} (ring {} MiB)", kind, ring_bytes_ >> 20));
}

void ProcessSensor::decode(std::span<const std::byte> rec, sdk::Emitter& out)
{
    auto r = decode_record(rec);
    if (!r)
        throw Error(VIGIL_ERR_INVALID, r.error());
    std::visit([&](const auto& v) { emit(v, out); }, *r);
}

void ProcessSensor::emit(const ExecView& v, sdk::Emitter& out)
{
    const tp_exec_record& r = v.rec;
    vigil_process_update u = update_for(VIGIL_PROC_EXEC, r.pid, r.tid, r.ktime);
    u.ppid = r.ppid;
    u.parent_ktime = r.parent_ktime;
    u.uid = r.uid;
    u.euid = r.euid;
    u.gid = r.gid;
    u.egid = r.egid;
    u.auid = r.auid;
    u.flags = r.flags;
    u.binary = v.binary.data();
    u.binary_len = v.binary.size();
    u.args = v.args.data();
    u.args_len = v.args.size();
    u.cwd = v.cwd.data();
    u.cwd_len = v.cwd.size();
    u.cap_permitted = r.cap_permitted;
    u.cap_effective = r.cap_effective;
    u.cap_inheritable = r.cap_inheritable;
    static_assert(sizeof u.ns == sizeof r.ns);
    std::memcpy(u.ns, r.ns, sizeof u.ns);
    u.cgroup_id = r.cgroup_id;
    cgroup_path_ = cgroup_path(r.cgroup_level, v.cgroup_name);
    std::string_view leaf = cgroup_path_;
    leaf.remove_prefix(leaf.rfind('/') + 1);
    u.cgroup_name = leaf.data();
    u.cgroup_name_len = leaf.size();
    u.cgroup_path = cgroup_path_.data();
    u.cgroup_path_len = cgroup_path_.size();
    u.cgroup1_id = r.cgroup1_id;
    summary_.clear(); // the host shows binary and arguments from its cache
    out.emit(event_for("process_exec", r.pid, r.tid, r.ktime, r.ktime, summary_, u));
}

void ProcessSensor::emit(const CloneView& v, sdk::Emitter& out)
{
    const tp_clone_record& r = v.rec;
    vigil_process_update u = update_for(VIGIL_PROC_CLONE, r.pid, r.tid, r.ktime);
    u.ppid = r.ppid;
    u.parent_ktime = r.parent_ktime;
    u.flags = r.flags;
    summary_ = fmt::format("forked by {}", r.ppid);
    out.emit(event_for("process_clone", r.pid, r.pid, r.ktime, r.ktime, summary_, u));
}

void ProcessSensor::emit(const ExitView& v, sdk::Emitter& out)
{
    const tp_exit_record& r = v.rec;
    vigil_process_update u = update_for(VIGIL_PROC_EXIT, r.pid, r.tid, r.proc_ktime);
    u.flags = r.flags;
    u.exit_code = r.exit_code;
    summary_.clear(); // the host shows status or signal from exit_code
    out.emit(event_for("process_exit", r.pid, r.tid, r.ktime, r.proc_ktime, summary_, u));
}

} // namespace vigil::tracepoint
