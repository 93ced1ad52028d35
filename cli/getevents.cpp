// vigil getevents: subscribe with server-side filters and print the stream; with --reconnect,
// survive vigild restarts (retry with exponential backoff, then subscribe again).
#include "cli.hpp"
#include "fleet_events.hpp"
#include "render.hpp"

#include <vigil/sdk/json.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

namespace vigil::cli {

namespace {

using clock_type = std::chrono::steady_clock;

constexpr auto backoff_first = std::chrono::milliseconds(100);
constexpr auto backoff_max = std::chrono::seconds(5);

struct Options {
    Output output = Output::json;
    std::vector<std::string> event_types, namespaces, policy_names, process_flags;
    // each given once per option: regular expressions and label selectors contain commas
    std::vector<std::string> pod_regex, labels, container_id;
    std::vector<uint32_t> pids;
    std::optional<std::string> process, filter;
    bool reconnect = false;
    std::optional<std::chrono::milliseconds> timeout;
    std::optional<FleetSource> fleet; // --nats: the fleet's stream instead of this vigild
};

void split_into(const std::string& v, std::vector<std::string>& out)
{
    size_t start = 0;
    while (start <= v.size()) {
        size_t comma = v.find(',', start);
        std::string part = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!part.empty())
            out.push_back(part);
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
}

// One option that takes a value; nullopt when it was fine, else the exit code.
std::optional<int> set_option(Options& o, const std::string& name, const std::string& v)
{
    if (name == "--event-types")
        split_into(v, o.event_types);
    else if (name == "--namespace" && v.empty())
        o.namespaces.push_back(""); // processes outside pods (host processes)
    else if (name == "--namespace")
        split_into(v, o.namespaces);
    else if (name == "--policy-names")
        split_into(v, o.policy_names);
    else if (name == "--process-flags")
        split_into(v, o.process_flags);
    else if (name == "--process")
        o.process = v;
    else if (name == "--pod")
        o.pod_regex.push_back(v);
    else if (name == "--pod-labels")
        o.labels.push_back(v);
    else if (name == "--container-id")
        o.container_id.push_back(v);
    else if (name == "--filter")
        o.filter = v;
    else if (name == "--nats")
        split_into(v, (o.fleet ? *o.fleet : o.fleet.emplace()).servers);
    else if (name == "--node" || name == "--nats-creds" || name == "--nats-userinfo" || name == "--stream") {
        if (!o.fleet)
            o.fleet.emplace();
        (name == "--node"         ? o.fleet->node
         : name == "--nats-creds" ? o.fleet->creds_file
         : name == "--stream"     ? o.fleet->stream
                                  : o.fleet->userinfo_file) = v;
    }
    else if (name == "--pid") {
        std::vector<std::string> parts;
        split_into(v, parts);
        for (const auto& p : parts) {
            uint32_t pid = 0;
            auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), pid);
            if (ec != std::errc() || end != p.data() + p.size() || pid == 0 || pid > 0x3fffffff)
                return usage_error(fmt::format("--pid: \"{}\" is not a process id", p));
            o.pids.push_back(pid);
        }
    } else if (name == "--timeout") {
        double secs = 0;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
        if (ec != std::errc() || end != v.data() + v.size() || secs <= 0)
            return usage_error(fmt::format("--timeout must be a positive number of seconds, not \"{}\"", v));
        o.timeout = std::chrono::milliseconds(static_cast<int64_t>(secs * 1000));
    }
    return std::nullopt;
}

std::optional<int> parse_options(Args& args, Options& o)
{
    static const std::set<std::string> with_value = {"--event-types", "--process", "--pid", "--namespace",
                                                     "--policy-names", "--process-flags", "--filter", "--timeout",
                                                     "--pod",          "--pod-labels",    "--container-id",
                                                     "--nats",         "--node",          "--nats-creds",
                                                     "--nats-userinfo", "--stream"};
    while (!args.empty()) {
        std::string w = args.next();
        std::string name = w;
        std::optional<std::string> inline_value;
        if (w.starts_with("--") && w.find('=') != std::string::npos) {
            name = w.substr(0, w.find('='));
            inline_value = w.substr(w.find('=') + 1);
        }
        if (name == "-o" || name == "--output") {
            if (!parse_output(args, w, o.output, {Output::json, Output::compact}))
                return exit_usage;
        } else if (name == "--reconnect") {
            o.reconnect = true;
        } else if (name == "--from-start") {
            (o.fleet ? *o.fleet : o.fleet.emplace()).from_start = true;
        } else if (with_value.contains(name)) {
            auto v = args.value_of(name, inline_value);
            if (!v)
                return exit_usage;
            if (auto rc = set_option(o, name, *v))
                return rc;
        } else {
            return usage_error(fmt::format("unknown getevents option \"{}\"", w));
        }
    }
    return std::nullopt;
}

