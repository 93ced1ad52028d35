// Named spdlog loggers, one per subsystem and per plugin, all writing to stderr so stdout stays
// free for events. libbpf's own output is routed here (its debug lines only at trace level).
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace vigil::log {

// Sets the level of every logger made by get(), now and later; routes libbpf output.
void setup(const std::string& level);

// The logger named `name` ("host", "plugins", "plugin.tracepoint", ...), created on first use.
std::shared_ptr<spdlog::logger> get(const std::string& name);

} // namespace vigil::log
