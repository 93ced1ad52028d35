#include "policy/values.hpp"

#include <arpa/inet.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <charconv>
#include <limits>
#include <string>
#include <utility>

namespace vigil::policy {

namespace {

struct NamedNumber {
    std::string_view name;
    uint32_t value;
};

// Numbers come from the system headers, so only the spellings are listed here.
constexpr NamedNumber protocols[] = {
    {"IPPROTO_IP", IPPROTO_IP},         {"IPPROTO_ICMP", IPPROTO_ICMP},
    {"IPPROTO_IGMP", IPPROTO_IGMP},     {"IPPROTO_IPIP", IPPROTO_IPIP},
    {"IPPROTO_TCP", IPPROTO_TCP},       {"IPPROTO_EGP", IPPROTO_EGP},
    {"IPPROTO_PUP", IPPROTO_PUP},       {"IPPROTO_UDP", IPPROTO_UDP},
    {"IPPROTO_IDP", IPPROTO_IDP},       {"IPPROTO_TP", IPPROTO_TP},
    {"IPPROTO_DCCP", IPPROTO_DCCP},     {"IPPROTO_IPV6", IPPROTO_IPV6},
    {"IPPROTO_RSVP", IPPROTO_RSVP},     {"IPPROTO_GRE", IPPROTO_GRE},
    {"IPPROTO_ESP", IPPROTO_ESP},       {"IPPROTO_AH", IPPROTO_AH},
    {"IPPROTO_ICMPV6", IPPROTO_ICMPV6}, {"IPPROTO_MTP", IPPROTO_MTP},
    {"IPPROTO_BEETPH", IPPROTO_BEETPH}, {"IPPROTO_ENCAP", IPPROTO_ENCAP},
    {"IPPROTO_PIM", IPPROTO_PIM},       {"IPPROTO_COMP", IPPROTO_COMP},
    {"IPPROTO_SCTP", IPPROTO_SCTP},     {"IPPROTO_UDPLITE", IPPROTO_UDPLITE},
    {"IPPROTO_MPLS", IPPROTO_MPLS},     {"IPPROTO_ETHERNET", IPPROTO_ETHERNET},
    {"IPPROTO_RAW", IPPROTO_RAW},       {"IPPROTO_MPTCP", IPPROTO_MPTCP},
};

constexpr NamedNumber families[] = {
    {"AF_UNSPEC", AF_UNSPEC},   {"AF_UNIX", AF_UNIX},         {"AF_LOCAL", AF_LOCAL},
    {"AF_INET", AF_INET},       {"AF_AX25", AF_AX25},         {"AF_IPX", AF_IPX},
    {"AF_APPLETALK", AF_APPLETALK}, {"AF_NETROM", AF_NETROM}, {"AF_BRIDGE", AF_BRIDGE},
    {"AF_ATMPVC", AF_ATMPVC},   {"AF_X25", AF_X25},           {"AF_INET6", AF_INET6},
    {"AF_ROSE", AF_ROSE},       {"AF_DECnet", AF_DECnet},     {"AF_NETBEUI", AF_NETBEUI},
    {"AF_SECURITY", AF_SECURITY}, {"AF_KEY", AF_KEY},         {"AF_NETLINK", AF_NETLINK},
    {"AF_PACKET", AF_PACKET},   {"AF_ASH", AF_ASH},           {"AF_ECONET", AF_ECONET},
    {"AF_ATMSVC", AF_ATMSVC},   {"AF_RDS", AF_RDS},           {"AF_SNA", AF_SNA},
    {"AF_IRDA", AF_IRDA},       {"AF_PPPOX", AF_PPPOX},       {"AF_WANPIPE", AF_WANPIPE},
    {"AF_LLC", AF_LLC},         {"AF_IB", AF_IB},             {"AF_MPLS", AF_MPLS},
    {"AF_CAN", AF_CAN},         {"AF_TIPC", AF_TIPC},         {"AF_BLUETOOTH", AF_BLUETOOTH},
    {"AF_IUCV", AF_IUCV},       {"AF_RXRPC", AF_RXRPC},       {"AF_ISDN", AF_ISDN},
    {"AF_PHONET", AF_PHONET},   {"AF_IEEE802154", AF_IEEE802154}, {"AF_CAIF", AF_CAIF},
    {"AF_ALG", AF_ALG},         {"AF_NFC", AF_NFC},           {"AF_VSOCK", AF_VSOCK},
    {"AF_KCM", AF_KCM},         {"AF_QIPCRTR", AF_QIPCRTR},   {"AF_SMC", AF_SMC},
    {"AF_XDP", AF_XDP},         {"AF_MCTP", AF_MCTP},
};

// TCP_NEW_SYN_RECV is kernel-internal (include/net/tcp_states.h), so no user header has it.
constexpr uint32_t tcp_new_syn_recv = 12;

constexpr NamedNumber tcp_states[] = {
    {"TCP_ESTABLISHED", TCP_ESTABLISHED}, {"TCP_SYN_SENT", TCP_SYN_SENT},
    {"TCP_SYN_RECV", TCP_SYN_RECV},       {"TCP_FIN_WAIT1", TCP_FIN_WAIT1},
    {"TCP_FIN_WAIT2", TCP_FIN_WAIT2},     {"TCP_TIME_WAIT", TCP_TIME_WAIT},
    {"TCP_CLOSE", TCP_CLOSE},             {"TCP_CLOSE_WAIT", TCP_CLOSE_WAIT},
    {"TCP_LAST_ACK", TCP_LAST_ACK},       {"TCP_LISTEN", TCP_LISTEN},
    {"TCP_CLOSING", TCP_CLOSING},         {"TCP_NEW_SYN_RECV", tcp_new_syn_recv},
};

constexpr NamedNumber file_types[] = {
    {"sock", S_IFSOCK}, {"socket", S_IFSOCK}, {"lnk", S_IFLNK},  {"link", S_IFLNK},
    {"reg", S_IFREG},   {"regular", S_IFREG}, {"blk", S_IFBLK},  {"block", S_IFBLK},
    {"dir", S_IFDIR},   {"chr", S_IFCHR},     {"char", S_IFCHR}, {"fifo", S_IFIFO},
    {"pipe", S_IFIFO},
};

constexpr NamedNumber capabilities[] = {
    {"CAP_CHOWN", CAP_CHOWN},
    {"CAP_DAC_OVERRIDE", CAP_DAC_OVERRIDE},
    {"CAP_DAC_READ_SEARCH", CAP_DAC_READ_SEARCH},
    {"CAP_FOWNER", CAP_FOWNER},
    {"CAP_FSETID", CAP_FSETID},
    {"CAP_KILL", CAP_KILL},
    {"CAP_SETGID", CAP_SETGID},
    {"CAP_SETUID", CAP_SETUID},
    {"CAP_SETPCAP", CAP_SETPCAP},
    {"CAP_LINUX_IMMUTABLE", CAP_LINUX_IMMUTABLE},
    {"CAP_NET_BIND_SERVICE", CAP_NET_BIND_SERVICE},
    {"CAP_NET_BROADCAST", CAP_NET_BROADCAST},
    {"CAP_NET_ADMIN", CAP_NET_ADMIN},
    {"CAP_NET_RAW", CAP_NET_RAW},
    {"CAP_IPC_LOCK", CAP_IPC_LOCK},
    {"CAP_IPC_OWNER", CAP_IPC_OWNER},
    {"CAP_SYS_MODULE", CAP_SYS_MODULE},
    {"CAP_SYS_RAWIO", CAP_SYS_RAWIO},
    {"CAP_SYS_CHROOT", CAP_SYS_CHROOT},
    {"CAP_SYS_PTRACE", CAP_SYS_PTRACE},
    {"CAP_SYS_PACCT", CAP_SYS_PACCT},
    {"CAP_SYS_ADMIN", CAP_SYS_ADMIN},
    {"CAP_SYS_BOOT", CAP_SYS_BOOT},
    {"CAP_SYS_NICE", CAP_SYS_NICE},
    {"CAP_SYS_RESOURCE", CAP_SYS_RESOURCE},
    {"CAP_SYS_TIME", CAP_SYS_TIME},
    {"CAP_SYS_TTY_CONFIG", CAP_SYS_TTY_CONFIG},
    {"CAP_MKNOD", CAP_MKNOD},
    {"CAP_LEASE", CAP_LEASE},
    {"CAP_AUDIT_WRITE", CAP_AUDIT_WRITE},
    {"CAP_AUDIT_CONTROL", CAP_AUDIT_CONTROL},
    {"CAP_SETFCAP", CAP_SETFCAP},
    {"CAP_MAC_OVERRIDE", CAP_MAC_OVERRIDE},
    {"CAP_MAC_ADMIN", CAP_MAC_ADMIN},
    {"CAP_SYSLOG", CAP_SYSLOG},
    {"CAP_WAKE_ALARM", CAP_WAKE_ALARM},
    {"CAP_BLOCK_SUSPEND", CAP_BLOCK_SUSPEND},
    {"CAP_AUDIT_READ", CAP_AUDIT_READ},
    {"CAP_PERFMON", CAP_PERFMON},
    {"CAP_BPF", CAP_BPF},
    {"CAP_CHECKPOINT_RESTORE", CAP_CHECKPOINT_RESTORE},
};
static_assert(std::size(capabilities) == capability_count && CAP_LAST_CAP + 1 == capability_count,
              "the capability table must cover CAP_CHOWN..CAP_LAST_CAP");

bool iequal(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i]))
            return false;
    }
    return true;
}

