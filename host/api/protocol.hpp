// The vigil API wire protocol, version 1 (docs/api.md): frames of a u32 big-endian length and
// a JSON body; requests {"v":1,"id":N,"method":...,"params":{...}}, responses with "result" or
// "error", and event / drop frames on a subscription. Shared by vigild's server and the CLI.
#pragma once

#include "api/json_value.hpp"
#include "core/error.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::api {

inline constexpr int protocol_version = 1;
inline constexpr const char* default_socket_path = "/run/vigil/vigil.sock";
// Largest request body the server reads; a bigger length prefix is answered and the
// connection closed (the stream cannot be resynchronised).
inline constexpr uint32_t max_request_frame = 1u << 20;
// Largest frame the server sends; a result that would be larger is an error instead.
inline constexpr uint32_t max_response_frame = 16u << 20;
inline constexpr size_t frame_header_size = 4;

// Error codes ("code" of an error response).
enum class ErrorCode {
    parse_error,         // the body is not JSON
    invalid_request,     // not a request object (v, id, method)
    unsupported_version, // "v" is not a version this server speaks
    frame_too_large,     // length prefix above max_request_frame; the connection is closed
    truncated_frame,     // the peer ended the stream inside a frame
    frame_timeout,       // a started frame did not complete in time; the connection is closed
    unknown_method,
    invalid_params,
    not_found,
    conflict,
    unavailable,         // the feature behind the method is not in this vigild
    failed,              // the operation was attempted and failed (e.g. a plugin did not start)
    too_large,           // the result would exceed max_response_frame
    permission_denied,   // the peer is not root; the connection is closed
    busy,                // too many connections; the connection is closed
    internal,
};
const char* to_string(ErrorCode c);
ErrorCode error_code_for(Errc e);

std::array<char, frame_header_size> encode_length(uint32_t n);
uint32_t decode_length(const char* p);

// A frame: length prefix + body.
std::string frame(std::string_view body);

// Response bodies. `id` is the request id, nullopt when it could not be read (JSON null).
std::string result_body(std::optional<uint64_t> id, std::string_view result_json);
std::string error_body(std::optional<uint64_t> id, ErrorCode code, std::string_view message);
// The prefix of every event frame body of a subscription; the body is prefix + event + "}".
std::string event_prefix(uint64_t id);
std::string dropped_body(uint64_t id, uint64_t count, uint64_t total);

inline constexpr uint64_t max_request_id = (1ull << 53) - 1; // exact in a JSON double

struct Request {
    uint64_t id = 0;
    std::string method;
    JsonValue params; // an object (empty when the request had none)
};

struct RequestError {
    std::optional<uint64_t> id;
    ErrorCode code;
    std::string message;
};

// Checks one request body against the protocol.
std::expected<Request, RequestError> parse_request(std::string_view body);

// What a client reads: a response to `id`, an event of a subscription, or a drop notice.
struct Reply {
    enum class Kind { result, error, event, dropped } kind;
    std::optional<uint64_t> id;
    JsonValue value;             // result, event, or the error object
    std::string_view event_json; // the event's own bytes inside the body (Kind::event)
    std::string code, message;   // Kind::error
    uint64_t dropped = 0, dropped_total = 0;
};

// Parses a frame body the server sent. `body` must outlive the returned event_json.
[[nodiscard]] Result<Reply> parse_reply(std::string_view body);

} // namespace vigil::api
