// One small plugin compiled many times, each time broken in one way (FAKE_* defines), so the
// loader's refusals are tested against real shared objects.
#include <vigil/sdk/plugin.hpp>
#include <vigil/wire/process.h>

#ifdef FAKE_BAD_DECODER
#include "bad_records.skel.h"

#include <vigil/sdk/bpf.hpp>

#include <cstring>
#endif

#include <algorithm>
#include <iterator>
#include <stdexcept>

#ifndef FAKE_ID
#define FAKE_ID "fake"
#endif
#ifndef FAKE_ABI_MAJOR
#define FAKE_ABI_MAJOR VIGIL_ABI_MAJOR
#endif
#ifndef FAKE_MIN_MINOR
#define FAKE_MIN_MINOR 0
#endif
#ifndef FAKE_PROCS_LAYOUT
#define FAKE_PROCS_LAYOUT VIGIL_PROCS_LAYOUT
#endif

namespace {

#ifdef FAKE_SERVES_TRACEPOINTS
// Serves tracepoint hooks but reads only integer arguments: the host must refuse a hook that
// needs any other argument type before asking the plugin.
const char* const hook_kinds[] = {"tracepoints"};
const char* const arg_types[] = {"int"};
#else
const char* const hook_kinds[] = {"fakehooks"};
#endif
#ifdef FAKE_EMITS_PROCESS
const char* const event_kinds[] = {"process_exec", "process_clone", "process_exit"};
#endif
const vigil_map_use maps[] = {{sizeof(vigil_map_use), VIGIL_PROCS_MAP, FAKE_PROCS_LAYOUT}};
const vigil_config_field fields[] = {
    {sizeof(vigil_config_field), "greeting", VIGIL_CONFIG_STRING, "a word to log at start", "\"hello\""},
    {sizeof(vigil_config_field), "repeat", VIGIL_CONFIG_INT, "how often", "1"},
    {sizeof(vigil_config_field), "fail_start", VIGIL_CONFIG_BOOL, "make start() fail", "false"},
#ifdef FAKE_BAD_DECODER
    {sizeof(vigil_config_field), "target_pid", VIGIL_CONFIG_INT, "process whose getppid() calls make records", "0"},
    {sizeof(vigil_config_field), "verifier_refuses", VIGIL_CONFIG_BOOL, "also load a program the verifier refuses",
     "false"},
#endif
};

class FakePlugin {
public:
    static const vigil_descriptor& descriptor()
    {
        static const vigil_descriptor d = [] {
            vigil_descriptor x{};
            x.struct_size = sizeof x;
            x.abi_major = FAKE_ABI_MAJOR;
            x.min_host_minor = FAKE_MIN_MINOR;
            x.id = FAKE_ID;
            x.name = "Fake plugin";
            x.version = "1.2.3";
            x.description = "test plugin";
            x.license = "Apache-2.0";
            x.hook_kinds = hook_kinds;
            x.hook_kind_count = 1;
#ifdef FAKE_EMITS_PROCESS
            x.event_kinds = event_kinds;
            x.event_kind_count = std::size(event_kinds);
#endif
#ifdef FAKE_SERVES_TRACEPOINTS
            x.arg_types = arg_types;
            x.arg_type_count = 1;
#endif
            x.shared_maps = maps;
            x.shared_map_count = 1;
            x.config_fields = fields;
            x.config_field_count = std::size(fields);
            return x;
        }();
        return d;
    }

    FakePlugin(vigil::sdk::Host& host, const vigil::sdk::Config& cfg)
        : host_(host), greeting_(cfg.get_string("greeting", "hello")), repeat_(cfg.get_int("repeat", 1)),
          fail_start_(cfg.get_bool("fail_start", false))
    {
#ifdef FAKE_BAD_DECODER
        target_pid_ = static_cast<uint32_t>(cfg.get_int("target_pid", 0));
        verifier_refuses_ = cfg.get_bool("verifier_refuses", false);
#endif
#ifdef FAKE_INIT_THROWS
        throw std::runtime_error("constructor exploded");
#endif
#ifdef FAKE_INIT_FAILS
        throw vigil::sdk::Error(VIGIL_ERR_INVALID, "config rejected by plugin");
#endif
    }

