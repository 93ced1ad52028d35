// The API's pieces that need no kernel: request and reply parsing, framing, event filters with
// jq, and the [api] / [metrics] config keys.
#include "api/event_filter.hpp"
#include "api/protocol.hpp"
#include "api/subscribers.hpp"
#include "core/config.hpp"
#include "core/printable.hpp"
#include "export/filter.hpp"
#include "export/pipeline.hpp"
#include "process/cache.hpp"
#include "process_fixtures.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace vigil;
using namespace vigil::api;

namespace {

JsonValue parse(std::string_view text)
{
    auto v = JsonValue::parse(text);
    REQUIRE(v);
    return *v;
}

const std::set<std::string> kinds = {"process_exec", "process_kprobe"};

constexpr std::string_view exec_event =
    R"({"process_exec":{"process":{"exec_id":"x","pid":42,"binary":"/usr/bin/curl","pod":{"namespace":"web"}},)"
    R"("parent":{}},"node_name":"n","time":"2024-01-01T00:00:00.000000000Z"})";
constexpr std::string_view kprobe_event =
    R"({"process_kprobe":{"process":{"pid":7,"binary":"/bin/cat"},"function_name":"fd_install",)"
    R"("policy_name":"files"},"node_name":"n","time":"2024-01-01T00:00:00.000000000Z"})";

bool passes(std::string_view params, std::string_view event)
{
    auto f = EventFilter::make(parse(params), kinds);
    REQUIRE(f);
    EventView v(event);
    // The jq expression runs in a worker process in vigild; its semantics are JqProgram's.
    return f->matches(v) && (!f->jq() || f->jq()->matches(v.doc()));
}

std::string filter_error(std::string_view params)
{
    auto f = EventFilter::make(parse(params), kinds);
    REQUIRE(!f);
    return f.error().message();
}

} // namespace

TEST_CASE("frames carry a big-endian length", "[unit][api]")
{
    CHECK(frame("{}") == std::string("\0\0\0\x02{}", 6));
    auto h = encode_length(0x01020304);
    CHECK(decode_length(h.data()) == 0x01020304u);
    CHECK(decode_length("\xff\xff\xff\xff") == 0xffffffffu);
}

TEST_CASE("requests are checked against protocol version 1", "[unit][api]")
{
    auto ok = parse_request(R"({"v":1,"id":7,"method":"status"})");
    REQUIRE(ok);
    CHECK(ok->id == 7);
    CHECK(ok->method == "status");
    CHECK(ok->params.is_object());

    auto code_of = [](std::string_view body) { return parse_request(body).error().code; };
    CHECK(code_of("nope") == ErrorCode::parse_error);
    CHECK(code_of("1") == ErrorCode::invalid_request);
    CHECK(code_of(R"({"v":1,"method":"status"})") == ErrorCode::invalid_request);
    CHECK(code_of(R"({"v":1,"id":1.5,"method":"status"})") == ErrorCode::invalid_request);
    CHECK(code_of(R"({"v":1,"id":9007199254740992,"method":"status"})") == ErrorCode::invalid_request);
    CHECK(code_of(R"({"id":1,"method":"status"})") == ErrorCode::invalid_request);
    CHECK(code_of(R"({"v":"1","id":1,"method":"status"})") == ErrorCode::unsupported_version);
    CHECK(code_of(R"({"v":1,"id":1,"method":""})") == ErrorCode::invalid_request);
    CHECK(code_of(R"({"v":1,"id":1,"method":"status","params":"x"})") == ErrorCode::invalid_params);
    CHECK(code_of(R"({"v":1,"id":1,"method":"status","x":0})") == ErrorCode::invalid_request);
    // The id is echoed whenever it could be read.
    CHECK(parse_request(R"({"v":3,"id":5,"method":"status"})").error().id == 5u);
    CHECK(!parse_request("[").error().id);
}

TEST_CASE("JSON nesting is bounded before libjq parses it", "[unit][api]")
{
    std::string deep = std::string(JsonValue::max_depth + 1, '[') + std::string(JsonValue::max_depth + 1, ']');
    auto r = JsonValue::parse(deep);
    REQUIRE(!r);
    CHECK(r.error().message().find("nested deeper than") != std::string::npos);
    std::string ok = std::string(JsonValue::max_depth, '[') + std::string(JsonValue::max_depth, ']');
    CHECK(JsonValue::parse(ok));
    // Brackets inside strings do not count.
    CHECK(JsonValue::parse("\"" + std::string(1000, '[') + "\""));
}

