#include "api/server.hpp"

#include "api/subscribers.hpp"
#include "core/fd.hpp"
#include "core/log.hpp"

#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <array>
#include <cstring>
#include <deque>

namespace vigil::api {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

namespace {

// Requests stop being read while this much response data waits for a client that does not read.
constexpr size_t response_backlog_limit = 4u << 20;
constexpr size_t write_batch_frames = 64;
constexpr size_t write_batch_bytes = 1u << 20;
constexpr auto close_grace = std::chrono::seconds(2);

struct OutFrame {
    enum class Type { bytes, event, dropped } type;
    std::string bytes;                          // a whole frame (bytes, and dropped once written)
    std::array<char, frame_header_size> len{};  // event frames: prefix + event + "}"
    std::shared_ptr<const std::string> event;
};

} // namespace

class Connection : public std::enable_shared_from_this<Connection>, public EventSubscriber {
public:
    Connection(ApiServer& server, stream::socket socket, uint64_t id)
        : server_(server), socket_(std::move(socket)), timer_(server.io_), id_(id)
    {
    }

    void start(bool over_limit);
    void close();
    // Idle: not subscribed, nothing half-read, nothing waiting to be written.
    std::optional<std::chrono::steady_clock::time_point> idle_since() const
    {
        if (subscribed_ || closing_ || closed_ || !in_.empty() || !out_.empty() || !reading_)
            return std::nullopt;
        return last_request_;
    }
    void close_idle(const char* why)
    {
        server_.log_->info("connection {} (pid {}) closed: {}", id_, peer_.pid, why);
        fail_and_close(std::nullopt, ErrorCode::busy, why);
    }

    bool closing() const { return closing_ || closed_; }
    EventFilter& filter() override { return filter_; }
    void deliver(const std::shared_ptr<const std::string>& event) override;
    SubscriberStats stats() const override
    {
        return {id_, peer_.pid, filter_.describe(), delivered_, dropped_, events_queued_, jq_ ? jq_->errors() : 0};
    }

private:
    void read_more();
    void process_input();
    void handle_frame(std::string_view body);
    void subscribe(const Request& req);
    void enqueue_event(const std::shared_ptr<const std::string>& event);
    void count_drop();
    void queue_frame(std::string body);
    void fail_and_close(std::optional<uint64_t> id, ErrorCode code, std::string message);
    void close_when_flushed();
    void write_more();
    void arm_frame_timer();
    bool backlogged() const { return response_bytes_ > response_backlog_limit; }
    // Whether in_ starts with a whole frame (or a length that process_input refuses).
    bool has_frame() const
    {
        if (in_.size() < frame_header_size)
            return false;
        uint32_t len = decode_length(in_.data());
        return len > max_request_frame || in_.size() - frame_header_size >= len;
    }
    // How much of the frame in in_ has arrived, for error messages.
    std::string partial_frame() const
    {
        size_t have = in_.size();
        if (have < frame_header_size)
            return fmt::format("{} of {} length bytes", have, frame_header_size);
        return fmt::format("{} of {} body bytes", have - frame_header_size, decode_length(in_.data()));
    }

    ApiServer& server_;
    stream::socket socket_;
    asio::steady_timer timer_;
    uint64_t id_;
    ucred peer_{};
    std::chrono::steady_clock::time_point last_request_ = std::chrono::steady_clock::now();
    std::string in_;
    std::array<char, 64 * 1024> read_buf_{};
    bool reading_ = false;
    bool read_done_ = false;      // EOF seen or reading stopped for good
    bool timer_armed_ = false;
    bool closing_ = false;        // close once the queue is written
    bool closed_ = false;

    std::deque<OutFrame> out_;
    std::vector<asio::const_buffer> batch_;
    size_t in_flight_ = 0; // frames of out_ being written
    size_t response_bytes_ = 0;

