// Decoding of socket-family arguments (vigil/sdk/sock.hpp) for every family and kind, the socket
// sensor's records (plugins/socket/decode.hpp), its configuration keys, the hook-record reader
// and the cgroup2 mount lookup. Malformed bytes must give an error, never values.
#include "cgroup.hpp"
#include "decode.hpp"

#include <vigil/sdk/hook_event.hpp>
#include <vigil/sdk/sock.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <vector>

using nlohmann::json;
namespace sock = vigil::sdk::sock;
using namespace vigil::socket;

namespace {

vsock_arg make(uint8_t kind, uint16_t family)
{
    vsock_arg a{};
    a.magic = VSOCK_MAGIC;
    a.kind = kind;
    a.family = family;
    return a;
}

void set_addr(uint8_t* dst, const char* text)
{
    bool v6 = std::strchr(text, ':') != nullptr;
    REQUIRE(::inet_pton(v6 ? AF_INET6 : AF_INET, text, dst) == 1);
}

std::span<const std::byte> bytes(const vsock_arg& a) { return std::as_bytes(std::span(&a, 1)); }

// {"sock_arg": {...}} as parsed JSON.
json decoded(const vsock_arg& a)
{
    vigil::sdk::JsonWriter j;
    j.begin_object();
    auto r = sock::write_arg(j, bytes(a));
    INFO((r ? std::string() : r.error()));
    REQUIRE(r);
    j.end_object();
    return json::parse(j.str());
}

std::string error_of(const vsock_arg& a)
{
    auto r = sock::parse(bytes(a));
    REQUIRE_FALSE(r);
    return r.error();
}

} // namespace

TEST_CASE("sock_arg: IPv4 TCP socket with names for family, type, protocol and state", "[unit][socket]")
{
    auto a = make(VSOCK_KIND_SOCK, VSOCK_AF_INET);
    a.type = SOCK_STREAM;
    a.protocol = IPPROTO_TCP;
    a.state = 1;
    a.sport = 40000;
    a.dport = 8080;
    a.mark = 7;
    a.priority = 3;
    a.cookie = 4242;
    set_addr(a.saddr, "127.0.0.1");
    set_addr(a.daddr, "10.1.2.3");
    json s = decoded(a).at("sock_arg");
    CHECK(s == json::parse(R"({"family":"AF_INET","type":"SOCK_STREAM","protocol":"IPPROTO_TCP","saddr":"127.0.0.1",
        "daddr":"10.1.2.3","sport":40000,"dport":8080,"mark":7,"priority":3,"cookie":4242,"state":"TCP_ESTABLISHED"})"));
}

TEST_CASE("sock_arg: IPv6 UDP socket, no state", "[unit][socket]")
{
    auto a = make(VSOCK_KIND_SOCK, VSOCK_AF_INET6);
    a.type = SOCK_DGRAM;
    a.protocol = IPPROTO_UDP;
    a.sport = 5353;
    a.dport = 53;
    set_addr(a.saddr, "fd00::1");
    set_addr(a.daddr, "2001:db8::53");
    json s = decoded(a).at("sock_arg");
    CHECK(s.at("family") == "AF_INET6");
    CHECK(s.at("type") == "SOCK_DGRAM");
    CHECK(s.at("protocol") == "IPPROTO_UDP");
    CHECK(s.at("saddr") == "fd00::1");
    CHECK(s.at("daddr") == "2001:db8::53");
    CHECK(s.at("dport") == 53);
    CHECK_FALSE(s.contains("state"));
}

TEST_CASE("sock_arg: AF_UNIX sockets show their path, abstract names with @", "[unit][socket]")
{
    auto a = make(VSOCK_KIND_SOCK, VSOCK_AF_UNIX);
    a.type = SOCK_STREAM;
    const char path[] = "/run/vigil.sock";
    std::memcpy(a.path, path, sizeof path - 1);
    a.path_len = sizeof path - 1;
    json s = decoded(a).at("sock_arg");
    CHECK(s.at("family") == "AF_UNIX");
    CHECK(s.at("path") == "/run/vigil.sock");
    CHECK_FALSE(s.contains("saddr"));
    CHECK_FALSE(s.contains("protocol"));

    auto b = make(VSOCK_KIND_SOCK, VSOCK_AF_UNIX);
    const char abstract[] = "\0vigil\0x";
    std::memcpy(b.path, abstract, sizeof abstract - 1);
    b.path_len = sizeof abstract - 1;
    CHECK(decoded(b).at("sock_arg").at("path") == std::string("@vigil\0x", 8));

    auto unnamed = make(VSOCK_KIND_SOCK, VSOCK_AF_UNIX);
    CHECK(decoded(unnamed).at("sock_arg").at("path") == "");
}

