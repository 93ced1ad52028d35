// The metrics endpoint: HTTP/1.1 on a loopback address (Boost.Beast on the agent's io_context).
// GET or HEAD /metrics answers the Prometheus text; other paths 404, other methods 405, and a
// request that is not valid HTTP gets 400 and the connection closes. Nothing a client sends
// can stop the server, and no local user can hold it: a request must arrive within a few
// seconds, a kept-alive connection is closed after a few idle seconds, and each user (the
// owner of the peer socket) may hold only a few connections of the total.
#pragma once

#include "api/services.hpp"
#include "core/error.hpp"
#include "metrics/prog_stats.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <spdlog/logger.h>

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace vigil {

class MetricsServer {
public:
    // `address` must be a loopback address (the config checks it; this checks again).
    [[nodiscard]] static Result<std::unique_ptr<MetricsServer>> make(boost::asio::io_context& io,
                                                                     const std::string& address, uint16_t port,
                                                                     api::AgentServices& services);
    ~MetricsServer();
    void stop();
    uint16_t port() const { return port_; }

    // The body of GET /metrics.
    std::string render();

private:
    friend class MetricsSession;
    MetricsServer(boost::asio::io_context& io, api::AgentServices& services);
    void accept();

    boost::asio::io_context& io_;
    api::AgentServices& services_;
    ProgStatsCollector prog_stats_;
    boost::asio::ip::tcp::acceptor acceptor_;
    uint16_t port_ = 0;
    // Shared with sessions, which may be destroyed after the server (with the io_context).
    struct State {
        size_t sessions = 0;
        std::map<uid_t, size_t> per_uid; // sessions by peer user
        bool stopped = false;
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
    bool refused_logged_ = false;
    std::shared_ptr<spdlog::logger> log_;
};

} // namespace vigil
