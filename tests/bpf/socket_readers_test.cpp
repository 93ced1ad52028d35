// The SDK's socket readers (vigil/bpf/sock.h) against real sockets: a descriptor of this test
// resolved to its struct socket and read (both ends, family, type, protocol, state), sockaddrs
// read from this test's memory for every family, and packets read from an sk_buff as they
// leave through loopback. What the kernel says (getsockname/getpeername) is the reference.
#include <vigil/sdk/sock.hpp> // struct vsock_arg, before the skeleton that uses it

#include "socket_readers.skel.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace {

class Readers {
public:
    Readers()
    {
        skel_ = socket_readers__open_and_load();
        REQUIRE(skel_);
    }
    ~Readers() { socket_readers__destroy(skel_); }

    // Runs the reader program on fd and (addr, len) in this process.
    void run(int fd, const void* addr = nullptr, socklen_t len = 0)
    {
        skel_->bss->test_fd = fd;
        skel_->bss->test_uaddr = const_cast<void*>(addr);
        skel_->bss->test_addrlen = len;
        LIBBPF_OPTS(bpf_test_run_opts, opts);
        REQUIRE(bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.read_fd_and_addr), &opts) == 0);
    }
    bool found() const { return skel_->bss->found_socket != 0; }
    const vsock_arg& sock() const { return skel_->bss->out_sock; }
    const vsock_arg& addr() const { return skel_->bss->out_addr; }
    std::string path() const
    {
        long n = skel_->bss->out_path_len;
        return n < 0 ? "<none>" : std::string(skel_->bss->out_path, n);
    }
    socket_readers* skel() { return skel_; }

private:
    socket_readers* skel_ = nullptr;
};

struct Fd {
    int fd;
    explicit Fd(int f) : fd(f) { REQUIRE(fd >= 0); }
    ~Fd() { ::close(fd); }
};

std::string addr_text(const sockaddr_storage& ss)
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET)
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof buf);
    else
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, buf, sizeof buf);
    return buf;
}

uint16_t port_of(const sockaddr_storage& ss)
{
    return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in&>(ss).sin_port
                                         : reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
}

// Checks the reader's view of fd against getsockname/getpeername.
void check_ends(Readers& r, int fd, int family, int type, int protocol)
{
    r.run(fd);
    REQUIRE(r.found());
    const vsock_arg& s = r.sock();
    CHECK(s.magic == VSOCK_MAGIC);
    CHECK(s.kind == VSOCK_KIND_SOCK);
    CHECK(s.flags == 0);
    CHECK(s.family == family);
    CHECK(s.type == type);
    CHECK(s.protocol == protocol);
    sockaddr_storage local{}, peer{};
    socklen_t len = sizeof local;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0);
    CHECK(vigil::sdk::sock::address(s.family, s.saddr) == addr_text(local));
    CHECK(s.sport == port_of(local));
    len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
        CHECK(vigil::sdk::sock::address(s.family, s.daddr) == addr_text(peer));
        CHECK(s.dport == port_of(peer));
    }
}

// The loopback address of family, port 0, into ss; returns its length.
socklen_t loopback(int family, sockaddr_storage& ss)
{
    ss = {};
    if (family == AF_INET) {
        auto& a = reinterpret_cast<sockaddr_in&>(ss);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sizeof a;
    }
    auto& a = reinterpret_cast<sockaddr_in6&>(ss);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    return sizeof a;
}

