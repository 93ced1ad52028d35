// A blocking client of the vigil API, for the CLI and tests: connect, send requests, read frames.
#pragma once

#include "api/protocol.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace vigil::api {

class Client {
public:
    // Errc::io with the connect errno (ENOENT, ECONNREFUSED, EACCES, ...) when it fails.
    [[nodiscard]] static Result<Client> connect(const std::filesystem::path& socket_path);

    // Sends {"v":1,"id":…,"method":method,"params":params_json}; returns the id used.
    [[nodiscard]] Result<uint64_t> send(std::string_view method, std::string_view params_json);
    // One frame's body. timeout_ms < 0 waits for ever. Errc::io when the connection ends,
    // Errc::unsupported (no errno) on timeout, Errc::invalid_input on a frame above the limit.
    [[nodiscard]] Result<std::string> read_frame(int timeout_ms);
    // Sends a request and reads frames until its answer (an error answer is a Reply too).
    [[nodiscard]] Result<Reply> call(std::string_view method, std::string_view params_json = "{}",
                                     int timeout_ms = 30000);

    // Whether a whole frame is already buffered (read_frame returns it without waiting).
    bool has_buffered_frame() const
    {
        return in_.size() >= frame_header_size && in_.size() - frame_header_size >= decode_length(in_.data());
    }
    int fd() const { return fd_.get(); }

private:
    explicit Client(Fd fd) : fd_(std::move(fd)) {}
    Fd fd_;
    uint64_t next_id_ = 1;
    std::string in_;
};

// True when a read_frame error is a timeout.
inline bool is_timeout(const Error& e) { return e.code == Errc::unsupported && e.sys_errno == 0; }

} // namespace vigil::api