    bool subscribed_ = false;
    uint64_t sub_id_ = 0;
    std::string prefix_;
    EventFilter filter_;
    std::shared_ptr<JqWorker> jq_; // runs filter_'s jq expression, if it has one
    uint64_t events_queued_ = 0, event_bytes_queued_ = 0;
    uint64_t delivered_ = 0, dropped_ = 0, dropped_pending_ = 0;
    bool drop_notice_queued_ = false;
};

// ---- connection -----------------------------------------------------------------------------

void Connection::start(bool over_limit)
{
    socklen_t len = sizeof peer_;
    if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &peer_, &len) != 0) {
        server_.log_->warn("connection {}: SO_PEERCRED failed: {}; refusing it", id_, std::strerror(errno));
        fail_and_close(std::nullopt, ErrorCode::permission_denied, "cannot read the peer's credentials");
        return;
    }
    if (peer_.uid != 0) {
        server_.log_->warn("refused API connection from uid {} (pid {}): root only", peer_.uid, peer_.pid);
        fail_and_close(std::nullopt, ErrorCode::permission_denied,
                       fmt::format("the vigil API is for root only (your uid is {})", peer_.uid));
        return;
    }
    if (over_limit) {
        server_.log_->warn("refused API connection from pid {}: {} connections open", peer_.pid,
                           server_.opts_.max_connections);
        fail_and_close(std::nullopt, ErrorCode::busy,
                       fmt::format("vigild already serves {} API connections", server_.opts_.max_connections));
        return;
    }
    server_.log_->debug("connection {} from pid {}", id_, peer_.pid);
    read_more();
}

void Connection::read_more()
{
    if (reading_ || read_done_ || closed_ || backlogged())
        return;
    reading_ = true;
    socket_.async_read_some(asio::buffer(read_buf_), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
        self->reading_ = false;
        if (self->closed_ || self->read_done_)
            return;
        if (ec)
            self->read_done_ = true; // EOF (or reset): what is buffered is still answered
        else
            self->in_.append(self->read_buf_.data(), n);
        self->process_input();
        self->read_more();
    });
}

void Connection::process_input()
{
    size_t pos = 0;
    while (!closing_ && !backlogged() && in_.size() - pos >= frame_header_size) {
        uint32_t len = decode_length(in_.data() + pos);
        if (len > max_request_frame) {
            in_.clear();
            fail_and_close(std::nullopt, ErrorCode::frame_too_large,
                           fmt::format("a frame of {} bytes exceeds the limit of {} bytes", len, max_request_frame));
            return;
        }
        if (in_.size() - pos - frame_header_size < len)
            break;
        std::string_view body(in_.data() + pos + frame_header_size, len);
        pos += frame_header_size + len;
        handle_frame(body);
    }
    in_.erase(0, pos);
    if (closing_)
        return;
    if (read_done_) {
        if (in_.empty())
            close_when_flushed();
        else if (!has_frame()) // a whole frame waits for the backlog to clear; a part never completes
            fail_and_close(std::nullopt, ErrorCode::truncated_frame,
                           fmt::format("the connection ended inside a frame ({})", partial_frame()));
        return;
    }
    if (in_.empty() || has_frame()) { // nothing, or whole frames held back by the response backlog
        if (timer_armed_) {
            timer_armed_ = false;
            timer_.cancel();
        }
        return;
    }
    // The time limit runs from the first byte of the frame that is incomplete now.
    if (pos > 0)
        timer_armed_ = false;
    arm_frame_timer();
}

void Connection::arm_frame_timer()
{
    if (timer_armed_)
        return;
    timer_armed_ = true;
    timer_.expires_after(server_.opts_.frame_timeout);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec || !self->timer_armed_ || self->closing_ || self->closed_)
            return;
        self->timer_armed_ = false;
        self->fail_and_close(std::nullopt, ErrorCode::frame_timeout,
                             fmt::format("a frame did not complete within {} ms ({})",
                                         self->server_.opts_.frame_timeout.count(), self->partial_frame()));
    });
}

void Connection::handle_frame(std::string_view body)
{
    last_request_ = std::chrono::steady_clock::now();
    if (body.empty()) {
        queue_frame(error_body(std::nullopt, ErrorCode::invalid_request, "empty frame"));
        return;
    }
    auto req = parse_request(body);
    if (!req) {
        queue_frame(error_body(req.error().id, req.error().code, req.error().message));
        return;
    }
    if (req->method == "events.subscribe") {
        subscribe(*req);
        return;
    }
    MethodResult r = server_.methods_.call(req->method, req->params);
    if (!r) {
        queue_frame(error_body(req->id, r.error().code, r.error().message));
        return;
    }
    std::string out = result_body(req->id, *r);
    if (out.size() > max_response_frame)
        out = error_body(req->id, ErrorCode::too_large,
                         fmt::format("the result of {} is {} bytes, above the {}-byte frame limit", req->method,
                                     out.size(), max_response_frame));
    queue_frame(std::move(out));
}

