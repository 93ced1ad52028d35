// Named spdlog loggers, one per subsystem and per plugin, all writing to stderr so stdout stays
// free for events. libbpf's own output is routed here (its debug lines only at trace level).
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <sys/stat.h>

namespace vigil::log {

// Sets the level of every logger made by get(), now and later; routes libbpf output.
void setup(const std::string& level);

// The logger named `name` ("host", "plugins", "plugin.tracepoint", ...), created on first use.
std::shared_ptr<spdlog::logger> get(const std::string& name);

// Whether stderr is the journal's stream ($JOURNAL_STREAM names its device and inode, as systemd
// sets it for a service): then lines carry their syslog priority ("<4>" for warn) instead of a
// time stamp, and `journalctl -p` filters by level.
bool is_journal_stream(const char* journal_stream, const struct stat& stderr_stat);
// The formatter used then: "<priority>[logger] message".
std::unique_ptr<spdlog::formatter> journal_formatter();

// The last lines of the newest verifier log libbpf printed on this thread (a program the kernel
// refused to load), joined with " | ", and forgets it; empty when there was none. A load error
// carries them: the verifier's reason is on its last lines. The whole log goes to the "libbpf"
// logger at debug level.
std::string take_verifier_tail();
// The message with " (verifier: <tail>)" appended when take_verifier_tail() has one.
std::string with_verifier_tail(std::string message);

} // namespace vigil::log
