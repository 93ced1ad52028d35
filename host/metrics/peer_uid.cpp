#include "metrics/peer_uid.hpp"

#include "core/fd.hpp"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace vigil {

namespace {

void put_address(__be32 out[4], const boost::asio::ip::address& a)
{
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        std::memcpy(out, b.data(), b.size());
    } else {
        auto b = a.to_v6().to_bytes();
        std::memcpy(out, b.data(), b.size());
    }
}

} // namespace

Result<uid_t> loopback_peer_uid(const boost::asio::ip::tcp::endpoint& local,
                                const boost::asio::ip::tcp::endpoint& remote)
{
    Fd fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
    if (!fd.valid())
        return fail_errno(Errc::io, errno, "sock_diag socket");
    struct {
        nlmsghdr nlh;
        inet_diag_req_v2 req;
    } msg{};
    msg.nlh.nlmsg_len = sizeof msg;
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST;
    msg.req.sdiag_family = remote.address().is_v4() ? AF_INET : AF_INET6;
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = ~0u;
    // The peer's socket: its source is our remote end, its destination our local end.
    msg.req.id.idiag_sport = htons(remote.port());
    msg.req.id.idiag_dport = htons(local.port());
    put_address(msg.req.id.idiag_src, remote.address());
    put_address(msg.req.id.idiag_dst, local.address());
    msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd.get(), &msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
        return fail_errno(Errc::io, errno, "sock_diag request");
    alignas(nlmsghdr) char buf[8192];
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0)
        return fail_errno(Errc::io, errno, "sock_diag answer");
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<size_t>(n)); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type == NLMSG_ERROR) {
            auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
            return fail_errno(Errc::io, -e->error, "sock_diag: the peer's socket");
        }
        if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY)
            return static_cast<const inet_diag_msg*>(NLMSG_DATA(h))->idiag_uid;
    }
    return fail(Errc::io, "sock_diag: no answer for the peer's socket");
}

} // namespace vigil