void Connection::subscribe(const Request& req)
{
    if (subscribed_) {
        queue_frame(error_body(req.id, ErrorCode::conflict,
                               fmt::format("this connection is already subscribed (request id {})", sub_id_)));
        return;
    }
    auto f = EventFilter::make(req.params, server_.methods_.known_event_kinds());
    if (!f) {
        queue_frame(error_body(req.id, ErrorCode::invalid_params, f.error().message()));
        return;
    }
    if (f->jq()) {
        std::weak_ptr<Connection> weak = shared_from_this();
        auto w = JqWorker::start(
            server_.io_, server_.opts_.jq_worker, f->jq()->expression(), server_.opts_.jq_budget,
            [weak](const std::shared_ptr<const std::string>& ev) {
                if (auto self = weak.lock())
                    self->enqueue_event(ev);
            },
            [weak](const std::string& reason) {
                auto self = weak.lock();
                if (!self)
                    return;
                self->server_.log_->warn("connection {} (pid {}): {}; subscription dropped", self->id_,
                                         self->peer_.pid, reason);
                self->fail_and_close(self->sub_id_, ErrorCode::failed, fmt::format("{}; subscription dropped", reason));
            });
        if (!w) {
            queue_frame(error_body(req.id, ErrorCode::failed, w.error().message()));
            return;
        }
        jq_ = std::move(*w);
    }
    filter_ = std::move(*f);
    sub_id_ = req.id;
    prefix_ = event_prefix(req.id);
    // The answer goes first; events queue behind it.
    queue_frame(result_body(req.id, fmt::format("{{\"subscribed\":true,\"queue_limit\":{{\"events\":{},\"bytes\":{}}}}}",
                                                server_.opts_.subscriber_queue, max_queued_event_bytes)));
    subscribed_ = true;
    server_.services_.subscribers.add(this);
    server_.log_->info("connection {} (pid {}) subscribed to {}", id_, peer_.pid, filter_.describe());
}

void Connection::deliver(const std::shared_ptr<const std::string>& event)
{
    if (closing_ || closed_)
        return;
    if (!jq_) {
        enqueue_event(event);
        return;
    }
    // Events waiting for a verdict count against the same queue limit as those waiting to be sent.
    if (jq_->pending() + events_queued_ >= server_.opts_.subscriber_queue) {
        count_drop();
        return;
    }
    jq_->submit(event);
}

void Connection::count_drop()
{
    dropped_++;
    dropped_pending_++;
    if (!drop_notice_queued_) {
        drop_notice_queued_ = true;
        out_.push_back(OutFrame{OutFrame::Type::dropped, {}, {}, nullptr});
        write_more();
    }
}

void Connection::enqueue_event(const std::shared_ptr<const std::string>& event)
{
    if (closing_ || closed_)
        return;
    size_t body = prefix_.size() + event->size() + 1;
    if (events_queued_ >= server_.opts_.subscriber_queue || event_bytes_queued_ + event->size() > max_queued_event_bytes ||
        body > max_response_frame) {
        count_drop();
        return;
    }
    OutFrame f{OutFrame::Type::event, {}, encode_length(static_cast<uint32_t>(body)), event};
    out_.push_back(std::move(f));
    events_queued_++;
    event_bytes_queued_ += event->size();
    delivered_++;
    write_more();
}

void Connection::queue_frame(std::string body)
{
    if (closed_)
        return;
    std::string f = frame(body);
    response_bytes_ += f.size();
    out_.push_back(OutFrame{OutFrame::Type::bytes, std::move(f), {}, nullptr});
    write_more();
}

