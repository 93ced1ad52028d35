// Events of several vigild instances into a three-server JetStream cluster through the nats
// exporter plugin: every event of the local JSON file is in the stream, through a stream
// leader's death and a whole-cluster outage, and bad settings or servers are clear errors that
// stop nothing else.
#include "nats_cluster.hpp"

#include "child_process.hpp"
#include "support/vigild.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

using namespace vigil::e2e;
using namespace vigil::fleet_test;

namespace {

#define VIGIL_FLEET_NEEDS_NATS()                                                                                 \
    VIGIL_E2E_NEEDS_ROOT();                                                                                     \
    do {                                                                                                         \
        if (!nats_server_path()) {                                                                               \
            WARN("skipped: nats-server is not installed (scripts/setup.sh installs it)");                       \
            return;                                                                                              \
        }                                                                                                        \
    } while (0)

std::unique_ptr<Vigild> start_node(const std::string& node, const std::string& nats_toml,
                                   const char* on_error = "fail")
{
    VigildOptions o;
    o.agent_toml = fmt::format("node_name = \"{}\"\n", node);
    o.extra_toml = fmt::format("[plugins.nats]\nlibrary = \"libvigil_nats.so\"\non_error = \"{}\"\n"
                               "[plugins.nats.config]\n{}",
                               on_error, nats_toml);
    return Vigild::start(o);
}

std::string stream_toml(const NatsCluster& c, int replicas = 3)
{
    return fmt::format("servers = {}\nreplicas = {}\nack_timeout_ms = 1000\n", c.toml_urls(), replicas);
}

// The vigil CLI's stdout (it ends by itself: --timeout).
std::string cli_output(std::vector<std::string> args)
{
    e2e::ChildProcess c(VIGIL_CLI_PATH, std::move(args));
    c.wait_exit(20s);
    return c.out_text();
}

// Runs /bin/true `n` times; returns the pids.
std::vector<pid_t> execs(int n)
{
    std::vector<pid_t> pids;
    for (int i = 0; i < n; ++i) {
        auto r = run({"/bin/true"});
        pids.push_back(r.pid);
    }
    return pids;
}

// Each event of `local` (one node's JSON file) that is not among the stream's messages of that
// node, and the stream's messages on a subject that does not fit their event.
struct Comparison {
    size_t local = 0, in_stream = 0, missing = 0, wrong_subject = 0;
    std::string first_missing;
};

Comparison compare(const std::vector<json>& local, const std::vector<std::pair<std::string, std::string>>& msgs,
                   const std::string& node)
{
    std::multiset<std::string> stream;
    Comparison c;
    std::string prefix = "vigil.events." + node + ".";
    for (const auto& [subject, data] : msgs) {
        if (!subject.starts_with(prefix))
            continue;
        json ev = json::parse(data, nullptr, false);
        if (ev.is_discarded() || subject != prefix + kind_of(ev)) {
            c.wrong_subject++;
            continue;
        }
        stream.insert(ev.dump());
        c.in_stream++;
    }
    for (const auto& ev : local) {
        c.local++;
        if (!stream.contains(ev.dump())) {
            if (!c.missing)
                c.first_missing = ev.dump();
            c.missing++;
        }
    }
    return c;
}

uint64_t sum_prefix(const std::map<std::string, uint64_t>& stats, const std::string& prefix)
{
    uint64_t n = 0;
    for (const auto& [k, v] : stats)
        if (k.starts_with(prefix))
            n += v;
    return n;
}

// Waits until the stream holds at least `n` messages (the test's only node publishes).
void wait_stream(NatsCluster& c, size_t n, std::chrono::milliseconds timeout)
{
    auto end = std::chrono::steady_clock::now() + timeout;
    while (c.message_count("VIGIL_EVENTS") < n && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(300ms);
}

} // namespace

TEST_CASE("fleet: every event of two nodes reaches the stream, on its node's subjects", "[fleet]")
{
    VIGIL_FLEET_NEEDS_NATS();
    TempDir dir;
    NatsCluster cluster(dir.path(), {});
    cluster.start_all();
    auto a = start_node("node-a", stream_toml(cluster));
    auto b = start_node("node-b", stream_toml(cluster));
    auto pids = execs(100);
    for (auto* v : {a.get(), b.get()})
        REQUIRE(v->wait_event(is("process_exit", pids.back()), 10s));
    auto stats_a = a->stats();
    // the exporter checks the stream on its own thread: the line may follow the first events
    CHECK(a->wait_log("publishing to stream VIGIL_EVENTS", 10s));
    a->stop();
    b->stop();
    auto msgs = cluster.messages("VIGIL_EVENTS");
    for (auto [v, node] : {std::pair{a.get(), "node-a"}, std::pair{b.get(), "node-b"}}) {
        Comparison c = compare(v->events(), msgs, node);
        INFO(node << ": " << c.local << " local events, " << c.in_stream << " in the stream; first missing: "
                  << c.first_missing);
        CHECK(c.local >= 200); // an exec and an exit of each
        CHECK(c.missing == 0);
        CHECK(c.wrong_subject == 0);
    }
    CHECK(sum_prefix(stats_a, "output_lost_") == 0);

    // the same events from one terminal: vigil getevents --nats, with the local stream's filters
    std::string out = cli_output({"getevents", "--nats", fmt::format("{}", fmt::join(cluster.urls(), ",")),
                                  "--from-start", "--timeout", "3", "--node", "node-a", "--event-types",
                                  "process_exec", "--pid", std::to_string(pids.front())});
    std::vector<json> lines;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);)
        lines.push_back(json::parse(l, nullptr, false));
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == a->select(is("process_exec", pids.front())).at(0));
    std::string compact = cli_output({"getevents", "--nats", cluster.url(0), "--from-start", "--timeout", "2",
                                      "--event-types", "process_exit", "--pid", std::to_string(pids.back()),
                                      "-o", "compact"});
    CHECK(std::count(compact.begin(), compact.end(), '\n') == 2); // one per node
    CHECK(compact.find("process_exit") != std::string::npos);
}

