#include "process/cache.hpp"

#include <fmt/format.h>

namespace vigil {

namespace {

std::string base64(std::string_view in)
{
    static constexpr char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
        out += tbl[v >> 18];
        out += tbl[(v >> 12) & 63];
        out += tbl[(v >> 6) & 63];
        out += tbl[v & 63];
    }
    if (i < in.size()) {
        uint32_t v = uint8_t(in[i]) << 16;
        if (i + 1 < in.size())
            v |= uint8_t(in[i + 1]) << 8;
        out += tbl[v >> 18];
        out += tbl[(v >> 12) & 63];
        out += i + 1 < in.size() ? tbl[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

} // namespace

void ProcessCache::apply(const vigil_process_update& u)
{
    if (u.op == VIGIL_PROC_EXIT) {
        if (auto it = by_pid_.find(u.pid); it != by_pid_.end())
            it->second.exited = true;
        return;
    }
    ProcessEntry& e = by_pid_[u.pid];
    e.pid = u.pid;
    e.ppid = u.ppid;
    e.ktime = u.ktime;
    e.parent_ktime = u.parent_ktime;
    e.uid = u.uid;
    e.flags = u.flags;
    e.binary.assign(u.binary ? u.binary : "", u.binary ? u.binary_len : 0);
    e.args.assign(u.args ? u.args : "", u.args ? u.args_len : 0);
    e.cwd.assign(u.cwd ? u.cwd : "", u.cwd ? u.cwd_len : 0);
    e.exited = false;
}

void ProcessCache::release(uint32_t pid, uint64_t ktime)
{
    auto it = by_pid_.find(pid);
    if (it != by_pid_.end() && it->second.exited && (ktime == 0 || it->second.ktime == ktime))
        by_pid_.erase(it);
}

const ProcessEntry* ProcessCache::find(uint32_t pid) const
{
    auto it = by_pid_.find(pid);
    return it == by_pid_.end() ? nullptr : &it->second;
}

std::string ProcessCache::exec_id(uint32_t pid, uint64_t ktime) const
{
    return base64(fmt::format("{}:{}:{}", node_name_, ktime, pid));
}

void ProcessCache::write_entry(sdk::JsonWriter& w, const ProcessEntry& e, uint32_t tid) const
{
    w.begin_object();
    w.member("exec_id", exec_id(e.pid, e.ktime));
    w.member("pid", e.pid);
    w.member("tid", tid ? tid : e.pid);
    w.member("uid", e.uid);
    w.member("binary", e.binary);
    w.member("parent_exec_id", exec_id(e.ppid, e.parent_ktime));
    w.end_object();
}

void ProcessCache::write_process(sdk::JsonWriter& w, uint32_t pid, uint32_t tid, uint64_t) const
{
    if (const ProcessEntry* e = find(pid)) {
        write_entry(w, *e, tid);
        return;
    }
    w.begin_object().member("pid", pid).member("tid", tid ? tid : pid).end_object();
}

void ProcessCache::write_parent(sdk::JsonWriter& w, uint32_t pid, uint64_t) const
{
    const ProcessEntry* e = find(pid);
    const ProcessEntry* p = e ? find(e->ppid) : nullptr;
    if (p)
        write_entry(w, *p, 0);
    else
        w.begin_object().end_object();
}

std::string_view ProcessCache::binary_of(uint32_t pid, uint64_t) const
{
    const ProcessEntry* e = find(pid);
    return e ? std::string_view(e->binary) : std::string_view("?");
}

} // namespace vigil
