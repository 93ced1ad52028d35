#include "api/client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstring>

namespace vigil::api {

Result<Client> Client::connect(const std::filesystem::path& socket_path)
{
    const std::string path = socket_path.string();
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        return fail(Errc::invalid_input, "socket path \"{}\" must be 1 to {} bytes", path, sizeof addr.sun_path - 1);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return fail_errno(Errc::io, errno, "socket");
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        return fail_errno(Errc::io, errno, "cannot connect to vigild at {}", path);
    return Client(std::move(fd));
}

Result<uint64_t> Client::send(std::string_view method, std::string_view params_json)
{
    uint64_t id = next_id_++;
    std::string body = fmt::format("{{\"v\":{},\"id\":{},\"method\":\"{}\",\"params\":{}}}", protocol_version, id,
                                   method, params_json);
    std::string f = frame(body);
    size_t off = 0;
    while (off < f.size()) {
        ssize_t n = ::send(fd_.get(), f.data() + off, f.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_errno(Errc::io, errno, "sending {} to vigild", method);
        off += static_cast<size_t>(n);
    }
    return id;
}

Result<std::string> Client::read_frame(int timeout_ms)
{
    using clock = std::chrono::steady_clock;
    auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        if (in_.size() >= frame_header_size) {
            uint32_t len = decode_length(in_.data());
            if (len > max_response_frame)
                return fail(Errc::invalid_input, "vigild sent a frame of {} bytes, above the {}-byte limit", len,
                            max_response_frame);
            if (in_.size() >= frame_header_size + len) {
                std::string body = in_.substr(frame_header_size, len);
                in_.erase(0, frame_header_size + len);
                return body;
            }
        }
        int wait = -1;
        if (timeout_ms >= 0) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
            if (left <= 0)
                return std::unexpected(Error{Errc::unsupported, 0, "timed out waiting for vigild"});
            wait = static_cast<int>(left);
        }
        pollfd p{fd_.get(), POLLIN, 0};
        int r = ::poll(&p, 1, wait);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return fail_errno(Errc::io, errno, "poll");
        if (r == 0)
            continue;
        char buf[65536];
        ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_errno(Errc::io, errno, "reading from vigild");
        if (n == 0)
            return fail(Errc::io, "vigild closed the connection");
        in_.append(buf, static_cast<size_t>(n));
    }
}

Result<Reply> Client::call(std::string_view method, std::string_view params_json, int timeout_ms)
{
    auto id = send(method, params_json);
    if (!id) {
        // vigild may have refused us before reading the request: its reason is in the stream.
        if (auto body = read_frame(1000)) {
            auto reply = parse_reply(*body);
            if (reply && reply->kind == Reply::Kind::error)
                return reply;
        }
        return std::unexpected(id.error());
    }
    for (;;) {
        auto body = read_frame(timeout_ms);
        if (!body)
            return std::unexpected(body.error());
        auto reply = parse_reply(*body);
        if (!reply)
            return std::unexpected(reply.error());
        // A refusal or framing error carries no id: it is the answer too.
        if ((reply->kind == Reply::Kind::result || reply->kind == Reply::Kind::error) &&
            (reply->id == *id || (!reply->id && reply->kind == Reply::Kind::error)))
            return reply;
    }
}

} // namespace vigil::api
