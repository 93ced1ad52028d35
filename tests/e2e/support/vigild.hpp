// Helpers for end-to-end tests: run vigild for real with a generated config, wait until it is
// ready, read the JSON events it exports, ask it for its stats, and run workloads.
//
//   auto v = vigil::e2e::Vigild::start();                  // tracepoint plugin, JSON to a temp file
//   pid_t pid = vigil::e2e::spawn({"/bin/true"});
//   auto exit = v->wait_event(vigil::e2e::is("process_exit", pid));
//
// Every wait has a timeout and returns what it found; nothing here calls REQUIRE, so a test
// decides what a miss means.
#pragma once

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// First line of a test that starts vigild: without root it cannot load BPF programs.
#define VIGIL_E2E_NEEDS_ROOT()                                                                                 \
    do {                                                                                                       \
        if (!::vigil::e2e::is_root()) {                                                                        \
            WARN("skipped: e2e tests load BPF programs and need root");                                        \
            return;                                                                                            \
        }                                                                                                      \
    } while (0)

namespace vigil::e2e {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Paths compiled in by tests/e2e/CMakeLists.txt.
std::filesystem::path vigild_path();
std::filesystem::path plugin_dir();
// The test binary itself, which runs workloads (support/workload.hpp).
std::filesystem::path workload_path();
// argv for a workload: {workload_path(), "--workload", args...}.
std::vector<std::string> workload(std::vector<std::string> args);

bool is_root();

// A directory under /tmp, removed with everything in it when destroyed.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

struct VigildOptions {
    // Plugins to enable, by id; each loads lib vigil_<id>.so from plugin_dir().
    std::vector<std::string> plugins = {"tracepoint"};
    // TOML appended to the generated config, e.g. "[process]\nancestors = true\n".
    std::string extra_toml;
    // Keys added to the generated [agent] table, e.g. "trace_self = true\n".
    std::string agent_toml;
    // [agent] policy_dir: TracingPolicy files loaded at start.
    std::filesystem::path policy_dir;
    std::chrono::milliseconds ready_timeout = 15s;
    // --export-file; empty: events.json in the test's directory.
    std::filesystem::path export_file;
    // >= 0: vigild's stdout (events as JSON lines, --output json) instead of /dev/null; -2: JSON
    // events to a closed stdout.
    int stdout_fd = -1;
    // [output] queue_kb; 0: the default.
    uint32_t output_queue_kb = 0;
};

class Vigild {
public:
    // Starts vigild (--output none --export-file <tmp> --config <tmp>) and waits for its
    // "vigild ready" log line. Throws std::runtime_error, with the log, when it does not start.
    static std::unique_ptr<Vigild> start(VigildOptions opts = {});
    ~Vigild();

    // SIGTERM and wait; returns the wait status. Later calls return the same status.
    int stop();
    pid_t pid() const { return pid_; }
    const std::filesystem::path& dir() const { return dir_.path(); }
    const std::filesystem::path& export_file() const { return export_file_; }

    // stderr so far.
    std::string log() const;
    // Waits until the log contains `needle` at or after byte `from`; returns its offset.
    std::optional<size_t> wait_log(std::string_view needle, std::chrono::milliseconds timeout, size_t from = 0) const;

    // Every event exported so far (each call reads only what was appended since the last one).
    const std::vector<json>& events();
    // The first event (from the start) for which pred holds, waiting up to timeout.
    std::optional<json> wait_event(const std::function<bool(const json&)>& pred,
                                   std::chrono::milliseconds timeout = 10s);
    // Waits until `count` events match pred; returns those found when the timeout hits.
    std::vector<json> wait_events(const std::function<bool(const json&)>& pred, size_t count,
                                  std::chrono::milliseconds timeout = 10s);
    // Events matching pred, without waiting.
    std::vector<json> select(const std::function<bool(const json&)>& pred);

    // Sends SIGUSR1 and parses the "stats: key=value ..." log line it answers with.
    std::map<std::string, uint64_t> stats(std::chrono::milliseconds timeout = 5s);
    // `vigil policy list -o json`: the policies array, null when vigild did not answer.
    json policy_list() const;

private:
    Vigild() = default;

    TempDir dir_;
    std::filesystem::path export_file_, log_file_;
    pid_t pid_ = -1;
    std::optional<int> status_;
    uint64_t read_offset_ = 0;
    std::string partial_;
    std::vector<json> events_;
};

// Event accessors: {"process_exec": {...}, "node_name": ..., "time": ...}.
std::string kind_of(const json& ev);
const json& body_of(const json& ev);                 // ev[kind_of(ev)]
const json& process_of(const json& ev);              // body_of(ev)["process"]
// A predicate: events of `kind` about thread group `pid`.
std::function<bool(const json&)> is(std::string kind, pid_t pid);
// A predicate: process_tracepoint events of `policy` whose first argument is the string `arg`.
std::function<bool(const json&)> tracepoint_event(const std::string& policy, const std::string& arg);

// Starts a program (execv, no PATH search) in `cwd` when given; returns its pid.
pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& cwd = {});
// Waits for a child; returns the wait status.
int wait_child(pid_t pid);
struct RunResult {
    pid_t pid;
    int status; // wait status
};
RunResult run(const std::vector<std::string>& argv, const std::filesystem::path& cwd = {});

} // namespace vigil::e2e
