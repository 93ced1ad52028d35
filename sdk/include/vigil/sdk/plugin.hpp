// Header-only C++ layer over vigil/plugin_abi.h. A plugin author writes an ordinary class and
// `VIGIL_PLUGIN(MyPlugin)`; every trampoline here is noexcept and turns exceptions into results.
//
// What the class provides:
//   static const vigil_descriptor& descriptor();
//   MyPlugin(vigil::sdk::Host& host, const vigil::sdk::Config& config);   // may throw
//   void start();  void stop();                                            // may throw
//   void decode(uint32_t ring_id, std::span<const std::byte> rec, vigil::sdk::Emitter& out);
// and, when it serves policy hook kinds, all four (a class with some but not all does not compile):
//   uint64_t add_hook(const vigil_hook_request& req, vigil_hook_status& status);
//   void remove_hook(uint64_t handle);
//   void set_hook_mode(uint64_t handle, bool enforce);
//   void hook_stats(uint64_t handle, vigil_hook_stats& stats);
// and, when it provides container metadata (needs host ABI 1.1: min_host_minor = 1):
//   void container_wanted(std::string_view id);   // must not block; answer via
//                                                 // host.container_update() from any thread
// and, when it is an exporter (needs host ABI 1.3: min_host_minor = 3; decode is then optional):
//   size_t export_events(std::span<const vigil_export_event> events); // how many it took, in
//                                                 // order; fewer than given = full for now
//   void export_status(vigil_export_status& status);                  // any thread, never blocks
// and, when it is a policy source (host ABI 1.3; hands documents over with host.policy_update()):
//   void policy_verdict(const vigil_policy_verdict& v);   // on the host's loop: copy and return
#pragma once

#include <vigil/plugin_abi.h>

#include <unistd.h>

#include <algorithm>
#include <concepts>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <expected>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::sdk {

// Thrown by plugin code to choose the result code the host sees.
class Error : public std::runtime_error {
public:
    Error(vigil_result code, const std::string& what) : std::runtime_error(what), code_(code) {}
    vigil_result code() const noexcept { return code_; }

private:
    vigil_result code_;
};

inline void write_error(char* buf, size_t len, std::string_view msg) noexcept
{
    if (!buf || len == 0)
        return;
    size_t n = msg.size() < len - 1 ? msg.size() : len - 1;
    std::memcpy(buf, msg.data(), n);
    buf[n] = '\0';
}

// The host's services, as seen by the plugin.
class Host {
public:
    explicit Host(const vigil_host_api* api) : api_(api) {}

    void log(vigil_log_level level, std::string_view msg) const
    {
        api_->log(api_->ctx, level, msg.data(), msg.size());
    }
    void info(std::string_view msg) const { log(VIGIL_LOG_INFO, msg); }
    void warn(std::string_view msg) const { log(VIGIL_LOG_WARN, msg); }
    void debug(std::string_view msg) const { log(VIGIL_LOG_DEBUG, msg); }

    // A new fd for a host-owned shared map; throws with the reason when refused.
    int shared_map_fd(const char* name, uint32_t layout_version) const
    {
        int fd = api_->shared_map_fd(api_->ctx, name, layout_version);
        if (fd < 0)
            throw Error(VIGIL_ERR_INVALID, std::string("host refused shared map ") + name + ": " +
                                               std::strerror(-fd));
        return fd;
    }

    void add_ring(int map_fd, uint32_t ring_id) const
    {
        char err[256] = {};
        if (vigil_result r = api_->add_ring(api_->ctx, map_fd, ring_id, err, sizeof err); r != VIGIL_OK)
            throw Error(r, err);
    }

    void register_link(int link_fd, const char* owner_tag = nullptr) const
    {
        char err[256] = {};
        if (vigil_result r = api_->register_link(api_->ctx, link_fd, owner_tag, err, sizeof err);
            r != VIGIL_OK)
            throw Error(r, err);
    }

    void remove_links(const char* owner_tag) const { api_->remove_links(api_->ctx, owner_tag); }

    bool has_feature(const char* feature) const { return api_->has_feature(api_->ctx, feature) == 1; }

    void count(const char* counter, uint64_t delta = 1) const { api_->count(api_->ctx, counter, delta); }

    // Whether the host takes container metadata (ABI 1.1 and later).
    bool takes_containers() const
    {
        return api_->abi_minor >= 1 &&
               api_->struct_size >= offsetof(vigil_host_api, container_update) + sizeof(void*) &&
               api_->container_update;
    }
    // A metadata provider's news about one container; any thread, never blocks.
    void container_update(const vigil_container_info& info) const
    {
        if (takes_containers())
            api_->container_update(api_->ctx, &info);
    }

