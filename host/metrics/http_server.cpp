#include "metrics/http_server.hpp"

#include "core/log.hpp"
#include "metrics/exposition.hpp"
#include "metrics/peer_uid.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <chrono>

namespace vigil {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t max_sessions = 64;
constexpr size_t max_sessions_per_uid = 8;
// The whole request must arrive in this time; a kept-alive connection waits as long for the next.
constexpr auto session_timeout = std::chrono::seconds(5);
// Peers whose user cannot be found share one budget.
constexpr uid_t unknown_uid = static_cast<uid_t>(-1);

} // namespace

// One HTTP connection: read a request, answer, repeat while keep-alive.
class MetricsSession : public std::enable_shared_from_this<MetricsSession> {
public:
    MetricsSession(MetricsServer& server, tcp::socket socket, uid_t uid)
        : server_(server), state_(server.state_), stream_(std::move(socket)), uid_(uid)
    {
        state_->sessions++;
        state_->per_uid[uid_]++;
    }
    ~MetricsSession()
    {
        state_->sessions--;
        if (--state_->per_uid[uid_] == 0)
            state_->per_uid.erase(uid_);
    }

    void read()
    {
        parser_.emplace();
        parser_->header_limit(8 * 1024);
        parser_->body_limit(4 * 1024);
        stream_.expires_after(session_timeout);
        http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
            self->on_read(ec);
        });
    }

private:
    void on_read(beast::error_code ec)
    {
        if (state_->stopped || ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
            ec == beast::error::timeout || ec == asio::error::eof || ec == asio::error::connection_reset)
            return close();
        if (ec) {
            // Not HTTP, or too big: say so once and hang up.
            respond(http::status::bad_request, "bad request: " + ec.message() + "\n", false, false);
            return;
        }
        const auto& req = parser_->get();
        std::string_view target(req.target().data(), req.target().size());
        if (auto q = target.find('?'); q != std::string_view::npos)
            target = target.substr(0, q);
        bool head = req.method() == http::verb::head;
        if (target != "/metrics")
            return respond(http::status::not_found, "not found; metrics are at /metrics\n", req.keep_alive(), head);
        if (req.method() != http::verb::get && !head)
            return respond(http::status::method_not_allowed, "only GET and HEAD\n", req.keep_alive(), false);
        respond(http::status::ok, server_.render(), req.keep_alive(), head);
    }

    void respond(http::status status, std::string body, bool keep_alive, bool head)
    {
        auto res = std::make_shared<http::response<http::string_body>>(status, 11);
        res->set(http::field::server, "vigild");
        res->set(http::field::content_type, status == http::status::ok ? "text/plain; version=0.0.4; charset=utf-8"
                                                                       : "text/plain; charset=utf-8");
        if (status == http::status::method_not_allowed)
            res->set(http::field::allow, "GET, HEAD");
        res->keep_alive(keep_alive);
        size_t len = body.size();
        if (!head)
            res->body() = std::move(body);
        res->prepare_payload();
        if (head)
            res->content_length(len);
        stream_.expires_after(session_timeout);
        http::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
            if (ec || !keep_alive || self->state_->stopped)
                return self->close();
            self->read();
        });
    }

    void close()
    {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

    MetricsServer& server_; // used only while !state_->stopped
    std::shared_ptr<MetricsServer::State> state_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_{8 * 1024};
    std::optional<http::request_parser<http::string_body>> parser_;
    uid_t uid_;
};

MetricsServer::MetricsServer(asio::io_context& io, api::AgentServices& services)
    : io_(io), services_(services), acceptor_(io), log_(log::get("metrics"))
{
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::make(asio::io_context& io, const std::string& address,
                                                           uint16_t port, api::AgentServices& services)
{
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(address, ec);
    if (ec)
        return fail(Errc::invalid_input, "metrics address \"{}\" is not an IP address", address);
    if (!addr.is_loopback())
        return fail(Errc::invalid_input, "metrics address {} is not a loopback address", address);
    std::unique_ptr<MetricsServer> s(new MetricsServer(io, services));
    tcp::endpoint ep(addr, port);
    s->acceptor_.open(ep.protocol(), ec);
    if (!ec)
        s->acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
        s->acceptor_.bind(ep, ec);
    if (!ec)
        s->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return fail(Errc::io, "metrics endpoint {}:{}: {}", address, port, ec.message());
    s->port_ = s->acceptor_.local_endpoint(ec).port();
    if (!s->prog_stats_.enabled())
        s->log_->warn("BPF program run counts stay at 0: {}", s->prog_stats_.why_disabled());
    s->log_->info("metrics at http://{}:{}/metrics", addr.is_v6() ? "[" + address + "]" : address, s->port_);
    s->accept();
    return s;
}

void MetricsServer::accept()
{
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || state_->stopped)
            return;
        if (!ec) {
            uid_t uid = unknown_uid;
            boost::system::error_code e1, e2;
            auto local = socket.local_endpoint(e1);
            auto remote = socket.remote_endpoint(e2);
            if (!e1 && !e2) {
                if (auto u = loopback_peer_uid(local, remote))
                    uid = *u;
                else
                    log_->debug("metrics peer {}: {}", remote.port(), u.error().message());
            }
            auto it = state_->per_uid.find(uid);
            size_t mine = it == state_->per_uid.end() ? 0 : it->second;
            if (state_->sessions >= max_sessions || mine >= max_sessions_per_uid) {
                if (!std::exchange(refused_logged_, true))
                    log_->warn("metrics connection from uid {} refused: {} of its {} allowed, {} of {} in all "
                               "(logged once)",
                               static_cast<int64_t>(uid == unknown_uid ? -1 : uid), mine, max_sessions_per_uid,
                               state_->sessions, max_sessions);
                boost::system::error_code e;
                socket.close(e);
            } else {
                std::make_shared<MetricsSession>(*this, std::move(socket), uid)->read();
            }
        } else {
            log_->warn("metrics accept failed: {}", ec.message());
        }
        accept();
    });
}

std::string MetricsServer::render() { return render_metrics(services_, prog_stats_); }

void MetricsServer::stop()
{
    if (state_->stopped)
        return;
    state_->stopped = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
}

MetricsServer::~MetricsServer() { stop(); }

} // namespace vigil
