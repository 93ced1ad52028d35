// A policy added and deleted 200 times through the policy manager and a real plugin (tracepoint,
// kprobe with a syscall hook, socket with a connects hook): afterwards no BPF program, map, link or
// fd of it is left behind. And a tracepoint policy added and deleted while its hook fires as fast
// as a thread can open files.
#include "bpf/shared_maps.hpp"
#include "core/config.hpp"
#include "core/features.hpp"
#include "plugins/registry.hpp"
#include "policy_host/manager.hpp"
#include "policy/policy.hpp"

#include <catch2/catch.hpp>

#include <bpf/bpf.h>
#include <boost/asio/io_context.hpp>
#include <spdlog/fmt/fmt.h>

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>

namespace {

// This process's fds to BPF objects of one kind ("bpf-prog", "bpf-map", "bpf_link"): what a
// leak keeps alive. (System-wide ids would count other processes' programs too.)
size_t count_bpf_fds(std::string_view kind)
{
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        auto target = std::filesystem::read_symlink(e.path(), ec).string();
        if (!ec && target == "anon_inode:" + std::string(kind))
            ++n;
    }
    return n;
}

size_t open_fds()
{
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
        ++n;
    return n;
}

struct ChurnCase {
    const char* plugin;
    const char* yaml;
    int rounds; // the kprobe and connects hooks verify several programs per round: fewer rounds
};

constexpr const char* tracepoint_yaml = R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: churn
spec:
  tracepoints:
  - subsystem: syscalls
    event: sys_enter_openat
    args:
    - index: 6
      type: string
    selectors:
    - matchArgs:
      - index: 0
        operator: Prefix
        values: ["/nonexistent/vigil-churn/"]
)";

constexpr const char* kprobe_yaml = R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: churn
spec:
  kprobes:
  - call: sys_openat
    syscall: true
    args:
    - index: 1
      type: string
    selectors:
    - matchArgs:
      - index: 1
        operator: Prefix
        values: ["/nonexistent/vigil-churn/"]
)";

constexpr const char* connects_yaml = R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: churn
spec:
  connects:
  - selectors:
    - matchArgs:
      - index: 0
        operator: DAddr
        values: ["192.0.2.0/24"]
)";

} // namespace

TEST_CASE("adding and deleting a policy many times leaks no programs, maps, links or fds", "[bpf][policy]")
{
    boost::asio::io_context io;
    vigil::Features features;
    auto maps = vigil::SharedMaps::create();
    REQUIRE(maps);
    auto c = GENERATE(ChurnCase{"tracepoint", tracepoint_yaml, 200}, ChurnCase{"kprobe", kprobe_yaml, 50},
                      ChurnCase{"socket", connects_yaml, 50});
    INFO("plugin " << c.plugin);
    vigil::PluginRegistry plugins(io, *maps, features, VIGIL_PLUGIN_DIR, [](const std::string&, const vigil_event&) {});
    auto cfg = vigil::parse_config(fmt::format("[plugins.{0}]\nlibrary = \"libvigil_{0}.so\"\n", c.plugin), "t.toml");
    REQUIRE(cfg);
    REQUIRE(plugins.load(*cfg));
    vigil::PolicyManager policies(plugins);
    auto parsed = vigil::policy::parse_policy(c.yaml, "churn.yaml");
    REQUIRE(parsed);

    // One round first, so lazily created things (the plugin's hook ring) exist before counting.
    REQUIRE(policies.add(*parsed));
    REQUIRE(policies.remove("churn"));
    size_t progs = count_bpf_fds("bpf-prog");
    size_t bpf_maps = count_bpf_fds("bpf-map");
    size_t links = count_bpf_fds("bpf_link");
    size_t fds = open_fds();

    // The qemu guest, ~20x slower, runs fewer (VIGIL_POLICY_CHURN_ROUNDS).
    const char* env = std::getenv("VIGIL_POLICY_CHURN_ROUNDS");
    int rounds = env ? std::min(std::atoi(env), c.rounds) : c.rounds;
    for (int i = 0; i < rounds; ++i) {
        auto r = policies.add(*parsed);
        INFO("round " << i << ": " << (r ? std::string() : r.error().message()));
        REQUIRE(r);
        REQUIRE(!policies.find("churn")->hooks[0].strategy.empty());
        if (i == 0) { // the counts see a loaded hook
            CHECK(count_bpf_fds("bpf-prog") > progs);
            CHECK(count_bpf_fds("bpf_link") > links);
        }
        REQUIRE(policies.remove("churn"));
    }
    CHECK(count_bpf_fds("bpf-prog") == progs);
    CHECK(count_bpf_fds("bpf-map") == bpf_maps);
    CHECK(count_bpf_fds("bpf_link") == links);
    CHECK(open_fds() == fds);
    plugins.stop_all();
}

TEST_CASE("a policy added and deleted while its hook fires at full rate", "[bpf][policy][faults]")
{
    boost::asio::io_context io;
    vigil::Features features;
    auto maps = vigil::SharedMaps::create();
    REQUIRE(maps);
    size_t events = 0;
    vigil::PluginRegistry plugins(io, *maps, features, VIGIL_PLUGIN_DIR,
                                  [&](const std::string&, const vigil_event& ev) {
                                      events += std::string_view(ev.kind) == "process_tracepoint";
                                  });
    auto cfg = vigil::parse_config("[plugins.tracepoint]\nlibrary = \"libvigil_tracepoint.so\"\n", "t.toml");
    REQUIRE(cfg);
    REQUIRE(plugins.load(*cfg));
    vigil::PolicyManager policies(plugins);
    auto parsed = vigil::policy::parse_policy(tracepoint_yaml, "churn.yaml");
    REQUIRE(parsed);

    // Opens that the policy matches, as fast as one thread makes them, the whole time.
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> opens{0};
    std::thread firing([&] {
        while (!stop) {
            ::open("/nonexistent/vigil-churn/x", O_RDONLY);
            opens++;
        }
    });
    const char* env = std::getenv("VIGIL_POLICY_CHURN_ROUNDS");
    int rounds = env ? std::atoi(env) / 4 + 1 : 50;
    for (int i = 0; i < rounds; ++i) {
        auto r = policies.add(*parsed);
        INFO("round " << i << ": " << (r ? std::string() : r.error().message()));
        REQUIRE(r);
        // Let records pile up in the ring, then drain part of them while the hook exists and the
        // rest after it is gone: records of a removed hook must be dropped, not misread.
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        plugins.drain_rings();
        REQUIRE(policies.remove("churn"));
        io.poll();
    }
    stop = true;
    firing.join();
    io.poll();
    const vigil::Plugin* tp = plugins.find("tracepoint");
    REQUIRE(tp);
    INFO(fmt::format("{} opens, {} events", opens.load(), events));
    CHECK(events > 0);
    CHECK(tp->decode_errors() == 0);
    CHECK(tp->state() == vigil::PluginState::running);
    plugins.stop_all();
}
