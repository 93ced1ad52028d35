// vigil getevents --nats: the fleet's events from the JetStream stream the nats exporter plugin
// fills (docs/fleet.md), with the filters and output formats of the local stream.
#pragma once

#include "cli.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace vigil::cli {

struct FleetSource {
    std::vector<std::string> servers;
    std::string creds_file;    // credentials, from files only
    std::string userinfo_file;
    std::string stream = "VIGIL_EVENTS";
    std::string node;          // empty: every node
    bool from_start = false;   // the whole stream, not only what comes from now on
};

// `params` are the events.subscribe parameters getevents would send to vigild; they are
// applied here, to each event of the stream.
int fleet_getevents(const FleetSource& src, const std::string& params, Output output,
                    std::optional<std::chrono::milliseconds> timeout);

} // namespace vigil::cli