TEST_CASE("fleet: a killed stream leader and a whole-cluster outage lose nothing", "[fleet]")
{
    VIGIL_FLEET_NEEDS_NATS();
    TempDir dir;
    NatsCluster cluster(dir.path(), {});
    cluster.start_all();
    auto v = start_node("node-a", stream_toml(cluster) + "buffer_mb = 64\n");
    REQUIRE(v->wait_log("publishing to stream", 10s));
    // a steady workload, stopped (and joined) however the test ends
    std::atomic<bool> busy{true};
    std::thread load([&] {
        while (busy) {
            run({"/bin/true"});
            std::this_thread::sleep_for(10ms);
        }
    });
    struct Joiner {
        std::atomic<bool>& busy;
        std::thread& t;
        ~Joiner()
        {
            busy = false;
            if (t.joinable())
                t.join();
        }
    } joiner{busy, load};
    std::this_thread::sleep_for(2s);
    int leader = -1;
    for (int i = 0; i < 50 && leader < 0; ++i, std::this_thread::sleep_for(100ms))
        leader = cluster.stream_leader("VIGIL_EVENTS");
    REQUIRE(leader >= 0);
    cluster.kill(leader); // the stream's leader dies mid-run
    std::this_thread::sleep_for(3s);
    cluster.start(leader);
    std::this_thread::sleep_for(2s);
    // every server down for 10 s: the JSON file keeps being written meanwhile
    cluster.kill_all();
    size_t before = v->events().size();
    std::this_thread::sleep_for(10s);
    size_t during = v->events().size();
    CHECK(during > before + 100);
    for (int i = 0; i < cluster.size(); ++i)
        cluster.start(i);
    INFO(v->log());
    REQUIRE(cluster.wait_ready(30s));
    std::this_thread::sleep_for(2s);
    busy = false;
    load.join();
    auto last = run({"/bin/true"});
    REQUIRE(v->wait_event(is("process_exit", last.pid), 10s));
    // publishing resumes by itself: the buffer empties into the stream
    size_t local = v->events().size();
    wait_stream(cluster, local, 40s);
    auto stats = v->stats();
    v->stop();
    Comparison c = compare(v->events(), cluster.messages("VIGIL_EVENTS"), "node-a");
    INFO(c.local << " local events, " << c.in_stream << " in the stream; first missing: " << c.first_missing
                 << "\n" << v->log());
    CHECK(c.missing == 0);
    CHECK(c.wrong_subject == 0);
    CHECK(sum_prefix(stats, "output_lost_") == 0);
    CHECK(stats["output_write_errors"] > 0); // the outage was noticed and counted
}