std::string subscribe_params(const Options& o)
{
    sdk::JsonWriter w;
    w.begin_object();
    auto list = [&](const char* key, const std::vector<std::string>& v) {
        if (v.empty())
            return;
        w.key(key).begin_array();
        for (const auto& s : v)
            w.value(s);
        w.end_array();
    };
    list("event_types", o.event_types);
    if (o.process)
        w.member("process", *o.process);
    if (!o.pids.empty()) {
        w.key("pids").begin_array();
        for (uint32_t p : o.pids)
            w.value(p);
        w.end_array();
    }
    list("namespaces", o.namespaces);
    list("policy_names", o.policy_names);
    list("process_flags", o.process_flags);
    list("pod_regex", o.pod_regex);
    list("labels", o.labels);
    list("container_id", o.container_id);
    if (o.filter)
        w.member("filter", *o.filter);
    w.end_object();
    return w.take();
}

// Milliseconds left before the deadline (-1: none), 0 when it has passed.
int left_ms(const std::optional<clock_type::time_point>& deadline)
{
    if (!deadline)
        return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - clock_type::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

enum class StreamEnd { timeout, lost, agent_error };

// Reads and prints frames until the deadline, the connection's end or an error frame.
StreamEnd stream(api::Client& c, const Options& o, const std::optional<clock_type::time_point>& deadline)
{
    bool color = o.output == Output::compact && use_color();
    for (;;) {
        int left = left_ms(deadline);
        if (left == 0)
            return StreamEnd::timeout;
        auto body = c.read_frame(left);
        if (!body) {
            if (api::is_timeout(body.error()))
                return StreamEnd::timeout;
            if (body.error().code == Errc::io) {
                if (!o.reconnect)
                    error(fmt::format("connection to vigild lost: {}", body.error().message()));
                return StreamEnd::lost;
            }
            error(body.error().message());
            return StreamEnd::agent_error;
        }
        auto reply = api::parse_reply(*body);
        if (!reply) {
            error(reply.error().message());
            return StreamEnd::agent_error;
        }
        switch (reply->kind) {
        case api::Reply::Kind::event:
            if (o.output == Output::compact)
                std::printf("%s\n", compact_event(reply->value, color).c_str());
            else if (!reply->event_json.empty())
                std::printf("%.*s\n", static_cast<int>(reply->event_json.size()), reply->event_json.data());
            else
                std::printf("%s\n", reply->value.dump().c_str());
            break;
        case api::Reply::Kind::dropped:
            std::fflush(stdout);
            error(fmt::format("vigild dropped {} events for this subscriber: it read too slowly ({} in all)",
                              reply->dropped, reply->dropped_total));
            break;
        case api::Reply::Kind::error:
            error(fmt::format("{} [{}]", reply->message, reply->code));
            return StreamEnd::agent_error;
        case api::Reply::Kind::result:
            break;
        }
        // One write per burst rather than per event.
        if (!c.has_buffered_frame())
            std::fflush(stdout);
    }
}

} // namespace

int cmd_getevents(const Globals& g, Args& args)
{
    Options o;
    if (auto rc = parse_options(args, o))
        return *rc;
    std::string params = subscribe_params(o);
    if (o.fleet) {
        if (o.fleet->servers.empty())
            return usage_error("--node, --stream, --from-start and --nats-* read the fleet's stream: give --nats URL");
        return fleet_getevents(*o.fleet, params, o.output, o.timeout);
    }
    std::optional<clock_type::time_point> deadline;
    if (o.timeout)
        deadline = clock_type::now() + *o.timeout;

    auto backoff = std::chrono::milliseconds(backoff_first);
    bool ever_connected = false;
    bool lost = false;
    for (;;) {
        auto c = api::Client::connect(g.socket_path);
        if (!c) {
            if (!o.reconnect) {
                explain_connect_error(c.error(), g.socket_path);
                return exit_no_agent;
            }
            int left = left_ms(deadline);
            if (left == 0) {
                if (!ever_connected)
                    explain_connect_error(c.error(), g.socket_path);
                return ever_connected ? exit_ok : exit_no_agent;
            }
            auto wait = left < 0 ? backoff : std::min(backoff, std::chrono::milliseconds(left));
            std::this_thread::sleep_for(wait);
            backoff = std::min<std::chrono::milliseconds>(backoff * 2, backoff_max);
            continue;
        }
        auto r = c->call("events.subscribe", params, left_ms(deadline) < 0 ? 30000 : std::max(left_ms(deadline), 1));
        if (!r) {
            if (api::is_timeout(r.error()))
                return ever_connected ? exit_ok : exit_no_agent;
            if (r.error().code == Errc::io && o.reconnect)
                continue; // vigild went away between connect and subscribe
            error(r.error().message());
            return r.error().code == Errc::io ? exit_no_agent : exit_agent_error;
        }
        if (r->kind == api::Reply::Kind::error) {
            error(fmt::format("{} [{}]", r->message, r->code));
            return exit_agent_error;
        }
        if (lost)
            error("reconnected to vigild");
        ever_connected = true;
        backoff = backoff_first;
        switch (stream(*c, o, deadline)) {
        case StreamEnd::timeout:
            std::fflush(stdout);
            return exit_ok;
        case StreamEnd::agent_error:
            return exit_agent_error;
        case StreamEnd::lost:
            std::fflush(stdout);
            if (!o.reconnect)
                return exit_no_agent;
            error("connection to vigild lost; reconnecting");
            lost = true;
            break;
        }
    }
}

} // namespace vigil::cli
