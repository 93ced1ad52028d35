// The `kprobes:` and `lsmhooks:` hook kinds: one kprobe_hook BPF object per policy hook, attached
// by the strategy the running kernel allows (kprobe/kretprobe, fentry/fexit, BPF-LSM, or for
// syscalls the syscall tracepoints), with the host-compiled selectors installed in its maps.
// Every hook object writes into one ring the plugin owns.
#pragma once

#include "arg_types.hpp"
#include "kprobe_hook.h"

#include <vigil/plugin_abi.h>
#include <vigil/sdk/bpf.hpp>
#include <vigil/sdk/hook_event.hpp>
#include <vigil/sdk/json.hpp>
#include <vigil/sdk/plugin.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

struct kprobe_hook;

namespace vigil::kprobe {

enum class Strategy { kprobe, fentry, lsm, syscall_tracepoint, raw_syscalls };
const char* to_string(Strategy s);

// Where a hook attaches, decided from its call and the kernel's features.
struct Plan {
    Strategy strategy = Strategy::kprobe;
    std::string function;     // kernel symbol hooked (and reported as function_name)
    std::string syscall;      // syscall name for syscall hooks, "" otherwise
    int32_t syscall_nr = -1;
    std::vector<uint16_t> tp_offsets; // syscall_tracepoint: argument offsets in the record
    bool override_return = false;     // an Override action is carried out by bpf_override_return
    std::string detail;
};

// Kernel features the strategies need, as the host reports them. fentry and LSM are not
// asked: their programs are loaded, and a refused load says why.
struct KernelFeatures {
    bool kprobe = false;
    bool kretprobe = false;
    bool override_return = false;
};

class KprobeHooks {
public:
    static constexpr uint32_t ring_id = 1;

    explicit KprobeHooks(sdk::Host& host) : host_(host), ring_(host, "kp_hook_events", ring_id) {}
    ~KprobeHooks();

    uint64_t add(const vigil_hook_request& req, vigil_hook_status& status);
    void remove(uint64_t handle);
    void set_mode(uint64_t handle, bool enforce);
    void stats(uint64_t handle, vigil_hook_stats& out) const;
    void remove_all();

    // Turns one hook record into a process_kprobe (or process_lsm) event.
    void decode(std::span<const std::byte> rec, sdk::Emitter& out);

private:
    struct ArgOut {
        std::string type, label;
    };
    struct Hook {
        uint64_t handle = 0;
        std::string policy, kind, function, message, return_type;
        std::vector<std::string> tags;
        std::vector<ArgOut> args;
        bool lsm = false;
        kprobe_hook* skel = nullptr;
        std::vector<sdk::Link> links;
        std::string link_tag; // the host holds this hook's links under this tag
    };
    void destroy(Hook& h);
    KernelFeatures features() const;

    sdk::Host& host_;
    sdk::HookRing ring_;
    uint64_t next_handle_ = 1;
    std::map<uint64_t, std::unique_ptr<Hook>> hooks_;
    sdk::JsonWriter body_;
    std::string summary_;
};

} // namespace vigil::kprobe
