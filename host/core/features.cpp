#include "core/features.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace vigil {

namespace {

template <class F>
bool cached(std::optional<bool>& slot, F&& probe)
{
    if (!slot)
        slot = probe();
    return *slot;
}

// Loads "r0 = 0; exit" as a BTF-attached program of the given type; true when the kernel accepts it.
bool load_btf_attached(bpf_prog_type type, bpf_attach_type attach, const char* target, int kind)
{
    btf* vmlinux = btf__load_vmlinux_btf();
    if (!vmlinux)
        return false;
    int id = btf__find_by_name_kind(vmlinux, target, kind);
    btf__free(vmlinux);
    if (id <= 0)
        return false;
    const bpf_insn insns[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = 0},
        {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
    };
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach,
                .attach_btf_id = static_cast<__u32>(id));
    int fd = bpf_prog_load(type, nullptr, "GPL", insns, 2, &opts);
    if (fd < 0)
        return false;
    ::close(fd);
    return true;
}

bool lsm_active()
{
    std::ifstream in("/sys/kernel/security/lsm");
    std::string list((std::istreambuf_iterator<char>(in)), {});
    return list.find("bpf") != std::string::npos;
}

} // namespace

bool Features::kprobe()
{
    return cached(kprobe_, [] { return std::filesystem::exists("/sys/bus/event_source/devices/kprobe/type"); });
}
bool Features::kretprobe()
{
    return cached(kretprobe_, [] {
        return std::filesystem::exists("/sys/bus/event_source/devices/kprobe/format/retprobe");
    });
}
bool Features::fentry()
{
    return cached(fentry_, [] {
        return load_btf_attached(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "security_file_open", BTF_KIND_FUNC);
    });
}
bool Features::fexit()
{
    return cached(fexit_, [] {
        return load_btf_attached(BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, "security_file_open", BTF_KIND_FUNC);
    });
}
bool Features::lsm()
{
    return cached(lsm_, [] {
        return lsm_active() &&
               load_btf_attached(BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "bpf_lsm_file_open", BTF_KIND_FUNC);
    });
}
bool Features::tp_btf()
{
    return cached(tp_btf_, [] {
        return load_btf_attached(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, "btf_trace_sched_process_exec",
                                 BTF_KIND_TYPEDEF);
    });
}
bool Features::raw_tp()
{
    return cached(raw_tp_, [] { return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, nullptr) == 1; });
}
bool Features::tracepoint()
{
    return cached(tracepoint_, [] { return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, nullptr) == 1; });
}
bool Features::uprobe()
{
    return cached(uprobe_, [] { return std::filesystem::exists("/sys/bus/event_source/devices/uprobe/type"); });
}
bool Features::ringbuf()
{
    return cached(ringbuf_, [] { return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) == 1; });
}
bool Features::cgroup_sock_addr()
{
    return cached(cgroup_sock_addr_,
                  [] { return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, nullptr) == 1; });
}
bool Features::send_signal()
{
    return cached(send_signal_, [] {
        return libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_send_signal, nullptr) == 1;
    });
}
// libbpf's helper probe does not recognise every kernel's refusal message (on 6.18 it reports the
// helper present where a program calling it does not load), so a real kprobe program calling
// bpf_override_return(ctx, 0) is loaded. Kprobe programs load even without the kprobe PMU.
bool Features::override_return()
{
    return cached(override_return_, [] {
        const bpf_insn insns[] = {
            {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2, .src_reg = 0, .off = 0, .imm = 0},
            {.code = BPF_JMP | BPF_CALL, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = BPF_FUNC_override_return},
            {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = 0},
            {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
        };
        int fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, nullptr, "GPL", insns, 4, nullptr);
        if (fd < 0)
            return false;
        ::close(fd);
        return true;
    });
}

std::vector<Features::Entry> Features::all()
{
    return {{"kprobe", kprobe()},         {"kretprobe", kretprobe()},
            {"fentry", fentry()},         {"fexit", fexit()},
            {"lsm", lsm()},               {"tp_btf", tp_btf()},
            {"raw_tp", raw_tp()},         {"tracepoint", tracepoint()},
            {"uprobe", uprobe()},         {"ringbuf", ringbuf()},
            {"cgroup_sock_addr", cgroup_sock_addr()}, {"send_signal", send_signal()},
            {"override_return", override_return()}};
}

std::optional<bool> Features::by_name(std::string_view name)
{
    for (const auto& e : all())
        if (e.name == name)
            return e.supported;
    return std::nullopt;
}

std::string Features::summary()
{
    std::string yes, no;
    for (const auto& e : all()) {
        std::string& list = e.supported ? yes : no;
        if (!list.empty())
            list += ' ';
        list += e.name;
    }
    return fmt::format("supported: [{}] missing: [{}]", yes, no);
}

} // namespace vigil