TEST_CASE("sock_arg: another family keeps its number where no name is known", "[unit][socket]")
{
    auto a = make(VSOCK_KIND_SOCK, 16); // AF_NETLINK
    a.type = SOCK_RAW;
    a.protocol = 15;
    json s = decoded(a).at("sock_arg");
    CHECK(s.at("family") == "AF_NETLINK");
    CHECK(s.at("protocol") == 15);
    auto b = make(VSOCK_KIND_SOCK, 99);
    b.type = 77;
    CHECK(decoded(b).at("sock_arg").at("family") == "99");
    CHECK(decoded(b).at("sock_arg").at("type") == "77");
}

TEST_CASE("sockaddr_arg: IPv4, IPv6 with scope, unix path", "[unit][socket]")
{
    auto a = make(VSOCK_KIND_SOCKADDR, VSOCK_AF_INET);
    set_addr(a.saddr, "192.168.1.10");
    a.sport = 443;
    CHECK(decoded(a).at("sockaddr_arg") == json::parse(R"({"family":"AF_INET","addr":"192.168.1.10","port":443})"));

    auto b = make(VSOCK_KIND_SOCKADDR, VSOCK_AF_INET6);
    set_addr(b.saddr, "fe80::1");
    b.sport = 22;
    b.scope_id = 2;
    CHECK(decoded(b).at("sockaddr_arg") ==
          json::parse(R"({"family":"AF_INET6","addr":"fe80::1","port":22,"scope_id":2})"));

    auto c = make(VSOCK_KIND_SOCKADDR, VSOCK_AF_UNIX);
    const char abstract[] = "\0dbus-1";
    std::memcpy(c.path, abstract, sizeof abstract - 1);
    c.path_len = sizeof abstract - 1;
    CHECK(decoded(c).at("sockaddr_arg") == json::parse(R"({"family":"AF_UNIX","path":"@dbus-1"})"));

    auto d = make(VSOCK_KIND_SOCKADDR, 0); // AF_UNSPEC (a UDP disconnect)
    CHECK(decoded(d).at("sockaddr_arg") == json::parse(R"({"family":"AF_UNSPEC"})"));
}

TEST_CASE("skb_arg: 5-tuple, length, mark and priority, IPv4 and IPv6", "[unit][socket]")
{
    auto a = make(VSOCK_KIND_SKB, VSOCK_AF_INET);
    a.protocol = IPPROTO_UDP;
    set_addr(a.saddr, "10.0.0.1");
    set_addr(a.daddr, "10.0.0.2");
    a.sport = 1000;
    a.dport = 53;
    a.len = 84;
    a.mark = 1;
    CHECK(decoded(a).at("skb_arg") ==
          json::parse(R"({"family":"AF_INET","protocol":"IPPROTO_UDP","saddr":"10.0.0.1","daddr":"10.0.0.2",
              "sport":1000,"dport":53,"len":84,"mark":1,"priority":0})"));
    auto b = make(VSOCK_KIND_SKB, VSOCK_AF_INET6);
    b.protocol = IPPROTO_TCP;
    set_addr(b.saddr, "::1");
    set_addr(b.daddr, "::1");
    CHECK(decoded(b).at("skb_arg").at("saddr") == "::1");
}

TEST_CASE("socket arguments flag what could not be read or was cut", "[unit][socket]")
{
    auto a = make(VSOCK_KIND_SOCKADDR, VSOCK_AF_INET6);
    a.flags = VSOCK_F_TRUNCATED;
    CHECK(decoded(a).at("sockaddr_arg").at("truncated") == true);
    auto b = make(VSOCK_KIND_SOCK, VSOCK_AF_INET);
    b.flags = VSOCK_F_ERROR;
    CHECK(decoded(b).at("sock_arg").at("incomplete") == true);
}

