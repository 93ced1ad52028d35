// The socket plugin end to end: vigild with the socket sensor reports TCP connect/accept/listen
// with both ends over loopback (IPv4, IPv6) and across network namespaces joined by a veth pair,
// refused connects with their error, TCP state changes of the right process, and datagrams sent
// to port 53 with their destination; `connects` policies deny connect() and sendto() with EPERM
// in enforce mode, only report in monitor mode, and their DAddr/DPort selectors match exactly
// what they say. Only loopback and private addresses are used; nothing leaves the machine.
//
// Every policy here is limited to this test binary (matchBinaries), because its programs run
// for every process of the machine.
#include "support/vigil_skip.hpp"
#include "support/cgroup.hpp"
#include "support/vigild.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>

using namespace vigil::e2e;
namespace fs = std::filesystem;

namespace {

// ---- sockets ---------------------------------------------------------------------------------

struct Addr {
    sockaddr_storage ss{};
    socklen_t len = 0;
    int family() const { return ss.ss_family; }
    const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss); }
};

Addr addr(const std::string& ip, uint16_t port)
{
    Addr a;
    if (ip.find(':') == std::string::npos) {
        auto& in = reinterpret_cast<sockaddr_in&>(a.ss);
        in.sin_family = AF_INET;
        in.sin_port = htons(port);
        REQUIRE(::inet_pton(AF_INET, ip.c_str(), &in.sin_addr) == 1);
        a.len = sizeof in;
    } else {
        auto& in6 = reinterpret_cast<sockaddr_in6&>(a.ss);
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(port);
        REQUIRE(::inet_pton(AF_INET6, ip.c_str(), &in6.sin6_addr) == 1);
        a.len = sizeof in6;
    }
    return a;
}

uint16_t port_of(int fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return 0;
    return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in&>(ss).sin_port
                                         : reinterpret_cast<sockaddr_in6&>(ss).sin6_port);
}

// A port nobody listens on: bound, then released.
uint16_t free_port(const std::string& ip)
{
    Addr a = addr(ip, 0);
    int fd = ::socket(a.family(), SOCK_STREAM, 0);
    REQUIRE(::bind(fd, a.sa(), a.len) == 0);
    uint16_t p = port_of(fd);
    ::close(fd);
    return p;
}

// A forked copy of this test running fn (inside network namespace `netns` when given), so each
// side of a connection is its own process. The child can send integers back with report().
class Child {
public:
    Child(std::function<int(Child&)> fn, const std::string& netns = "")
    {
        REQUIRE(::pipe2(pipe_, O_CLOEXEC) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::close(pipe_[0]);
            if (!netns.empty()) {
                int ns = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
                if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0)
                    ::_exit(100);
            }
            ::_exit(fn(*this));
        }
        ::close(pipe_[1]);
    }
    ~Child()
    {
        ::close(pipe_[0]);
        if (!status_)
            wait();
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    void report(int v) { (void)!::write(pipe_[1], &v, sizeof v); }
    std::optional<int> receive(int timeout_ms = 10000)
    {
        pollfd p{pipe_[0], POLLIN, 0};
        int v = 0;
        if (::poll(&p, 1, timeout_ms) != 1 || ::read(pipe_[0], &v, sizeof v) != sizeof v)
            return std::nullopt;
        return v;
    }
    // The child's exit code (100+: it could not set itself up).
    int wait()
    {
        if (!status_)
            status_ = wait_child(pid_);
        return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : 128 + WTERMSIG(*status_);
    }

private:
    int pipe_[2] = {-1, -1};
    pid_t pid_ = -1;
    std::optional<int> status_;
};

// Listens on ip (port 0: any), reports the port, accepts one connection and reads a byte.
int serve_once(Child& self, const std::string& ip)
{
    Addr a = addr(ip, 0);
    int fd = ::socket(a.family(), SOCK_STREAM, 0);
    if (fd < 0 || ::bind(fd, a.sa(), a.len) != 0 || ::listen(fd, 8) != 0)
        return 101;
    self.report(port_of(fd));
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 15000) != 1)
        return 102;
    int c = ::accept(fd, nullptr, nullptr);
    char b;
    if (c < 0 || ::recv(c, &b, 1, 0) != 1)
        return 103;
    ::close(c);
    ::close(fd);
    return 0;
}

