// What the NATS plugin needs of a server connection, shared by the event exporter and the fleet
// policy watcher: the [plugins.nats.config] settings, and a connection built from them (servers,
// reconnects with backoff, TLS, credentials read from files only).
#pragma once

#include <vigil/sdk/descriptor.hpp>
#include <vigil/sdk/exporter.hpp>
#include <vigil/sdk/plugin.hpp>

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vigil::nats {

struct Settings {
    std::vector<std::string> servers;
    // credentials and TLS: paths, never the secrets themselves
    std::string creds_file;    // JWT + nkey seed (a .creds file)
    std::string userinfo_file; // one line "user:password"
    std::string tls_ca_file, tls_cert_file, tls_key_file;
    int64_t connect_timeout_ms = 2000;
    // the event stream
    std::string stream = "VIGIL_EVENTS";
    std::string retention = "limits"; // limits | interest | workqueue
    std::string storage = "file";     // file | memory
    int64_t replicas = 1;
    int64_t max_age_seconds = 0; // 0: no limit
    int64_t max_bytes = 0;       // 0: no limit
    int64_t duplicate_window_seconds = 120;
    // delivery
    int64_t buffer_mb = 64;
    int64_t batch = 1024;
    int64_t ack_timeout_ms = 2000;
    int64_t stop_drain_ms = 2000;
    // fleet policies
    bool fleet_policies = false;
    std::string policy_bucket = "vigil_policies";
    std::string status_bucket = "vigil_policy_status";
    int64_t max_policy_kb = 256;

    static Settings from(const vigil::sdk::Config& cfg); // throws sdk::Error naming the key
};

// Adds the [plugins.nats.config] keys to the plugin's descriptor.
vigil::sdk::Descriptor& describe_config(vigil::sdk::Descriptor& d);

// natsConnection / natsOptions with their destroy functions.
struct ConnectionDeleter {
    void operator()(natsConnection* nc) const { natsConnection_Destroy(nc); }
};
using Connection = std::unique_ptr<natsConnection, ConnectionDeleter>;

// Connects once (throws sdk::Error with the reason when no server takes the connection: none
// answers, credentials refused, TLS failed); once connected, reconnects forever with backoff.
Connection connect(const Settings& s, const std::string& name);

// "status text: last error" of the NATS library, for messages.
std::string nats_error(natsStatus s);

// A subject token from free text: '.', '*', '>' and blanks would split or widen the subject.
std::string subject_token(std::string_view text);

} // namespace vigil::nats
