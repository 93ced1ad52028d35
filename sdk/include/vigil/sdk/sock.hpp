// Decoding socket-family arguments (struct vsock_arg, vigil/wire/sock.h) into the JSON objects
// events carry, with Tetragon's member names: sock_arg {family, type, protocol, mark, priority,
// saddr, daddr, sport, dport, cookie, state}, sockaddr_arg {family, addr, port} (or {family,
// path}), skb_arg {family, protocol, saddr, daddr, sport, dport, len, mark, priority}. Families,
// types, protocols and TCP states are written as names (AF_INET, SOCK_STREAM, IPPROTO_TCP,
// TCP_ESTABLISHED). Bytes that do not hold a well-formed vsock_arg are an error naming what is
// wrong, never decoded into values.
#pragma once

#include <vigil/sdk/json.hpp>
#include <vigil/wire/sock.h>

#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <span>
#include <string>
#include <string_view>

static_assert(sizeof(vsock_arg) == 192, "struct vsock_arg must match the BPF side");
static_assert(offsetof(vsock_arg, cookie) == 40);
static_assert(offsetof(vsock_arg, saddr) == 48);
static_assert(offsetof(vsock_arg, path) == 80);

namespace vigil::sdk::sock {

struct Named {
    uint32_t value;
    std::string_view name;
};

inline constexpr Named families[] = {
    {0, "AF_UNSPEC"},   {1, "AF_UNIX"},     {2, "AF_INET"},   {3, "AF_AX25"},  {4, "AF_IPX"},
    {5, "AF_APPLETALK"}, {7, "AF_BRIDGE"},  {9, "AF_X25"},    {10, "AF_INET6"}, {15, "AF_KEY"},
    {16, "AF_NETLINK"}, {17, "AF_PACKET"},  {21, "AF_RDS"},   {29, "AF_CAN"},  {30, "AF_TIPC"},
    {31, "AF_BLUETOOTH"}, {38, "AF_ALG"},   {40, "AF_VSOCK"}, {41, "AF_KCM"},  {42, "AF_QIPCRTR"},
    {43, "AF_SMC"},     {44, "AF_XDP"},     {45, "AF_MCTP"},
};

inline constexpr Named socket_types[] = {
    {1, "SOCK_STREAM"}, {2, "SOCK_DGRAM"}, {3, "SOCK_RAW"},    {4, "SOCK_RDM"},
    {5, "SOCK_SEQPACKET"}, {6, "SOCK_DCCP"}, {10, "SOCK_PACKET"},
};

inline constexpr Named protocols[] = {
    {0, "IPPROTO_IP"},      {1, "IPPROTO_ICMP"},   {2, "IPPROTO_IGMP"},    {4, "IPPROTO_IPIP"},
    {6, "IPPROTO_TCP"},     {8, "IPPROTO_EGP"},    {17, "IPPROTO_UDP"},    {33, "IPPROTO_DCCP"},
    {41, "IPPROTO_IPV6"},   {46, "IPPROTO_RSVP"},  {47, "IPPROTO_GRE"},    {50, "IPPROTO_ESP"},
    {51, "IPPROTO_AH"},     {58, "IPPROTO_ICMPV6"}, {103, "IPPROTO_PIM"},  {132, "IPPROTO_SCTP"},
    {136, "IPPROTO_UDPLITE"}, {137, "IPPROTO_MPLS"}, {255, "IPPROTO_RAW"}, {262, "IPPROTO_MPTCP"},
};

// include/net/tcp_states.h; 0 is not a state.
inline constexpr Named tcp_states[] = {
    {1, "TCP_ESTABLISHED"}, {2, "TCP_SYN_SENT"},  {3, "TCP_SYN_RECV"},   {4, "TCP_FIN_WAIT1"},
    {5, "TCP_FIN_WAIT2"},   {6, "TCP_TIME_WAIT"}, {7, "TCP_CLOSE"},      {8, "TCP_CLOSE_WAIT"},
    {9, "TCP_LAST_ACK"},    {10, "TCP_LISTEN"},   {11, "TCP_CLOSING"},   {12, "TCP_NEW_SYN_RECV"},
};
inline constexpr uint32_t tcp_state_max = 12;

// The name of v in table, or v as a decimal number when the table has no name for it.
inline std::string name_of(std::span<const Named> table, uint32_t v)
{
    for (const auto& n : table)
        if (n.value == v)
            return std::string(n.name);
    return std::to_string(v);
}

// The number a name stands for in table (exact spelling), for configuration keys.
inline std::expected<uint32_t, std::string> value_of(std::span<const Named> table, std::string_view name)
{
    for (const auto& n : table)
        if (n.name == name)
            return n.value;
    std::string allowed;
    for (const auto& n : table)
        allowed += (allowed.empty() ? "" : ", ") + std::string(n.name);
    return std::unexpected("\"" + std::string(name) + "\" is not one of " + allowed);
}

inline std::string family_name(uint32_t v) { return name_of(families, v); }
inline std::string type_name(uint32_t v) { return name_of(socket_types, v); }
inline std::string protocol_name(uint32_t v) { return name_of(protocols, v); }
inline std::string tcp_state_name(uint32_t v) { return name_of(tcp_states, v); }

// "ECONNREFUSED" for 111, the number as text for one the C library has no name for.
inline std::string errno_name(int e)
{
    const char* n = e > 0 ? ::strerrorname_np(e) : nullptr;
    return n ? std::string(n) : std::to_string(e);
}

inline bool is_inet(uint32_t family) { return family == VSOCK_AF_INET || family == VSOCK_AF_INET6; }

// An IPv4 or IPv6 address as text ("127.0.0.1", "::1"); "" for another family.
inline std::string address(uint32_t family, const uint8_t* bytes)
{
    char buf[INET6_ADDRSTRLEN] = {};
    int af = family == VSOCK_AF_INET ? AF_INET : family == VSOCK_AF_INET6 ? AF_INET6 : -1;
    if (af < 0 || !::inet_ntop(af, bytes, buf, sizeof buf))
        return {};
    return buf;
}

// An AF_UNIX path as people write it: an abstract name with '@' for its leading NUL.
inline std::string unix_path(const vsock_arg& a)
{
    std::string p(a.path, a.path_len);
    if (!p.empty() && p[0] == '\0')
        p[0] = '@';
    return p;
}

// Checks the bytes of one argument and copies them out.
inline std::expected<vsock_arg, std::string> parse(std::span<const std::byte> bytes)
{
    vsock_arg a;
    if (bytes.size() != sizeof a)
        return std::unexpected("socket argument of " + std::to_string(bytes.size()) + " bytes, expected " +
                               std::to_string(sizeof a));
    std::memcpy(&a, bytes.data(), sizeof a);
    if (a.magic != VSOCK_MAGIC)
        return std::unexpected(std::string("socket argument without its magic number"));
    if (a.kind < VSOCK_KIND_SOCK || a.kind > VSOCK_KIND_SOCKADDR)
        return std::unexpected("socket argument of unknown kind " + std::to_string(a.kind));
    if (a.flags & ~(VSOCK_F_ERROR | VSOCK_F_TRUNCATED))
        return std::unexpected("socket argument with unknown flags " + std::to_string(a.flags));
    if (a.path_len > VSOCK_PATH_MAX)
        return std::unexpected("socket argument with a path of " + std::to_string(a.path_len) + " bytes, at most " +
                               std::to_string(VSOCK_PATH_MAX) + " fit");
    if (a.path_len && a.family != VSOCK_AF_UNIX)
        return std::unexpected("socket argument of family " + family_name(a.family) + " with a unix path");
    if (a.state > tcp_state_max)
        return std::unexpected("socket argument with TCP state " + std::to_string(a.state));
    if (a.kind == VSOCK_KIND_SKB && a.family != 0 && !is_inet(a.family))
        return std::unexpected("skb argument of family " + family_name(a.family));
    return a;
}

// The key of the argument's object in an event: sock_arg, sockaddr_arg or skb_arg.
inline const char* json_key(const vsock_arg& a)
{
    switch (a.kind) {
    case VSOCK_KIND_SKB: return "skb_arg";
    case VSOCK_KIND_SOCKADDR: return "sockaddr_arg";
    default: return "sock_arg";
    }
}

// The members of the argument's object (without braces), by its kind.
inline void write_members(JsonWriter& j, const vsock_arg& a)
{
    bool inet = is_inet(a.family);
    j.member("family", family_name(a.family));
    switch (a.kind) {
    case VSOCK_KIND_SOCKADDR:
        if (inet) {
            j.member("addr", address(a.family, a.saddr)).member("port", uint32_t(a.sport));
            if (a.scope_id)
                j.member("scope_id", a.scope_id);
        } else if (a.family == VSOCK_AF_UNIX) {
            j.member("path", unix_path(a));
        }
        break;
    case VSOCK_KIND_SKB:
        j.member("protocol", protocol_name(a.protocol));
        if (inet)
            j.member("saddr", address(a.family, a.saddr))
                .member("daddr", address(a.family, a.daddr))
                .member("sport", uint32_t(a.sport))
                .member("dport", uint32_t(a.dport));
        j.member("len", a.len).member("mark", a.mark).member("priority", a.priority);
        break;
    default:
        j.member("type", type_name(a.type));
        if (inet) {
            j.member("protocol", protocol_name(a.protocol))
                .member("saddr", address(a.family, a.saddr))
                .member("daddr", address(a.family, a.daddr))
                .member("sport", uint32_t(a.sport))
                .member("dport", uint32_t(a.dport));
        } else if (a.family == VSOCK_AF_UNIX) {
            j.member("path", unix_path(a));
        } else {
            j.member("protocol", uint32_t(a.protocol));
        }
        j.member("mark", a.mark).member("priority", a.priority).member("cookie", a.cookie);
        if (a.state)
            j.member("state", tcp_state_name(a.state));
        break;
    }
    if (a.flags & VSOCK_F_TRUNCATED)
        j.member("truncated", true);
    if (a.flags & VSOCK_F_ERROR)
        j.member("incomplete", true);
}

// {"<kind>_arg": {...}} members for the bytes of one argument, or why they are not one.
inline std::expected<void, std::string> write_arg(JsonWriter& j, std::span<const std::byte> bytes)
{
    auto a = parse(bytes);
    if (!a)
        return std::unexpected(a.error());
    j.key(json_key(*a)).begin_object();
    write_members(j, *a);
    j.end_object();
    return {};
}

// "127.0.0.1:80", "[::1]:80", "/run/x.sock", "@abstract": one end, for summaries.
inline std::string endpoint(uint32_t family, const uint8_t* addr, uint16_t port)
{
    if (family == VSOCK_AF_INET6)
        return "[" + address(family, addr) + "]:" + std::to_string(port);
    return address(family, addr) + ":" + std::to_string(port);
}

} // namespace vigil::sdk::sock
