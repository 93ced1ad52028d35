// The kprobe plugin's hook object (plugins/kprobe/kprobe_hook.bpf.c) loaded for real, program by
// program and argument source by argument source, with every argument reader configured: the
// verifier accepts what the plugin may load. Kprobe-type programs load on every kernel (only their
// attach needs the kprobe PMU); fentry/fexit/LSM loads need trampolines, which this machine's
// kernel refuses, so those cases skip here and run in the kernel matrix.
#include "kprobe_hook.h"
#include "kprobe_hook.skel.h"

#include "support/vigil_skip.hpp"

#include <catch2/catch.hpp>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <cctype>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace {

// Every reader once, over the five argument slots (the fetch step is verified for all of them
// in one go; the configuration makes the verifier see real types in the slots).
kp_spec spec_for(uint32_t source, bool syscall_args, bool ret)
{
    kp_spec s{};
    s.source = source;
    s.nargs = VSEL_MAX_ARGS;
    auto arg = [](uint8_t src, uint8_t read, uint8_t enc) {
        kp_arg a{};
        a.src = src;
        a.read = read;
        a.enc = enc;
        a.size = 4;
        a.is_signed = 1;
        return a;
    };
    if (syscall_args) {
        s.args[0] = arg(0, KP_READ_INT, VHOOK_ENC_S64);
        s.args[1] = arg(1, KP_READ_USER_STR, VHOOK_ENC_STRING);
        s.args[2] = arg(1, KP_READ_USER_BUF, VHOOK_ENC_BYTES);
        s.args[2].size_src = 3;
        s.args[3] = arg(2, KP_READ_INT, VHOOK_ENC_U64);
        s.args[4] = arg(0, KP_READ_FD, VHOOK_ENC_STRING);
    } else {
        s.args[0] = arg(0, KP_READ_KERNEL_STR, VHOOK_ENC_STRING);
        s.args[1] = arg(1, KP_READ_FILENAME, VHOOK_ENC_STRING);
        s.args[2] = arg(2, KP_READ_KERNEL_BUF, VHOOK_ENC_BYTES);
        s.args[2].size_src = 4;
        s.args[3] = arg(3, KP_READ_CRED, VHOOK_ENC_BYTES);
        s.args[4] = arg(4, KP_READ_FILE, VHOOK_ENC_STRING);
    }
    for (uint32_t i = 0; i < KP_MAX_RAW_ARGS; ++i)
        s.tp_offsets[i] = static_cast<uint16_t>(16 + 8 * i);
    s.syscall_nr = 257;
    s.has_return = ret;
    s.ret.read = KP_READ_INT;
    s.ret.size = 8;
    s.ret.is_signed = 1;
    return s;
}

struct LoadResult {
    int err = 0;
    std::string log;
    uint32_t verified_insns = 0; // what the verifier walked through to accept the program
};

// Loads only `program` of a fresh object configured with `spec`; `target` for BTF-attached ones.
LoadResult load_only(const char* program, const kp_spec& spec, const char* target = nullptr)
{
    static std::string log;
    log.clear();
    libbpf_set_print([](libbpf_print_level level, const char* fmt, va_list ap) {
        if (level == LIBBPF_DEBUG)
            return 0;
        va_list copy;
        va_copy(copy, ap);
        int n = vsnprintf(nullptr, 0, fmt, copy);
        va_end(copy);
        if (n > 0) {
            std::string msg(static_cast<size_t>(n) + 1, '\0');
            vsnprintf(msg.data(), msg.size(), fmt, ap);
            msg.resize(static_cast<size_t>(n));
            log += msg;
        }
        return 0;
    });
    kprobe_hook* skel = kprobe_hook__open();
    REQUIRE(skel);
    std::memcpy(const_cast<kp_spec*>(&skel->rodata->kp_spec), &spec, sizeof spec);
    bpf_program* p;
    bpf_program* chosen = nullptr;
    bpf_object__for_each_program(p, skel->obj)
    {
        bool it = std::string(bpf_program__name(p)) == program;
        bpf_program__set_autoload(p, it);
        if (it)
            chosen = p;
    }
    REQUIRE(chosen);
    if (target)
        REQUIRE(bpf_program__set_attach_target(chosen, 0, target) == 0);
    if (!spec.has_return)
        bpf_map__set_max_entries(skel->maps.kp_stash, 1);
    LoadResult r;
    r.err = kprobe_hook__load(skel);
    if (r.err == 0) {
        bpf_prog_info info{};
        uint32_t len = sizeof info;
        if (bpf_obj_get_info_by_fd(bpf_program__fd(chosen), &info, &len) == 0)
            r.verified_insns = info.verified_insns;
        if (std::getenv("VIGIL_VERIFIER_STATS"))
            WARN(program << ": " << r.verified_insns << " instructions verified");
    }
    // The verifier's log without its instruction trace; its last lines say why.
    std::vector<std::string> lines;
    for (size_t i = 0; i < log.size();) {
        size_t j = log.find('\n', i);
        std::string line = log.substr(i, j == std::string::npos ? std::string::npos : j - i + 1);
        i = j == std::string::npos ? log.size() : j + 1;
        size_t k = line.find_first_not_of(' ');
        if (k != std::string::npos && !std::isdigit(static_cast<unsigned char>(line[k])) && line[k] != ';')
            lines.push_back(line);
    }
    for (size_t i = lines.size() > 12 ? lines.size() - 12 : 0; i < lines.size(); ++i)
        r.log += lines[i].substr(0, 400);
    // and the instructions that led to it
    size_t tail = log.rfind("processed ");
    if (tail != std::string::npos)
        r.log += log.substr(tail > 1500 ? tail - 1500 : 0, std::min<size_t>(tail, 1500));
    kprobe_hook__destroy(skel);
    libbpf_set_print(nullptr);
    return r;
}