void Connection::write_more()
{
    if (in_flight_ || out_.empty() || closed_)
        return;
    static const char suffix = '}';
    batch_.clear();
    size_t bytes = 0;
    for (auto& f : out_) {
        if (in_flight_ == write_batch_frames || bytes >= write_batch_bytes)
            break;
        switch (f.type) {
        case OutFrame::Type::bytes:
            batch_.emplace_back(asio::buffer(f.bytes));
            bytes += f.bytes.size();
            break;
        case OutFrame::Type::event:
            batch_.emplace_back(asio::buffer(f.len));
            batch_.emplace_back(asio::buffer(prefix_));
            batch_.emplace_back(asio::buffer(*f.event));
            batch_.emplace_back(asio::buffer(&suffix, 1));
            bytes += f.len.size() + prefix_.size() + f.event->size() + 1;
            break;
        case OutFrame::Type::dropped:
            // Written now, so it counts every drop up to this point.
            f.bytes = frame(dropped_body(sub_id_, dropped_pending_, dropped_));
            dropped_pending_ = 0;
            drop_notice_queued_ = false;
            batch_.emplace_back(asio::buffer(f.bytes));
            bytes += f.bytes.size();
            break;
        }
        in_flight_++;
    }
    asio::async_write(socket_, batch_, [self = shared_from_this()](boost::system::error_code ec, size_t) {
        if (self->closed_)
            return;
        for (size_t i = 0; i < self->in_flight_; ++i) {
            OutFrame& f = self->out_.front();
            if (f.type == OutFrame::Type::event) {
                self->events_queued_--;
                self->event_bytes_queued_ -= f.event->size();
            } else if (f.type == OutFrame::Type::bytes) {
                self->response_bytes_ -= f.bytes.size();
            }
            self->out_.pop_front();
        }
        self->in_flight_ = 0;
        if (ec) {
            self->server_.log_->debug("connection {}: write failed: {}", self->id_, ec.message());
            self->close();
            return;
        }
        if (self->out_.empty() && self->closing_) {
            self->close();
            return;
        }
        self->write_more();
        if (!self->backlogged() && !self->closing_) {
            self->process_input();
            self->read_more();
        }
    });
}

void Connection::fail_and_close(std::optional<uint64_t> id, ErrorCode code, std::string message)
{
    if (closing_ || closed_)
        return;
    server_.log_->debug("connection {}: {}: {}", id_, to_string(code), message);
    // Queued events are abandoned; the error is the last thing the peer reads.
    while (out_.size() > in_flight_) {
        if (out_.back().type == OutFrame::Type::event) {
            events_queued_--;
            event_bytes_queued_ -= out_.back().event->size();
        }
        out_.pop_back();
    }
    queue_frame(error_body(id, code, message));
    read_done_ = true;
    close_when_flushed();
}

void Connection::close_when_flushed()
{
    if (subscribed_) {
        server_.services_.subscribers.remove(this);
        subscribed_ = false;
    }
    if (jq_)
        jq_->stop();
    closing_ = true;
    if (out_.empty()) {
        close();
        return;
    }
    // A peer that does not read its last frames does not keep the connection.
    timer_armed_ = false;
    timer_.expires_after(close_grace);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec)
            self->close();
    });
}

void Connection::close()
{
    if (closed_)
        return;
    if (subscribed_) {
        server_.services_.subscribers.remove(this);
        subscribed_ = false;
    }
    if (jq_)
        jq_->stop();
    closed_ = true;
    closing_ = true;
    timer_.cancel();
    boost::system::error_code ec;
    socket_.shutdown(stream::socket::shutdown_both, ec);
    socket_.close(ec);
    server_.log_->debug("connection {} closed", id_);
    server_.forget(id_); // may drop the last reference but one: handlers hold their own
}

// ---- server ---------------------------------------------------------------------------------

ApiServer::ApiServer(asio::io_context& io, ApiServerOptions opts, AgentServices& services)
    : io_(io), opts_(std::move(opts)), services_(services), methods_(services), acceptor_(io), retry_timer_(io),
      idle_timer_(io),
      log_(log::get("api"))
{
}

Result<std::unique_ptr<ApiServer>> ApiServer::make(asio::io_context& io, ApiServerOptions opts, AgentServices& services)
{
    std::unique_ptr<ApiServer> s(new ApiServer(io, std::move(opts), services));
    if (auto r = s->listen(); !r)
        return std::unexpected(r.error());
    s->accept();
    s->arm_idle_sweep();
    return s;
}

bool ApiServer::close_idle(std::chrono::steady_clock::duration at_least, const char* why)
{
    auto now = std::chrono::steady_clock::now();
    std::shared_ptr<Connection> oldest;
    std::chrono::steady_clock::time_point since;
    for (auto& [id, c] : conns_) {
        auto t = c->idle_since();
        if (t && now - *t >= at_least && (!oldest || *t < since)) {
            oldest = c;
            since = *t;
        }
    }
    if (!oldest)
        return false;
    oldest->close_idle(why);
    return true;
}

