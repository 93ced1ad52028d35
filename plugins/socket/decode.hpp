// The socket sensor's records (records.h) turned into process_socket events, and the sensor's
// configuration keys turned into the masks its BPF side filters with. Header-only so the unit
// tests compile the same code the plugin runs. A record that is short, of another kind, or
// whose parts do not add up is an error naming what is wrong; it is never read past.
#pragma once

#include "records.h"

#include <vigil/sdk/json.hpp>
#include <vigil/sdk/plugin.hpp>
#include <vigil/sdk/sock.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

static_assert(sizeof(sock_sensor_config) == 16);
static_assert(sizeof(sock_record) == 56 + 2 * sizeof(vsock_arg));
static_assert(offsetof(sock_record, proc_ktime) == 16);
static_assert(offsetof(sock_record, op) == 32);
static_assert(offsetof(sock_record, ret) == 40);
static_assert(offsetof(sock_record, sock) == 56);
static_assert(offsetof(sock_record, addr) == 56 + sizeof(vsock_arg));

namespace vigil::socket {

namespace sock = sdk::sock;

// Operation names, in events and in the `events` configuration key ("send" covers the three
// send calls).
inline std::string_view op_name(uint32_t op)
{
    switch (op) {
    case SOCK_OP_CONNECT: return "connect";
    case SOCK_OP_ACCEPT: return "accept";
    case SOCK_OP_BIND: return "bind";
    case SOCK_OP_LISTEN: return "listen";
    case SOCK_OP_STATE: return "state";
    case SOCK_OP_SENDTO: return "sendto";
    case SOCK_OP_SENDMSG: return "sendmsg";
    case SOCK_OP_SENDMMSG: return "sendmmsg";
    default: return "unknown";
    }
}

// ---- configuration ----------------------------------------------------------------------------

struct SensorOptions {
    sock_sensor_config bpf{};      // what the BPF side reports
    uint32_t ring_bytes = sdk::default_sensor_ring_bytes();
    std::string attach = "auto";   // state changes: auto, tp_btf or tracepoint
};

inline const std::vector<std::string> default_events = {"connect", "accept", "bind", "listen", "state", "send"};
inline const std::vector<std::string> default_families = {"AF_INET", "AF_INET6"};

// The plugin's config table as the BPF side's masks; the error names the key and the value.
inline std::expected<SensorOptions, std::string> parse_options(const sdk::Config& cfg)
{
    SensorOptions o;
    for (const auto& e : cfg.get_list("events", default_events)) {
        if (e == "send")
            o.bpf.events |= (1u << SOCK_OP_SENDTO) | (1u << SOCK_OP_SENDMSG) | (1u << SOCK_OP_SENDMMSG);
        else if (e == "connect" || e == "accept" || e == "bind" || e == "listen" || e == "state")
            o.bpf.events |= 1u << (e == "connect"  ? SOCK_OP_CONNECT
                                   : e == "accept" ? SOCK_OP_ACCEPT
                                   : e == "bind"   ? SOCK_OP_BIND
                                   : e == "listen" ? SOCK_OP_LISTEN
                                                   : SOCK_OP_STATE);
        else
            return std::unexpected(fmt::format("events: \"{}\" is not one of connect, accept, bind, listen, "
                                               "state, send",
                                               e));
    }
    for (const auto& f : cfg.get_list("families", default_families)) {
        if (f == "AF_INET")
            o.bpf.families |= SOCK_FAM_INET;
        else if (f == "AF_INET6")
            o.bpf.families |= SOCK_FAM_INET6;
        else if (f == "AF_UNIX")
            o.bpf.families |= SOCK_FAM_UNIX;
        else
            return std::unexpected(fmt::format("families: \"{}\" is not one of AF_INET, AF_INET6, AF_UNIX", f));
    }
    if (const auto* v = cfg.find("tcp_states"); !v) {
        for (const auto& s : sock::tcp_states)
            o.bpf.states |= 1u << s.value;
    } else {
        for (const auto& s : cfg.get_list("tcp_states", {})) {
            auto n = sock::value_of(sock::tcp_states, s);
            if (!n)
                return std::unexpected("tcp_states: " + n.error());
            o.bpf.states |= 1u << *n;
        }
    }
    auto ring = cfg.get_ring_bytes("ring_buffer_mb", sdk::default_sensor_ring_bytes());
    if (!ring)
        return std::unexpected(ring.error());
    o.ring_bytes = *ring;
    o.attach = cfg.get_string("attach", "auto");
    if (o.attach != "auto" && o.attach != "tp_btf" && o.attach != "tracepoint")
        return std::unexpected(
            fmt::format("attach must be \"auto\", \"tp_btf\" or \"tracepoint\", not \"{}\"", o.attach));
    return o;
}

// ---- records ----------------------------------------------------------------------------------

// A checked copy of one sensor record.
inline std::expected<sock_record, std::string> parse_record(std::span<const std::byte> bytes)
{
    sock_record r;
    if (bytes.size() < sizeof r)
        return std::unexpected(fmt::format("socket record of {} bytes, expected {}", bytes.size(), sizeof r));
    std::memcpy(&r, bytes.data(), sizeof r);
    if (r.kind != SOCK_RECORD_KIND)
        return std::unexpected(fmt::format("record of kind {:#x} on the socket sensor's ring", r.kind));
    if (r.size != sizeof r || bytes.size() != sizeof r)
        return std::unexpected(fmt::format("socket record says {} bytes, has {}, expected {}", r.size, bytes.size(),
                                           sizeof r));
    if (r.op < SOCK_OP_CONNECT || r.op > SOCK_OP_MAX)
        return std::unexpected(fmt::format("socket record with unknown operation {}", r.op));
    constexpr uint32_t known = SOCK_REC_HAS_ADDR | SOCK_REC_NO_SOCKET | SOCK_REC_OWNER | SOCK_REC_OWNER_UNKNOWN;
    if (r.flags & ~known)
        return std::unexpected(fmt::format("socket record with unknown flags {:#x}", r.flags));
    if (r.op == SOCK_OP_STATE) {
        if (r.old_state > sock::tcp_state_max || r.new_state == 0 || r.new_state > sock::tcp_state_max)
            return std::unexpected(fmt::format("socket record with TCP states {} -> {}", r.old_state, r.new_state));
    } else if (r.old_state || r.new_state) {
        return std::unexpected(fmt::format("{} record with TCP states", op_name(r.op)));
    }
    auto s = sock::parse(std::as_bytes(std::span(&r.sock, 1)));
    if (!s)
        return std::unexpected("socket record: " + s.error());
    if (s->kind != VSOCK_KIND_SOCK)
        return std::unexpected("socket record whose socket is not a sock");
    if (r.flags & SOCK_REC_HAS_ADDR) {
        auto a = sock::parse(std::as_bytes(std::span(&r.addr, 1)));
        if (!a)
            return std::unexpected("socket record address: " + a.error());
        if (a->kind != VSOCK_KIND_SOCKADDR)
            return std::unexpected("socket record whose address is not a sockaddr");
    }
    return r;
}

// The members of a process_socket event (without braces).
inline void write_body(sdk::JsonWriter& j, const sock_record& r)
{
    j.member("op", op_name(r.op));
    if (r.op != SOCK_OP_STATE) {
        j.member("fd", r.fd).member("ret", r.ret);
        if (r.ret < 0)
            j.member("error", sock::errno_name(static_cast<int>(-r.ret)));
    } else {
        j.member("old_state", sock::tcp_state_name(r.old_state)).member("new_state", sock::tcp_state_name(r.new_state));
        if (r.flags & SOCK_REC_OWNER_UNKNOWN)
            j.member("owner_unknown", true);
    }
    if (!(r.flags & SOCK_REC_NO_SOCKET)) {
        j.key("sock_arg").begin_object();
        sock::write_members(j, r.sock);
        j.end_object();
    } else {
        j.member("sock_unresolved", true);
    }
    if (r.flags & SOCK_REC_HAS_ADDR) {
        j.key("sockaddr_arg").begin_object();
        sock::write_members(j, r.addr);
        j.end_object();
    }
}

// "connect 127.0.0.1:40000 -> 127.0.0.1:8080 ECONNREFUSED": for compact output.
inline std::string summary(const sock_record& r)
{
    std::string out(op_name(r.op));
    const vsock_arg& s = r.sock;
    bool have_sock = !(r.flags & SOCK_REC_NO_SOCKET);
    if (have_sock && sock::is_inet(s.family)) {
        out += " " + sock::endpoint(s.family, s.saddr, s.sport);
        if (s.dport || r.op == SOCK_OP_STATE)
            out += " -> " + sock::endpoint(s.family, s.daddr, s.dport);
    } else if (have_sock && s.family == VSOCK_AF_UNIX && s.path_len) {
        out += " " + sock::unix_path(s);
    }
    if (r.flags & SOCK_REC_HAS_ADDR) {
        const vsock_arg& a = r.addr;
        std::string to = sock::is_inet(a.family) ? sock::endpoint(a.family, a.saddr, a.sport)
                         : a.family == VSOCK_AF_UNIX ? sock::unix_path(a)
                                                     : sock::family_name(a.family);
        out += (r.op == SOCK_OP_BIND ? " at " : " to ") + to;
    }
    if (r.op == SOCK_OP_STATE)
        out += " " + sock::tcp_state_name(r.old_state) + " -> " + sock::tcp_state_name(r.new_state);
    else if (r.ret < 0)
        out += " " + sock::errno_name(static_cast<int>(-r.ret));
    return out;
}

} // namespace vigil::socket