TEST_CASE("malformed socket arguments are errors, not values", "[unit][socket]")
{
    auto good = make(VSOCK_KIND_SOCK, VSOCK_AF_INET);
    std::vector<std::byte> raw(sizeof good);
    std::memcpy(raw.data(), &good, sizeof good);
    CHECK(sock::parse(std::span(raw).first(sizeof good - 1)).error() ==
          "socket argument of 191 bytes, expected 192");
    raw.push_back(std::byte{0});
    CHECK_FALSE(sock::parse(raw));
    CHECK_FALSE(sock::parse({}));

    auto a = good;
    a.magic = 0;
    CHECK(error_of(a) == "socket argument without its magic number");
    a = good;
    a.kind = 9;
    CHECK(error_of(a) == "socket argument of unknown kind 9");
    a = good;
    a.flags = 0x80;
    CHECK(error_of(a) == "socket argument with unknown flags 128");
    a = make(VSOCK_KIND_SOCK, VSOCK_AF_UNIX);
    a.path_len = VSOCK_PATH_MAX + 1;
    CHECK(error_of(a) == "socket argument with a path of 109 bytes, at most 108 fit");
    a = good;
    a.path_len = 3;
    CHECK(error_of(a) == "socket argument of family AF_INET with a unix path");
    a = good;
    a.state = 13;
    CHECK(error_of(a) == "socket argument with TCP state 13");
    a = make(VSOCK_KIND_SKB, VSOCK_AF_UNIX);
    CHECK(error_of(a) == "skb argument of family AF_UNIX");
}

TEST_CASE("names of families, types, protocols, states and errors", "[unit][socket]")
{
    CHECK(sock::family_name(AF_INET6) == "AF_INET6");
    CHECK(sock::type_name(SOCK_SEQPACKET) == "SOCK_SEQPACKET");
    CHECK(sock::protocol_name(IPPROTO_MPTCP) == "IPPROTO_MPTCP");
    CHECK(sock::tcp_state_name(12) == "TCP_NEW_SYN_RECV");
    CHECK(sock::tcp_state_name(0) == "0");
    CHECK(sock::errno_name(ECONNREFUSED) == "ECONNREFUSED");
    CHECK(sock::errno_name(EPERM) == "EPERM");
    CHECK(sock::errno_name(4095) == "4095");
    CHECK(sock::endpoint(VSOCK_AF_INET6, std::array<uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}.data(),
                         80) == "[::1]:80");
    CHECK(*sock::value_of(sock::tcp_states, "TCP_LISTEN") == 10);
    CHECK(sock::value_of(sock::tcp_states, "LISTEN").error().starts_with("\"LISTEN\" is not one of TCP_ESTABLISHED, "));
}

// ---- sensor records ----------------------------------------------------------------------------

namespace {

sock_record connect_record()
{
    sock_record r{};
    r.kind = SOCK_RECORD_KIND;
    r.size = sizeof r;
    r.ktime = 1;
    r.pid = 100;
    r.tid = 101;
    r.op = SOCK_OP_CONNECT;
    r.flags = SOCK_REC_HAS_ADDR;
    r.ret = -ECONNREFUSED;
    r.fd = 3;
    r.sock = make(VSOCK_KIND_SOCK, VSOCK_AF_INET);
    r.sock.type = SOCK_STREAM;
    r.sock.protocol = IPPROTO_TCP;
    r.sock.state = 7;
    set_addr(r.sock.saddr, "0.0.0.0");
    set_addr(r.sock.daddr, "127.0.0.1");
    r.addr = make(VSOCK_KIND_SOCKADDR, VSOCK_AF_INET);
    set_addr(r.addr.saddr, "127.0.0.1");
    r.addr.sport = 9;
    return r;
}

std::vector<std::byte> raw(const sock_record& r)
{
    std::vector<std::byte> out(sizeof r);
    std::memcpy(out.data(), &r, sizeof r);
    return out;
}

json body(const sock_record& r)
{
    auto parsed = parse_record(raw(r));
    INFO((parsed ? std::string() : parsed.error()));
    REQUIRE(parsed);
    vigil::sdk::JsonWriter j;
    j.begin_object();
    write_body(j, *parsed);
    j.end_object();
    return json::parse(j.str());
}

std::string record_error(const std::vector<std::byte>& bytes)
{
    auto r = parse_record(bytes);
    REQUIRE_FALSE(r);
    return r.error();
}

} // namespace

