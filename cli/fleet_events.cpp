#include "fleet_events.hpp"

#include "api/event_filter.hpp"
#include "render.hpp"

#ifdef VIGIL_CLI_NATS
#include "connection.hpp" // plugins/nats: the exporter's own connection settings

#include <nats/nats.h>
#endif

#include <fmt/format.h>

#include <cstdio>
#include <set>

namespace vigil::cli {

#ifndef VIGIL_CLI_NATS

int fleet_getevents(const FleetSource&, const std::string&, Output, std::optional<std::chrono::milliseconds>)
{
    error("this vigil was built without libnats: --nats is not available");
    return exit_usage;
}

#else

int fleet_getevents(const FleetSource& src, const std::string& params, Output output,
                    std::optional<std::chrono::milliseconds> timeout)
{
    auto p = api::JsonValue::parse(params);
    if (!p) {
        error(p.error().message());
        return exit_usage;
    }
    // The fleet's plugins are not known here: the event types asked for are the known ones.
    std::set<std::string> kinds;
    api::JsonValue types = p->get("event_types");
    for (size_t i = 0; i < types.size(); ++i)
        if (auto t = types.at(i).string())
            kinds.insert(std::string(*t));
    auto filter = api::EventFilter::make(*p, kinds);
    if (!filter) {
        error(filter.error().message());
        return exit_usage;
    }
    vigil::nats::Settings s;
    s.servers = src.servers;
    s.creds_file = src.creds_file;
    s.userinfo_file = src.userinfo_file;
    vigil::nats::Connection nc;
    try {
        nc = vigil::nats::connect(s, "vigil getevents");
    } catch (const std::exception& e) {
        error(e.what());
        return exit_no_agent;
    }
    jsCtx* js = nullptr;
    if (natsStatus st = natsConnection_JetStream(&js, nc.get(), nullptr); st != NATS_OK) {
        error(fmt::format("JetStream: {}", vigil::nats::nats_error(st)));
        return exit_no_agent;
    }
    // The subject narrows what the servers send: one node, one event type.
    std::string node = src.node.empty() ? "*" : vigil::nats::subject_token(src.node);
    std::string kind = kinds.size() == 1 ? vigil::nats::subject_token(*kinds.begin()) : ">";
    std::string subject = fmt::format("vigil.events.{}.{}", node, kind);
    if (kind == ">" && node == "*")
        subject = "vigil.events.>";
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = src.stream.c_str();
    so.Ordered = true; // every message once, in order, no acks, re-created by the library after a loss
    so.Config.DeliverPolicy = src.from_start ? js_DeliverAll : js_DeliverNew;
    natsSubscription* sub = nullptr;
    jsErrCode ec = jsErrCode(0);
    if (natsStatus st = js_SubscribeSync(&sub, js, subject.c_str(), nullptr, &so, &ec); st != NATS_OK) {
        error(fmt::format("reading stream {} ({}): {}", src.stream, subject, vigil::nats::nats_error(st)));
        jsCtx_Destroy(js);
        return exit_agent_error;
    }
    bool color = output == Output::compact && use_color();
    auto deadline = timeout ? std::optional(std::chrono::steady_clock::now() + *timeout) : std::nullopt;
    for (;;) {
        int64_t wait = 1000;
        if (deadline) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                break;
            wait = std::min<int64_t>(wait, left.count());
        }
        natsMsg* m = nullptr;
        natsStatus st = natsSubscription_NextMsg(&m, sub, wait);
        if (st == NATS_TIMEOUT)
            continue;
        if (st != NATS_OK) {
            error(fmt::format("reading stream {}: {}", src.stream, vigil::nats::nats_error(st)));
            break;
        }
        std::string_view data(natsMsg_GetData(m), natsMsg_GetDataLength(m));
        api::EventView view(data);
        bool pass = filter->matches(view) && (!filter->jq() || filter->jq()->matches(view.doc()));
        if (pass) {
            if (output == Output::compact)
                std::printf("%s\n", compact_event(view.doc(), color).c_str());
            else
                std::printf("%.*s\n", static_cast<int>(data.size()), data.data());
            std::fflush(stdout);
        }
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
    return exit_ok;
}

#endif

} // namespace vigil::cli