    // ABI 1.3: the agent's node name ("" from older hosts).
    std::string_view node_name() const
    {
        return api_->abi_minor >= 3 && api_->struct_size >= offsetof(vigil_host_api, node_name) + sizeof(void*) &&
                       api_->node_name
                   ? std::string_view(api_->node_name)
                   : std::string_view();
    }
    // ABI 1.3, policy sources: whether the host takes policy documents, and handing one over
    // (any thread, never blocks; the verdict comes back through policy_verdict()).
    bool takes_policies() const
    {
        return api_->abi_minor >= 3 &&
               api_->struct_size >= offsetof(vigil_host_api, policy_update) + sizeof(void*) && api_->policy_update;
    }
    void policy_update(vigil_policy_op op, std::string_view key, std::string_view yaml, uint64_t revision) const
    {
        if (!takes_policies())
            return;
        vigil_policy_doc d{};
        d.struct_size = sizeof d;
        d.op = op;
        d.key = key.data();
        d.key_len = key.size();
        d.yaml = yaml.data();
        d.yaml_len = yaml.size();
        d.revision = revision;
        api_->policy_update(api_->ctx, &d);
    }

    const vigil_host_api* raw() const { return api_; }

private:
    const vigil_host_api* api_;
};

// The default size of a ring buffer: per_cpu_mb for each CPU that can post at once, rounded up to
// a power of two within [min_mb, max_mb]. A ring must hold what every CPU posts while the host's
// reader is not running (docs/performance.md, "Ring buffers", has the burst budget).
inline uint32_t ring_bytes_for_cpus(uint32_t per_cpu_mb, uint32_t min_mb, uint32_t max_mb)
{
    long cpus = ::sysconf(_SC_NPROCESSORS_CONF);
    uint64_t want = uint64_t(per_cpu_mb) * uint64_t(cpus > 0 ? cpus : 1);
    uint64_t mb = 1;
    while (mb < want)
        mb <<= 1;
    return static_cast<uint32_t>(std::clamp<uint64_t>(mb, min_mb, max_mb)) << 20;
}
// Rings of policy hooks (a posting hook on a hot syscall fills them fastest) and of sensors.
inline uint32_t default_hook_ring_bytes() { return ring_bytes_for_cpus(2, 4, 64); }
inline uint32_t default_sensor_ring_bytes() { return ring_bytes_for_cpus(1, 2, 32); }

// The validated [plugins.<id>.config] table.
class Config {
public:
    Config(const vigil_config_value* values, uint32_t count) : values_(values, count) {}

    const vigil_config_value* find(std::string_view key) const
    {
        for (const auto& v : values_)
            if (v.is_set && key == v.key)
                return &v;
        return nullptr;
    }
    bool get_bool(std::string_view key, bool def) const
    {
        auto* v = find(key);
        return v ? v->int_value != 0 : def;
    }
    int64_t get_int(std::string_view key, int64_t def) const
    {
        auto* v = find(key);
        return v ? v->int_value : def;
    }
    std::string get_string(std::string_view key, std::string def) const
    {
        auto* v = find(key);
        return v && v->str_value ? std::string(v->str_value) : def;
    }
    // A ring buffer size given in MiB under `key`: a power of two from 1 to 1024, or 0 (the
    // default) for `auto_bytes` (see ring_bytes_for_cpus). Returns the size in bytes, or the
    // error naming the key and the value.
    std::expected<uint32_t, std::string> get_ring_bytes(std::string_view key, uint32_t auto_bytes) const
    {
        int64_t mb = get_int(key, 0);
        if (mb == 0)
            return auto_bytes;
        if (mb < 0 || mb > 1024 || (mb & (mb - 1)) != 0)
            return std::unexpected(std::string(key) + " must be 0 (sized from the CPUs) or a power of two between 1 and 1024, not " +
                                   std::to_string(mb));
        return static_cast<uint32_t>(mb) << 20;
    }
    // The same, throwing the error (a constructor's way of refusing its config).
    uint32_t ring_bytes(std::string_view key, uint32_t auto_bytes) const
    {
        auto bytes = get_ring_bytes(key, auto_bytes);
        if (!bytes)
            throw Error(VIGIL_ERR_INVALID, bytes.error());
        return *bytes;
    }
    std::vector<std::string> get_list(std::string_view key, std::vector<std::string> def) const
    {
        auto* v = find(key);
        if (!v)
            return def;
        std::vector<std::string> out;
        for (uint32_t i = 0; i < v->list_count; ++i)
            out.emplace_back(v->list_values[i]);
        return out;
    }

private:
    std::span<const vigil_config_value> values_;
};