TEST_CASE("sensor: a refused connect shows the destination and the error", "[unit][socket]")
{
    auto r = connect_record();
    json b = body(r);
    CHECK(b.at("op") == "connect");
    CHECK(b.at("fd") == 3);
    CHECK(b.at("ret") == -ECONNREFUSED);
    CHECK(b.at("error") == "ECONNREFUSED");
    CHECK(b.at("sockaddr_arg") == json::parse(R"({"family":"AF_INET","addr":"127.0.0.1","port":9})"));
    CHECK(b.at("sock_arg").at("state") == "TCP_CLOSE");
    CHECK(summary(r) == "connect 0.0.0.0:0 to 127.0.0.1:9 ECONNREFUSED");
}

TEST_CASE("sensor: state changes, accepted connections, unresolved sockets", "[unit][socket]")
{
    auto r = connect_record();
    r.op = SOCK_OP_STATE;
    r.flags = SOCK_REC_OWNER_UNKNOWN;
    r.ret = 0;
    r.fd = -1;
    r.old_state = 2;
    r.new_state = 1;
    r.sock.state = 1;
    r.sock.sport = 40000;
    r.sock.dport = 8080;
    json b = body(r);
    CHECK(b.at("old_state") == "TCP_SYN_SENT");
    CHECK(b.at("new_state") == "TCP_ESTABLISHED");
    CHECK(b.at("owner_unknown") == true);
    CHECK_FALSE(b.contains("ret"));
    CHECK_FALSE(b.contains("sockaddr_arg"));
    CHECK(summary(r) == "state 0.0.0.0:40000 -> 127.0.0.1:8080 TCP_SYN_SENT -> TCP_ESTABLISHED");

    auto a = connect_record();
    a.op = SOCK_OP_ACCEPT;
    a.flags = 0;
    a.ret = 5;
    json ab = body(a);
    CHECK(ab.at("ret") == 5);
    CHECK_FALSE(ab.contains("error"));

    auto n = connect_record();
    n.flags = SOCK_REC_NO_SOCKET;
    n.sock = make(VSOCK_KIND_SOCK, 0);
    CHECK(body(n).at("sock_unresolved") == true);
    CHECK_FALSE(body(n).contains("sock_arg"));
}

TEST_CASE("sensor: a datagram to port 53 names its destination", "[unit][socket]")
{
    auto r = connect_record();
    r.op = SOCK_OP_SENDTO;
    r.ret = 29;
    r.sock.type = SOCK_DGRAM;
    r.sock.protocol = IPPROTO_UDP;
    r.sock.state = 0;
    r.addr.sport = 53;
    set_addr(r.addr.saddr, "10.0.0.53");
    json b = body(r);
    CHECK(b.at("op") == "sendto");
    CHECK(b.at("sockaddr_arg").at("port") == 53);
    CHECK(summary(r) == "sendto 0.0.0.0:0 to 10.0.0.53:53");
}

TEST_CASE("sensor: truncated and inconsistent records are refused", "[unit][socket]")
{
    auto good = raw(connect_record());
    CHECK(record_error({}) == fmt::format("socket record of 0 bytes, expected {}", sizeof(sock_record)));
    CHECK(record_error(std::vector<std::byte>(good.begin(), good.end() - 1)) ==
          fmt::format("socket record of {} bytes, expected {}", sizeof(sock_record) - 1, sizeof(sock_record)));
    auto longer = good;
    longer.push_back(std::byte{0});
    CHECK(record_error(longer).starts_with("socket record says"));

    auto with = [&](auto change) {
        auto r = connect_record();
        change(r);
        return record_error(raw(r));
    };
    CHECK(with([](sock_record& r) { r.kind = 1; }) == "record of kind 0x1 on the socket sensor's ring");
    CHECK(with([](sock_record& r) { r.size = 12; }).starts_with("socket record says 12 bytes"));
    CHECK(with([](sock_record& r) { r.op = 0; }) == "socket record with unknown operation 0");
    CHECK(with([](sock_record& r) { r.op = SOCK_OP_MAX + 1; }) == "socket record with unknown operation 9");
    CHECK(with([](sock_record& r) { r.flags |= 0x100; }) == "socket record with unknown flags 0x101");
    CHECK(with([](sock_record& r) {
              r.op = SOCK_OP_STATE;
              r.new_state = 0;
          }) == "socket record with TCP states 0 -> 0");
    CHECK(with([](sock_record& r) { r.new_state = 1; }) == "connect record with TCP states");
    CHECK(with([](sock_record& r) { r.sock.magic = 5; }) == "socket record: socket argument without its magic number");
    CHECK(with([](sock_record& r) { r.sock.kind = VSOCK_KIND_SKB; }) == "socket record whose socket is not a sock");
    CHECK(with([](sock_record& r) { r.addr.kind = VSOCK_KIND_SOCK; }) ==
          "socket record whose address is not a sockaddr");
    CHECK(with([](sock_record& r) { r.addr.path_len = 200; }).starts_with("socket record address: "));
    // Without HAS_ADDR the address bytes are not looked at.
    auto r = connect_record();
    r.flags = 0;
    r.addr = {};
    CHECK(parse_record(raw(r)));
}