void ApiServer::arm_idle_sweep()
{
    idle_timer_.expires_after(std::min<std::chrono::milliseconds>(opts_.idle_timeout, std::chrono::seconds(5)));
    idle_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || stopped_)
            return;
        while (close_idle(opts_.idle_timeout, "idle for too long"))
            ;
        arm_idle_sweep();
    });
}

Result<void> ApiServer::listen()
{
    namespace fs = std::filesystem;
    const std::string path = opts_.socket_path.string();
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        return fail(Errc::invalid_input, "API socket path \"{}\" must be 1 to {} bytes", path, sizeof addr.sun_path - 1);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

    fs::path dir = opts_.socket_path.parent_path();
    std::error_code ec;
    if (!dir.empty() && !fs::exists(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec)
            return fail_errno(Errc::io, ec.value(), "creating {} for the API socket", dir.string());
        ::chmod(dir.c_str(), 0755);
    }

    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return fail_errno(Errc::io, errno, "creating the API socket");

    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return fail(Errc::conflict, "{} exists and is not a socket; not replacing it", path);
        Fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (probe.valid() && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0)
            return fail(Errc::conflict, "{} is in use: another vigild is serving it", path);
        if (::unlink(path.c_str()) != 0)
            return fail_errno(Errc::io, errno, "removing the stale API socket {}", path);
        log_->info("removed stale API socket {}", path);
    }

    // The socket file is created 0600: nobody else may connect even for a moment.
    mode_t old = ::umask(0177);
    int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    int err = errno;
    ::umask(old);
    if (rc != 0)
        return fail_errno(Errc::io, err, "binding the API socket {}", path);
    if (::chown(path.c_str(), 0, 0) != 0 && ::geteuid() == 0)
        log_->warn("chown root:root {}: {}", path, std::strerror(errno));
    if (::chmod(path.c_str(), 0600) != 0)
        return fail_errno(Errc::io, errno, "chmod 0600 {}", path);
    if (::listen(fd.get(), 64) != 0)
        return fail_errno(Errc::io, errno, "listening on {}", path);
    if (::stat(path.c_str(), &st) == 0) {
        sock_dev_ = st.st_dev;
        sock_ino_ = st.st_ino;
    }
    boost::system::error_code bec;
    acceptor_.assign(stream(), fd.release(), bec);
    if (bec)
        return fail(Errc::io, "API socket {}: {}", path, bec.message());
    log_->info("API listening on {}", path);
    return {};
}

void ApiServer::accept()
{
    acceptor_.async_accept([this](boost::system::error_code ec, stream::socket socket) {
        if (ec == asio::error::operation_aborted || stopped_)
            return;
        if (ec) {
            // Out of fds and the like: try again shortly rather than spin.
            log_->warn("API accept failed: {}", ec.message());
            retry_timer_.expires_after(std::chrono::milliseconds(100));
            retry_timer_.async_wait([this](boost::system::error_code e) {
                if (!e && !stopped_)
                    accept();
            });
            return;
        }
        uint64_t id = next_id_++;
        // Idle connections cannot lock the CLI out: the longest idle one gives way.
        if (conns_.size() >= opts_.max_connections)
            close_idle(std::chrono::steady_clock::duration::zero(),
                       "all API connections were taken; the longest idle one was closed for a new one");
        size_t open = 0;
        for (const auto& [cid, conn] : conns_)
            open += !conn->closing();
        bool over = open >= opts_.max_connections;
        auto c = std::make_shared<Connection>(*this, std::move(socket), id);
        conns_.emplace(id, c);
        c->start(over);
        accept();
    });
}

void ApiServer::stop()
{
    if (stopped_)
        return;
    stopped_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_timer_.cancel();
    idle_timer_.cancel();
    auto conns = conns_;
    for (auto& [id, c] : conns)
        c->close();
    conns_.clear();
    struct stat st{};
    const std::string path = opts_.socket_path.string();
    // Only our own socket: a newer vigild may already have replaced it.
    if (::lstat(path.c_str(), &st) == 0 && st.st_dev == sock_dev_ && st.st_ino == sock_ino_)
        ::unlink(path.c_str());
}

ApiServer::~ApiServer() { stop(); }

} // namespace vigil::api