bool in_btf(const char* func)
{
    btf* b = btf__load_vmlinux_btf();
    if (!b)
        return false;
    bool found = btf__find_by_name_kind(b, func, BTF_KIND_FUNC) > 0;
    btf__free(b);
    return found;
}

} // namespace

// Checks that a load succeeded, showing the end of the verifier's log when it did not.
#define CHECK_LOADED(result)                                                                                      \
    do {                                                                                                          \
        INFO((result).log);                                                                                       \
        CHECK((result).err == 0);                                                                                 \
    } while (0)

// Each load runs the verifier over the whole program, which takes seconds under the kernel
// matrix's emulation: one load per program, each with a different argument source.
TEST_CASE("kprobe hook: kprobe and kretprobe programs load with every reader", "[bpf][kprobe]")
{
    auto entry = load_only("kp_kprobe", spec_for(KP_SRC_SYSCALL_REGS, true, true));
    CHECK_LOADED(entry);
    auto ret = load_only("kp_kretprobe", spec_for(KP_SRC_REGS, false, true));
    CHECK_LOADED(ret);
}

TEST_CASE("kprobe hook: socket argument readers load in kprobe and syscall programs", "[bpf][kprobe]")
{
    kp_spec k = spec_for(KP_SRC_REGS, false, false);
    k.args[0].read = KP_READ_SOCK;
    k.args[1].read = KP_READ_SOCKET;
    k.args[2].read = KP_READ_SOCKADDR;
    k.args[2].size_src = 0;
    k.args[3].read = KP_READ_SKB;
    for (int i = 0; i < 4; ++i)
        k.args[i].enc = VHOOK_ENC_BYTES;
    CHECK_LOADED(load_only("kp_kprobe", k));
    kp_spec sys = spec_for(KP_SRC_SYSCALL_TP, true, false);
    sys.args[1].read = KP_READ_USER_SOCKADDR;
    sys.args[1].enc = VHOOK_ENC_BYTES;
    CHECK_LOADED(load_only("kp_sys_enter", sys));
}

TEST_CASE("kprobe hook: syscall tracepoint programs load for both syscall sources", "[bpf][kprobe]")
{
    auto enter = load_only("kp_sys_enter", spec_for(KP_SRC_RAW_SYSCALLS, true, true));
    CHECK_LOADED(enter);
    auto exit = load_only("kp_sys_exit", spec_for(KP_SRC_SYSCALL_TP, true, true));
    CHECK_LOADED(exit);
    auto plain = load_only("kp_sys_enter", spec_for(KP_SRC_SYSCALL_TP, true, false));
    CHECK_LOADED(plain);
}

TEST_CASE("kprobe hook: the Override program loads exactly where bpf_override_return exists", "[bpf][kprobe]")
{
    // Neither this machine's kernel nor Debian's 6.1 has CONFIG_BPF_KPROBE_OVERRIDE: the load
    // must fail (the plugin then refuses Override with a message), not crash or half-load.
    auto r = load_only("kp_kprobe_override", spec_for(KP_SRC_SYSCALL_REGS, true, false));
    if (r.err == 0)
        SUCCEED("bpf_override_return available");
    else
        CHECK(r.log.find("bpf_override_return") != std::string::npos);
    UNSCOPED_INFO(r.log);
}

TEST_CASE("kprobe hook: fentry and fexit programs load on fd_install", "[bpf][kprobe][fentry]")
{
    auto r = load_only("kp_fentry", spec_for(KP_SRC_TRAMPOLINE, false, false), "fd_install");
    if (r.err == -EPERM || r.err == -EOPNOTSUPP || r.err == -524 /* ENOTSUPP */)
        VIGIL_SKIP_MISSING_FEATURE("fentry");
    CHECK_LOADED(r);
    auto x = load_only("kp_fexit", spec_for(KP_SRC_TRAMPOLINE, false, true), "fd_install");
    CHECK_LOADED(x);
}

TEST_CASE("kprobe hook: the LSM program loads on file_open", "[bpf][kprobe][lsm]")
{
    if (!in_btf("bpf_lsm_file_open"))
        VIGIL_SKIP_MISSING_FEATURE("lsm");
    auto r = load_only("kp_lsm", spec_for(KP_SRC_TRAMPOLINE, false, false), "file_open");
    if (r.err == -EPERM || r.err == -EOPNOTSUPP || r.err == -524 /* ENOTSUPP */)
        VIGIL_SKIP_MISSING_FEATURE("lsm");
    CHECK_LOADED(r);
}

// The uprobe plugin loads the same object on user-space functions: kp_kprobe/kp_kretprobe as
// uprobe/uretprobe with user-memory readers (a string return value sent as one more argument),
// kp_usdt with the arguments of libbpf's USDT spec.
TEST_CASE("function hook: the USDT program and a string-returning uretprobe load with user readers",
          "[bpf][kprobe][uprobe]")
{
    kp_spec usdt = spec_for(KP_SRC_USDT, true, false);
    CHECK_LOADED(load_only("kp_usdt", usdt));
    kp_spec ret = spec_for(KP_SRC_REGS, true, true);
    ret.nargs = VSEL_MAX_ARGS - 1; // the return value takes the last slot
    ret.ret = kp_arg{};
    ret.ret.read = KP_READ_USER_STR;
    ret.ret.enc = VHOOK_ENC_STRING;
    CHECK_LOADED(load_only("kp_kretprobe", ret));
}