template <size_t N>
std::optional<uint32_t> lookup(const NamedNumber (&table)[N], std::string_view s)
{
    for (const auto& e : table)
        if (e.name == s)
            return e.value;
    return std::nullopt;
}

// A name from the table, or a plain non-negative number.
template <size_t N>
std::optional<uint32_t> name_or_number(const NamedNumber (&table)[N], std::string_view s)
{
    if (auto v = lookup(table, s))
        return v;
    auto n = parse_integer(s);
    if (!n || n->negative || n->magnitude > std::numeric_limits<uint32_t>::max())
        return std::nullopt;
    return static_cast<uint32_t>(n->magnitude);
}

} // namespace

std::optional<IntValue> parse_integer(std::string_view s)
{
    IntValue v;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        v.negative = s[0] == '-';
        s.remove_prefix(1);
    }
    int base = 10;
    if (s.size() > 1 && s[0] == '0') {
        char p = s[1];
        if (p == 'x' || p == 'X') {
            base = 16;
            s.remove_prefix(2);
        } else if (p == 'o' || p == 'O') {
            base = 8;
            s.remove_prefix(2);
        } else if (p == 'b' || p == 'B') {
            base = 2;
            s.remove_prefix(2);
        } else {
            base = 8;
            s.remove_prefix(1);
        }
    }
    if (s.empty())
        return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v.magnitude, base);
    if (ec != std::errc() || end != s.data() + s.size())
        return std::nullopt;
    if (v.negative && v.magnitude == 0)
        v.negative = false;
    return v;
}

