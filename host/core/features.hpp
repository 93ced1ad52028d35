// What the running kernel can do for BPF, probed once and cached (each check runs on first use).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

class Features {
public:
    bool kprobe();          // kprobe PMU present (CONFIG_KPROBES)
    bool kretprobe();       // kretprobe via the kprobe PMU's retprobe bit
    bool fentry();          // BPF trampolines: an fentry program loads
    bool fexit();
    bool lsm();             // BPF-LSM active and an LSM program loads
    bool tp_btf();          // BTF-typed raw tracepoints
    bool raw_tp();
    bool tracepoint();
    bool uprobe();          // uprobe PMU present
    bool ringbuf();
    bool cgroup_sock_addr();
    bool send_signal();     // bpf_send_signal helper
    bool override_return(); // bpf_override_return (CONFIG_BPF_KPROBE_OVERRIDE)

    struct Entry {
        std::string name;
        bool supported;
    };
    // Every feature by its public name ("kprobe", "fentry", ...), probing what was not yet probed.
    std::vector<Entry> all();
    // Probe by public name; nullopt for an unknown name.
    std::optional<bool> by_name(std::string_view name);
    std::string summary();

private:
    std::optional<bool> kprobe_, kretprobe_, fentry_, fexit_, lsm_, tp_btf_, raw_tp_, tracepoint_,
        uprobe_, ringbuf_, cgroup_sock_addr_, send_signal_, override_return_;
};

} // namespace vigil
