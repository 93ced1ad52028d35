// An example vigil plugin: emits an `example_exec` event, with the command name, for every exec.
#include "example.h"
#include "example.skel.h"

#include <vigil/sdk/bpf.hpp>
#include <vigil/sdk/json.hpp>
#include <vigil/sdk/plugin.hpp>

#include <cstring>
#include <iterator>
#include <string>

namespace {

const char* const event_kinds[] = {"example_exec"};
const vigil_config_field fields[] = {
    {sizeof(vigil_config_field), "label", VIGIL_CONFIG_STRING, "text added to every event", "\"example\""},
};

class ExamplePlugin {
public:
    static const vigil_descriptor& descriptor()
    {
        static const vigil_descriptor d = [] {
            vigil_descriptor x{};
            x.struct_size = sizeof x;
            x.abi_major = VIGIL_ABI_MAJOR;
            x.min_host_minor = 0; // uses nothing added after ABI 1.0
            x.id = "example";
            x.name = "Example exec sensor";
            x.version = "1.0.0";
            x.description = "Out-of-tree example: one event per exec";
            x.license = "GPL-2.0-only";
            x.event_kinds = event_kinds;
            x.event_kind_count = 1;
            x.shared_maps = vigil::sdk::shared_map_uses; // what vigil/bpf/maps.h declares
            x.shared_map_count = std::size(vigil::sdk::shared_map_uses);
            x.config_fields = fields;
            x.config_field_count = 1;
            return x;
        }();
        return d;
    }

    ExamplePlugin(vigil::sdk::Host& host, const vigil::sdk::Config& cfg)
        : host_(host), label_(cfg.get_string("label", "example"))
    {
    }
    ~ExamplePlugin() { stop(); }

    void start()
    {
        skel_ = example__open();
        if (!skel_)
            throw vigil::sdk::Error(VIGIL_ERR_KERNEL, "cannot open the example BPF object");
        vigil::sdk::reuse_shared_maps(skel_->obj, host_);
        if (int err = example__load(skel_))
            throw vigil::sdk::Error(VIGIL_ERR_KERNEL, std::string("loading: ") + std::strerror(-err));
        host_.add_ring(bpf_map__fd(skel_->maps.example_events), 0);
        link_ = vigil::sdk::attach(skel_->progs.example_exec, host_);
        host_.info("example sensor attached");
    }

    void stop()
    {
        link_.reset();
        if (skel_)
            example__destroy(skel_);
        skel_ = nullptr;
    }

    void decode(uint32_t, std::span<const std::byte> rec, vigil::sdk::Emitter& out)
    {
        if (rec.size() < sizeof(example_record))
            throw vigil::sdk::Error(VIGIL_ERR_INVALID, "short example record");
        example_record r;
        std::memcpy(&r, rec.data(), sizeof r);
        std::string_view comm(r.comm, strnlen(r.comm, sizeof r.comm));
        body_.clear();
        body_.member("comm", comm).member("label", label_);
        vigil_event ev{};
        ev.struct_size = sizeof ev;
        ev.pid = r.pid;
        ev.tid = r.tid;
        ev.ktime = r.ktime;
        ev.kind = "example_exec";
        ev.body_json = body_.str().data();
        ev.body_json_len = body_.str().size();
        ev.summary = comm.data();
        ev.summary_len = comm.size();
        out.emit(ev);
    }

private:
    vigil::sdk::Host& host_;
    std::string label_;
    example* skel_ = nullptr;
    vigil::sdk::Link link_;
    vigil::sdk::JsonWriter body_;
};

} // namespace

VIGIL_PLUGIN(ExamplePlugin)
