// The Prometheus endpoint of a running vigild: the text parses, counters move when events
// happen, and bad HTTP gets an error without harming the endpoint.
#include "api_env.hpp"

#include <map>
#include <regex>
#include <set>

namespace {

using namespace e2e;

std::string get(uint16_t port, const std::string& path, const std::string& method = "GET")
{
    return http_request(port, method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

// Samples by "name{labels}", checking every line against the text format on the way.
std::map<std::string, double> parse_metrics(const std::string& response)
{
    REQUIRE(response.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(response.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
    std::string body = response.substr(response.find("\r\n\r\n") + 4);
    static const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})?) (\S+)$)");
    static const std::regex meta(R"(^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$)");
    std::map<std::string, double> out;
    std::set<std::string> typed;
    std::istringstream in(body);
    std::string line;
    while (std::getline(in, line)) {
        INFO(line);
        std::smatch m;
        if (line.starts_with("#")) {
            REQUIRE(std::regex_match(line, m, meta));
            if (m[1] == "TYPE")
                typed.insert(m[2]);
            continue;
        }
        REQUIRE(std::regex_match(line, m, sample));
        std::string name = m[1].str().substr(0, m[1].str().find('{'));
        CHECK(typed.contains(name));
        out[m[1]] = std::stod(m[5]);
    }
    return out;
}

// The sum of the samples whose "name{labels}" starts with `prefix` (0 when there are none).
double value_of(const std::map<std::string, double>& metrics, const std::string& prefix)
{
    double sum = 0;
    for (const auto& [k, v] : metrics)
        if (k.starts_with(prefix))
            sum += v;
    return sum;
}

} // namespace

TEST_CASE("metrics parse and move when events happen", "[e2e][api]")
{
    ApiEnv env;
    auto vigild = env.start();
    std::string m = env.marker("vigil-marker-metrics");
    auto before = parse_metrics(get(env.metrics_port, "/metrics"));
    CHECK(before.at("vigil_plugin_state{plugin=\"tracepoint\",state=\"running\"}") == 1);
    CHECK(before.at("vigil_plugin_state{plugin=\"tracepoint\",state=\"failed\"}") == 0);
    CHECK(before.contains("vigil_events_lost_total"));
    CHECK(before.contains("vigil_bpf_errors_total{kind=\"ringbuf_reserve\"}"));
    CHECK(before.contains("vigil_bpf_errors_total{kind=\"probe_read\"}"));
    CHECK(before.at("vigil_process_cache_capacity") == 65536);
    CHECK(before.contains("vigil_plugin_decode_errors_total{plugin=\"tracepoint\"}"));
    CHECK(before.at("vigil_subscribers") == 0);
    CHECK(before.contains("vigil_process_cache_evictions_total"));
    CHECK(before.contains("vigil_process_cache_exit_misses_total"));
    // Nothing behind these yet, so they are not exported.
    for (const auto& [k, v] : before)
        CHECK(!k.starts_with("vigil_policy"));

    const std::string exec_total = "vigil_events_total{type=\"process_exec\"}";
    for (int i = 0; i < 5; ++i)
        exec_and_wait(m);
    std::map<std::string, double> after;
    auto deadline = clock_type::now() + 5s;
    do {
        after = parse_metrics(get(env.metrics_port, "/metrics"));
    } while (value_of(after, exec_total) < value_of(before, exec_total) + 5 && clock_type::now() < deadline);
    CHECK(value_of(after, exec_total) >= value_of(before, exec_total) + 5);
    CHECK(value_of(after, "vigil_plugin_records_total{plugin=\"tracepoint\"}") >=
          value_of(before, "vigil_plugin_records_total{plugin=\"tracepoint\"}") + 5);
    CHECK(after.at("vigil_process_cache_size") > 0);
    if (after.at("vigil_bpf_stats_enabled") == 1) {
        CHECK(value_of(after, "vigil_bpf_prog_run_count_total{plugin=\"tracepoint\"") >=
              value_of(before, "vigil_bpf_prog_run_count_total{plugin=\"tracepoint\"") + 5);
        CHECK(value_of(after, "vigil_bpf_prog_run_seconds_total{plugin=\"tracepoint\"") > 0);
    } else {
        WARN("kernel does not count BPF program runs: bpf_enable_stats(BPF_STATS_RUN_TIME) failed");
    }

    REQUIRE(env.cli({"sensors", "disable", "kprobe"}).rc == 0);
    auto disabled = parse_metrics(get(env.metrics_port, "/metrics"));
    CHECK(disabled.at("vigil_plugin_state{plugin=\"kprobe\",state=\"disabled\"}") == 1);
    CHECK(disabled.at("vigil_plugin_state{plugin=\"kprobe\",state=\"running\"}") == 0);
}

TEST_CASE("the metrics endpoint answers bad HTTP with an error and keeps serving", "[e2e][api]")
{
    ApiEnv env;
    auto vigild = env.start();
    CHECK(get(env.metrics_port, "/nope").starts_with("HTTP/1.1 404 Not Found\r\n"));
    CHECK(get(env.metrics_port, "/").starts_with("HTTP/1.1 404"));
    auto post = get(env.metrics_port, "/metrics", "POST");
    CHECK(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
    CHECK(post.find("Allow: GET, HEAD") != std::string::npos);
    auto head = get(env.metrics_port, "/metrics", "HEAD");
    CHECK(head.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(head.ends_with("\r\n\r\n"));
    CHECK(http_request(env.metrics_port, "\x01\x02\x03 garbage\r\n\r\n").starts_with("HTTP/1.1 400 Bad Request\r\n"));
    CHECK(http_request(env.metrics_port, "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n")
              .starts_with("HTTP/1.1 400"));
    CHECK(http_request(env.metrics_port, "POST /metrics HTTP/1.1\r\nContent-Length: 100000\r\n\r\n")
              .starts_with("HTTP/1.1 4"));
    // Two requests on one keep-alive connection, then a normal scrape.
    auto two = http_request(env.metrics_port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                                              "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(count_of(two, "HTTP/1.1 200 OK") == 2);
    CHECK(get(env.metrics_port, "/metrics?x=1").starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(env.cli({"status"}).rc == 0);
}

TEST_CASE("the metrics endpoint listens on loopback only", "[e2e][api]")
{
    ApiEnv env;
    std::ofstream(env.config) << "[api]\nsocket = \"" << env.socket.string() << "\"\n"
                              << "[metrics]\nport = " << env.metrics_port << "\naddress = \"0.0.0.0\"\n";
    Vigild v({"--config", env.config.string()});
    CHECK(v.wait_exit() == 1);
    CHECK(v.err_text().find(env.config.string() + ":5:11: metrics.address must be a loopback address") !=
          std::string::npos);
}