// Connects to ip:port and sends a byte; returns 0 or the connect errno.
int connect_once(const std::string& ip, uint16_t port)
{
    Addr a = addr(ip, port);
    int fd = ::socket(a.family(), SOCK_STREAM, 0);
    if (fd < 0)
        return 104;
    if (::connect(fd, a.sa(), a.len) != 0) {
        int e = errno;
        ::close(fd);
        return e;
    }
    (void)!::send(fd, "x", 1, 0);
    ::close(fd);
    return 0;
}

// Sends one datagram to ip:port with sendto; returns 0 or its errno.
int send_datagram(const std::string& ip, uint16_t port)
{
    Addr a = addr(ip, port);
    int fd = ::socket(a.family(), SOCK_DGRAM, 0);
    int rc = ::sendto(fd, "q", 1, 0, a.sa(), a.len) == 1 ? 0 : errno;
    ::close(fd);
    return rc;
}

// ---- events ----------------------------------------------------------------------------------

using Pred = std::function<bool(const json&)>;

// process_socket events of `op` by process `pid`.
Pred socket_event(const std::string& op, pid_t pid)
{
    return [=](const json& ev) {
        auto it = ev.find("process_socket");
        return it != ev.end() && it->value("op", "") == op && (*it)["process"].value("pid", 0) == pid;
    };
}

// process_connect events of `policy` by process `pid`.
Pred policy_event(const std::string& policy, pid_t pid)
{
    return [=](const json& ev) {
        auto it = ev.find("process_connect");
        return it != ev.end() && it->value("policy_name", "") == policy &&
               (*it)["process"].value("pid", 0) == pid;
    };
}

VigildOptions socket_options(const std::string& config = "")
{
    VigildOptions o;
    o.plugins = {"tracepoint", "socket"};
    if (!config.empty())
        o.extra_toml = "[plugins.socket.config]\n" + config;
    o.ready_timeout = 180s; // connects hooks verify slowly under emulation
    return o;
}

std::string loopback(int family) { return family == AF_INET ? "127.0.0.1" : "::1"; }

// Checks a client's connect and the server's listen and accept of the same connection.
void check_connection(Vigild& v, pid_t client, pid_t server, const std::string& server_ip, uint16_t port,
                      const std::string& client_ip)
{
    auto listen = v.wait_event(socket_event("listen", server));
    REQUIRE(listen);
    const json& l = body_of(*listen);
    CHECK(l.at("ret") == 0);
    CHECK(l.at("sock_arg").at("saddr") == server_ip);
    CHECK(l.at("sock_arg").at("sport") == port);
    CHECK(l.at("sock_arg").at("state") == "TCP_LISTEN");
    CHECK(process_of(*listen).value("binary", "") == workload_path().string());

    auto connect = v.wait_event(socket_event("connect", client));
    REQUIRE(connect);
    const json& c = body_of(*connect);
    CHECK(c.at("ret") == 0);
    CHECK_FALSE(c.contains("error"));
    CHECK(c.at("sockaddr_arg").at("addr") == server_ip);
    CHECK(c.at("sockaddr_arg").at("port") == port);
    const json& cs = c.at("sock_arg");
    CHECK(cs.at("family") == (server_ip.find(':') == std::string::npos ? "AF_INET" : "AF_INET6"));
    CHECK(cs.at("type") == "SOCK_STREAM");
    CHECK(cs.at("protocol") == "IPPROTO_TCP");
    CHECK(cs.at("state") == "TCP_ESTABLISHED");
    CHECK(cs.at("saddr") == client_ip);
    CHECK(cs.at("daddr") == server_ip);
    CHECK(cs.at("dport") == port);
    uint32_t client_port = cs.at("sport");
    CHECK(client_port != 0);

    auto accept = v.wait_event(socket_event("accept", server));
    REQUIRE(accept);
    const json& a = body_of(*accept);
    CHECK(a.at("ret").get<int>() >= 0);
    const json& as = a.at("sock_arg");
    CHECK(as.at("saddr") == server_ip);
    CHECK(as.at("sport") == port);
    CHECK(as.at("daddr") == client_ip);
    CHECK(as.at("dport") == client_port);
    // the client may have sent its byte and closed before accept() returned
    CHECK((as.at("state") == "TCP_ESTABLISHED" || as.at("state") == "TCP_CLOSE_WAIT"));
    CHECK(as.at("cookie") != cs.at("cookie"));

    // The handshake's state changes belong to the processes that made the sockets, whatever
    // task the kernel ran them on.
    auto state = [&](pid_t pid, const std::string& to, uint32_t local_port) {
        return [=](const json& ev) {
            return socket_event("state", pid)(ev) && body_of(ev).value("new_state", "") == to &&
                   body_of(ev).at("sock_arg").value("sport", 0u) == local_port;
        };
    };
    CHECK(v.wait_event(state(client, "TCP_ESTABLISHED", client_port)));
    CHECK(v.wait_event(state(server, "TCP_ESTABLISHED", port)));
    // Both ends close: the local port is still known when the socket reaches TCP_CLOSE.
    CHECK(v.wait_event(state(client, "TCP_CLOSE", client_port)));
    CHECK(v.wait_event(state(server, "TCP_CLOSE", port)));
}

