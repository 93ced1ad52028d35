#include "export/process_json.hpp"

#include "container/table.hpp"

#include <vigil/wire/process.h>

#include <fmt/format.h>

#include <cstdint>
#include <ctime>

namespace vigil {

namespace {

int64_t clock_ns(clockid_t clock)
{
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct FlagName {
    uint32_t bit;
    const char* name;
};
// Tetragon's order (pkg/reader/exec flagsOrdered) first, then vigil's own flags.
constexpr FlagName flag_names[] = {
    {VIGIL_PROC_F_EXECVE, "execve"},
    {VIGIL_PROC_F_PROCFS, "procFS"},
    {VIGIL_PROC_F_TRUNC_FILENAME, "truncFilename"},
    {VIGIL_PROC_F_TRUNC_ARGS, "truncArgs"},
    {VIGIL_PROC_F_MISS, "miss"},
    {VIGIL_PROC_F_ERROR_FILENAME, "errorFilename"},
    {VIGIL_PROC_F_ERROR_ARGS, "errorArgs"},
    {VIGIL_PROC_F_ROOTCWD, "rootcwd"},
    {VIGIL_PROC_F_ERROR_CWD, "errorCWD"},
    {VIGIL_PROC_F_CLONE, "clone"},
    {VIGIL_PROC_F_IN_INIT_TREE, "inInitTree"},
    {VIGIL_PROC_F_TRUNC_CWD, "truncCwd"},
    {VIGIL_PROC_F_FILELESS, "fileless"},
};

// Capability names by bit number, as in linux/capability.h.
constexpr const char* cap_names[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

} // namespace

WallClock::WallClock() : boot_to_wall_ns_(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME)) {}

namespace {

// Writes v as `width` decimal digits, zero-padded, at p.
void put_digits(char* p, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; --i) {
        p[i] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
}

// The proleptic Gregorian date of a day count since 1970-01-01 (the era-based conversion:
// 400-year eras of 146097 days, years starting on March 1st so the leap day comes last).
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

} // namespace

WallClock::Stamp WallClock::stamp(uint64_t ktime) const
{
    // ktime comes from ring records: a value no kernel gives (past the year 2262) is clamped,
    // not wrapped around.
    int64_t wall = 0;
    if (ktime > static_cast<uint64_t>(INT64_MAX) ||
        __builtin_add_overflow(boot_to_wall_ns_, static_cast<int64_t>(ktime), &wall))
        wall = INT64_MAX;
    int64_t ns = wall % 1'000'000'000;
    int64_t secs = wall / 1'000'000'000;
    if (ns < 0) {
        ns += 1'000'000'000;
        secs -= 1;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    int64_t year;
    unsigned month, day;
    civil_from_days(days, year, month, day);
    Stamp s;
    char* p = s.text;
    put_digits(p, static_cast<uint64_t>(year), 4); // 1677..2262 for any int64 wall time
    p[4] = '-';
    put_digits(p + 5, month, 2);
    p[7] = '-';
    put_digits(p + 8, day, 2);
    p[10] = 'T';
    put_digits(p + 11, static_cast<uint64_t>(sod / 3600), 2);
    p[13] = ':';
    put_digits(p + 14, static_cast<uint64_t>(sod / 60 % 60), 2);
    p[16] = ':';
    put_digits(p + 17, static_cast<uint64_t>(sod % 60), 2);
    p[19] = '.';
    put_digits(p + 20, static_cast<uint64_t>(ns), 9);
    p[29] = 'Z';
    return s;
}

std::string process_flags_string(uint32_t flags)
{
    std::string out;
    for (const auto& f : flag_names) {
        if (!(flags & f.bit))
            continue;
        if (!out.empty())
            out += ' ';
        out += f.name;
    }
    return out;
}

std::optional<uint32_t> process_flag_bit(std::string_view name)
{
    for (const auto& f : flag_names)
        if (name == f.name)
            return f.bit;
    return std::nullopt;
}

std::string process_flag_names() { return process_flags_string(~0u); }

std::string join_arguments(std::string_view args)
{
    std::string out;
    if (args.empty())
        return out;
    size_t i = 0;
    for (;;) {
        size_t j = args.find('\0', i);
        std::string_view a = args.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
        if (!out.empty())
            out += ' ';
        if (a.find(' ') != std::string_view::npos) {
            out += '"';
            out += a;
            out += '"';
        } else {
            out += a;
        }
        if (j == std::string_view::npos)
            break;
        i = j + 1;
    }
    return out;
}

void write_capability_list(sdk::JsonWriter& w, uint64_t caps)
{
    w.begin_array();
    for (unsigned bit = 0; bit < 64; ++bit) {
        if (!(caps & (uint64_t(1) << bit)))
            continue;
        if (bit < std::size(cap_names))
            w.value(cap_names[bit]);
        else
            w.value(fmt::format("CAP_{}", bit));
    }
    w.end_array();
}

namespace {

// The members that describe the process, from "exec_id" to "parent_exec_id", after the '{'.
void write_process_head(sdk::JsonWriter& w, const ProcessEntry& e, const WallClock& clock)
{
    w.begin_object();
    w.member("exec_id", e.exec_id);
    w.member("pid", e.key.pid);
    // Tetragon's "uid" is the effective uid, as ps shows it.
    w.member("uid", e.euid);
    w.member("cwd", e.cwd);
    w.member("binary", e.binary);
    if (!e.args.empty())
        w.member("arguments", join_arguments(e.args));
    w.member("flags", process_flags_string(e.flags));
    w.member("start_time", clock.stamp(e.key.ktime).view());
    w.member("auid", e.auid);
    if (!e.container.empty())
        w.member("docker", docker_field(e.container));
    if (!e.parent_exec_id.empty())
        w.member("parent_exec_id", e.parent_exec_id);
}

void write_labels(sdk::JsonWriter& w, const Labels& labels)
{
    w.begin_object();
    for (const auto& [k, v] : labels)
        w.member(k, v);
    w.end_object();
}

} // namespace

void write_pod_json(sdk::JsonWriter& w, const ProcessEntry& e, const ContainerMeta* meta, bool annotations)
{
    bool in_pod = meta ? !meta->pod_name.empty() : !e.container.pod_uid.empty();
    if (!in_pod)
        return;
    w.key("pod").begin_object();
    if (meta) {
        w.member("namespace", meta->pod_namespace);
        w.member("name", meta->pod_name);
    }
    std::string_view uid = meta && !meta->pod_uid.empty() ? std::string_view(meta->pod_uid)
                                                          : std::string_view(e.container.pod_uid);
    if (!uid.empty())
        w.member("uid", uid);
    w.key("container").begin_object();
    std::string_view runtime = meta && !meta->runtime.empty() ? std::string_view(meta->runtime)
                                                              : runtime_name(e.container.runtime);
    w.member("id", fmt::format("{}://{}", runtime, e.container.id));
    if (meta) {
        if (!meta->name.empty())
            w.member("name", meta->name);
        w.key("image").begin_object().member("id", meta->image_id).member("name", meta->image_name).end_object();
        if (meta->start_time_ns > 0)
            w.member("start_time", WallClock(0).stamp(static_cast<uint64_t>(meta->start_time_ns)).view());
    }
    if (e.nspid)
        w.member("pid", e.nspid);
    w.member("maybe_exec_probe", false);
    w.end_object();
    if (meta) {
        if (!meta->pod_labels.empty()) {
            w.key("pod_labels");
            write_labels(w, meta->pod_labels);
        }
        if (annotations && !meta->pod_annotations.empty()) {
            w.key("pod_annotations");
            write_labels(w, meta->pod_annotations);
        }
        w.member("workload", meta->workload.name);
        w.member("workload_kind", meta->workload.kind);
    }
    w.end_object();
}

void write_process_json(sdk::JsonWriter& w, const ProcessEntry& e, uint32_t tid, const WallClock& clock,
                        const ProcessJsonOptions& opts)
{
    // Rendered once per entry; each event adds what changes (refcnt, tid) and the options.
    RenderedText& head = e.json_head;
    if (!head.valid || head.tag != clock.offset()) {
        sdk::JsonWriter h;
        write_process_head(h, e, clock);
        head.text = h.take();
        head.tag = clock.offset();
        head.valid = true;
    }
    w.raw(head.text);
    if (!e.container.empty())
        write_pod_json(w, e, opts.containers ? opts.containers->lookup(e.container) : nullptr, opts.pod_annotations);
    w.member("refcnt", e.refcnt);
    w.member("tid", tid ? tid : (e.tid ? e.tid : e.key.pid));
    w.member("in_init_tree", (e.flags & VIGIL_PROC_F_IN_INIT_TREE) != 0);
    if (opts.capabilities) {
        w.key("cap").begin_object();
        w.key("permitted");
        write_capability_list(w, e.cap_permitted);
        w.key("effective");
        write_capability_list(w, e.cap_effective);
        w.key("inheritable");
        write_capability_list(w, e.cap_inheritable);
        w.end_object();
    }
    if (opts.namespaces) {
        w.key("ns").begin_object();
        for (size_t i = 0; i < ns_slot_count; ++i) {
            if (!e.ns[i])
                continue;
            w.key(ns_names[i]).begin_object();
            w.member("inum", e.ns[i]);
            w.member("is_host", e.ns[i] == opts.host_ns[i]);
            w.end_object();
        }
        w.end_object();
    }
    w.end_object();
}

} // namespace vigil
