// Fleet policies through JetStream key-value buckets: `vigil fleet policy add` once, and every
// vigild with fleet_policies loads it (or skips it by nodeSelector, or refuses it with the
// error) and writes its verdict back; delete removes it everywhere; a node that was down
// catches up; a corrupt or oversized document is refused and nothing else stops.
#include "child_process.hpp"
#include "nats_cluster.hpp"
#include "support/vigild.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <thread>

using namespace vigil::e2e;
using namespace vigil::fleet_test;

namespace {

// The example openat policy (it loads on every kernel vigil runs on) under another name, with
// `spec_extra` added to its spec.
std::string policy(const std::string& name, const std::string& spec_extra = "")
{
    std::ifstream in(VIGIL_EXAMPLE_POLICY);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    text.replace(text.find("name: openat-etc"), 16, "name: " + name);
    text.insert(text.find("spec:\n") + 6, spec_extra);
    return text;
}

struct Fleet {
    TempDir dir;
    NatsCluster cluster{dir.path(), {}};
    std::map<std::string, std::unique_ptr<Vigild>> nodes;

    void start_node(const std::string& node, const std::string& zone)
    {
        VigildOptions o;
        o.agent_toml = fmt::format("node_name = \"{}\"\n[agent.node_labels]\nzone = \"{}\"\n", node, zone);
        o.extra_toml = fmt::format("[plugins.nats]\nlibrary = \"libvigil_nats.so\"\n[plugins.nats.config]\n"
                                   "servers = {}\nreplicas = 3\nfleet_policies = true\n",
                                   cluster.toml_urls());
        nodes[node] = Vigild::start(o);
    }
    e2e::ChildProcess cli(std::vector<std::string> args)
    {
        args.push_back("--nats");
        args.push_back(cluster.url(0));
        return e2e::ChildProcess(VIGIL_CLI_PATH, std::move(args));
    }
    std::string add(const std::string& name, const std::string& text)
    {
        auto file = dir.path() / (name + ".yaml");
        std::ofstream(file) << text;
        auto c = cli({"fleet", "policy", "add", file.string()});
        CHECK(c.wait_exit() == 0);
        return c.err_text();
    }
    // The verdicts of `key` in the status bucket, by node.
    std::map<std::string, json> verdicts(const std::string& key)
    {
        auto c = cli({"fleet", "policy", "list", "-o", "json"});
        c.wait_exit();
        std::map<std::string, json> out;
        json rows = json::parse(c.out_text(), nullptr, false);
        if (rows.is_array())
            for (const auto& r : rows)
                if (r.value("policy", "") == key && r.value("node", "-") != "-")
                    out[r.value("node", "")] = r;
        return out;
    }
    // Waits until every node's verdict of `key` satisfies pred (and every node has one).
    bool wait_verdicts(const std::string& key, const std::function<bool(const std::string&, const json&)>& pred,
                       std::chrono::milliseconds timeout)
    {
        auto end = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < end) {
            auto v = verdicts(key);
            bool all = v.size() == nodes.size();
            for (const auto& [node, r] : v)
                all = all && pred(node, r);
            if (all)
                return true;
            std::this_thread::sleep_for(100ms);
        }
        return false;
    }
};

bool loaded(const std::string&, const json& r) { return r.value("state", "") == "loaded"; }

} // namespace