bool integer_fits(ArgType t, IntValue v)
{
    // Two's complement: a negative value fits down to -(hi + 1).
    auto fits_signed = [&](int64_t hi) {
        uint64_t limit = static_cast<uint64_t>(hi) + (v.negative ? 1 : 0);
        return v.magnitude <= limit;
    };
    auto fits_unsigned = [&](uint64_t hi) { return !v.negative && v.magnitude <= hi; };
    switch (t) {
    case ArgType::int8: return fits_signed(INT8_MAX);
    case ArgType::uint8: return fits_unsigned(UINT8_MAX);
    case ArgType::int16: return fits_signed(INT16_MAX);
    case ArgType::uint16: return fits_unsigned(UINT16_MAX);
    case ArgType::int_:
    case ArgType::int32: return fits_signed(INT32_MAX);
    case ArgType::uint32: return fits_unsigned(UINT32_MAX);
    case ArgType::int64:
    case ArgType::syscall64: return fits_signed(INT64_MAX);
    case ArgType::uint64:
    case ArgType::size_t_: return fits_unsigned(UINT64_MAX);
    default: return false;
    }
}

std::optional<IntRange> parse_int_range(std::string_view s)
{
    auto colon = s.find(':');
    if (colon == std::string_view::npos || s.find(':', colon + 1) != std::string_view::npos)
        return std::nullopt;
    auto lo = parse_integer(s.substr(0, colon));
    auto hi = parse_integer(s.substr(colon + 1));
    if (!lo || !hi)
        return std::nullopt;
    auto le = [](IntValue a, IntValue b) {
        if (a.negative != b.negative)
            return a.negative;
        return a.negative ? a.magnitude >= b.magnitude : a.magnitude <= b.magnitude;
    };
    if (!le(*lo, *hi))
        return std::nullopt;
    return IntRange{*lo, *hi};
}