// Hands decoded events to the host; valid only during decode().
class Emitter {
public:
    Emitter(vigil_emit_fn fn, void* ctx) : fn_(fn), ctx_(ctx) {}
    void emit(const vigil_event& ev) const { fn_(ctx_, &ev); }

private:
    vigil_emit_fn fn_;
    void* ctx_;
};

namespace detail {

template <class F>
vigil_result guarded(char* err, size_t err_len, F&& f) noexcept
{
    try {
        f();
        return VIGIL_OK;
    } catch (const Error& e) {
        write_error(err, err_len, e.what());
        return e.code();
    } catch (const std::bad_alloc&) {
        write_error(err, err_len, "out of memory");
        return VIGIL_ERR_INTERNAL;
    } catch (const std::exception& e) {
        write_error(err, err_len, e.what());
        return VIGIL_ERR_INTERNAL;
    } catch (...) {
        write_error(err, err_len, "unknown exception");
        return VIGIL_ERR_INTERNAL;
    }
}

// The four hook methods: a plugin has all of them or none.
template <class T>
concept has_add_hook = requires(T& t, const vigil_hook_request& r, vigil_hook_status& s) {
    { t.add_hook(r, s) } -> std::convertible_to<uint64_t>;
};
template <class T>
concept has_remove_hook = requires(T& t) { t.remove_hook(uint64_t{}); };
template <class T>
concept has_set_hook_mode = requires(T& t) { t.set_hook_mode(uint64_t{}, bool{}); };
template <class T>
concept has_hook_stats = requires(T& t, vigil_hook_stats& st) { t.hook_stats(uint64_t{}, st); };

template <class T>
concept serves_hooks = has_add_hook<T> && has_remove_hook<T> && has_set_hook_mode<T> && has_hook_stats<T>;
template <class T>
concept has_some_hook_method = has_add_hook<T> || has_remove_hook<T> || has_set_hook_mode<T> || has_hook_stats<T>;

template <class T>
concept provides_containers = requires(T& t, std::string_view id) {
    { t.container_wanted(id) };
};

template <class T>
concept has_decode = requires(T& t, uint32_t ring, std::span<const std::byte> rec, Emitter& out) {
    t.decode(ring, rec, out);
};

template <class T>
concept exports_events = requires(T& t, std::span<const vigil_export_event> evs, vigil_export_status& st) {
    { t.export_events(evs) } -> std::convertible_to<size_t>;
    t.export_status(st);
};

template <class T>
concept takes_verdicts = requires(T& t, const vigil_policy_verdict& v) { t.policy_verdict(v); };

template <class T>
struct instance {
    Host host;
    std::unique_ptr<T> plugin;
};

template <class T>
struct trampolines {
    static const vigil_descriptor* descriptor() noexcept { return &T::descriptor(); }

    static vigil_result init(const vigil_host_api* host, const vigil_config_value* cfg, uint32_t n,
                             void** self, char* err, size_t err_len) noexcept
    {
        return guarded(err, err_len, [&] {
            if (!host || host->abi_major != VIGIL_ABI_MAJOR)
                throw Error(VIGIL_ERR_UNSUPPORTED, "host ABI major differs from the plugin's");
            auto inst = std::make_unique<instance<T>>(instance<T>{Host(host), nullptr});
            inst->plugin = std::make_unique<T>(inst->host, Config(cfg, n));
            *self = inst.release();
        });
    }
    static T& get(void* self) { return *static_cast<instance<T>*>(self)->plugin; }

    static vigil_result start(void* self, char* err, size_t err_len) noexcept
    {
        return guarded(err, err_len, [&] { get(self).start(); });
    }
    static vigil_result stop(void* self, char* err, size_t err_len) noexcept
    {
        return guarded(err, err_len, [&] { get(self).stop(); });
    }
    static void destroy(void* self) noexcept
    {
        try {
            delete static_cast<instance<T>*>(self);
        } catch (...) {
        }
    }
    static vigil_result decode(void* self, uint32_t ring_id, const void* data, size_t len,
                               vigil_emit_fn emit, void* emit_ctx, char* err, size_t err_len) noexcept
    {
        return guarded(err, err_len, [&] {
            Emitter out(emit, emit_ctx);
            get(self).decode(ring_id, std::span(static_cast<const std::byte*>(data), len), out);
        });
    }
    static vigil_result add_hook(void* self, const vigil_hook_request* req, uint64_t* handle,
                                 vigil_hook_status* status, char* err, size_t err_len) noexcept
    {
        return guarded(err, err_len, [&] { *handle = get(self).add_hook(*req, *status); });
    }
    static vigil_result remove_hook(void* self, uint64_t handle, char* err, size_t err_len) noexcept
    {
        return guarded(err, err_len, [&] { get(self).remove_hook(handle); });
    }
    static vigil_result set_hook_mode(void* self, uint64_t handle, uint32_t enforce, char* err,
                                      size_t err_len) noexcept
    {
        return guarded(err, err_len, [&] { get(self).set_hook_mode(handle, enforce != 0); });
    }