    void start()
    {
        if (fail_start_)
            throw vigil::sdk::Error(VIGIL_ERR_KERNEL, "start failed on purpose");
        for (int64_t i = 0; i < repeat_; ++i)
            host_.info(greeting_);
        // Proves the shared map reached the plugin: a valid fd for the host's process map.
        int fd = host_.shared_map_fd(VIGIL_PROCS_MAP, VIGIL_PROCS_LAYOUT);
        ::close(fd);
#ifdef FAKE_BAD_DECODER
        skel_ = bad_records__open();
        if (!skel_)
            throw vigil::sdk::Error(VIGIL_ERR_KERNEL, std::strerror(errno));
        skel_->rodata->target_tgid = target_pid_;
        bpf_program__set_autoload(skel_->progs.bad_unchecked, verifier_refuses_);
        if (int err = bad_records__load(skel_))
            throw vigil::sdk::Error(VIGIL_ERR_KERNEL, std::strerror(-err));
        host_.add_ring(bpf_map__fd(skel_->maps.bad_events), 0);
        link_ = vigil::sdk::attach(skel_->progs.bad_getppid, host_);
#endif
    }
#ifdef FAKE_BAD_DECODER
    ~FakePlugin() { stop(); }
    void stop()
    {
        link_.reset();
        if (skel_)
            bad_records__destroy(skel_);
        skel_ = nullptr;
    }
    // Every record is refused, three ways in turn: an SDK error, an exception the SDK does not
    // know, and a malformed event (no kind) that the host must refuse itself.
    void decode(uint32_t, std::span<const std::byte> rec, vigil::sdk::Emitter& out)
    {
        uint64_t seq = 0;
        std::memcpy(&seq, rec.data(), std::min(rec.size(), sizeof seq));
        if (seq % 3 == 0)
            throw vigil::sdk::Error(VIGIL_ERR_INVALID, "record refused on purpose");
        if (seq % 3 == 1)
            throw 42;
        vigil_event ev{};
        ev.struct_size = sizeof ev;
        out.emit(ev);
    }
#else
    void stop() {}
    void decode(uint32_t, std::span<const std::byte>, vigil::sdk::Emitter&) {}
#endif
#ifdef FAKE_PROVIDER
    // A metadata provider that knows every container it is asked about, by its own id.
    void container_wanted(std::string_view id)
    {
        std::string name = std::string(FAKE_ID) + "-knows";
        vigil_container_info info{};
        info.struct_size = sizeof info;
        info.op = VIGIL_CONTAINER_UPSERT;
        info.id = id.data();
        info.id_len = id.size();
        info.name = name.data();
        info.name_len = name.size();
        host_.container_update(info);
    }
#endif
    uint64_t add_hook(const vigil_hook_request&, vigil_hook_status&) { return 1; }
    void remove_hook(uint64_t) {}
    void set_hook_mode(uint64_t, bool) {}
    void hook_stats(uint64_t, vigil_hook_stats&) {}

private:
    vigil::sdk::Host& host_;
    std::string greeting_;
    int64_t repeat_;
    bool fail_start_;
#ifdef FAKE_BAD_DECODER
    uint32_t target_pid_ = 0;
    bool verifier_refuses_ = false;
    bad_records* skel_ = nullptr;
    vigil::sdk::Link link_;
#endif
};

} // namespace

#if defined(FAKE_ABI_1_0)
// A plugin built before ABI 1.1: its vigil_plugin_api ends before container_wanted. The
// pointer is still set behind the end, so a host that read past struct_size would call it.
// Its entry point is what SDKs before ABI 1.2 exported: a Boost.DLL alias, not a C function.
#define BOOST_DLL_USE_STD_FS
#include <boost/dll/alias.hpp>
namespace {
const vigil_plugin_api* old_entry() noexcept
{
    static const vigil_plugin_api a = [] {
        vigil_plugin_api x = *vigil::sdk::detail::trampolines<FakePlugin>::api();
        x.struct_size = offsetof(vigil_plugin_api, container_wanted);
        return x;
    }();
    return &a;
}
} // namespace
BOOST_DLL_ALIAS(old_entry, vigil_plugin_entry)
#elif defined(FAKE_ABI_1_2)
// A plugin built for ABI 1.2: its table ends before the exporter members of 1.3.
extern "C" __attribute__((visibility("default"))) const vigil_plugin_api* vigil_plugin_get_api(void)
{
    static const vigil_plugin_api a = [] {
        vigil_plugin_api x = *vigil::sdk::detail::trampolines<FakePlugin>::api();
        x.struct_size = offsetof(vigil_plugin_api, export_events);
        return x;
    }();
    return &a;
}
#elif !defined(FAKE_NO_ENTRY)
VIGIL_PLUGIN(FakePlugin)
#else
// Same code, but no entry point is exported.
extern "C" __attribute__((visibility("default"))) int not_a_plugin() { return 0; }
#endif
