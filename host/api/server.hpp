// vigild's API: a Unix stream socket (0600, root only, checked again with SO_PEERCRED) on the
// agent's io_context, speaking the framed JSON protocol of docs/api.md. Each connection reads
// requests and answers them in order; after events.subscribe it also carries event frames from
// a bounded queue, so a client that does not read never holds up the agent.
#pragma once

#include "api/jq_worker.hpp"
#include "api/methods.hpp"
#include "api/services.hpp"
#include "api/subscribers.hpp"
#include "core/error.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/logger.h>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>

namespace vigil::api {

struct ApiServerOptions {
    std::filesystem::path socket_path = default_socket_path;
    size_t max_connections = 64;
    size_t subscriber_queue = default_queued_events; // events per subscriber
    // How long a started frame may take to arrive completely.
    std::chrono::milliseconds frame_timeout{5000};
    // A connection that has not sent a request for this long, and is not subscribed, is closed;
    // when all max_connections are taken, the longest idle one makes room for a new one.
    std::chrono::milliseconds idle_timeout{60000};
    // Subscription jq filters: the worker executable and its per-subscriber budget.
    std::filesystem::path jq_worker = default_jq_worker_path();
    JqBudget jq_budget;
};

class Connection;

class ApiServer {
public:
    // Binds the socket (replacing a stale one, refusing a live one or a non-socket) and
    // starts accepting on `io`.
    [[nodiscard]] static Result<std::unique_ptr<ApiServer>> make(boost::asio::io_context& io, ApiServerOptions opts,
                                                                 AgentServices& services);
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    // Stops accepting, closes every connection and removes the socket file.
    void stop();

    const std::filesystem::path& socket_path() const { return opts_.socket_path; }
    size_t connections() const { return conns_.size(); }

private:
    friend class Connection;
    ApiServer(boost::asio::io_context& io, ApiServerOptions opts, AgentServices& services);
    [[nodiscard]] Result<void> listen();
    void accept();
    void forget(uint64_t id) { conns_.erase(id); }
    // Closes the connection idle the longest (or idle longer than `at_least`); false: none is.
    bool close_idle(std::chrono::steady_clock::duration at_least, const char* why);
    void arm_idle_sweep();

    boost::asio::io_context& io_;
    ApiServerOptions opts_;
    AgentServices& services_;
    Methods methods_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::steady_timer idle_timer_;
    std::map<uint64_t, std::shared_ptr<Connection>> conns_;
    uint64_t next_id_ = 1;
    dev_t sock_dev_ = 0;
    ino_t sock_ino_ = 0;
    bool stopped_ = false;
    std::shared_ptr<spdlog::logger> log_;
};

} // namespace vigil::api
