// An example vigil plugin: emits an `example_exec` event, with the command name, for every exec.
#include "example.h"
#include "example.skel.h"

#include <vigil/sdk/bpf.hpp>
#include <vigil/sdk/descriptor.hpp>
#include <vigil/sdk/event.hpp>
#include <vigil/sdk/plugin.hpp>

#include <cstring>
#include <string>

namespace {

class ExamplePlugin {
public:
    static const vigil_descriptor& descriptor()
    {
        static const vigil::sdk::Descriptor d = vigil::sdk::Descriptor("example", "Example exec sensor", "1.0.0")
                                                    .description("Out-of-tree example: one event per exec")
                                                    .license("GPL-2.0-only")
                                                    .events({"example_exec"})
                                                    .shared_maps()
                                                    .config_string("label", "text added to every event", "\"example\"");
        return d.get();
    }

    ExamplePlugin(vigil::sdk::Host& host, const vigil::sdk::Config& cfg)
        : host_(host), label_(cfg.get_string("label", "example")), skel_(host, VIGIL_SKELETON(example), "example")
    {
    }

    void start()
    {
        skel_.start([&](example& s) { skel_.ring(s.maps.example_events, 0); });
        host_.info("example sensor attached");
    }
    void stop() { skel_.stop(); }

    void decode(uint32_t, std::span<const std::byte> rec, vigil::sdk::Emitter& out)
    {
        if (rec.size() < sizeof(example_record))
            throw vigil::sdk::Error(VIGIL_ERR_INVALID, "short example record");
        example_record r;
        std::memcpy(&r, rec.data(), sizeof r);
        std::string_view comm(r.comm, strnlen(r.comm, sizeof r.comm));
        vigil::sdk::Event ev(body_, "example_exec");
        ev.process(r.pid, r.tid).at(r.ktime).member("comm", comm).member("label", label_).summary(comm);
        out.emit(ev.done());
    }

private:
    vigil::sdk::Host& host_;
    std::string label_;
    vigil::sdk::Skeleton<example> skel_;
    vigil::sdk::JsonWriter body_;
};

} // namespace

VIGIL_PLUGIN(ExamplePlugin)
