#include "connection.hpp"

#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>

namespace vigil::nats {

using vigil::sdk::Error;

vigil::sdk::Descriptor& describe_config(vigil::sdk::Descriptor& d)
{
    return d
        .config_list("servers", "NATS server URLs (nats:// or tls://)", "[\"nats://127.0.0.1:4222\"]")
        .config_string("creds_file", "credentials file (JWT and nkey seed); readable by its owner only", "\"\"")
        .config_string("userinfo_file", "file holding one line user:password; readable by its owner only", "\"\"")
        .config_string("tls_ca_file", "CA certificates that sign the servers'", "\"\"")
        .config_string("tls_cert_file", "client certificate chain (PEM)", "\"\"")
        .config_string("tls_key_file", "client private key (PEM)", "\"\"")
        .config_int("connect_timeout_ms", "deadline of one connection attempt", "2000")
        .config_string("stream", "JetStream stream of the events", "\"VIGIL_EVENTS\"")
        .config_string("retention", "stream retention: limits, interest or workqueue", "\"limits\"")
        .config_string("storage", "stream storage: file or memory", "\"file\"")
        .config_int("replicas", "stream replicas (1 to 5)", "1")
        .config_int("max_age_seconds", "oldest event the stream keeps, 0: no limit", "0")
        .config_int("max_bytes", "bytes the stream keeps, 0: no limit", "0")
        .config_int("duplicate_window_seconds", "how long the stream drops a resent event it already has", "120")
        .config_int("buffer_mb", "events kept in memory until the stream acknowledges them (MiB)", "64")
        .config_int("batch", "events published before waiting for their acks", "1024")
        .config_int("ack_timeout_ms", "how long to wait for a batch's acks before sending it again", "2000")
        .config_int("stop_drain_ms", "at stop, how long to go on delivering what is buffered", "2000")
        .config_bool("fleet_policies", "apply the policies of policy_bucket, report to status_bucket", "false")
        .config_string("policy_bucket", "key-value bucket of the fleet's TracingPolicy documents",
                       "\"vigil_policies\"")
        .config_string("status_bucket", "key-value bucket of each node's verdicts", "\"vigil_policy_status\"")
        .config_int("max_policy_kb", "largest policy document taken from the bucket (KiB)", "256");
}

namespace {

int64_t in_range(const vigil::sdk::Config& cfg, const char* key, int64_t def, int64_t lo, int64_t hi)
{
    int64_t v = cfg.get_int(key, def);
    if (v < lo || v > hi)
        throw Error(VIGIL_ERR_INVALID, fmt::format("{} must be between {} and {}, not {}", key, lo, hi, v));
    return v;
}

// A secret's file: a regular file not readable by group or others.
void check_secret_file(const char* key, const std::string& path)
{
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0)
        throw Error(VIGIL_ERR_INVALID, fmt::format("{} {}: {}", key, path, std::strerror(errno)));
    if (!S_ISREG(st.st_mode))
        throw Error(VIGIL_ERR_INVALID, fmt::format("{} {}: not a regular file", key, path));
    if (st.st_mode & 077)
        throw Error(VIGIL_ERR_INVALID,
                    fmt::format("{} {}: readable or writable by group or others (mode {:o}); chmod 600 it", key, path,
                                st.st_mode & 0777));
}

// A custom reconnect delay: 100 ms doubling to 5 s, counted over a whole pass of the server list.
int64_t reconnect_delay(natsConnection*, int attempts, void*)
{
    int shift = std::min(attempts, 6);
    return std::min<int64_t>(100LL << shift, 5000);
}

void check(natsStatus s, const char* what)
{
    if (s != NATS_OK)
        throw Error(VIGIL_ERR_INVALID, fmt::format("{}: {}", what, nats_error(s)));
}

} // namespace