// ---- network namespaces ------------------------------------------------------------------------

// iproute2's ip, when it can manage network namespaces (busybox's cannot).
std::optional<std::string> iproute2()
{
    for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
        if (!fs::exists(p))
            continue;
        if (run({p, "netns", "list"}).status == 0)
            return std::string(p);
    }
    return std::nullopt;
}

// A network namespace joined to this one by a veth pair: here 10.211.N.1 and fd00:211:N::1,
// inside 10.211.N.2 and fd00:211:N::2 (private ranges, routed only between the two ends).
class NetNs {
public:
    static std::unique_ptr<NetNs> make()
    {
        auto ip = iproute2();
        if (!ip)
            return nullptr;
        std::unique_ptr<NetNs> n(new NetNs(*ip));
        if (!n->up())
            return nullptr;
        return n;
    }
    ~NetNs()
    {
        run({ip_, "link", "del", host_if_});
        run({ip_, "netns", "del", name_});
    }
    const std::string& name() const { return name_; }
    std::string v4(int end) const { return fmt::format("10.211.{}.{}", subnet_, end); }
    std::string v6(int end) const { return fmt::format("fd00:211:{}::{}", subnet_, end); }

private:
    explicit NetNs(std::string ip)
        : ip_(std::move(ip)), name_(fmt::format("vigil-e2e-{}", ::getpid())), host_if_(fmt::format("vgh{}", ::getpid())),
          ns_if_(fmt::format("vgn{}", ::getpid())), subnet_(::getpid() % 250 + 1)
    {
    }
    bool cmd(std::vector<std::string> args)
    {
        args.insert(args.begin(), ip_);
        int st = run(args).status;
        if (st != 0)
            UNSCOPED_INFO("failed: " << fmt::format("{}", fmt::join(args, " ")));
        return st == 0;
    }
    bool up()
    {
        return cmd({"netns", "add", name_}) &&
               cmd({"link", "add", host_if_, "type", "veth", "peer", "name", ns_if_}) &&
               cmd({"link", "set", ns_if_, "netns", name_}) &&
               cmd({"addr", "add", v4(1) + "/30", "dev", host_if_}) &&
               cmd({"-6", "addr", "add", v6(1) + "/64", "dev", host_if_, "nodad"}) &&
               cmd({"link", "set", host_if_, "up"}) &&
               cmd({"-n", name_, "addr", "add", v4(2) + "/30", "dev", ns_if_}) &&
               cmd({"-n", name_, "-6", "addr", "add", v6(2) + "/64", "dev", ns_if_, "nodad"}) &&
               cmd({"-n", name_, "link", "set", ns_if_, "up"}) && cmd({"-n", name_, "link", "set", "lo", "up"});
    }

