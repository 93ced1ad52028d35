// The API socket's input, as vigild's server reads it: a byte stream cut into frames (u32
// big-endian length + JSON body), each body checked as a request; an events.subscribe request's
// params then become an event filter, which is run over one event. Every answer the server
// would send back must itself be a well-formed frame that the CLI's reply parser accepts.
//
// The process regex also runs over a binary of 64 a's, the input that makes a backtracking engine
// exponential on patterns like (a+)+b (corpus regex-*): RE2 answers in linear time, and a slow
// answer is a hang for the fuzzer. jq programs (params.filter) are left out: libjq compiles them
// and vigild runs them in a worker process under a time and memory budget (api/jq_worker.hpp),
// which tests/e2e/security_test.cpp drives with the corpus's jq-* programs; fuzzing jq itself is
// not this harness's job.
#include "fuzz_util.hpp"

#include "api/event_filter.hpp"
#include "api/protocol.hpp"

#include <set>

namespace {

using namespace vigil;
using namespace vigil::api;

const std::set<std::string> known_kinds = {"process_exec", "process_exit", "process_tracepoint"};

// The server's answer goes through the client's parser: it must come back as what was sent.
void check_answer(const std::string& body, Reply::Kind want, std::optional<uint64_t> id)
{
    fuzz::check_json(body, "API answer");
    std::string f = frame(body);
    fuzz::check(f.size() == body.size() + frame_header_size && decode_length(f.data()) == body.size(),
                "frame length prefix");
    auto reply = parse_reply(body);
    fuzz::check(reply.has_value(), "the client cannot parse the server's answer", body);
    fuzz::check(reply->kind == want, "answer parsed as another kind", body);
    fuzz::check(reply->id == id, "answer id changed on the way", body);
}

void one_request(std::string_view body)
{
    auto req = parse_request(body);
    if (!req) {
        const RequestError& e = req.error();
        fuzz::check(!e.message.empty(), "request error without a message");
        check_answer(error_body(e.id, e.code, e.message), Reply::Kind::error, e.id);
        return;
    }
    fuzz::check(req->params.is_object(), "request params are not an object");
    check_answer(result_body(req->id, "{}"), Reply::Kind::result, req->id);
    if (req->method != "events.subscribe" || req->params.get("filter").present())
        return;
    auto filter = EventFilter::make(req->params, known_kinds);
    if (!filter) {
        fuzz::check_error_message(filter.error().message(), "EventFilter::make");
        check_answer(error_body(req->id, ErrorCode::invalid_params, filter.error().message()), Reply::Kind::error,
                     req->id);
        return;
    }
    (void)filter->describe();
    EventView ev(R"({"process_exec":{"process":{"pid":42,"binary":"/usr/bin/true","pod":{"namespace":"ns"}},)"
                 R"("policy_name":"p"},"node_name":"n","time":"2026-01-01T00:00:00Z"})");
    (void)filter->matches(ev);
    const std::string long_name = R"({"process_exec":{"process":{"pid":1,"binary":")" + std::string(64, 'a') +
                                  R"("}},"node_name":"n","time":"2026-01-01T00:00:00Z"})";
    EventView pathological(long_name);
    (void)filter->matches(pathological);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // Frames back to back, as they arrive on one connection. The server stops reading a
    // connection at a length above max_request_frame, and at a frame cut short by EOF.
    const char* p = reinterpret_cast<const char*>(data);
    size_t left = size;
    while (left >= frame_header_size) {
        uint32_t len = decode_length(p);
        p += frame_header_size;
        left -= frame_header_size;
        if (len > max_request_frame || len > left)
            break;
        one_request(std::string_view(p, len));
        p += len;
        left -= len;
    }
    // The same bytes as one body, so the JSON checks see inputs without a prefix too.
    one_request(fuzz::as_text(data, size));
    return 0;
}