TEST_CASE("fleet: a stream that exists with another configuration is a clear error", "[fleet]")
{
    VIGIL_FLEET_NEEDS_NATS();
    TempDir dir;
    NatsCluster cluster(dir.path(), {.servers = 1});
    cluster.start_all();
    jsStreamConfig c;
    jsStreamConfig_Init(&c);
    c.Name = "VIGIL_EVENTS";
    const char* subjects[] = {"vigil.events.>"};
    c.Subjects = subjects;
    c.SubjectsLen = 1;
    c.MaxAge = 3600LL * 1000000000LL;
    REQUIRE(js_AddStream(nullptr, cluster.js(), &c, nullptr, nullptr) == NATS_OK);
    auto v = start_node("node-a", fmt::format("servers = {}\n", cluster.toml_urls()));
    auto at = v->wait_log("exists with another configuration", 10s);
    REQUIRE(at);
    CHECK(v->log().find("max_age_seconds 3600 (configured 0)") != std::string::npos);
    // the JSON file is written all the same
    auto r = run({"/bin/true"});
    CHECK(v->wait_event(is("process_exit", r.pid), 10s));
    auto stats = v->stats();
    CHECK(stats["output_write_errors"] > 0);
}

TEST_CASE("fleet: wrong credentials are a clear error; a readable secret file is refused", "[fleet]")
{
    VIGIL_FLEET_NEEDS_NATS();
    TempDir dir;
    NatsCluster cluster(dir.path(), {.servers = 1, .extra_conf = "authorization {\n  user: vigil\n  password: right\n}\n"});
    cluster.set_client_auth("vigil", "right");
    cluster.start_all();
    auto secret = dir.path() / "userinfo";
    std::ofstream(secret) << "vigil:wrong\n";
    ::chmod(secret.c_str(), 0600);
    auto v = start_node("node-a", fmt::format("servers = {}\nuserinfo_file = \"{}\"\n", cluster.toml_urls(),
                                              secret.string()));
    CHECK(v->wait_log("uthorization", 10s));
    auto r = run({"/bin/true"});
    CHECK(v->wait_event(is("process_exit", r.pid), 10s));
    CHECK(v->stats()["output_write_errors"] > 0);
    v->stop();

    ::chmod(secret.c_str(), 0644);
    auto w = start_node("node-b", fmt::format("servers = {}\nuserinfo_file = \"{}\"\n", cluster.toml_urls(),
                                              secret.string()), "skip");
    CHECK(w->wait_log("readable or writable by group or others", 10s));
    auto r2 = run({"/bin/true"});
    CHECK(w->wait_event(is("process_exit", r2.pid), 10s));
}

TEST_CASE("fleet: servers without JetStream never acknowledge; the error is clear and counted", "[fleet]")
{
    VIGIL_FLEET_NEEDS_NATS();
    TempDir dir;
    NatsCluster cluster(dir.path(), {.servers = 1, .jetstream = false});
    cluster.start_all();
    auto v = start_node("node-a", fmt::format("servers = {}\nack_timeout_ms = 500\n", cluster.toml_urls()));
    CHECK(v->wait_log("checking stream VIGIL_EVENTS", 10s));
    auto r = run({"/bin/true"});
    CHECK(v->wait_event(is("process_exit", r.pid), 10s));
    CHECK(v->stats()["output_write_errors"] > 0);
}