    std::string ip_, name_, host_if_, ns_if_;
    int subnet_;
};

// ---- policies ----------------------------------------------------------------------------------

std::string connects_policy(const std::string& name, const std::string& selectors, const std::string& mode = "")
{
    return fmt::format(R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: {}
spec:
{}  connects:
  - message: "e2e {}"
    selectors:
{})",
                       name, mode.empty() ? "" : fmt::format("  options:\n  - name: policy-mode\n    value: {}\n", mode),
                       name, selectors);
}

// A selector for this test binary only, with extra filters and actions.
std::string this_binary(const std::string& match_args, const std::string& actions = "")
{
    return fmt::format(R"(    - matchBinaries:
      - operator: In
        values: ["{}"]
      matchArgs:
{}{})",
                       workload_path().string(), match_args,
                       actions.empty() ? "" : "      matchActions:\n" + actions);
}

const char* deny = "      - action: Override\n        argError: -1\n";

std::unique_ptr<Vigild> start_with_policies(const TempDir& dir, const std::vector<std::pair<std::string, std::string>>& files,
                                            const std::string& config = "")
{
    for (const auto& [file, text] : files)
        std::ofstream(dir.path() / file) << text;
    VigildOptions o = socket_options(config);
    o.policy_dir = dir.path();
    return Vigild::start(o);
}

} // namespace

TEST_CASE("socket sensor: TCP over loopback shows both ends, IPv4 and IPv6", "[e2e][socket]")
{
    auto v = Vigild::start(socket_options());
    for (int family : {AF_INET, AF_INET6}) {
        std::string ip = loopback(family);
        INFO(ip);
        Child server([&](Child& self) { return serve_once(self, ip); });
        auto port = server.receive();
        REQUIRE(port);
        Child client([&](Child&) { return connect_once(ip, *port); });
        CHECK(client.wait() == 0);
        CHECK(server.wait() == 0);
        check_connection(*v, client.pid(), server.pid(), ip, *port, ip);
    }
}

TEST_CASE("socket sensor: bind, and a refused connect with its error", "[e2e][socket]")
{
    auto v = Vigild::start(socket_options());
    uint16_t closed = free_port("127.0.0.1");
    Child client([&](Child&) { return connect_once("127.0.0.1", closed); });
    CHECK(client.wait() == ECONNREFUSED);
    auto ev = v->wait_event(socket_event("connect", client.pid()));
    REQUIRE(ev);
    const json& c = body_of(*ev);
    CHECK(c.at("ret") == -ECONNREFUSED);
    CHECK(c.at("error") == "ECONNREFUSED");
    CHECK(c.at("sockaddr_arg") == json::parse(fmt::format(R"({{"family":"AF_INET","addr":"127.0.0.1","port":{}}})",
                                                          closed)));

    Child binder([&](Child&) {
        Addr a = addr("::1", 0);
        int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
        return ::bind(fd, a.sa(), a.len) == 0 ? 0 : 1;
    });
    CHECK(binder.wait() == 0);
    auto b = v->wait_event(socket_event("bind", binder.pid()));
    REQUIRE(b);
    CHECK(body_of(*b).at("ret") == 0);
    CHECK(body_of(*b).at("sockaddr_arg").at("addr") == "::1");
    CHECK(body_of(*b).at("sock_arg").at("type") == "SOCK_DGRAM");
    CHECK(body_of(*b).at("sock_arg").at("sport") != 0);
}