std::optional<PortRange> parse_port_range(std::string_view s)
{
    auto port = [](std::string_view p) -> std::optional<uint16_t> {
        auto n = parse_integer(p);
        if (!n || n->negative || n->magnitude > 65535)
            return std::nullopt;
        return static_cast<uint16_t>(n->magnitude);
    };
    auto colon = s.find(':');
    if (colon == std::string_view::npos) {
        auto p = port(s);
        if (!p)
            return std::nullopt;
        return PortRange{*p, *p};
    }
    auto lo = port(s.substr(0, colon));
    auto hi = port(s.substr(colon + 1));
    if (!lo || !hi || *lo > *hi)
        return std::nullopt;
    return PortRange{*lo, *hi};
}

std::optional<AddrValue> parse_addr(std::string_view s)
{
    AddrValue a;
    std::string addr(s);
    std::optional<uint32_t> prefix;
    if (auto slash = addr.find('/'); slash != std::string::npos) {
        std::string_view p = std::string_view(addr).substr(slash + 1);
        uint32_t n = 0;
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
        if (p.empty() || ec != std::errc() || end != p.data() + p.size())
            return std::nullopt;
        prefix = n;
        addr.resize(slash);
    }
    if (inet_pton(AF_INET, addr.c_str(), a.bytes.data()) == 1) {
        a.family = AF_INET;
        a.prefix_len = 32;
    } else if (inet_pton(AF_INET6, addr.c_str(), a.bytes.data()) == 1) {
        a.family = AF_INET6;
        a.prefix_len = 128;
    } else {
        return std::nullopt;
    }
    if (prefix) {
        if (*prefix > a.prefix_len)
            return std::nullopt;
        a.prefix_len = static_cast<uint8_t>(*prefix);
    }
    return a;
}

std::optional<uint32_t> protocol_number(std::string_view s)
{
    return name_or_number(protocols, s);
}

std::optional<uint32_t> family_number(std::string_view s)
{
    return name_or_number(families, s);
}

std::optional<uint32_t> tcp_state_number(std::string_view s)
{
    return name_or_number(tcp_states, s);
}

std::optional<uint32_t> file_type_mode(std::string_view s)
{
    return lookup(file_types, s);
}

std::optional<uint32_t> capability_number(std::string_view s)
{
    // Surrounding blanks are tolerated, as the format does.
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    for (const auto& c : capabilities)
        if (iequal(c.name, s))
            return c.value;
    return std::nullopt;
}

std::string_view capability_name(uint32_t n)
{
    for (const auto& c : capabilities)
        if (c.value == n)
            return c.name;
    return {};
}

std::optional<uint64_t> parse_capability_mask(std::string_view s)
{
    if (auto n = parse_integer(s); n && !n->negative)
        return n->magnitude;
    uint64_t mask = 0;
    while (true) {
        auto comma = s.find(',');
        auto cap = capability_number(s.substr(0, comma));
        if (!cap)
            return std::nullopt;
        mask |= uint64_t{1} << *cap;
        if (comma == std::string_view::npos)
            return mask;
        s.remove_prefix(comma + 1);
    }
}

std::optional<uint32_t> parse_rate_limit_ms(std::string_view s)
{
    if (s.empty())
        return std::nullopt;
    uint64_t unit_s = 1;
    switch (s.back()) {
    case 's': case 'S': unit_s = 1; s.remove_suffix(1); break;
    case 'm': case 'M': unit_s = 60; s.remove_suffix(1); break;
    case 'h': case 'H': unit_s = 3600; s.remove_suffix(1); break;
    default: break;
    }
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || n == 0)
        return std::nullopt;
    if (n > std::numeric_limits<uint32_t>::max() / 1000 / unit_s)
        return std::nullopt;
    return static_cast<uint32_t>(n * unit_s * 1000);
}

} // namespace vigil::policy
