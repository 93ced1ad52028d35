#include "api/protocol.hpp"

#include <vigil/sdk/json.hpp>

namespace vigil::api {

const char* to_string(ErrorCode c)
{
    switch (c) {
    case ErrorCode::parse_error: return "parse_error";
    case ErrorCode::invalid_request: return "invalid_request";
    case ErrorCode::unsupported_version: return "unsupported_version";
    case ErrorCode::frame_too_large: return "frame_too_large";
    case ErrorCode::truncated_frame: return "truncated_frame";
    case ErrorCode::frame_timeout: return "frame_timeout";
    case ErrorCode::unknown_method: return "unknown_method";
    case ErrorCode::invalid_params: return "invalid_params";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::unavailable: return "unavailable";
    case ErrorCode::failed: return "failed";
    case ErrorCode::too_large: return "too_large";
    case ErrorCode::permission_denied: return "permission_denied";
    case ErrorCode::busy: return "busy";
    case ErrorCode::internal: return "internal";
    }
    return "internal";
}

ErrorCode error_code_for(Errc e)
{
    switch (e) {
    case Errc::invalid_input: return ErrorCode::invalid_params;
    case Errc::not_found: return ErrorCode::not_found;
    case Errc::conflict: return ErrorCode::conflict;
    case Errc::unsupported: return ErrorCode::unavailable;
    case Errc::io:
    case Errc::kernel:
    case Errc::plugin: return ErrorCode::failed;
    case Errc::internal: return ErrorCode::internal;
    }
    return ErrorCode::internal;
}

std::array<char, frame_header_size> encode_length(uint32_t n)
{
    return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
}

uint32_t decode_length(const char* p)
{
    auto b = [p](int i) { return static_cast<uint32_t>(static_cast<unsigned char>(p[i])); };
    return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

std::string frame(std::string_view body)
{
    std::string out;
    out.reserve(frame_header_size + body.size());
    auto h = encode_length(static_cast<uint32_t>(body.size()));
    out.append(h.data(), h.size());
    out.append(body);
    return out;
}

namespace {

void write_head(sdk::JsonWriter& w, std::optional<uint64_t> id)
{
    w.begin_object().member("v", protocol_version).key("id");
    if (id)
        w.value(*id);
    else
        w.null();
}

} // namespace

std::string result_body(std::optional<uint64_t> id, std::string_view result_json)
{
    sdk::JsonWriter w;
    write_head(w, id);
    w.key("result").raw(result_json).end_object();
    return w.take();
}

std::string error_body(std::optional<uint64_t> id, ErrorCode code, std::string_view message)
{
    sdk::JsonWriter w;
    write_head(w, id);
    w.key("error").begin_object().member("code", to_string(code)).member("message", message).end_object();
    w.end_object();
    return w.take();
}

std::string event_prefix(uint64_t id) { return fmt::format("{{\"v\":{},\"id\":{},\"event\":", protocol_version, id); }

std::string dropped_body(uint64_t id, uint64_t count, uint64_t total)
{
    return fmt::format("{{\"v\":{},\"id\":{},\"dropped\":{{\"count\":{},\"total\":{}}}}}", protocol_version, id,
                       count, total);
}

std::expected<Request, RequestError> parse_request(std::string_view body)
{
    auto doc = JsonValue::parse(body);
    if (!doc)
        return std::unexpected(RequestError{std::nullopt, ErrorCode::parse_error,
                                            fmt::format("request is not JSON: {}", doc.error().message())});
    if (!doc->is_object())
        return std::unexpected(RequestError{std::nullopt, ErrorCode::invalid_request,
                                            fmt::format("request must be a JSON object, not {}", doc->kind_name())});
    JsonValue idv = doc->get("id");
    std::optional<int64_t> id = idv.integer(0, static_cast<int64_t>(max_request_id));
    std::optional<uint64_t> uid = id ? std::optional<uint64_t>(static_cast<uint64_t>(*id)) : std::nullopt;
    if (!id)
        return std::unexpected(RequestError{
            std::nullopt, ErrorCode::invalid_request,
            idv.present() ? fmt::format("\"id\" must be an integer between 0 and 2^53-1, not {}", idv.dump())
                          : std::string("request has no \"id\"")});
    JsonValue v = doc->get("v");
    if (!v.present())
        return std::unexpected(RequestError{uid, ErrorCode::invalid_request, "request has no \"v\" (protocol version)"});
    if (v.integer(protocol_version, protocol_version) != protocol_version)
        return std::unexpected(RequestError{
            uid, ErrorCode::unsupported_version,
            fmt::format("protocol version {} is not supported (this vigild speaks {})", v.dump(), protocol_version)});
    JsonValue m = doc->get("method");
    auto method = m.string();
    if (!method || method->empty())
        return std::unexpected(RequestError{uid, ErrorCode::invalid_request,
                                            m.present() ? fmt::format("\"method\" must be a string, not {}", m.kind_name())
                                                        : std::string("request has no \"method\"")});
    for (const auto& [key, value] : doc->members())
        if (key != "v" && key != "id" && key != "method" && key != "params")
            return std::unexpected(
                RequestError{uid, ErrorCode::invalid_request, fmt::format("unknown request member \"{}\"", key)});
    Request r;
    r.id = *uid;
    r.method = std::string(*method);
    JsonValue params = doc->get("params");
    if (!params.present() || params.is_null()) {
        auto empty = JsonValue::parse("{}");
        r.params = std::move(*empty);
    } else if (!params.is_object()) {
        return std::unexpected(RequestError{uid, ErrorCode::invalid_params,
                                            fmt::format("\"params\" must be an object, not {}", params.kind_name())});
    } else {
        r.params = std::move(params);
    }
    return r;
}

Result<Reply> parse_reply(std::string_view body)
{
    auto doc = JsonValue::parse(body);
    if (!doc)
        return fail(Errc::invalid_input, "vigild sent a frame that is not JSON: {}", doc.error().message());
    if (!doc->is_object() || doc->get("v").integer(protocol_version, protocol_version) != protocol_version)
        return fail(Errc::invalid_input, "vigild sent a frame of another protocol version: {:.200}", body);
    Reply r;
    if (auto id = doc->get("id").integer(0, static_cast<int64_t>(max_request_id)))
        r.id = static_cast<uint64_t>(*id);
    if (JsonValue ev = doc->get("event"); ev.present()) {
        r.kind = Reply::Kind::event;
        // The server writes the event's bytes as they are: keep them (member order included).
        std::string prefix = r.id ? event_prefix(*r.id) : std::string();
        if (!prefix.empty() && body.starts_with(prefix) && body.ends_with('}'))
            r.event_json = body.substr(prefix.size(), body.size() - prefix.size() - 1);
        r.value = std::move(ev);
        return r;
    }
    if (JsonValue d = doc->get("dropped"); d.present()) {
        r.kind = Reply::Kind::dropped;
        r.dropped = static_cast<uint64_t>(d.get("count").integer(0, INT64_MAX).value_or(0));
        r.dropped_total = static_cast<uint64_t>(d.get("total").integer(0, INT64_MAX).value_or(0));
        return r;
    }
    if (JsonValue e = doc->get("error"); e.present()) {
        r.kind = Reply::Kind::error;
        r.code = std::string(e.get("code").string().value_or("internal"));
        r.message = std::string(e.get("message").string().value_or(""));
        r.value = std::move(e);
        return r;
    }
    JsonValue res = doc->get("result");
    if (!res.present())
        return fail(Errc::invalid_input, "vigild sent a frame with neither result, error nor event: {:.200}", body);
    r.kind = Reply::Kind::result;
    r.value = std::move(res);
    return r;
}

} // namespace vigil::api
