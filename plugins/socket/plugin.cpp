// The socket plugin: the socket sensor (connect, accept, bind, listen, datagram sends and TCP
// state changes, without kprobes), the `connects` policy hook kind (outbound connections
// checked and denied by cgroup programs), and the decoders of the socket argument types.
#include "connect_hooks.hpp"
#include "sensor.hpp"

#include <vigil/sdk/bpf.hpp>
#include <vigil/sdk/descriptor.hpp>
#include <vigil/sdk/plugin.hpp>

#include <fmt/format.h>

#include <iterator>
#include <optional>

namespace {

using vigil::sdk::Error;
namespace vs = vigil::socket;

class SocketPlugin {
public:
    static const vigil_descriptor& descriptor()
    {
        static const vigil::sdk::Descriptor d =
            vigil::sdk::Descriptor("socket", "Socket sensors", "0.2.0")
                .description("Socket sensor (connect, accept, bind, listen, datagram sends, TCP state changes), "
                             "connects policy hooks (cgroup connect/sendmsg programs), socket argument decoders")
                .license("GPL-2.0-only")
                .hook_kinds({"connects"})
                .events({"process_socket", "process_connect"})
                // a connects hook has one fixed argument, the socket being connected (the parser adds it)
                .arg_types({"sock"})
                .shared_maps()
                .config_list("events",
                             "what the sensor reports: connect, accept, bind, listen, state (TCP state changes), "
                             "send (datagrams sent to an address); [] loads no sensor",
                             "[\"connect\", \"accept\", \"bind\", \"listen\", \"state\", \"send\"]")
                .config_list("families", "address families reported: AF_INET, AF_INET6, AF_UNIX",
                             "[\"AF_INET\", \"AF_INET6\"]")
                .config_list("tcp_states",
                             "TCP states whose changes are reported, by the new state (TCP_ESTABLISHED, TCP_CLOSE, ...)",
                             "every state")
                .config_string("attach",
                               "program type for TCP state changes: auto (tp_btf where the kernel has it), tp_btf or "
                               "tracepoint",
                               "\"auto\"")
                .config_int("ring_buffer_mb",
                            "size of the sensor's ring buffer in MiB (a power of two; 0: 1 MiB per CPU, 2 to 32)", "0");
        return d.get();
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