TEST_CASE("socket sensor: a datagram to port 53 is visible with its destination", "[e2e][socket]")
{
    auto v = Vigild::start(socket_options());
    Child sender([&](Child&) {
        int rc = send_datagram("127.0.0.1", 53);
        // sendmsg with a destination, and a connected socket's connect (how resolvers send)
        Addr a = addr("::1", 53);
        int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
        iovec iov{const_cast<char*>("q"), 1};
        msghdr m{};
        m.msg_name = &a.ss;
        m.msg_namelen = a.len;
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        if (::sendmsg(fd, &m, 0) != 1)
            rc = 1;
        if (::connect(fd, a.sa(), a.len) != 0)
            rc = 2;
        return rc;
    });
    CHECK(sender.wait() == 0);
    auto to = v->wait_event(socket_event("sendto", sender.pid()));
    REQUIRE(to);
    CHECK(body_of(*to).at("ret") == 1);
    CHECK(body_of(*to).at("sockaddr_arg") == json::parse(R"({"family":"AF_INET","addr":"127.0.0.1","port":53})"));
    CHECK(body_of(*to).at("sock_arg").at("protocol") == "IPPROTO_UDP");
    auto msg = v->wait_event(socket_event("sendmsg", sender.pid()));
    REQUIRE(msg);
    CHECK(body_of(*msg).at("sockaddr_arg") == json::parse(R"({"family":"AF_INET6","addr":"::1","port":53})"));
    auto udp_connect = v->wait_event(socket_event("connect", sender.pid()));
    REQUIRE(udp_connect);
    CHECK(body_of(*udp_connect).at("sock_arg").at("type") == "SOCK_DGRAM");
    CHECK(body_of(*udp_connect).at("sock_arg").at("dport") == 53);
}

TEST_CASE("socket sensor: the configuration leaves operations and families out in the kernel", "[e2e][socket]")
{
    auto v = Vigild::start(socket_options("events = [\"connect\"]\nfamilies = [\"AF_INET6\"]\n"));
    uint16_t closed4 = free_port("127.0.0.1"), closed6 = free_port("::1");
    Child client([&](Child&) {
        connect_once("127.0.0.1", closed4);
        connect_once("::1", closed6);
        send_datagram("::1", 53);
        return 0;
    });
    CHECK(client.wait() == 0);
    auto ev = v->wait_event(socket_event("connect", client.pid()));
    REQUIRE(ev);
    CHECK(body_of(*ev).at("sockaddr_arg").at("addr") == "::1");
    v->stop();
    auto all = v->select([&](const json& e) { return e.contains("process_socket") && process_of(e).value("pid", 0) == client.pid(); });
    CHECK(all.size() == 1); // no AF_INET connect, no sendto
}

TEST_CASE("socket sensor: connections across network namespaces over veth", "[e2e][socket]")
{
    auto ns = NetNs::make();
    if (!ns)
        VIGIL_SKIP_MISSING_FEATURE("network namespaces with veth (iproute2 ip netns, the veth driver)");
    auto v = Vigild::start(socket_options());
    for (bool v6 : {false, true}) {
        std::string server_ip = v6 ? ns->v6(2) : ns->v4(2);
        std::string client_ip = v6 ? ns->v6(1) : ns->v4(1);
        INFO(server_ip);
        Child server([&](Child& self) { return serve_once(self, server_ip); }, ns->name());
        auto port = server.receive();
        REQUIRE(port);
        Child client([&](Child&) { return connect_once(server_ip, *port); });
        CHECK(client.wait() == 0);
        CHECK(server.wait() == 0);
        check_connection(*v, client.pid(), server.pid(), server_ip, *port, client_ip);
    }
}

