// vigild's API socket spoken to directly: permissions and peer credentials, malformed frames and
// requests, subscriptions, and a subscriber that never reads.
#include "api_env.hpp"

#include <vigil/plugin_abi.h>

#include <sys/un.h>

#include <spawn.h>
#include <thread>

namespace {

using namespace e2e;
using vigil::api::Client;
using vigil::api::JsonValue;
using vigil::api::Reply;

void send_raw(Client& c, std::string_view bytes)
{
    REQUIRE(::send(c.fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
}

Reply read_reply(Client& c, std::chrono::milliseconds timeout = 10s)
{
    auto body = c.read_frame(static_cast<int>(timeout.count()));
    REQUIRE(body);
    auto r = vigil::api::parse_reply(*body);
    REQUIRE(r);
    return *r;
}

// Sends one framed body and returns the error it must get.
Reply expect_error(Client& c, std::string_view body, const std::string& code)
{
    send_raw(c, vigil::api::frame(body));
    Reply r = read_reply(c);
    INFO(body);
    CHECK(r.kind == Reply::Kind::error);
    CHECK(r.code == code);
    return r;
}

// The connection is closed by vigild (after whatever it said).
bool closed_by_server(Client& c)
{
    auto body = c.read_frame(5000);
    return !body && body.error().code == vigil::Errc::io;
}

Reply subscribe(Client& c, std::string_view params)
{
    auto r = c.call("events.subscribe", params);
    REQUIRE(r);
    return *r;
}

} // namespace

TEST_CASE("the API socket is root's, mode 0600, and answers status", "[e2e][api]")
{
    ApiEnv env;
    auto vigild = env.start();
    struct stat st{};
    REQUIRE(::stat(env.socket.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(st.st_uid == 0);
    CHECK(st.st_gid == 0);

    auto c = env.client();
    auto id_max = std::to_string(vigil::api::max_request_id);
    send_raw(c, vigil::api::frame("{\"v\":1,\"id\":" + id_max + ",\"method\":\"status\"}"));
    Reply r = read_reply(c);
    REQUIRE(r.kind == Reply::Kind::result);
    CHECK(r.id == vigil::api::max_request_id);
    JsonValue s = r.value;
    CHECK(s.get("version").string() == VIGIL_VERSION);
    CHECK(s.get("abi").get("major").integer(0, 100) == VIGIL_ABI_MAJOR);
    bool has_ringbuf = false;
    for (size_t i = 0; i < s.get("features").size(); ++i)
        has_ringbuf |= s.get("features").at(i).get("name").string() == "ringbuf";
    CHECK(has_ringbuf);
    JsonValue p = s.get("plugins").at(0);
    CHECK(p.get("id").string() == "tracepoint");
    CHECK(p.get("state").string() == "running");
    for (const char* k : {"last_error", "records", "decode_errors", "links"})
        CHECK(p.get(k).present());
    JsonValue counters = s.get("counters");
    for (const char* k : {"events_total", "events_by_kind", "events_lost", "bpf_errors", "decode_errors"})
        CHECK(counters.get(k).present());
    CHECK(counters.get("bpf_errors").get("ringbuf_reserve").is_number());

    // vigild removes its socket when it stops.
    REQUIRE(vigild->stop(SIGTERM) != -1);
    CHECK(!fs::exists(env.socket));
}

TEST_CASE("malformed requests get an error and do not disturb another client", "[e2e][api]")
{
    ApiEnv env;
    auto vigild = env.start();
    std::string m = env.marker("vigil-marker-p");
    auto watcher = env.client();
    REQUIRE(subscribe(watcher, "{\"process\":\"vigil-marker-p$\"}").kind == Reply::Kind::result);

    auto a = env.client();
    Reply r = expect_error(a, "this is not json", "parse_error");
    CHECK(!r.id);
    expect_error(a, "[1,2]", "invalid_request");
    expect_error(a, "{\"v\":1,\"method\":\"status\"}", "invalid_request");
    expect_error(a, "{\"v\":1,\"id\":-1,\"method\":\"status\"}", "invalid_request");
    r = expect_error(a, "{\"v\":2,\"id\":3,\"method\":\"status\"}", "unsupported_version");
    CHECK(r.id == 3u);
    r = expect_error(a, "{\"v\":1,\"id\":4,\"method\":\"nope\"}", "unknown_method");
    CHECK(r.id == 4u);
    CHECK(r.message.find("unknown method \"nope\"") != std::string::npos);
    expect_error(a, "{\"v\":1,\"id\":5,\"method\":\"status\",\"params\":[]}", "invalid_params");
    expect_error(a, "{\"v\":1,\"id\":6,\"method\":\"status\",\"extra\":1}", "invalid_request");
    expect_error(a, "{\"v\":1,\"id\":7,\"method\":\"sensors.enable\",\"params\":{}}", "invalid_params");
    expect_error(a, "{\"v\":1,\"id\":8,\"method\":\"status\",\"params\":{\"x\":1}}", "invalid_params");
    expect_error(a, "", "invalid_request");
    expect_error(a, std::string(200, '[') + std::string(200, ']'), "parse_error");
    expect_error(a, "{\"v\":1,\"id\":9,\"method\":\"status\"} trailing", "parse_error");
    // The same connection still works.
    auto ok = a.call("status");
    REQUIRE(ok);
    CHECK(ok->kind == Reply::Kind::result);

    SECTION("a length prefix above the limit is answered, then the connection closes")
    {
        auto b = env.client();
        send_raw(b, std::string("\xff\xff\xff\xff", 4));
        Reply e = read_reply(b);
        CHECK(e.code == "frame_too_large");
        CHECK(closed_by_server(b));
    }
    SECTION("garbage bytes read as a huge length")
    {
        auto b = env.client();
        send_raw(b, "GET / HTTP/1.1\r\nHost: vigil\r\n\r\n");
        CHECK(read_reply(b).code == "frame_too_large");
        CHECK(closed_by_server(b));
    }
    SECTION("a frame cut short by the end of the stream")
    {
        auto b = env.client();
        send_raw(b, std::string("\0\0\0\x64", 4) + "{\"v\":1,");
        ::shutdown(b.fd(), SHUT_WR);
        Reply e = read_reply(b);
        CHECK(e.code == "truncated_frame");
        CHECK(e.message.find("7 of 100 body bytes") != std::string::npos);
        CHECK(closed_by_server(b));
    }
    SECTION("a frame that never completes times out")
    {
        auto b = env.client();
        send_raw(b, std::string("\0\0", 2));
        Reply e = read_reply(b, 10s);
        CHECK(e.code == "frame_timeout");
        CHECK(e.message.find("2 of 4 length bytes") != std::string::npos);
        CHECK(closed_by_server(b));
    }

    // Through all of that the subscriber kept its stream, and can still make requests on it.
    exec_and_wait(m);
    Reply ev = read_reply(watcher);
    REQUIRE(ev.kind == Reply::Kind::event);
    CHECK(binary_of(ev.value) == m);
    auto st = watcher.call("status");
    REQUIRE(st);
    CHECK(st->kind == Reply::Kind::result);
    CHECK(vigild->err_text().find("critical") == std::string::npos);
}

TEST_CASE("a non-root peer is refused, by the socket mode and by its credentials", "[e2e][api]")
{
    ApiEnv env;
    auto vigild = env.start();
    auto as_nobody = [&](std::vector<std::string> args) { return env.cli(std::move(args), 20s, 65534); };
    // The socket is 0600: connect() itself fails.
    auto denied = as_nobody({"status"});
    CHECK(denied.rc == 3);
    CHECK(denied.err.find("permission denied on " + env.socket.string() + ": the vigil API is for root") !=
          std::string::npos);

    // With the mode opened up, vigild checks SO_PEERCRED and says no before closing.
    REQUIRE(::chmod(env.socket.c_str(), 0666) == 0);
    auto refused = as_nobody({"status"});
    CHECK(refused.rc == 1);
    CHECK(refused.err.find("the vigil API is for root only (your uid is 65534) [permission_denied]") !=
          std::string::npos);
    auto refused_stream = as_nobody({"getevents"});
    CHECK(refused_stream.rc == 1);
    CHECK(refused_stream.err.find("[permission_denied]") != std::string::npos);
    CHECK(vigild->wait_for("refused API connection from uid 65534", true));
    REQUIRE(::chmod(env.socket.c_str(), 0600) == 0);
    // Root still gets in.
    CHECK(env.cli({"status"}).rc == 0);
}

TEST_CASE("one subscription per connection, with its parameters checked", "[e2e][api]")
{
    ApiEnv env;
    auto vigild = env.start();
    auto c = env.client();
    for (const char* bad : {"{\"pids\":5}", "{\"pids\":[0]}", "{\"process\":7}", "{\"filter\":\"\"}",
                            "{\"event_types\":[\"\"]}", "{\"namespaces\":\"ns\"}", "{\"colour\":true}"}) {
        INFO(bad);
        Reply r = subscribe(c, bad);
        CHECK(r.kind == Reply::Kind::error);
        CHECK(r.code == "invalid_params");
    }
    Reply first = subscribe(c, "{}");
    REQUIRE(first.kind == Reply::Kind::result);
    CHECK(first.value.get("queue_limit").get("events").integer(0, INT32_MAX) == 4096);
    CHECK(first.value.get("queue_limit").get("bytes").integer(0, INT32_MAX) == 8 << 20);
    Reply second = subscribe(c, "{}");
    CHECK(second.kind == Reply::Kind::error);
    CHECK(second.code == "conflict");
    CHECK(env.wait_subscribers(1));
}

TEST_CASE("a subscriber that never reads does not hold up the agent and learns what it missed", "[e2e][api]")
{
    ApiEnv env;
    // A small queue, so that a burst the kernel-matrix guest can run in seconds overflows it.
    constexpr size_t queue = 256;
    env.write_config("subscriber_queue = " + std::to_string(queue) + "\n");
    auto vigild = env.start();
    std::string m = env.marker("vigil-marker-burst");
    auto before = env.status().get("counters").get("events_lost").integer(0, INT64_MAX);

    auto slow = env.client(); // subscribes to everything, then reads nothing until the end
    REQUIRE(subscribe(slow, "{}").kind == Reply::Kind::result);
    auto fast = env.client();
    REQUIRE(subscribe(fast, "{\"process\":\"vigil-marker-burst$\"}").kind == Reply::Kind::result);
    REQUIRE(env.wait_subscribers(2));

    const size_t burst = env_count("VIGIL_E2E_API_BURST", 3000);
    size_t seen = 0;
    std::thread reader([&] {
        auto deadline = clock_type::now() + 120s;
        while (seen < burst && clock_type::now() < deadline) {
            auto body = fast.read_frame(1000);
            if (!body)
                continue;
            auto r = vigil::api::parse_reply(*body);
            if (r && r->kind == Reply::Kind::event)
                ++seen;
        }
    });
    auto t0 = clock_type::now();
    char* argv[] = {const_cast<char*>(m.c_str()), nullptr};
    for (size_t i = 0; i < burst; ++i) {
        pid_t pid = 0;
        REQUIRE(::posix_spawn(&pid, m.c_str(), nullptr, nullptr, argv, environ) == 0);
        ::waitpid(pid, nullptr, 0);
    }
    auto burst_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count();
    reader.join();
    INFO("burst of " << burst << " execs took " << burst_ms << " ms");
    // The other subscriber got every exec: the agent kept up while `slow` read nothing.
    CHECK(seen == burst);
    CHECK(env.status().get("counters").get("events_lost").integer(0, INT64_MAX) == before);
    // The slow subscriber's drops, once the exits of the burst are in (the count no longer moves).
    auto slow_drops = [&] {
        std::pair<uint64_t, uint64_t> most{0, 0}; // dropped, id
        JsonValue subs = env.status().get("subscribers");
        for (size_t i = 0; i < subs.size(); ++i) {
            auto d = static_cast<uint64_t>(subs.at(i).get("dropped").integer(0, INT64_MAX).value_or(0));
            CHECK(subs.at(i).get("queued").integer(0, INT64_MAX) <= static_cast<int64_t>(queue));
            if (d > most.first)
                most = {d, static_cast<uint64_t>(subs.at(i).get("id").integer(0, INT64_MAX).value_or(0))};
        }
        return most;
    };
    auto [slow_dropped, slow_id] = slow_drops();
    for (auto settle = clock_type::now() + 10s; clock_type::now() < settle;) {
        std::this_thread::sleep_for(300ms);
        auto again = slow_drops();
        if (again.first == slow_dropped)
            break;
        slow_dropped = again.first;
    }
    CHECK(slow_dropped > 0);

    // The drop count is in the Prometheus metrics too (an unrelated process may add to it since).
    std::string scrape = http_request(env.metrics_port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::string key = "vigil_subscriber_dropped_total{subscriber=\"" + std::to_string(slow_id) + "\"} ";
    auto at = scrape.find(key);
    REQUIRE(at != std::string::npos);
    CHECK(std::stoull(scrape.substr(at + key.size())) >= slow_dropped);

    // Reading at last, `slow` finds a drop notice among its events.
    uint64_t notice_count = 0, notice_total = 0, events = 0;
    auto deadline = clock_type::now() + 20s;
    while (notice_count == 0 && clock_type::now() < deadline) {
        Reply r = read_reply(slow);
        if (r.kind == Reply::Kind::dropped) {
            notice_count = r.dropped;
            notice_total = r.dropped_total;
        } else if (r.kind == Reply::Kind::event) {
            ++events;
        }
    }
    CHECK(notice_count > 0);
    CHECK(notice_total >= notice_count);
    CHECK(notice_total <= slow_drops().first); // the notice never claims more than was dropped
    INFO("events before the first drop notice: " << events);
    CHECK(events >= queue);
}

TEST_CASE("a socket in use, a stale socket and a file in the way", "[e2e][api]")
{
    ApiEnv env;
    auto first = env.start();
    Vigild second({"--config", env.config.string()});
    CHECK(second.wait_exit() == 1);
    CHECK(second.err_text().find(env.socket.string() + " is in use: another vigild is serving it") !=
          std::string::npos);
    CHECK(env.cli({"status"}).rc == 0); // the first one is untouched
    REQUIRE(first->stop(SIGTERM) != -1);

    // A socket left behind by a crash is replaced.
    {
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strcpy(a.sun_path, env.socket.c_str());
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        ::close(fd);
    }
    auto third = env.start();
    CHECK(third->err_text().find("removed stale API socket") != std::string::npos);
    CHECK(env.cli({"status"}).rc == 0);
    REQUIRE(third->stop(SIGTERM) != -1);

    std::ofstream(env.socket) << "not a socket";
    Vigild fourth({"--config", env.config.string()});
    CHECK(fourth.wait_exit() == 1);
    CHECK(fourth.err_text().find("exists and is not a socket; not replacing it") != std::string::npos);
    CHECK(fs::is_regular_file(env.socket));
}
