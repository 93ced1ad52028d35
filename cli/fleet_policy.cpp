// vigil fleet policy add FILE | delete NAME | list: the fleet's TracingPolicy documents in a
// JetStream key-value bucket, which every vigild with the nats plugin's fleet_policies watches,
// and the verdict each node wrote back (docs/fleet.md).
#include "cli.hpp"

#ifdef VIGIL_CLI_NATS
#include "api/json_value.hpp"
#include "connection.hpp" // plugins/nats

#include <nats/nats.h>
#include <vigil/sdk/json.hpp>
#include <yaml-cpp/yaml.h>
#endif

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

namespace vigil::cli {

#ifndef VIGIL_CLI_NATS

int cmd_fleet(const Globals&, Args&)
{
    error("this vigil was built without libnats: vigil fleet is not available");
    return exit_usage;
}

#else

namespace {

struct FleetOptions {
    vigil::nats::Settings nats;
    Output output = Output::text;
    std::vector<std::string> words; // what is not an option
};

std::optional<int> parse(Args& args, FleetOptions& o)
{
    while (!args.empty()) {
        std::string w = args.next();
        std::string name = w.substr(0, w.find('='));
        std::optional<std::string> inline_value;
        if (w.starts_with("--") && w.find('=') != std::string::npos)
            inline_value = w.substr(w.find('=') + 1);
        if (name == "-o" || name == "--output") {
            if (!parse_output(args, w, o.output, {Output::text, Output::json}))
                return exit_usage;
            continue;
        }
        std::string* target = name == "--nats-creds"      ? &o.nats.creds_file
                              : name == "--nats-userinfo" ? &o.nats.userinfo_file
                              : name == "--bucket"        ? &o.nats.policy_bucket
                              : name == "--status-bucket" ? &o.nats.status_bucket
                                                          : nullptr;
        if (name == "--nats" || target) {
            auto v = args.value_of(name, inline_value);
            if (!v)
                return exit_usage;
            if (target)
                *target = *v;
            else
                for (size_t start = 0; start <= v->size();) {
                    size_t comma = std::min(v->find(',', start), v->size());
                    if (comma > start)
                        o.nats.servers.push_back(v->substr(start, comma - start));
                    start = comma + 1;
                }
            continue;
        }
        if (w.starts_with("-"))
            return usage_error(fmt::format("unknown fleet option \"{}\"", w));
        o.words.push_back(w);
    }
    if (o.nats.servers.empty())
        return usage_error("vigil fleet needs --nats URL[,URL..]");
    return std::nullopt;
}

// The key-value bucket `name`, created (one revision per key) when `create`.
struct Bucket {
    vigil::nats::Connection nc;
    jsCtx* js = nullptr;
    kvStore* kv = nullptr;
    ~Bucket()
    {
        if (kv)
            kvStore_Destroy(kv);
        if (js)
            jsCtx_Destroy(js);
    }
};

std::string open_bucket(Bucket& b, const vigil::nats::Settings& s, const std::string& name, bool create)
{
    try {
        if (!b.nc)
            b.nc = vigil::nats::connect(s, "vigil fleet");
    } catch (const std::exception& e) {
        return e.what();
    }
    if (!b.js && natsConnection_JetStream(&b.js, b.nc.get(), nullptr) != NATS_OK)
        return "no JetStream context";
    natsStatus st = js_KeyValue(&b.kv, b.js, name.c_str());
    if (st == NATS_NOT_FOUND && create) {
        kvConfig c;
        kvConfig_Init(&c);
        c.Bucket = name.c_str();
        c.History = 1;
        st = js_CreateKeyValue(&b.kv, b.js, &c);
    }
    if (st != NATS_OK) {
        b.kv = nullptr;
        return fmt::format("bucket {}: {}", name, vigil::nats::nats_error(st));
    }
    return {};
}

int add(FleetOptions& o)
{
    if (o.words.size() != 1)
        return usage_error("usage: vigil fleet policy add FILE --nats URL");
    std::ifstream in(o.words[0], std::ios::binary);
    if (!in)
        return usage_error(fmt::format("{}: cannot read it", o.words[0]));
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    // The key is the policy's name; the document itself is judged by each node.
    std::string name;
    try {
        YAML::Node doc = YAML::Load(text);
        if (doc["metadata"] && doc["metadata"]["name"])
            name = doc["metadata"]["name"].as<std::string>();
    } catch (const std::exception& e) {
        return usage_error(fmt::format("{}: not YAML: {}", o.words[0], e.what()));
    }
    if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
        return usage_error(fmt::format("{}: metadata.name \"{}\" must be a name of [a-z0-9-]", o.words[0], name));
    Bucket b;
    if (auto err = open_bucket(b, o.nats, o.nats.policy_bucket, true); !err.empty()) {
        error(err);
        return exit_no_agent;
    }
    uint64_t rev = 0;
    if (natsStatus st = kvStore_Put(&rev, b.kv, name.c_str(), text.data(), static_cast<int>(text.size()));
        st != NATS_OK) {
        error(fmt::format("writing {} to bucket {}: {}", name, o.nats.policy_bucket, vigil::nats::nats_error(st)));
        return exit_agent_error;
    }
    std::printf("policy %s: revision %llu in bucket %s\n", name.c_str(), static_cast<unsigned long long>(rev),
                o.nats.policy_bucket.c_str());
    return exit_ok;
}

int remove(FleetOptions& o)
{
    if (o.words.size() != 1)
        return usage_error("usage: vigil fleet policy delete NAME --nats URL");
    Bucket b;
    if (auto err = open_bucket(b, o.nats, o.nats.policy_bucket, false); !err.empty()) {
        error(err);
        return exit_no_agent;
    }
    kvEntry* e = nullptr;
    if (kvStore_Get(&e, b.kv, o.words[0].c_str()) != NATS_OK) {
        error(fmt::format("no policy {} in bucket {}", o.words[0], o.nats.policy_bucket));
        return exit_agent_error;
    }
    kvEntry_Destroy(e);
    if (natsStatus st = kvStore_Delete(b.kv, o.words[0].c_str()); st != NATS_OK) {
        error(fmt::format("deleting {}: {}", o.words[0], vigil::nats::nats_error(st)));
        return exit_agent_error;
    }
    std::printf("policy %s: deleted from bucket %s\n", o.words[0].c_str(), o.nats.policy_bucket.c_str());
    return exit_ok;
}

int list(FleetOptions& o)
{
    Bucket policies, status;
    if (auto err = open_bucket(policies, o.nats, o.nats.policy_bucket, false); !err.empty()) {
        error(err);
        return exit_no_agent;
    }
    status.nc = std::move(policies.nc);
    std::string status_err = open_bucket(status, o.nats, o.nats.status_bucket, false);
    struct Row {
        std::string policy, node, state, mode, error;
    };
    std::vector<Row> rows;
    std::set<std::string> answered;
    if (status_err.empty()) {
        kvKeysList keys{};
        if (kvStore_Keys(&keys, status.kv, nullptr) == NATS_OK) {
            for (int i = 0; i < keys.Count; ++i) {
                kvEntry* e = nullptr;
                if (kvStore_Get(&e, status.kv, keys.Keys[i]) != NATS_OK)
                    continue;
                auto v = api::JsonValue::parse(std::string_view(static_cast<const char*>(kvEntry_Value(e)),
                                                                size_t(kvEntry_ValueLen(e))));
                kvEntry_Destroy(e);
                if (!v)
                    continue;
                auto str = [&](const char* k) { return std::string(v->get(k).string().value_or("")); };
                rows.push_back({str("key"), str("node"), str("state"), str("mode"), str("error")});
                answered.insert(str("key"));
            }
            kvKeysList_Destroy(&keys);
        }
    }
    // policies no node has answered for yet
    kvKeysList keys{};
    if (kvStore_Keys(&keys, policies.kv, nullptr) == NATS_OK) {
        for (int i = 0; i < keys.Count; ++i)
            if (!answered.contains(keys.Keys[i]))
                rows.push_back({keys.Keys[i], "-", "pending", "", ""});
        kvKeysList_Destroy(&keys);
    }
    policies.nc = std::move(status.nc); // closed once, by the first bucket
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        return std::tie(a.policy, a.node) < std::tie(b.policy, b.node);
    });
    if (o.output == Output::json) {
        std::string out = "[";
        for (const auto& r : rows) {
            sdk::JsonWriter w;
            w.begin_object().member("policy", r.policy).member("node", r.node).member("state", r.state)
                .member("mode", r.mode).member("error", r.error).end_object();
            out += (out.size() > 1 ? "," : "") + std::string(w.str());
        }
        std::printf("%s]\n", out.c_str());
        return exit_ok;
    }
    std::printf("%-24s %-16s %-8s %-8s %s\n", "POLICY", "NODE", "STATE", "MODE", "ERROR");
    for (const auto& r : rows)
        std::printf("%-24s %-16s %-8s %-8s %s\n", r.policy.c_str(), r.node.c_str(), r.state.c_str(),
                    r.mode.c_str(), r.error.c_str());
    return exit_ok;
}

} // namespace

int cmd_fleet(const Globals&, Args& args)
{
    if (args.empty() || args.next() != "policy" || args.empty())
        return usage_error("usage: vigil fleet policy add FILE | delete NAME | list [-o json]  --nats URL");
    std::string verb = args.next();
    FleetOptions o;
    if (auto rc = parse(args, o))
        return *rc;
    if (verb == "add")
        return add(o);
    if (verb == "delete")
        return remove(o);
    if (verb == "list")
        return list(o);
    return usage_error(fmt::format("unknown fleet policy command \"{}\"", verb));
}

#endif

} // namespace vigil::cli