Settings Settings::from(const vigil::sdk::Config& cfg)
{
    Settings s;
    s.servers = cfg.get_list("servers", {"nats://127.0.0.1:4222"});
    if (s.servers.empty())
        throw Error(VIGIL_ERR_INVALID, "servers is empty");
    s.creds_file = cfg.get_string("creds_file", "");
    s.userinfo_file = cfg.get_string("userinfo_file", "");
    if (!s.creds_file.empty() && !s.userinfo_file.empty())
        throw Error(VIGIL_ERR_INVALID, "creds_file and userinfo_file exclude each other");
    s.tls_ca_file = cfg.get_string("tls_ca_file", "");
    s.tls_cert_file = cfg.get_string("tls_cert_file", "");
    s.tls_key_file = cfg.get_string("tls_key_file", "");
    if (s.tls_cert_file.empty() != s.tls_key_file.empty())
        throw Error(VIGIL_ERR_INVALID, "tls_cert_file and tls_key_file go together");
    s.connect_timeout_ms = in_range(cfg, "connect_timeout_ms", s.connect_timeout_ms, 100, 60000);
    s.stream = cfg.get_string("stream", s.stream);
    if (s.stream.empty() || s.stream.find_first_of(".*> \t") != std::string::npos)
        throw Error(VIGIL_ERR_INVALID, fmt::format("stream \"{}\": a name without '.', '*', '>' or blanks", s.stream));
    s.retention = cfg.get_string("retention", s.retention);
    if (s.retention != "limits" && s.retention != "interest" && s.retention != "workqueue")
        throw Error(VIGIL_ERR_INVALID, fmt::format("retention \"{}\": limits, interest or workqueue", s.retention));
    s.storage = cfg.get_string("storage", s.storage);
    if (s.storage != "file" && s.storage != "memory")
        throw Error(VIGIL_ERR_INVALID, fmt::format("storage \"{}\": file or memory", s.storage));
    s.replicas = in_range(cfg, "replicas", s.replicas, 1, 5);
    s.max_age_seconds = in_range(cfg, "max_age_seconds", s.max_age_seconds, 0, INT64_MAX / 1000000000);
    s.max_bytes = in_range(cfg, "max_bytes", s.max_bytes, 0, INT64_MAX);
    s.duplicate_window_seconds = in_range(cfg, "duplicate_window_seconds", s.duplicate_window_seconds, 1, 86400);
    s.buffer_mb = in_range(cfg, "buffer_mb", s.buffer_mb, 1, 65536);
    s.batch = in_range(cfg, "batch", s.batch, 1, 65536);
    s.ack_timeout_ms = in_range(cfg, "ack_timeout_ms", s.ack_timeout_ms, 100, 600000);
    s.stop_drain_ms = in_range(cfg, "stop_drain_ms", s.stop_drain_ms, 0, 600000);
    s.fleet_policies = cfg.get_bool("fleet_policies", false);
    s.policy_bucket = cfg.get_string("policy_bucket", s.policy_bucket);
    s.status_bucket = cfg.get_string("status_bucket", s.status_bucket);
    for (const auto& [key, name] : {std::pair{"policy_bucket", &s.policy_bucket}, {"status_bucket", &s.status_bucket}})
        if (name->empty() || name->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                                 std::string::npos)
            throw Error(VIGIL_ERR_INVALID, fmt::format("{} \"{}\": letters, digits, '_' and '-' only", key, *name));
    s.max_policy_kb = in_range(cfg, "max_policy_kb", s.max_policy_kb, 1, 1024);
    // read at connect, checked now so that a bad path is an error of the config
    if (!s.creds_file.empty())
        check_secret_file("creds_file", s.creds_file);
    if (!s.userinfo_file.empty())
        check_secret_file("userinfo_file", s.userinfo_file);
    if (!s.tls_key_file.empty())
        check_secret_file("tls_key_file", s.tls_key_file);
    return s;
}

