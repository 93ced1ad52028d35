// Shared pieces of the vigil CLI: exit codes, argument reading, talking to vigild.
#pragma once

#include "api/client.hpp"
#include "api/json_value.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::cli {

// Exit codes a script can rely on (docs/api.md).
enum Exit : int {
    exit_ok = 0,
    exit_agent_error = 1, // vigild answered with an error (or something the CLI cannot read)
    exit_usage = 2,       // bad arguments or unreadable input files; nothing was sent
    exit_no_agent = 3,    // cannot connect to vigild, or the connection was lost
};

struct Globals {
    std::string socket_path;
};

// The words after the command, consumed front to back.
class Args {
public:
    Args(std::vector<std::string> words) : words_(std::move(words)) {}
    bool empty() const { return pos_ >= words_.size(); }
    const std::string& peek() const { return words_[pos_]; }
    std::string next() { return words_[pos_++]; }
    // The value of an option just read (`--pid 7` or `--pid=7`); nullopt and a message if missing.
    std::optional<std::string> value_of(const std::string& opt, const std::optional<std::string>& inline_value);
    size_t remaining() const { return words_.size() - pos_; }

private:
    std::vector<std::string> words_;
    size_t pos_ = 0;
};

// Prints "vigil: <msg>" to stderr.
void error(std::string_view msg);
// A usage error: the message, a hint, and exit_usage.
int usage_error(std::string_view msg);

// Connects, or prints why not (and returns nullopt: exit_no_agent).
std::optional<api::Client> connect(const Globals& g);
// One request. On success the result; otherwise the exit code after printing the error.
std::expected<api::JsonValue, int> request(const Globals& g, std::string_view method, std::string_view params = "{}");
// Says why the agent could not be reached (connect errno) on stderr.
void explain_connect_error(const Error& e, const std::string& socket_path);

// Output format option: "-o json" / "--output json"; false and an error for a bad value.
enum class Output { text, json, compact };
bool parse_output(Args& args, const std::string& word, Output& out, std::initializer_list<Output> allowed);

// Terminal colours, only when stdout is a TTY and NO_COLOR is unset.
bool use_color();

int cmd_status(const Globals& g, Args& args);
// `vigil plugin list|enable|disable` (check is in main.cpp), and `vigil sensors`, its old name.
int cmd_plugins(const Globals& g, Args& args, std::string_view command);
int cmd_process(const Globals& g, Args& args);
int cmd_policy(const Globals& g, Args& args);
int cmd_getevents(const Globals& g, Args& args);
int cmd_fleet(const Globals& g, Args& args);

} // namespace vigil::cli