    static vigil_result hook_stats(void* self, uint64_t handle, vigil_hook_stats* stats, char* err,
                                   size_t err_len) noexcept
    {
        return guarded(err, err_len, [&] {
            // The caller's struct may be older (shorter) than this SDK's: fill a whole one, hand
            // over what fits.
            vigil_hook_stats full{};
            full.struct_size = sizeof full;
            get(self).hook_stats(handle, full);
            uint32_t size = std::min<uint32_t>(stats->struct_size, sizeof full);
            if (size > sizeof full.struct_size)
                std::memcpy(reinterpret_cast<char*>(stats) + sizeof full.struct_size,
                            reinterpret_cast<const char*>(&full) + sizeof full.struct_size, size - sizeof full.struct_size);
        });
    }

    static vigil_result export_events(void* self, const vigil_export_event* events, uint32_t count,
                                      uint32_t* accepted, char* err, size_t err_len) noexcept
    {
        *accepted = 0;
        vigil_result r = guarded(err, err_len, [&] {
            size_t n = get(self).export_events(std::span(events, count));
            *accepted = static_cast<uint32_t>(n < count ? n : count);
        });
        return r == VIGIL_OK && *accepted < count ? VIGIL_ERR_BUSY : r;
    }
    static void export_status(void* self, vigil_export_status* st) noexcept
    {
        try {
            get(self).export_status(*st);
        } catch (...) {
            write_error(st->detail, sizeof st->detail, "export_status failed");
        }
    }

    static void policy_verdict(void* self, const vigil_policy_verdict* v) noexcept
    {
        try {
            get(self).policy_verdict(*v);
        } catch (...) {
            // nothing to answer: the plugin lost one verdict
        }
    }

    static void container_wanted(void* self, const char* id, size_t len) noexcept
    {
        try {
            get(self).container_wanted(std::string_view(id, len));
        } catch (...) {
            // a hint: nothing to report back, the host sends it again later
        }
    }

    static const vigil_plugin_api* api() noexcept
    {
        if constexpr (has_some_hook_method<T>) {
            static_assert(has_add_hook<T>, "VIGIL_PLUGIN: the class has hook methods but no "
                                           "uint64_t add_hook(const vigil_hook_request&, vigil_hook_status&)");
            static_assert(has_remove_hook<T>, "VIGIL_PLUGIN: the class has hook methods but no "
                                              "void remove_hook(uint64_t)");
            static_assert(has_set_hook_mode<T>, "VIGIL_PLUGIN: the class has hook methods but no "
                                                "void set_hook_mode(uint64_t, bool)");
            static_assert(has_hook_stats<T>, "VIGIL_PLUGIN: the class has hook methods but no "
                                             "void hook_stats(uint64_t, vigil_hook_stats&)");
        }
        static_assert(has_decode<T> || exports_events<T>,
                      "VIGIL_PLUGIN: the class has no void decode(uint32_t, std::span<const std::byte>, Emitter&)");
        static const vigil_plugin_api a = [] {
            vigil_plugin_api x{};
            x.struct_size = sizeof x;
            x.descriptor = &trampolines::descriptor;
            x.init = &trampolines::init;
            x.start = &trampolines::start;
            x.stop = &trampolines::stop;
            x.destroy = &trampolines::destroy;
            if constexpr (has_decode<T>)
                x.decode = &trampolines::decode;
            if constexpr (serves_hooks<T>) {
                x.add_hook = &trampolines::add_hook;
                x.remove_hook = &trampolines::remove_hook;
                x.set_hook_mode = &trampolines::set_hook_mode;
                x.hook_stats = &trampolines::hook_stats;
            }
            if constexpr (provides_containers<T>)
                x.container_wanted = &trampolines::container_wanted;
            if constexpr (takes_verdicts<T>)
                x.policy_verdict = &trampolines::policy_verdict;
            if constexpr (exports_events<T>) {
                x.export_events = &trampolines::export_events;
                x.export_status = &trampolines::export_status;
            }
            return x;
        }();
        return &a;
    }
};

} // namespace detail
} // namespace vigil::sdk

// Exports the plugin's single entry point, the C function `vigil_plugin_get_api` (plugin_abi.h).
#define VIGIL_PLUGIN(T)                                                                            \
    extern "C" __attribute__((visibility("default"))) const vigil_plugin_api* vigil_plugin_get_api(void) \
    {                                                                                              \
        return ::vigil::sdk::detail::trampolines<T>::api();                                        \
    }
