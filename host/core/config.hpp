// vigild's configuration: TOML with an embedded default (docs/config.md). Unknown keys and wrong
// types are errors with file:line:column; nothing is silently ignored.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace toml {
inline namespace v3 {
class table;
}
} // namespace toml

namespace vigil {

enum class OnError { fail, skip };
enum class StdoutFormat { none, compact, json };

// A value from [plugins.<id>.config], checked against the plugin's schema once it is loaded.
struct PluginConfigValue {
    enum class Type { boolean, integer, string, string_list } type;
    bool bool_value = false;
    int64_t int_value = 0;
    std::string str_value;
    std::vector<std::string> list_value;
    std::string where; // file:line:column, for error messages
};

struct PluginConfig {
    std::string id;
    bool enabled = true;
    std::string library; // file name or path; relative paths resolve inside plugin_dir
    OnError on_error = OnError::fail;
    std::string sha256;  // empty: not pinned; else the library's SHA-256, 64 lower-case hex digits
    std::map<std::string, PluginConfigValue> config;
    std::string where;
};

struct ExportFileConfig {
    std::string path; // empty: no file export
    uint64_t max_size_bytes = 100ull << 20;
    uint32_t max_files = 5;
    uint32_t mode = 0600;  // 0600 or 0640
    std::string group;     // empty: root's (vigild's) group; else the group given read access
    std::vector<std::string> kinds; // empty: every kind
};

// Event kinds that are evidence (process lifecycle and policy hooks): the default of
// [export.security_file] kinds, so a flood of other events cannot rotate them away.
const std::vector<std::string>& security_event_kinds();

struct ExportFilterConfig {
    std::vector<std::string> event_types; // empty: all
    std::string binary_regex;
    std::vector<uint32_t> pids;
    std::vector<std::string> namespaces;
    std::vector<std::string> process_flags; // every one set on the process ("fileless")
    std::vector<std::string> pod_regex;     // RE2 over the pod name; any may match
    std::vector<std::string> labels;        // label selectors over the pod labels; any may match
    std::vector<std::string> container_id;  // RE2 over the full container id; any may match
};

struct ApiConfig {
    std::string socket = "/run/vigil/vigil.sock"; // absolute path of the API's Unix socket
    uint32_t subscriber_queue = 4096;             // events queued per subscriber before drops
    uint32_t jq_time_budget_ms = 200;             // a subscription's jq filter, per event
    uint32_t jq_memory_budget_mb = 256;           // a subscription's jq worker process
};

// How records move from the BPF ring buffers to the agent (docs/config.md, [rings]).
struct RingConfig {
    uint32_t reader_priority = 10; // the reader threads run at nice -N (0: the agent's own)
    uint32_t queue_mb = 256;       // records out of the rings, not yet decoded, per ring at most
    uint32_t budget_mb = 512;      // every plugin's ring buffers together
};

struct MetricsConfig {
    uint16_t port = 0; // 0: no metrics endpoint
    std::string address = "127.0.0.1"; // a loopback address
};

// One [[redaction]] rule (process/redaction.hpp).
struct RedactionRuleConfig {
    std::vector<std::string> redact; // regexes, each with at least one capture group
    std::string binary_regex;        // empty: every binary
    std::string where;               // "file:line:column" of the rule, for errors
};

struct Config {
    std::string source = "<embedded default>";
    std::string node_name;           // empty: the host name
    // [agent.node_labels]: what a policy's nodeSelector is matched against, sorted by key
    std::vector<std::pair<std::string, std::string>> node_labels;
    std::string log_level = "info";
    std::string plugin_dir;          // empty: the directory compiled into vigild
    std::string policy_dir;          // empty: none; *.yaml / *.yml loaded at start
    std::string include_dir;         // empty: none; *.toml merged in name order (config files only)
    bool trace_self = false;         // sensors and hooks see vigild's own process too
    bool process_ancestors = false;     // events carry "ancestors"
    bool process_namespaces = false;    // process objects carry "ns"
    bool process_capabilities = false;  // process objects carry "cap"
    bool pod_annotations = false;       // "pod" objects carry "pod_annotations"
    uint32_t process_cache_size = 65536;
    StdoutFormat stdout_format = StdoutFormat::compact;
    uint32_t output_queue_kb = 32768; // events each output holds while its reader or disk lags
    uint32_t cgroup_rate = 0;        // [throttle]: reporting-only events per second and cgroup; 0: none
    ExportFileConfig export_file;
    ExportFileConfig export_security_file; // [export.security_file]; kinds defaults to security_event_kinds()
    ExportFilterConfig export_allow;
    ExportFilterConfig export_deny;
    ApiConfig api;
    RingConfig rings;
    MetricsConfig metrics;
    std::vector<PluginConfig> plugins; // in file order
    std::vector<RedactionRuleConfig> redactions;
};

// The configuration vigild runs with when given no --config.
std::string_view embedded_default_config();

[[nodiscard]] Result<Config> parse_config(std::string_view text, std::string_view source_name);
// Refuses a file not owned by root (or the user running vigild), or writable by group or others.
// With [agent] include_dir (relative to the file's directory), merges that directory's *.toml
// files in name order, under the same rule; a key set twice is an error naming both places.
[[nodiscard]] Result<Config> load_config_file(const std::filesystem::path& path);

// Resolves a plugin's library against the plugin directory: bare names and relative paths stay
// inside it ("..", and symlinks leading out of it, are refused); absolute paths are used as is.
[[nodiscard]] Result<std::filesystem::path> resolve_plugin_library(const PluginConfig& plugin,
                                                                   const std::filesystem::path& plugin_dir);

} // namespace vigil
