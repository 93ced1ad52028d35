// A host for a plugin's own unit tests (Catch2 or any other): it creates the plugin through its C
// ABI with a config, hands it ring records and collects the events its decode() emits, with no
// vigild and no kernel. Link the plugin's sources into the test and pass vigil_plugin_get_api().
//
//   vigil::sdk::MockHost host(vigil_plugin_get_api());
//   host.config_int("ring_mb", 4).init();
//   auto events = host.decode(0, record);          // record: the struct the BPF side sends
//   REQUIRE(events.size() == 1);
//   CHECK(events[0].kind == "signal_send");
#pragma once

#include <vigil/plugin_abi.h>
#include <vigil/sdk/plugin.hpp>

#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace vigil::sdk {

class MockHost {
public:
    // One emitted event, copied out of the emit call.
    struct Event {
        std::string kind;
        uint32_t pid = 0, tid = 0;
        uint64_t ktime = 0, proc_ktime = 0;
        std::string body;    // the members of the event body, without braces
        std::string summary;
        std::string other_key;
        uint32_t other_pid = 0;
        uint64_t other_proc_ktime = 0;
    };

    explicit MockHost(const vigil_plugin_api* api) : api_(api)
    {
        host_.struct_size = sizeof host_;
        host_.abi_major = VIGIL_ABI_MAJOR;
        host_.abi_minor = VIGIL_ABI_MINOR;
        host_.ctx = this;
        host_.log = [](void* ctx, uint32_t, const char* msg, size_t len) {
            static_cast<MockHost*>(ctx)->logs.emplace_back(msg, len);
        };
        host_.shared_map_fd = [](void*, const char*, uint32_t) { return -ENOSYS; };
        host_.add_ring = [](void*, int, uint32_t, char* err, size_t len) {
            write_error(err, len, "the mock host has no rings: test decode(), not start()");
            return VIGIL_ERR_UNSUPPORTED;
        };
        host_.register_link = [](void*, int, const char*, char* err, size_t len) {
            write_error(err, len, "the mock host has no kernel: test decode(), not start()");
            return VIGIL_ERR_UNSUPPORTED;
        };
        host_.remove_links = [](void*, const char*) {};
        host_.has_feature = [](void*, const char*) { return -1; };
        host_.count = [](void* ctx, const char* name, uint64_t n) { static_cast<MockHost*>(ctx)->counters[name] += n; };
    }
    MockHost(const MockHost&) = delete;
    MockHost& operator=(const MockHost&) = delete;
    ~MockHost()
    {
        if (self_)
            api_->destroy(self_);
    }

    // Config values, as [plugins.<id>.config] would give them; call before init().
    MockHost& config_int(const char* key, int64_t v)
    {
        set(key, VIGIL_CONFIG_INT).int_value = v;
        return *this;
    }
    MockHost& config_bool(const char* key, bool v)
    {
        set(key, VIGIL_CONFIG_BOOL).int_value = v;
        return *this;
    }
    MockHost& config_string(const char* key, std::string v)
    {
        set(key, VIGIL_CONFIG_STRING).str_value = strings_.emplace_back(std::move(v)).c_str();
        return *this;
    }

    // Creates the plugin instance (its constructor runs with the config); throws its error.
    void init()
    {
        char err[512] = {};
        if (vigil_result r = api_->init(&host_, config_.data(), static_cast<uint32_t>(config_.size()), &self_, err,
                                        sizeof err);
            r != VIGIL_OK)
            throw Error(r, err);
    }

    // Hands one record to decode(ring_id); the events it emitted, or the plugin's error thrown.
    std::vector<Event> decode(uint32_t ring_id, const void* data, size_t len)
    {
        std::vector<Event> out;
        char err[512] = {};
        auto emit = [](void* ctx, const vigil_event* ev) {
            Event e;
            e.kind = ev->kind ? ev->kind : "";
            e.pid = ev->pid;
            e.tid = ev->tid;
            e.ktime = ev->ktime;
            e.proc_ktime = ev->proc_ktime;
            e.body.assign(ev->body_json ? ev->body_json : "", ev->body_json ? ev->body_json_len : 0);
            e.summary.assign(ev->summary ? ev->summary : "", ev->summary ? ev->summary_len : 0);
            if (ev->struct_size >= offsetof(vigil_event, other_proc_ktime) + sizeof(uint64_t) && ev->other_key) {
                e.other_key = ev->other_key;
                e.other_pid = ev->other_pid;
                e.other_proc_ktime = ev->other_proc_ktime;
            }
            static_cast<std::vector<Event>*>(ctx)->push_back(std::move(e));
        };
        if (vigil_result r = api_->decode(self_, ring_id, data, len, emit, &out, err, sizeof err); r != VIGIL_OK)
            throw Error(r, err);
        return out;
    }
    template <class Record>
    std::vector<Event> decode(uint32_t ring_id, const Record& rec)
    {
        return decode(ring_id, &rec, sizeof rec);
    }

    std::vector<std::string> logs;             // what the plugin logged
    std::map<std::string, uint64_t> counters;  // what it counted

private:
    vigil_config_value& set(const char* key, uint32_t type)
    {
        vigil_config_value v{};
        v.struct_size = sizeof v;
        v.key = key;
        v.type = type;
        v.is_set = 1;
        return config_.emplace_back(v);
    }

    const vigil_plugin_api* api_;
    vigil_host_api host_{};
    void* self_ = nullptr;
    std::vector<vigil_config_value> config_;
    std::deque<std::string> strings_; // stable addresses for str_value
};

} // namespace vigil::sdk