Connection connect(const Settings& s, const std::string& name)
{
    natsOptions* raw = nullptr;
    check(natsOptions_Create(&raw), "options");
    std::unique_ptr<natsOptions, decltype(&natsOptions_Destroy)> opts(raw, &natsOptions_Destroy);
    std::vector<const char*> urls;
    for (const auto& u : s.servers)
        urls.push_back(u.c_str());
    check(natsOptions_SetServers(opts.get(), urls.data(), static_cast<int>(urls.size())), "servers");
    check(natsOptions_SetName(opts.get(), name.c_str()), "name");
    check(natsOptions_SetTimeout(opts.get(), s.connect_timeout_ms), "connect_timeout_ms");
    check(natsOptions_SetMaxReconnect(opts.get(), -1), "reconnects");
    check(natsOptions_SetCustomReconnectDelay(opts.get(), &reconnect_delay, nullptr), "reconnect delay");
    // a server gone without closing the connection is noticed within seconds, not minutes
    check(natsOptions_SetPingInterval(opts.get(), 2000), "ping interval");
    check(natsOptions_SetMaxPingsOut(opts.get(), 2), "pings out");
    if (!s.creds_file.empty())
        check(natsOptions_SetUserCredentialsFromFiles(opts.get(), s.creds_file.c_str(), nullptr), "creds_file");
    if (!s.userinfo_file.empty()) {
        std::ifstream in(s.userinfo_file);
        std::string line;
        std::getline(in, line);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.pop_back();
        size_t colon = line.find(':');
        if (!in || colon == std::string::npos || colon == 0)
            throw Error(VIGIL_ERR_INVALID, fmt::format("userinfo_file {}: expected one line user:password",
                                                       s.userinfo_file));
        std::string user = line.substr(0, colon), password = line.substr(colon + 1);
        check(natsOptions_SetUserInfo(opts.get(), user.c_str(), password.c_str()), "userinfo_file");
    }
    bool tls = !s.tls_ca_file.empty() || !s.tls_cert_file.empty() ||
               std::any_of(s.servers.begin(), s.servers.end(), [](const auto& u) { return u.starts_with("tls://"); });
    if (tls) {
        check(natsOptions_SetSecure(opts.get(), true), "tls");
        if (!s.tls_ca_file.empty())
            check(natsOptions_LoadCATrustedCertificates(opts.get(), s.tls_ca_file.c_str()), "tls_ca_file");
        if (!s.tls_cert_file.empty())
            check(natsOptions_LoadCertificatesChain(opts.get(), s.tls_cert_file.c_str(), s.tls_key_file.c_str()),
                  "tls_cert_file");
    }
    // The first connection is tried once (the caller retries with backoff): the library's own
    // retry of a failed first connect hides why it failed (refused credentials) behind "no server".
    // Once connected, the library reconnects by itself, forever.
    natsConnection* nc = nullptr;
    natsStatus st = natsConnection_Connect(&nc, opts.get());
    if (st != NATS_OK)
        throw Error(VIGIL_ERR_UNSUPPORTED, fmt::format("connecting to {}: {}", fmt::join(s.servers, ","), nats_error(st)));
    return Connection(nc);
}

std::string nats_error(natsStatus s)
{
    std::string_view last = nats_GetLastError(nullptr) ? nats_GetLastError(nullptr) : "";
    // the library prefixes its source location: "(conn.c:1905): Authorization Violation"
    if (last.starts_with('(')) {
        size_t end = last.find("): ");
        if (end != std::string_view::npos)
            last.remove_prefix(end + 3);
    }
    std::string text = natsStatus_GetText(s);
    if (!last.empty() && text != last)
        text += fmt::format(" ({})", last);
    return text;
}

std::string subject_token(std::string_view text)
{
    std::string out;
    for (char c : text)
        out += (c == '.' || c == '*' || c == '>' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f) ? '_' : c;
    return out.empty() ? "_" : out;
}

} // namespace vigil::nats
