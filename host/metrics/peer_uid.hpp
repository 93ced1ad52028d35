// The user owning the other end of a loopback TCP connection, asked from the kernel's socket
// table (NETLINK_SOCK_DIAG): the metrics endpoint limits connections per user with it, so that
// one local user cannot hold every slot.
#pragma once

#include "core/error.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <sys/types.h>

namespace vigil {

// `local` and `remote` as our accepted socket sees them; the answer is the owner of the socket
// at `remote` that is connected to `local`.
[[nodiscard]] Result<uid_t> loopback_peer_uid(const boost::asio::ip::tcp::endpoint& local,
                                              const boost::asio::ip::tcp::endpoint& remote);

} // namespace vigil
