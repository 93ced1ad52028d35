// Policy hook records (vhook_record, vigil/wire/hook_event.h) as the tracepoint plugin decodes
// them into process_tracepoint events, with a few hooks registered the way add() would (but
// without loading anything into the kernel), and the events then through the host's pipeline.
//
// Input: one record, as the ring hands it over. Its hook_id picks the hook (1..4); other ids
// are records of a hook removed while they were in flight.
#include "fuzz_util.hpp"

#include "export/pipeline.hpp"
#include "process/cache.hpp"
#include "tracepoint_hooks.hpp"

#include <memory>

namespace vigil::tracepoint {

struct TracepointHooksTestAccess {
    static void add(TracepointHooks& t, uint64_t handle, std::vector<ArgOut> args)
    {
        auto h = std::make_unique<TracepointHooks::Hook>();
        h->handle = handle;
        h->policy = "fuzz-policy";
        h->subsystem = "syscalls";
        h->event = "sys_enter_openat";
        h->message = handle % 2 ? "opened \"something\"\n" : "";
        if (handle == 3)
            h->tags = {"tag-a", "tag\xff-b"};
        h->args = std::move(args);
        t.hooks_.insert(std::move(h));
    }
};

} // namespace vigil::tracepoint

namespace {

using namespace vigil;
namespace tp = vigil::tracepoint;

struct CheckSink : Sink {
    void write(std::string_view line) override { fuzz::check_json(line, "exported event"); }
    void flush() override {}
};

void host_log(void*, uint32_t, const char*, size_t) {}
void host_remove_links(void*, const char*) {}
void host_count(void*, const char*, uint64_t) {}

struct Harness {
    vigil_host_api api{};
    std::unique_ptr<sdk::Host> host;
    std::unique_ptr<tp::TracepointHooks> hooks;
    ProcessCache cache{"fuzz-node", 64};
    std::unique_ptr<EventPipeline> pipeline;

    Harness()
    {
        api.struct_size = sizeof api;
        api.abi_major = VIGIL_ABI_MAJOR;
        api.log = host_log;
        api.remove_links = host_remove_links;
        api.count = host_count; // records of removed hooks are counted
        host = std::make_unique<sdk::Host>(&api);
        hooks = std::make_unique<tp::TracepointHooks>(*host);
        using A = tp::ArgOut;
        tp::TracepointHooksTestAccess::add(*hooks, 1, {});
        tp::TracepointHooksTestAccess::add(*hooks, 2,
                                           {A{"int", "dfd", VHOOK_ENC_S64}, A{"string", "path", VHOOK_ENC_STRING}});
        tp::TracepointHooksTestAccess::add(*hooks, 3,
                                           {A{"uint64", "", VHOOK_ENC_U64}, A{"size_t", "n", VHOOK_ENC_U64},
                                            A{"filename", "f", VHOOK_ENC_STRING}, A{"int32", "x", VHOOK_ENC_S64},
                                            A{"data_loc", "\"q\"", VHOOK_ENC_STRING}});
        tp::TracepointHooksTestAccess::add(*hooks, 4, {A{"auto", "a", VHOOK_ENC_U64}});
        auto p = EventPipeline::make("fuzz-node", cache, {});
        fuzz::check(p.has_value(), "pipeline");
        pipeline = std::move(*p);
        pipeline->add_sink(std::make_unique<CheckSink>(), Format::json);
    }
};

void emit(void* ctx, const vigil_event* ev)
{
    fuzz::check(ev && ev->kind && ev->body_json, "malformed hook event");
    auto body = std::string("{") + std::string(ev->body_json, ev->body_json_len) + "}";
    fuzz::check_json(body, "hook event body");
    static_cast<Harness*>(ctx)->pipeline->on_event("tracepoint", *ev);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static Harness h;
    sdk::Emitter out(emit, &h);
    try {
        h.hooks->decode(std::span(reinterpret_cast<const std::byte*>(data), size), out);
    } catch (const sdk::Error& e) {
        // What the SDK trampoline turns into a result code; anything else would be a bug.
        fuzz::check(e.code() == VIGIL_ERR_INVALID, "hook decode: unexpected error code", e.what());
        fuzz::check_error_message(e.what(), "hook decode");
    }
    return 0;
}