TEST_CASE("malformed JSON is refused before libjq parses it", "[unit][api]")
{
    // Found by fuzz/api_frames: libjq 1.6 leaks a string on the first three (the sanitizer run
    // of this test would report it) and reads the fourth as [1].
    using namespace std::string_view_literals;
    struct Case {
        std::string_view text, message;
    };
    const Case cases[] = {
        {R"({"k" 1})"sv, "parse error at line 1, column 6: syntax error while parsing object separator - "
                         "unexpected number literal; expected ':'"sv},
        {"\"ab\"\0"sv, "a NUL byte at byte 4 (JSON has none outside escapes)"sv},
        {"{\"v\":1,\"id\":7\0\0\0dthod\":\"x\"}"sv, "a NUL byte at byte 13 (JSON has none outside escapes)"sv},
        {"[1\0]"sv, "a NUL byte at byte 2 (JSON has none outside escapes)"sv},
        {"{\"a\":1} trailing"sv, ""sv},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        auto r = JsonValue::parse(c.text);
        REQUIRE(!r);
        if (!c.message.empty())
            CHECK(r.error().message() == c.message);
        else
            CHECK(r.error().message().starts_with("parse error at line 1, column "));
    }
    auto ok = JsonValue::parse(R"({"k":["\u0000",1.5e3,null,true]})");
    REQUIRE(ok);
    CHECK(ok->get("k").at(1).number() == 1500.0);
}

TEST_CASE("replies: results, errors, events with their own bytes, drop notices", "[unit][api]")
{
    std::string body = result_body(3, R"({"a":1})");
    auto r = parse_reply(body);
    REQUIRE(r);
    CHECK(r->kind == Reply::Kind::result);
    CHECK(r->id == 3u);
    CHECK(r->value.get("a").integer(0, 10) == 1);

    body = error_body(std::nullopt, ErrorCode::frame_too_large, "too \"big\"");
    r = parse_reply(body);
    REQUIRE(r);
    CHECK(r->kind == Reply::Kind::error);
    CHECK(!r->id);
    CHECK(r->code == "frame_too_large");
    CHECK(r->message == "too \"big\"");

    body = event_prefix(9) + std::string(exec_event) + "}";
    r = parse_reply(body);
    REQUIRE(r);
    CHECK(r->kind == Reply::Kind::event);
    CHECK(r->event_json == exec_event);

    body = dropped_body(9, 5, 12);
    r = parse_reply(body);
    REQUIRE(r);
    CHECK(r->kind == Reply::Kind::dropped);
    CHECK(r->dropped == 5);
    CHECK(r->dropped_total == 12);

    CHECK(!parse_reply(R"({"v":2,"id":1,"result":{}})"));
    CHECK(!parse_reply(R"({"v":1,"id":1})"));
}

TEST_CASE("event filters: each criterion, AND across, OR within", "[unit][api]")
{
    CHECK(passes("{}", exec_event));
    CHECK(passes(R"({"event_types":["process_exec"]})", exec_event));
    CHECK(passes(R"({"event_types":["PROCESS_EXEC"]})", exec_event));
    CHECK(!passes(R"({"event_types":["process_kprobe"]})", exec_event));
    CHECK(passes(R"({"event_types":["process_kprobe","process_exec"]})", exec_event));
    CHECK(passes(R"({"process":"curl$"})", exec_event));
    CHECK(!passes(R"({"process":"^curl"})", exec_event));
    CHECK(passes(R"({"pids":[1,42]})", exec_event));
    CHECK(!passes(R"({"pids":[43]})", exec_event));
    CHECK(passes(R"({"namespaces":["web"]})", exec_event));
    CHECK(!passes(R"({"namespaces":["web"]})", kprobe_event)); // no pod: the "" namespace
    CHECK(passes(R"({"namespaces":[""]})", kprobe_event));
    CHECK(!passes(R"({"namespaces":[""]})", exec_event));
    CHECK(passes(R"({"policy_names":["files"]})", kprobe_event));
    CHECK(!passes(R"({"policy_names":["files"]})", exec_event));
    CHECK(!passes(R"({"process":"curl","pids":[7]})", exec_event));
    CHECK(passes(R"({"process":"curl","pids":[42],"event_types":["process_exec"]})", exec_event));
    CHECK(passes("{}", "not json")); // no filter: forwarded untouched, never parsed
    CHECK(!passes(R"({"pids":[42]})", "not json"));
}