TEST_CASE("fleet policies: added once, active on every node, by nodeSelector, refused, deleted", "[fleet]")
{
    VIGIL_E2E_NEEDS_ROOT();
    if (!nats_server_path()) {
        WARN("skipped: nats-server is not installed");
        return;
    }
    Fleet f;
    f.cluster.start_all();
    f.start_node("node-a", "a");
    f.start_node("node-b", "b");
    f.start_node("node-c", "a");
    for (auto& [name, v] : f.nodes)
        REQUIRE(v->wait_log("fleet policies: watching bucket", 10s));

    // active on every node within 2 s
    auto t0 = std::chrono::steady_clock::now();
    f.add("fleet-etc", policy("fleet-etc"));
    CHECK(f.wait_verdicts("fleet-etc", loaded, 2s));
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    INFO("added to active on all nodes in " << took.count() << " ms");
    CHECK(took < 2s);

    // by nodeSelector: loaded in zone a, skipped in zone b
    f.add("fleet-zone-a", policy("fleet-zone-a", "  nodeSelector: {matchLabels: {zone: a}}\n"));
    CHECK(f.wait_verdicts("fleet-zone-a", [](const std::string& node, const json& r) {
        return r.value("state", "") == (node == "node-b" ? "skipped" : "loaded");
    }, 5s));

    // a broken policy is refused on each node with the error; the others keep running
    f.add("fleet-broken", policy("fleet-broken", "  notAField: 1\n"));
    CHECK(f.wait_verdicts("fleet-broken", [](const std::string&, const json& r) {
        return r.value("state", "") == "refused" && r.value("error", "").find("notAField") != std::string::npos;
    }, 5s));
    CHECK(f.wait_verdicts("fleet-etc", loaded, 1s));

    // a corrupt document (not YAML) and an oversized one, put into the bucket directly
    kvStore* kv = nullptr;
    REQUIRE(js_KeyValue(&kv, f.cluster.js(), "vigil_policies") == NATS_OK);
    std::string garbage = "\x01\x02{{{: not yaml";
    REQUIRE(kvStore_Put(nullptr, kv, "fleet-corrupt", garbage.data(), int(garbage.size())) == NATS_OK);
    std::string big = policy("fleet-big") + "# " + std::string(300 << 10, 'x') + "\n";
    REQUIRE(kvStore_Put(nullptr, kv, "fleet-big", big.data(), int(big.size())) == NATS_OK);
    CHECK(f.wait_verdicts("fleet-corrupt", [](const std::string&, const json& r) {
        return r.value("state", "") == "refused" && !r.value("error", "").empty();
    }, 5s));
    CHECK(f.wait_verdicts("fleet-big", [](const std::string&, const json& r) {
        return r.value("state", "") == "refused" && r.value("error", "").find("max_policy_kb") != std::string::npos;
    }, 5s));
    CHECK(f.wait_verdicts("fleet-etc", loaded, 1s));
    // and on the node itself: the good policies run beside the refused ones
    for (auto& [node, v] : f.nodes) {
        e2e::ChildProcess local(VIGIL_CLI_PATH, {"--socket", (v->dir() / "vigil.sock").string(), "policy", "list"});
        local.wait_exit();
        INFO(node << ":\n" << local.out_text());
        CHECK(local.out_text().find("fleet-etc") != std::string::npos);
        CHECK(local.out_text().find("fleet-broken") == std::string::npos);
    }

    // a node that was down catches up: a policy deleted and one added meanwhile
    f.nodes["node-c"]->stop();
    f.nodes.erase("node-c");
    auto del = f.cli({"fleet", "policy", "delete", "fleet-etc"});
    CHECK(del.wait_exit() == 0);
    f.add("fleet-later", policy("fleet-later"));
    CHECK(f.wait_verdicts("fleet-later", loaded, 5s));
    f.start_node("node-c", "a");
    CHECK(f.wait_verdicts("fleet-later", loaded, 10s));
    // delete removes it everywhere: no verdict left, and no node has it
    auto end = std::chrono::steady_clock::now() + 5s;
    while (!f.verdicts("fleet-etc").empty() && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(100ms);
    CHECK(f.verdicts("fleet-etc").empty());

    auto table = f.cli({"fleet", "policy", "list"});
    table.wait_exit();
    INFO(table.out_text());
    CHECK(table.out_text().find("POLICY") != std::string::npos);
    CHECK(table.out_text().find("fleet-zone-a") != std::string::npos);
    kvStore_Destroy(kv);
}
