// A signal sensor: who sends which signal to whom (the target a second process). See docs/sdk.md.
#include "signal_record.h"
#include "signal_sensor.skel.h"

#include <vigil/sdk/bpf.hpp>
#include <vigil/sdk/descriptor.hpp>
#include <vigil/sdk/event.hpp>

#include <cstring>

namespace {

class SignalPlugin {
public:
    static const vigil_descriptor& descriptor()
    {
        static const auto d = vigil::sdk::Descriptor("signal", "Signal sensor", "1.0.0")
                                  .description("who sends which signal to whom")
                                  .license("GPL-2.0-only")
                                  .min_host_minor(2) // other_process, needs_events
                                  .events({"signal_send"})
                                  .shared_maps()
                                  .needs_process_cache()
                                  .config_int("signal", "report only this signal number; 0: every signal", "0")
                                  .config_int("ring_mb", "ring buffer MiB, a power of two; 0: 1 MiB per CPU", "0");
        return d.get();
    }

    SignalPlugin(vigil::sdk::Host& host, const vigil::sdk::Config& cfg)
        : only_(static_cast<int>(cfg.get_int("signal", 0))),
          ring_bytes_(cfg.ring_bytes("ring_mb", vigil::sdk::default_sensor_ring_bytes())),
          skel_(host, VIGIL_SKELETON(signal_sensor), "signal")
    {
    }

    void start()
    {
        skel_.start([&](signal_sensor& s) {
            s.rodata->only_signal = only_; // a config value turned into a BPF constant
            skel_.ring(s.maps.signal_events, 0, ring_bytes_);
        });
    }
    void stop() { skel_.stop(); }

    void decode(uint32_t, std::span<const std::byte> rec, vigil::sdk::Emitter& out)
    {
        signal_record r;
        if (rec.size() < sizeof r)
            throw vigil::sdk::Error(VIGIL_ERR_INVALID, "short signal record");
        std::memcpy(&r, rec.data(), sizeof r);
        std::string name = sigabbrev_np(r.sig) ? sigabbrev_np(r.sig) : std::to_string(r.sig);
        summary_ = name + " to " + std::to_string(r.target_pid);
        vigil::sdk::Event ev(body_, "signal_send");
        ev.process(r.pid, r.tid, r.proc_ktime).at(r.ktime).other_process("target", r.target_pid, r.target_proc_ktime);
        out.emit(ev.member("signal", "SIG" + name).member("result", r.result).summary(summary_).done());
    }

private:
    int only_;
    uint32_t ring_bytes_;
    vigil::sdk::Skeleton<signal_sensor> skel_;
    vigil::sdk::JsonWriter body_;
    std::string summary_;
};

} // namespace

VIGIL_PLUGIN(SignalPlugin)