TEST_CASE("regex filters take linear time: a backtracking pattern cannot stall the agent", "[unit][api]")
{
    // (a+)+b against a run of a's without a b is exponential for a backtracking engine (over a
    // minute at 30 a's); the API filter and the export binary_regex must answer at once.
    std::string name = "/tmp/" + std::string(30, 'a');
    std::string event = R"({"process_exec":{"process":{"pid":1,"binary":")" + name + R"("}},"node_name":"n"})";
    auto start = std::chrono::steady_clock::now();
    CHECK(!passes(R"({"process":"(a+)+b"})", event));
    ExportFilterConfig cfg;
    cfg.binary_regex = "(a+)+b";
    auto ef = ExportFilter::make(cfg, "export.allow");
    REQUIRE(ef);
    ProcessEntry pe;
    pe.binary = name;
    CHECK(!ef->matches("process_exec", 1, &pe));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
    // Backreferences are what makes a regex engine exponential: refused with RE2's reason.
    CHECK(filter_error(R"({"process":"(a)\\1"})").find("not a valid regular expression") != std::string::npos);
}

TEST_CASE("jq filters: only a first output of true passes", "[unit][api]")
{
    CHECK(passes(R"({"filter":".process_kprobe.function_name == \"fd_install\""})", kprobe_event));
    CHECK(!passes(R"({"filter":".process_kprobe.function_name == \"other\""})", kprobe_event));
    CHECK(!passes(R"({"filter":".process_exec.process.pid"})", exec_event)); // 42 is not true
    CHECK(!passes(R"({"filter":"empty"})", exec_event));
    CHECK(passes(R"({"filter":"true, false"})", exec_event));
    CHECK(passes(R"j({"filter":"has(\"process_exec\")"})j", exec_event));

    auto f = EventFilter::make(parse(R"({"filter":".node_name | keys"})"), kinds); // a run-time error
    REQUIRE(f);
    EventView v(exec_event);
    REQUIRE(f->jq());
    CHECK(!f->jq()->matches(v.doc()));
    CHECK(f->jq()->errors() == 1);
}

TEST_CASE("event filter parameters are checked", "[unit][api]")
{
    CHECK(filter_error(R"({"filter":"foo("})").find("does not compile") != std::string::npos);
    CHECK(filter_error(R"({"event_types":["nope"]})") ==
          "unknown event type \"nope\" (the loaded plugins emit: process_exec, process_kprobe)");
    CHECK(filter_error(R"({"process":"("})").find("not a valid regular expression") != std::string::npos);
    CHECK(filter_error(R"({"pids":["1"]})").find("params.pids[0] must be a process id") != std::string::npos);
    CHECK(filter_error(R"({"binary":"x"})").find("unknown parameter \"binary\"") != std::string::npos);
    CHECK(filter_error(R"({"policy_names":[""]})").find("non-empty") != std::string::npos);
}

TEST_CASE("[api] socket and [metrics] port/address config keys", "[unit][api][config]")
{
    auto dflt = parse_config("", "t.toml");
    REQUIRE(dflt);
    CHECK(dflt->api.socket == "/run/vigil/vigil.sock");
    CHECK(dflt->metrics.port == 0);

    auto c = parse_config("[api]\nsocket = \"/tmp/x.sock\"\n[metrics]\nport = 9100\naddress = \"::1\"\n", "t.toml");
    REQUIRE(c);
    CHECK(c->api.socket == "/tmp/x.sock");
    CHECK(c->metrics.port == 9100);
    CHECK(c->metrics.address == "::1");
    CHECK(parse_config("[metrics]\nport = 9100\naddress = \"127.0.0.2\"\n", "t.toml"));

    auto err = [](std::string_view text) {
        auto r = parse_config(text, "t.toml");
        REQUIRE(!r);
        return r.error().message();
    };
    CHECK(err("[metrics]\nport = 70000\n") == "t.toml:2:8: metrics.port must be between 1 and 65535, not 70000");
    CHECK(err("[metrics]\nport = 9100\naddress = \"0.0.0.0\"\n") ==
          "t.toml:3:11: metrics.address must be a loopback address (127.0.0.0/8 or ::1), not \"0.0.0.0\"");
    CHECK(err("[metrics]\naddress = \"localhost\"\n").find("must be a loopback address") != std::string::npos);
    CHECK(err("[metrics]\nprot = 1\n") == "t.toml:2:1: unknown key metrics.prot");
    CHECK(err("[api]\nsocket = \"rel.sock\"\n") ==
          "t.toml:2:10: api.socket must be an absolute path of at most 107 bytes, not \"rel.sock\"");
    CHECK(err("[api]\nsockets = \"/x\"\n") == "t.toml:2:1: unknown key api.sockets");
}

namespace {

struct CountingSink : Sink {
    size_t* n;
    explicit CountingSink(size_t* count) : n(count) {}
    void write(std::string_view) override { ++*n; }
    void flush() override {}
};

struct Recorder : EventSubscriber {
    EventFilter f;
    std::vector<std::string> got;
    EventFilter& filter() override { return f; }
    void deliver(const std::shared_ptr<const std::string>& event) override { got.push_back(*event); }
    SubscriberStats stats() const override { return {}; }
};

} // namespace

TEST_CASE("API subscribers get events the export filters hold back, and cost nothing when absent", "[unit][api]")
{
    ProcessCache cache{"n", 128};
    PipelineOptions opts;
    opts.deny.event_types = {"process_exec"}; // nothing goes to the exporters
    auto pipeline = EventPipeline::make("n", cache, std::move(opts));
    REQUIRE(pipeline);
    size_t exported = 0;
    SubscriberHub hub;
    (*pipeline)->add_sink(std::make_unique<CountingSink>(&exported), Format::json);
    (*pipeline)->add_sink(hub.make_sink(), Format::json, SinkScope::unfiltered);

    auto exec = [&](uint32_t pid) {
        vigil_process_update u = test::exec_update(pid, 1000 + pid, 1, 0, "/bin/true");
        vigil_event ev{};
        ev.struct_size = sizeof ev;
        ev.pid = pid;
        ev.tid = pid;
        ev.ktime = u.ktime;
        ev.proc_ktime = u.ktime;
        ev.kind = "process_exec";
        ev.process = &u;
        (*pipeline)->on_event("tracepoint", ev);
    };
    exec(10); // no subscriber: the hub's sink is inactive
    Recorder r;
    hub.add(&r);
    exec(11);
    hub.remove(&r);
    exec(12);
    CHECK(exported == 0);
    REQUIRE(r.got.size() == 1);
    auto ev = JsonValue::parse(r.got[0]);
    REQUIRE(ev);
    CHECK(ev->get("process_exec").get("process").get("pid").integer(0, 100) == 11);
    CHECK((*pipeline)->stats().filtered == 3);
}

TEST_CASE("human output escapes controls and Unicode bidi overrides", "[unit][api]")
{
    CHECK(printable("plain /usr/bin/é") == "plain /usr/bin/é");
    CHECK(printable("a\nb\tc\x1b[31m") == "a\\nb\\tc\\x1b[31m");
    // U+202E RIGHT-TO-LEFT OVERRIDE and U+2066 LEFT-TO-RIGHT ISOLATE, U+200F RIGHT-TO-LEFT MARK
    CHECK(printable("evil\xe2\x80\xaetxt.exe") == "evil\\xe2\\x80\\xaetxt.exe");
    CHECK(printable("\xe2\x81\xa6x\xe2\x81\xa9") == "\\xe2\\x81\\xa6x\\xe2\\x81\\xa9");
    CHECK(printable("\xe2\x80\x8f") == "\\xe2\\x80\\x8f");
    CHECK(printable("\xe2\x80\xa9") == "\\xe2\\x80\\xa9"); // U+2029 PARAGRAPH SEPARATOR
    CHECK(printable("\xc2\x9b") == "\\xc2\\x9b"); // C1 CSI
    CHECK(printable("\xe2\x80\x94") == "\xe2\x80\x94"); // an em dash stays
    CHECK(printable(std::string_view("a\0b", 3)) == "a\\x00b");
}

TEST_CASE("process_flags selects fileless execs in API and export filters", "[unit][api]")
{
    std::string fileless = R"j({"process_exec":{"process":{"pid":9,"binary":"/memfd:x (deleted)",)j"
                           R"j("flags":"execve fileless"}},"node_name":"n"})j";
    CHECK(passes(R"({"process_flags":["fileless"]})", fileless));
    CHECK(!passes(R"({"process_flags":["fileless"]})", exec_event));
    CHECK(filter_error(R"({"process_flags":["filless"]})").find("unknown flag \"filless\"") != std::string::npos);

    ExportFilterConfig cfg;
    cfg.process_flags = {"fileless"};
    auto f = ExportFilter::make(cfg, "export.allow");
    REQUIRE(f);
    ProcessEntry pe;
    pe.flags = VIGIL_PROC_F_EXECVE;
    CHECK(!f->matches("process_exec", 1, &pe));
    pe.flags |= VIGIL_PROC_F_FILELESS;
    CHECK(f->matches("process_exec", 1, &pe));
    cfg.process_flags = {"nope"};
    CHECK(!ExportFilter::make(cfg, "export.allow"));
}

TEST_CASE("[agent] trace_self and the [api] jq budgets are read", "[unit][api]")
{
    auto c = parse_config("[agent]\ntrace_self = true\n[api]\njq_time_budget_ms = 50\njq_memory_budget_mb = 100\n", "t.toml");
    REQUIRE(c);
    CHECK(c->trace_self);
    CHECK(c->api.jq_time_budget_ms == 50);
    CHECK(c->api.jq_memory_budget_mb == 100);
    CHECK(!parse_config("[agent]\n", "t.toml")->trace_self);
    CHECK(!parse_config("[api]\njq_memory_budget_mb = 1\n", "t.toml"));
}

TEST_CASE("event filters by workload: pod name regex, pod labels, container id", "[unit][api][workloads]")
{
    constexpr std::string_view in_pod =
        R"({"process_exec":{"process":{"pid":42,"binary":"/bin/sh","docker":"551e161c47d8ff0eb665438a7bcd5b4",)"
        R"("pod":{"namespace":"shop","name":"cart-7d9f8b6c5d-x2x4z","pod_labels":{"app":"cart","tier":"front"},)"
        R"("container":{"id":"containerd://551e161c47d8ff0eb665438a7bcd5b4e3ef5a297282b40a92b7c77d6bd168eb3"}}},)"
        R"("parent":{}},"node_name":"n","time":"2024-01-01T00:00:00.000000000Z"})";
    constexpr std::string_view plain =
        R"({"process_exec":{"process":{"pid":43,"binary":"/bin/sh","docker":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},)"
        R"("parent":{}},"node_name":"n","time":"2024-01-01T00:00:00.000000000Z"})";
    CHECK(passes(R"({"pod_regex":["^cart-"]})", in_pod));
    CHECK(passes(R"({"pod_regex":["^web-","x2x4z$"]})", in_pod));
    CHECK(!passes(R"({"pod_regex":["^web-"]})", in_pod));
    CHECK(!passes(R"({"pod_regex":["."]})", plain)); // no pod
    CHECK(passes(R"j({"labels":["app=cart,tier in (front,back)"]})j", in_pod));
    CHECK(!passes(R"({"labels":["app=cart,!tier"]})", in_pod));
    CHECK(passes(R"({"labels":["app=web","tier"]})", in_pod)); // any selector
    CHECK(!passes(R"({"labels":["tier!=db"]})", plain));
    CHECK(passes(R"({"container_id":["68eb3$"]})", in_pod)); // the full id once the pod is described
    CHECK(passes(R"({"container_id":["^b+$"]})", plain));    // else "docker"
    CHECK(!passes(R"({"container_id":["^551e"]})", plain));
    CHECK(!passes(R"({"container_id":["."]})", kprobe_event)); // a host process
    CHECK(filter_error(R"({"labels":["app in web"]})") ==
          "params.labels: label selector \"app in web\": \"app in web\": the values of in / notin go in "
          "parentheses: key in (a,b)");
    CHECK(filter_error(R"j({"pod_regex":["(x"]})j").starts_with("params.pod_regex \"(x\" is not a valid regular expression"));
}