TEST_CASE("connects policy: a denied destination fails with EPERM in enforce mode", "[e2e][socket][policy]")
{
    TempDir pol;
    auto v = start_with_policies(
        pol, {{"deny.yaml", connects_policy("deny-127-0-0-2", this_binary(R"(      - index: 0
        operator: DAddr
        values: ["127.0.0.2/32"]
)",
                                                                             deny))}});
    Child server([&](Child& self) { return serve_once(self, "127.0.0.2"); });
    auto port = server.receive();
    REQUIRE(port);
    Child denied([&](Child&) { return connect_once("127.0.0.2", *port); });
    CHECK(denied.wait() == EPERM);
    Child mapped([&](Child&) { return connect_once("::ffff:127.0.0.2", *port); }); // same address through IPv6
    CHECK(mapped.wait() == EPERM);
    Child datagram([&](Child&) { return send_datagram("127.0.0.2", 53); });
    CHECK(datagram.wait() == EPERM);
    Child allowed([&](Child&) { return connect_once("127.0.0.1", free_port("127.0.0.1")); });
    CHECK(allowed.wait() == ECONNREFUSED); // not denied: it reached the (closed) port

    auto ev = v->wait_event(policy_event("deny-127-0-0-2", denied.pid()));
    REQUIRE(ev);
    const json& b = body_of(*ev);
    CHECK(b.at("op") == "connect");
    CHECK(b.at("action") == "KPROBE_ACTION_OVERRIDE");
    CHECK(b.at("enforced") == true);
    CHECK(b.at("error") == "EPERM");
    CHECK(b.at("sock_arg").at("daddr") == "127.0.0.2");
    CHECK(b.at("sock_arg").at("dport") == *port);
    CHECK(b.at("message") == "e2e deny-127-0-0-2");
    auto sensor = v->wait_event(socket_event("connect", denied.pid()));
    REQUIRE(sensor);
    CHECK(body_of(*sensor).at("error") == "EPERM");
    auto dg = v->wait_event(policy_event("deny-127-0-0-2", datagram.pid()));
    REQUIRE(dg);
    CHECK(body_of(*dg).at("op") == "sendmsg");
    CHECK(body_of(*dg).at("sock_arg").at("dport") == 53);
    CHECK(v->select(policy_event("deny-127-0-0-2", allowed.pid())).empty());

    // The server never saw a connection: let it go.
    ::kill(server.pid(), SIGKILL);
    server.wait();
}

TEST_CASE("connects policy: monitor mode reports and lets the connection through", "[e2e][socket][policy]")
{
    TempDir pol;
    auto v = start_with_policies(pol, {{"monitor.yaml", connects_policy("watch-127-0-0-2", this_binary(R"(      - index: 0
        operator: DAddr
        values: ["127.0.0.2/32"]
)",
                                                                                                          deny),
                                                                         "monitor")}});
    Child server([&](Child& self) { return serve_once(self, "127.0.0.2"); });
    auto port = server.receive();
    REQUIRE(port);
    Child client([&](Child&) { return connect_once("127.0.0.2", *port); });
    CHECK(client.wait() == 0);
    CHECK(server.wait() == 0);
    auto ev = v->wait_event(policy_event("watch-127-0-0-2", client.pid()));
    REQUIRE(ev);
    CHECK(body_of(*ev).at("enforced") == false);
    CHECK_FALSE(body_of(*ev).contains("error"));
    auto sensor = v->wait_event(socket_event("connect", client.pid()));
    REQUIRE(sensor);
    CHECK(body_of(*sensor).at("ret") == 0);
}

