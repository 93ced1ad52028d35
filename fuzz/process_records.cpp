// The tracepoint plugin's ring records as vigild handles them: each record goes through the
// plugin's decode() (through its C ABI, the same trampolines vigild calls), and every event it
// emits through the host's event pipeline (process cache, export filters, Tetragon JSON and
// compact lines). One input is a sequence of records, so the cache sees exec/clone/exit
// sequences the fuzzer chooses; truncated and oversized records come with the territory.
//
// Input: repeated [u8 ring][u16 length][length bytes]. Ring 0 is the process ring, 1 the policy
// hook ring (no hooks loaded here: hook_records.cpp fuzzes those), anything else is refused.
#include "fuzz_util.hpp"

#include "export/pipeline.hpp"
#include "process/cache.hpp"

#include <vigil/plugin_abi.h>

#include <chrono>
#include <memory>

namespace {

using namespace vigil;

struct CheckSink : Sink {
    bool json;
    explicit CheckSink(bool j) : json(j) {}
    void write(std::string_view line) override
    {
        fuzz::check(line.find('\n') == std::string_view::npos, "an event line holds a newline", line);
        if (json)
            fuzz::check_json(line, "exported event");
    }
    void flush() override {}
};

void host_log(void*, uint32_t, const char*, size_t) {}
int host_map_fd(void*, const char*, uint32_t) { return -2; }
vigil_result host_ring(void*, int, uint32_t, char*, size_t) { return VIGIL_ERR_UNSUPPORTED; }
vigil_result host_link(void*, int, const char*, char*, size_t) { return VIGIL_ERR_UNSUPPORTED; }
void host_remove_links(void*, const char*) {}
int host_feature(void*, const char*) { return 0; }
void host_count(void*, const char*, uint64_t) {}

struct Harness {
    const vigil_plugin_api* api = nullptr;
    vigil_host_api host{};
    void* self = nullptr;

    Harness()
    {
        // The plugin's entry point (VIGIL_PLUGIN in plugins/tracepoint/plugin.cpp, linked in).
        api = vigil_plugin_get_api();
        host.struct_size = sizeof host;
        host.abi_major = VIGIL_ABI_MAJOR;
        host.abi_minor = VIGIL_ABI_MINOR;
        host.log = host_log;
        host.shared_map_fd = host_map_fd;
        host.add_ring = host_ring;
        host.register_link = host_link;
        host.remove_links = host_remove_links;
        host.has_feature = host_feature;
        host.count = host_count;
        char err[256] = {};
        if (api->init(&host, nullptr, 0, &self, err, sizeof err) != VIGIL_OK)
            fuzz::die("tracepoint plugin init failed", err);
    }
};

struct Emit {
    EventPipeline* pipeline;
};

void emit(void* ctx, const vigil_event* ev)
{
    // What PluginRegistry::cb_emit checks before handing an event on.
    fuzz::check(ev && ev->struct_size >= sizeof(vigil_event) && ev->kind, "plugin emitted a malformed event");
    static_cast<Emit*>(ctx)->pipeline->on_event("tracepoint", *ev);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static Harness h;
    // A fake clock: time moves 500 ms per record, so entries pass their grace period and get
    // collected within one input.
    auto now = std::make_shared<std::chrono::steady_clock::time_point>();
    ProcessCache cache("fuzz-node", 64, std::chrono::milliseconds(1000), [now] { return *now; });
    PipelineOptions opts;
    opts.ancestors = true;
    opts.process.namespaces = true;
    opts.process.capabilities = true;
    auto pipeline = EventPipeline::make("fuzz-node", cache, opts);
    fuzz::check(pipeline.has_value(), "pipeline");
    (*pipeline)->add_sink(std::make_unique<CheckSink>(true), Format::json);
    (*pipeline)->add_sink(std::make_unique<CheckSink>(false), Format::compact);
    Emit ctx{pipeline->get()};

    fuzz::Reader in(data, size);
    while (!in.empty()) {
        uint8_t ring = in.take<uint8_t>();
        auto rec = in.chunk(64 * 1024);
        char err[512] = {};
        vigil_result r = h.api->decode(h.self, ring % 4, rec.data(), rec.size(), emit, &ctx, err, sizeof err);
        // VIGIL_ERR_INTERNAL is an exception the plugin did not expect: a bug, not bad input.
        fuzz::check(r != VIGIL_ERR_INTERNAL, "decode: internal error", err);
        if (r != VIGIL_OK)
            fuzz::check_error_message(err, "decode");
        fuzz::check(cache.size() <= cache.capacity(), "process cache over its capacity");
        *now += std::chrono::milliseconds(500);
        cache.collect();
    }
    return 0;
}