// ---- configuration -----------------------------------------------------------------------------

namespace {

struct FakeConfig {
    std::vector<std::string> storage;
    std::vector<std::vector<const char*>> lists;
    std::vector<vigil_config_value> values;

    void list(const char* key, std::vector<std::string> items)
    {
        auto& ptrs = lists.emplace_back();
        for (auto& s : items)
            ptrs.push_back(storage.emplace_back(s).c_str());
        values.push_back({sizeof(vigil_config_value), key, VIGIL_CONFIG_STRING_LIST, 1, 0, nullptr, nullptr, 0});
    }
    void str(const char* key, const char* v)
    {
        values.push_back({sizeof(vigil_config_value), key, VIGIL_CONFIG_STRING, 1, 0, v, nullptr, 0});
    }
    void num(const char* key, int64_t v)
    {
        values.push_back({sizeof(vigil_config_value), key, VIGIL_CONFIG_INT, 1, v, nullptr, nullptr, 0});
    }
    std::expected<SensorOptions, std::string> parse()
    {
        storage.reserve(64);
        size_t li = 0;
        for (auto& v : values)
            if (v.type == VIGIL_CONFIG_STRING_LIST) {
                v.list_values = lists[li].data();
                v.list_count = static_cast<uint32_t>(lists[li].size());
                ++li;
            }
        return parse_options(vigil::sdk::Config(values.data(), static_cast<uint32_t>(values.size())));
    }
};

} // namespace

TEST_CASE("sensor configuration: defaults and every key", "[unit][socket]")
{
    FakeConfig none;
    auto d = none.parse();
    REQUIRE(d);
    CHECK(d->bpf.events == ((1u << SOCK_OP_CONNECT) | (1u << SOCK_OP_ACCEPT) | (1u << SOCK_OP_BIND) |
                            (1u << SOCK_OP_LISTEN) | (1u << SOCK_OP_STATE) | (1u << SOCK_OP_SENDTO) |
                            (1u << SOCK_OP_SENDMSG) | (1u << SOCK_OP_SENDMMSG)));
    CHECK(d->bpf.families == (SOCK_FAM_INET | SOCK_FAM_INET6));
    CHECK(d->bpf.states == 0x1ffe); // states 1..12
    CHECK(d->ring_bytes == 2u << 20);
    CHECK(d->attach == "auto");

    FakeConfig c;
    c.storage.reserve(64);
    c.list("events", {"connect", "state"});
    c.list("families", {"AF_UNIX", "AF_INET6"});
    c.list("tcp_states", {"TCP_ESTABLISHED", "TCP_CLOSE"});
    c.str("attach", "tracepoint");
    c.num("ring_buffer_mb", 4);
    auto o = c.parse();
    REQUIRE(o);
    CHECK(o->bpf.events == ((1u << SOCK_OP_CONNECT) | (1u << SOCK_OP_STATE)));
    CHECK(o->bpf.families == (SOCK_FAM_UNIX | SOCK_FAM_INET6));
    CHECK(o->bpf.states == ((1u << 1) | (1u << 7)));
    CHECK(o->attach == "tracepoint");
    CHECK(o->ring_bytes == 4u << 20);

    FakeConfig empty;
    empty.storage.reserve(8);
    empty.list("events", {});
    auto e = empty.parse();
    REQUIRE(e);
    CHECK(e->bpf.events == 0);
}