void tcp_pair(Readers& r, int family)
{
    Fd l(::socket(family, SOCK_STREAM, 0));
    sockaddr_storage ss{};
    socklen_t len = loopback(family, ss);
    REQUIRE(::bind(l.fd, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    REQUIRE(::listen(l.fd, 4) == 0);
    check_ends(r, l.fd, family, SOCK_STREAM, IPPROTO_TCP);
    CHECK(r.sock().state == 10); // TCP_LISTEN
    REQUIRE(::getsockname(l.fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0);
    Fd c(::socket(family, SOCK_STREAM, 0));
    REQUIRE(::connect(c.fd, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    Fd a(::accept(l.fd, nullptr, nullptr));
    check_ends(r, c.fd, family, SOCK_STREAM, IPPROTO_TCP);
    CHECK(r.sock().state == 1); // TCP_ESTABLISHED
    uint16_t client_port = r.sock().sport;
    check_ends(r, a.fd, family, SOCK_STREAM, IPPROTO_TCP);
    CHECK(r.sock().dport == client_port);
}

} // namespace

TEST_CASE("sock readers: TCP over loopback, both ends, IPv4 and IPv6", "[bpf][socket]")
{
    Readers r;
    SECTION("IPv4") { tcp_pair(r, AF_INET); }
    SECTION("IPv6") { tcp_pair(r, AF_INET6); }
}

TEST_CASE("sock readers: UDP and unix sockets", "[bpf][socket]")
{
    Readers r;
    Fd u(::socket(AF_INET, SOCK_DGRAM, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(u.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    check_ends(r, u.fd, AF_INET, SOCK_DGRAM, IPPROTO_UDP);

    std::string path = "/tmp/vigil-sock-test-" + std::to_string(::getpid());
    ::unlink(path.c_str());
    Fd x(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path.data(), path.size());
    REQUIRE(::bind(x.fd, reinterpret_cast<sockaddr*>(&un), sizeof un) == 0);
    r.run(x.fd);
    REQUIRE(r.found());
    CHECK(r.sock().family == AF_UNIX);
    CHECK(r.sock().type == SOCK_STREAM);
    CHECK(vigil::sdk::sock::unix_path(r.sock()) == path);
    ::unlink(path.c_str());

    Fd ab(::socket(AF_UNIX, SOCK_DGRAM, 0));
    sockaddr_un an{};
    an.sun_family = AF_UNIX;
    std::string name = "vigil-abstract-" + std::to_string(::getpid());
    std::memcpy(an.sun_path + 1, name.data(), name.size());
    REQUIRE(::bind(ab.fd, reinterpret_cast<sockaddr*>(&an), offsetof(sockaddr_un, sun_path) + 1 + name.size()) == 0);
    r.run(ab.fd);
    CHECK(vigil::sdk::sock::unix_path(r.sock()) == "@" + name);
    CHECK(r.sock().type == SOCK_DGRAM);
}

TEST_CASE("sock readers: descriptors that are not sockets resolve to nothing", "[bpf][socket]")
{
    Readers r;
    Fd f(::open("/proc/self/stat", O_RDONLY));
    r.run(f.fd);
    CHECK_FALSE(r.found());
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    r.run(fds[0]);
    CHECK_FALSE(r.found());
    ::close(fds[0]);
    ::close(fds[1]);
    r.run(fds[0]); // closed
    CHECK_FALSE(r.found());
    r.run(1 << 20);
    CHECK_FALSE(r.found());
    r.run(-1);
    CHECK_FALSE(r.found());
}

TEST_CASE("sockaddr reader: every family from user memory, cut and missing addresses flagged", "[bpf][socket]")
{
    Readers r;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    ::inet_pton(AF_INET, "10.9.8.7", &a.sin_addr);
    r.run(-1, &a, sizeof a);
    CHECK(r.addr().kind == VSOCK_KIND_SOCKADDR);
    CHECK(r.addr().family == AF_INET);
    CHECK(r.addr().sport == 53);
    CHECK(vigil::sdk::sock::address(AF_INET, r.addr().saddr) == "10.9.8.7");
    CHECK(r.addr().flags == 0);
    CHECK(r.path() == "<none>");
    r.run(-1, &a, 8); // shorter than a sockaddr_in
    CHECK(r.addr().family == AF_INET);
    CHECK(r.addr().flags == VSOCK_F_TRUNCATED);
    CHECK(r.addr().sport == 0);

    sockaddr_in6 b{};
    b.sin6_family = AF_INET6;
    b.sin6_port = htons(8443);
    b.sin6_scope_id = 3;
    ::inet_pton(AF_INET6, "fe80::42", &b.sin6_addr);
    r.run(-1, &b, sizeof b);
    CHECK(r.addr().family == AF_INET6);
    CHECK(r.addr().sport == 8443);
    CHECK(r.addr().scope_id == 3);
    CHECK(vigil::sdk::sock::address(AF_INET6, r.addr().saddr) == "fe80::42");
    r.run(-1, &b, 24); // without the scope id: still an address
    CHECK(r.addr().flags == 0);
    CHECK(r.addr().scope_id == 0);

    sockaddr_un u{};
    u.sun_family = AF_UNIX;
    std::strcpy(u.sun_path, "/run/x.sock");
    r.run(-1, &u, sizeof u);
    CHECK(r.addr().family == AF_UNIX);
    CHECK(vigil::sdk::sock::unix_path(r.addr()) == "/run/x.sock");
    CHECK(r.path() == "/run/x.sock");
    sockaddr_un v{};
    v.sun_family = AF_UNIX;
    std::memcpy(v.sun_path, "\0bus\0x", 6);
    r.run(-1, &v, offsetof(sockaddr_un, sun_path) + 6);
    CHECK(vigil::sdk::sock::unix_path(r.addr()) == std::string("@bus\0x", 6));
    CHECK(r.path() == std::string("@bus\0x", 6));
    sockaddr_un full{};
    full.sun_family = AF_UNIX;
    std::memset(full.sun_path, 'p', sizeof full.sun_path); // 108 bytes, no NUL
    r.run(-1, &full, sizeof full);
    CHECK(r.addr().flags == VSOCK_F_TRUNCATED);
    CHECK(r.addr().path_len == VSOCK_PATH_MAX - 1);

    r.run(-1, nullptr, 16);
    CHECK(r.addr().flags == VSOCK_F_TRUNCATED);
    CHECK(r.addr().family == 0);
    r.run(-1, reinterpret_cast<void*>(16), 16); // unreadable
    CHECK(r.addr().flags == VSOCK_F_ERROR);
}

TEST_CASE("skb reader: addresses, ports and length of datagrams leaving over loopback", "[bpf][socket]")
{
    Readers r;
    auto* bss = r.skel()->bss;
    REQUIRE(bpf_program__attach(r.skel()->progs.on_queue));
    for (int family : {AF_INET, AF_INET6}) {
        INFO((family == AF_INET ? "IPv4" : "IPv6"));
        Fd rx(::socket(family, SOCK_DGRAM, 0));
        sockaddr_storage ss{};
        socklen_t len = loopback(family, ss);
        REQUIRE(::bind(rx.fd, reinterpret_cast<sockaddr*>(&ss), len) == 0);
        REQUIRE(::getsockname(rx.fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0);
        bss->skb_hits = 0;
        bss->skb_port = port_of(ss);
        Fd tx(::socket(family, SOCK_DGRAM, 0));
        const char payload[] = "0123456789";
        REQUIRE(::sendto(tx.fd, payload, 10, 0, reinterpret_cast<sockaddr*>(&ss), len) == 10);
        bss->skb_port = 0;
        REQUIRE(bss->skb_hits == 1);
        const vsock_arg& s = bss->out_skb;
        CHECK(s.kind == VSOCK_KIND_SKB);
        CHECK(s.flags == 0);
        CHECK(s.family == family);
        CHECK(s.protocol == IPPROTO_UDP);
        CHECK(s.dport == port_of(ss));
        CHECK(s.sport != 0);
        CHECK(vigil::sdk::sock::address(s.family, s.daddr) == (family == AF_INET ? "127.0.0.1" : "::1"));
        CHECK(vigil::sdk::sock::address(s.family, s.saddr) == (family == AF_INET ? "127.0.0.1" : "::1"));
        CHECK(s.len >= 10 + 8);
    }
}
