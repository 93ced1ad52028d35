// The socket plugin: the socket sensor (connect, accept, bind, listen, datagram sends and TCP
// state changes, without kprobes), the `connects` policy hook kind (outbound connections
// checked and denied by cgroup programs), and the decoders of the socket argument types.
#include "connect_hooks.hpp"
#include "sensor.hpp"

#include <vigil/sdk/bpf.hpp>
#include <vigil/sdk/plugin.hpp>

#include <fmt/format.h>

#include <iterator>
#include <optional>

namespace {

using vigil::sdk::Error;
namespace vs = vigil::socket;

const char* const event_kinds[] = {"process_socket", "process_connect"};
const char* const hook_kinds[] = {"connects"};
// A connects hook has one fixed argument, the socket being connected (the policy parser adds it).
const char* const arg_types[] = {"sock"};
const vigil_config_field config_fields[] = {
    {sizeof(vigil_config_field), "events", VIGIL_CONFIG_STRING_LIST,
     "what the sensor reports: connect, accept, bind, listen, state (TCP state changes), send (datagrams "
     "sent to an address); [] loads no sensor",
     "[\"connect\", \"accept\", \"bind\", \"listen\", \"state\", \"send\"]"},
    {sizeof(vigil_config_field), "families", VIGIL_CONFIG_STRING_LIST,
     "address families reported: AF_INET, AF_INET6, AF_UNIX", "[\"AF_INET\", \"AF_INET6\"]"},
    {sizeof(vigil_config_field), "tcp_states", VIGIL_CONFIG_STRING_LIST,
     "TCP states whose changes are reported, by the new state (TCP_ESTABLISHED, TCP_CLOSE, ...)", "every state"},
    {sizeof(vigil_config_field), "attach", VIGIL_CONFIG_STRING,
     "program type for TCP state changes: auto (tp_btf where the kernel has it), tp_btf or tracepoint", "\"auto\""},
    {sizeof(vigil_config_field), "ring_buffer_mb", VIGIL_CONFIG_INT,
     "size of the sensor's ring buffer in MiB (a power of two; 0: 1 MiB per CPU, 2 to 32)", "0"},
};

class SocketPlugin {
public:
    static const vigil_descriptor& descriptor()
    {
        static const vigil_descriptor d = [] {
            vigil_descriptor x{};
            x.struct_size = sizeof x;
            x.abi_major = VIGIL_ABI_MAJOR;
            x.min_host_minor = 0;
            x.id = "socket";
            x.name = "Socket sensors";
            x.version = "0.2.0";
            x.description = "Socket sensor (connect, accept, bind, listen, datagram sends, TCP state changes), "
                            "connects policy hooks (cgroup connect/sendmsg programs), socket argument decoders";
            x.license = "GPL-2.0-only";
            x.hook_kinds = hook_kinds;
            x.hook_kind_count = std::size(hook_kinds);
            x.event_kinds = event_kinds;
            x.event_kind_count = std::size(event_kinds);
            x.arg_types = arg_types;
            x.arg_type_count = std::size(arg_types);
            x.shared_maps = vigil::sdk::shared_map_uses;
            x.shared_map_count = std::size(vigil::sdk::shared_map_uses);
            x.config_fields = config_fields;
            x.config_field_count = std::size(config_fields);
            return x;
        }();
        return d;
    }

    SocketPlugin(vigil::sdk::Host& host, const vigil::sdk::Config& cfg) : host_(host), hooks_(host)
    {
        auto o = vs::parse_options(cfg);
        if (!o)
            throw Error(VIGIL_ERR_INVALID, o.error());
        options_ = std::move(*o);
    }
    ~SocketPlugin() { stop(); }

    void start()
    {
        sensor_.emplace(host_, options_);
        sensor_->start();
    }

    // The sensor object stays: its records still in the ring are decoded until destroy.
    void stop()
    {
        hooks_.reset();
        if (sensor_)
            sensor_->stop();
    }

    uint64_t add_hook(const vigil_hook_request& req, vigil_hook_status& status) { return hooks_.add(req, status); }
    void remove_hook(uint64_t handle) { hooks_.remove(handle); }
    void set_hook_mode(uint64_t handle, bool enforce) { hooks_.set_mode(handle, enforce); }
    void hook_stats(uint64_t handle, vigil_hook_stats& stats) { hooks_.stats(handle, stats); }

    void decode(uint32_t ring_id, std::span<const std::byte> rec, vigil::sdk::Emitter& out)
    {
        if (ring_id == SOCK_RING_HOOKS)
            return hooks_.decode(rec, out);
        if (ring_id != SOCK_RING_SENSOR || !sensor_)
            throw Error(VIGIL_ERR_INVALID, fmt::format("unknown ring {}", ring_id));
        sensor_->decode(rec, out);
    }

private:
    vigil::sdk::Host& host_;
    vs::SensorOptions options_;
    std::optional<vs::Sensor> sensor_;
    vs::ConnectHooks hooks_;
};

} // namespace

VIGIL_PLUGIN(SocketPlugin)