TEST_CASE("sensor configuration: bad values name the key", "[unit][socket]")
{
    auto error = [](auto fill) {
        FakeConfig c;
        c.storage.reserve(64);
        fill(c);
        auto o = c.parse();
        REQUIRE_FALSE(o);
        return o.error();
    };
    CHECK(error([](FakeConfig& c) { c.list("events", {"connect", "recv"}); }) ==
          "events: \"recv\" is not one of connect, accept, bind, listen, state, send");
    CHECK(error([](FakeConfig& c) { c.list("families", {"AF_PACKET"}); }) ==
          "families: \"AF_PACKET\" is not one of AF_INET, AF_INET6, AF_UNIX");
    CHECK(error([](FakeConfig& c) { c.list("tcp_states", {"ESTABLISHED"}); }).starts_with("tcp_states: \"ESTABLISHED\""));
    CHECK(error([](FakeConfig& c) { c.str("attach", "kprobe"); }) ==
          "attach must be \"auto\", \"tp_btf\" or \"tracepoint\", not \"kprobe\"");
    CHECK(error([](FakeConfig& c) { c.num("ring_buffer_mb", 3); }) ==
          "ring_buffer_mb must be 0 (sized from the CPUs) or a power of two between 1 and 1024, not 3");
}

// ---- hook records and the cgroup2 mount ----------------------------------------------------------

TEST_CASE("hook records: arguments are checked against the record size", "[unit][socket]")
{
    struct {
        vhook_record r;
        vhook_arg a0;
        vsock_arg s;
        vhook_arg a1;
        int64_t op;
    } rec{};
    static_assert(sizeof rec == sizeof(vhook_record) + 2 * sizeof(vhook_arg) + sizeof(vsock_arg) + 8);
    rec.r.kind = VHOOK_RECORD_KIND;
    rec.r.size = sizeof rec;
    rec.r.nargs = 2;
    rec.a0.enc = VHOOK_ENC_BYTES;
    rec.a0.len = sizeof(vsock_arg);
    rec.s = make(VSOCK_KIND_SOCK, VSOCK_AF_INET);
    rec.a1.enc = VHOOK_ENC_S64;
    rec.a1.len = 8;
    rec.op = SOCK_OP_CONNECT;
    auto all = std::as_bytes(std::span(&rec, 1));
    auto ok = vigil::sdk::parse_hook_record(all);
    REQUIRE(ok);
    REQUIRE(ok->args.size() == 2);
    CHECK(sock::parse(ok->args[0].value));
    CHECK(ok->args[1].value.size() == 8);

    CHECK(vigil::sdk::parse_hook_record(all.first(20)).error() == "hook record of 20 bytes is too short");
    CHECK(vigil::sdk::parse_hook_record(all.first(sizeof rec - 8)).error() == "malformed hook record header");
    auto bad = rec;
    bad.a0.len = VHOOK_ARG_MAX + 8;
    CHECK(vigil::sdk::parse_hook_record(std::as_bytes(std::span(&bad, 1))).error() ==
          "hook record argument 0 overruns the record");
    bad = rec;
    bad.r.nargs = 3;
    CHECK(vigil::sdk::parse_hook_record(std::as_bytes(std::span(&bad, 1))).error() ==
          "hook record cut in argument 2");
}

TEST_CASE("the cgroup2 hierarchy root is found in mountinfo, hybrid or unified", "[unit][socket]")
{
    const char* hybrid = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
                         "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
                         "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
    CHECK(*find_cgroup2_root(hybrid) == "/sys/fs/cgroup/unified");
    const char* unified = "25 18 0:22 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";
    CHECK(*find_cgroup2_root(unified) == "/sys/fs/cgroup");
    const char* escaped = "25 18 0:22 / /mnt/my\\040cgroups rw - cgroup2 none rw\n";
    CHECK(*find_cgroup2_root(escaped) == "/mnt/my cgroups");
    const char* subtree = "25 18 0:22 /system.slice /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
    CHECK(find_cgroup2_root(subtree).error() == "cgroup2 is only mounted for a sub-tree of its hierarchy");
    CHECK(find_cgroup2_root("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n").error() ==
          "no cgroup2 file system is mounted");
    CHECK(find_cgroup2_root("").error() == "no cgroup2 file system is mounted");
}