TEST_CASE("connects policy: DAddr CIDR and DPort selectors match exactly what they say", "[e2e][socket][policy]")
{
    uint16_t p1 = free_port("127.0.0.1");
    uint16_t p2 = p1 == 65535 ? p1 - 1 : p1 + 1;
    auto filter = [](const char* op, const std::string& values) {
        return fmt::format("      - index: 0\n        operator: {}\n        values: [{}]\n", op, values);
    };
    TempDir pol;
    auto v = start_with_policies(
        pol, {
                 {"cidr.yaml", connects_policy("cidr", this_binary(filter("DAddr", "\"127.0.0.0/30\", \"::1/128\"")))},
                 {"port.yaml", connects_policy("port", this_binary(filter("DPort", fmt::format("\"{}\"", p1))))},
                 {"notcidr.yaml", connects_policy("notcidr", this_binary(filter("NotDAddr", "\"127.0.0.0/8\"") +
                                                                         filter("DPort", fmt::format("\"{}\"", p1))))},
                 {"range.yaml",
                  connects_policy("range", this_binary(filter("DPort", fmt::format("\"{}:{}\"", p2, p2)) +
                                                       filter("DAddr", "\"127.0.0.5\"")))},
             });
    struct Case {
        std::string ip;
        uint16_t port;
        std::vector<std::string> match; // the policies that report it
    };
    std::vector<Case> cases = {
        {"127.0.0.1", p1, {"cidr", "port"}},
        {"127.0.0.3", p2, {"cidr"}},
        {"127.0.0.5", p2, {"range"}},
        {"127.0.0.5", p1, {"port"}},
        {"::1", p2, {"cidr"}},
        {"::1", p1, {"cidr", "port", "notcidr"}},
        {"::ffff:127.0.0.2", p2, {"cidr"}},
    };
    std::vector<std::unique_ptr<Child>> clients;
    for (const auto& c : cases)
        clients.push_back(std::make_unique<Child>([&](Child&) { return connect_once(c.ip, c.port); }));
    for (auto& c : clients)
        CHECK(c->wait() == ECONNREFUSED); // nothing listens; none of these policies denies
    for (size_t i = 0; i < cases.size(); ++i) {
        for (const auto& m : cases[i].match) {
            INFO(cases[i].ip << ":" << cases[i].port << " should match " << m);
            CHECK(v->wait_event(policy_event(m, clients[i]->pid())));
        }
    }
    v->stop();
    for (size_t i = 0; i < cases.size(); ++i)
        for (const char* p : {"cidr", "port", "notcidr", "range"}) {
            bool want = std::find(cases[i].match.begin(), cases[i].match.end(), p) != cases[i].match.end();
            INFO(cases[i].ip << ":" << cases[i].port << " policy " << p);
            CHECK(v->select(policy_event(p, clients[i]->pid())).empty() != want);
        }
}

TEST_CASE("socket sensor: a connect flood from one cgroup is held to throttle.cgroup_rate", "[e2e][socket]")
{
    constexpr int rate = 100, flood = 2000, mine = 20;
    VigildOptions o = socket_options();
    o.extra_toml += fmt::format("[throttle]\ncgroup_rate = {}\n", rate);
    auto v = Vigild::start(o);
    TempCgroup cgroup("vigil-e2e-connects");

    uint16_t closed = free_port("127.0.0.1");
    Child flooder([&](Child&) {
        std::ofstream(cgroup.path() / "cgroup.procs") << ::getpid() << std::endl;
        for (int i = 0; i < flood; ++i)
            if (connect_once("127.0.0.1", closed) != ECONNREFUSED)
                return 1;
        return 0;
    });
    REQUIRE(flooder.wait() == 0);
    Child quiet([&](Child&) {
        for (int i = 0; i < mine; ++i)
            if (connect_once("127.0.0.1", closed) != ECONNREFUSED)
                return 1;
        return 0;
    });
    REQUIRE(quiet.wait() == 0);

    auto throttle = [&](const char* type) {
        return [&, type](const json& ev) {
            return ev.contains("process_throttle") && ev["process_throttle"]["type"] == type &&
                   ev["process_throttle"]["cgroup"] == cgroup.event_path();
        };
    };
    REQUIRE(v->wait_event(throttle("THROTTLE_START"), 10s));
    auto stop = v->wait_event(throttle("THROTTLE_STOP"), 10s);
    REQUIRE(stop);
    uint64_t dropped = (*stop)["process_throttle"]["dropped"];
    auto of = [&](pid_t pid) {
        return v->select([pid](const json& ev) {
            auto it = ev.find("process_socket");
            return it != ev.end() && (*it)["process"].value("pid", 0) == pid;
        }).size();
    };
    size_t got_flood = of(flooder.pid()), got_mine = v->select(socket_event("connect", quiet.pid())).size();
    INFO(fmt::format("flood={} its events={} dropped={} mine={}", flood, got_flood, dropped, got_mine));
    // Each refused connect is one connect record and its state changes: far over the rate.
    CHECK(dropped >= flood - 2 * rate);
    CHECK(got_flood <= 2 * rate + 8);
    CHECK(v->stats()["cgroup_rate"] == dropped);
    CHECK(got_mine == mine);
}
