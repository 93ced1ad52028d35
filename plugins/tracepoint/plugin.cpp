// The tracepoint plugin: first of all the process-lifecycle sensor (process_sensor.hpp: fork,
// exec and exit from the sched tracepoints), and TracingPolicy tracepoint hooks
// (tracepoint_hooks.hpp), each on a ring of its own.
#include "process_sensor.hpp"
#include "tracepoint_hooks.hpp"

#include <vigil/sdk/descriptor.hpp>
#include <vigil/sdk/plugin.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>

namespace {

using vigil::sdk::Error;
namespace tp = vigil::tracepoint;

class TracepointPlugin {
public:
    static const vigil_descriptor& descriptor()
    {
        static const vigil::sdk::Descriptor d =
            vigil::sdk::Descriptor("tracepoint", "Tracepoint sensors", "0.2.0")
                .description("Process lifecycle sensor (fork, exec, exit) on the sched tracepoints, and "
                             "TracingPolicy tracepoint hooks")
                .license("GPL-2.0-only")
                .hook_kinds({"tracepoints"})
                .events({"process_exec", "process_exit", "process_clone", "process_tracepoint"})
                .arg_types_from(tp::arg_type_names)
                .shared_maps()
                .config_int("ring_buffer_mb",
                            "size of the process event ring buffer in MiB (a power of two; 0: 1 MiB per CPU, 2 to 32)",
                            "0")
                .config_int("hook_ring_buffer_mb",
                            "size of the ring buffer the tracepoint policy hooks share, in MiB (a power of two; 0: 2 "
                            "MiB per CPU, 4 to 64)",
                            "0")
                .config_string("attach",
                               "program type for the sched tracepoints: auto (tp_btf where the kernel has it), tp_btf "
                               "or raw_tp",
                               "\"auto\"");
        return d.get();
    }

    TracepointPlugin(vigil::sdk::Host& host, const vigil::sdk::Config& cfg) : host_(host)
    {
        auto ring = cfg.get_ring_bytes("ring_buffer_mb", vigil::sdk::default_sensor_ring_bytes());
        auto hook_ring = cfg.get_ring_bytes("hook_ring_buffer_mb", vigil::sdk::default_hook_ring_bytes());
        if (!ring || !hook_ring)
            throw Error(VIGIL_ERR_INVALID, !ring ? ring.error() : hook_ring.error());
        hooks_.set_ring_bytes(*hook_ring);
        std::string attach = cfg.get_string("attach", "auto");
        if (attach != "auto" && attach != "tp_btf" && attach != "raw_tp")
            throw Error(VIGIL_ERR_INVALID,
                        fmt::format("attach must be \"auto\", \"tp_btf\" or \"raw_tp\", not \"{}\"", attach));
        process_.emplace(host_, *ring, std::move(attach));
    }
    ~TracepointPlugin() { stop(); }

    void start() { process_->start(); }

    void stop()
    {
        hooks_.reset();
        process_->stop();
    }

    uint64_t add_hook(const vigil_hook_request& req, vigil_hook_status& status) { return hooks_.add(req, status); }
    void remove_hook(uint64_t handle) { hooks_.remove(handle); }
    void set_hook_mode(uint64_t handle, bool enforce) { hooks_.set_mode(handle, enforce); }
    void hook_stats(uint64_t handle, vigil_hook_stats& stats) { hooks_.stats(handle, stats); }

    void decode(uint32_t ring_id, std::span<const std::byte> rec, vigil::sdk::Emitter& out)
    {
        if (ring_id == tp::TracepointHooks::ring_id)
            return hooks_.decode(rec, out);
        if (ring_id != TP_RING_PROCESS)
            throw Error(VIGIL_ERR_INVALID, fmt::format("unknown ring {}", ring_id));
        process_->decode(rec, out);
    }

private:
    vigil::sdk::Host& host_;
    std::optional<tp::ProcessSensor> process_; // made once the configuration is checked
    tp::TracepointHooks hooks_{host_};
};

} // namespace

VIGIL_PLUGIN(TracepointPlugin)
