#include "core/log.hpp"

#include <bpf/libbpf.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace vigil::log {

namespace {

spdlog::level::level_enum current_level = spdlog::level::info;
std::mutex loggers_mutex;

int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args)
{
    static auto logger = get("libbpf");
    spdlog::level::level_enum lvl = level == LIBBPF_WARN   ? spdlog::level::warn
                                    : level == LIBBPF_INFO ? spdlog::level::debug
                                                           : spdlog::level::trace;
    if (!logger->should_log(lvl))
        return 0;
    char buf[1024];
    int n = std::vsnprintf(buf, sizeof buf, fmt, args);
    if (n < 0)
        return 0;
    std::string_view msg(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
    while (!msg.empty() && msg.back() == '\n')
        msg.remove_suffix(1);
    logger->log(lvl, "{}", msg);
    return n;
}

} // namespace

void setup(const std::string& level)
{
    current_level = spdlog::level::from_str(level);
    {
        std::lock_guard lock(loggers_mutex);
        spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->set_level(current_level); });
    }
    libbpf_set_print(libbpf_print);
}

std::shared_ptr<spdlog::logger> get(const std::string& name)
{
    std::lock_guard lock(loggers_mutex);
    if (auto l = spdlog::get(name))
        return l;
    auto l = spdlog::stderr_color_mt(name);
    l->set_level(current_level);
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
    return l;
}

} // namespace vigil::log
