// The tracepoint plugin's process-lifecycle sensor: fork, exec and exit from the sched
// tracepoints (process.bpf.c, as tp_btf or raw_tp programs). Its BPF side keeps the host's
// vigil_procs map in step; its decoder hands every lifecycle change to the host as a
// vigil_process_update, so the process cache follows, with its process_exec / process_clone /
// process_exit event.
#pragma once

#include "decode.hpp"
#include "process.skel.h"

#include <vigil/sdk/bpf.hpp>
#include <vigil/sdk/plugin.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

namespace vigil::tracepoint {

class ProcessSensor {
public:
    // attach: "auto", "tp_btf" or "raw_tp" (the plugin checks it); ring_bytes: the ring's size.
    ProcessSensor(sdk::Host& host, uint32_t ring_bytes, std::string attach)
        : host_(host), ring_bytes_(ring_bytes), attach_(std::move(attach))
    {
    }
    ProcessSensor(const ProcessSensor&) = delete;
    ProcessSensor& operator=(const ProcessSensor&) = delete;

    void start();
    void stop() { skel_.stop(); }
    // One record of the TP_RING_PROCESS ring.
    void decode(std::span<const std::byte> rec, sdk::Emitter& out);

private:
    void emit(const ExecView& v, sdk::Emitter& out);
    void emit(const CloneView& v, sdk::Emitter& out);
    void emit(const ExitView& v, sdk::Emitter& out);

    sdk::Host& host_;
    uint32_t ring_bytes_;
    std::string attach_;
    sdk::Skeleton<process> skel_{host_, VIGIL_SKELETON(process), "process sensor"};
    std::string summary_;
    std::string cgroup_path_;
};

} // namespace vigil::tracepoint
