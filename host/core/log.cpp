#include "core/log.hpp"

#include <bpf/libbpf.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <unistd.h>

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::log {

namespace {

spdlog::level::level_enum current_level = spdlog::level::info;
std::mutex loggers_mutex;

thread_local std::string verifier_tail;

constexpr std::string_view log_begin = "-- BEGIN PROG LOAD LOG --";
constexpr std::string_view log_end = "-- END PROG LOAD LOG --";
constexpr size_t tail_lines = 6;

// The last lines of the verifier log inside a libbpf message.
std::string tail_of(std::string_view msg)
{
    size_t b = msg.find(log_begin);
    size_t e = msg.find(log_end, b);
    std::string_view body = msg.substr(b + log_begin.size(), e == std::string_view::npos ? std::string_view::npos
                                                                                           : e - b - log_begin.size());
    std::vector<std::string_view> lines;
    while (!body.empty()) {
        size_t nl = body.find('\n');
        std::string_view line = body.substr(0, nl);
        if (!line.empty())
            lines.push_back(line);
        if (nl == std::string_view::npos)
            break;
        body.remove_prefix(nl + 1);
    }
    // The statistics line ("processed N insns ...") says nothing about why.
    while (!lines.empty() && lines.back().starts_with("processed "))
        lines.pop_back();
    std::string out;
    for (size_t i = lines.size() > tail_lines ? lines.size() - tail_lines : 0; i < lines.size(); ++i)
        out += (out.empty() ? "" : " | ") + std::string(lines[i]);
    return out;
}

int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args)
{
    static auto logger = get("libbpf");
    spdlog::level::level_enum lvl = level == LIBBPF_WARN   ? spdlog::level::warn
                                    : level == LIBBPF_INFO ? spdlog::level::debug
                                                           : spdlog::level::trace;
    // A verifier log is kept whatever the level: the load error that follows carries its end.
    bool may_be_log = level == LIBBPF_WARN;
    if (!may_be_log && !logger->should_log(lvl))
        return 0;
    va_list copy;
    va_copy(copy, args);
    int n = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return 0;
    std::string buf(static_cast<size_t>(n) + 1, '\0');
    std::vsnprintf(buf.data(), buf.size(), fmt, args);
    buf.resize(static_cast<size_t>(n));
    while (!buf.empty() && buf.back() == '\n')
        buf.pop_back();
    if (buf.find("ulimit -l") != std::string::npos) {
        // libbpf's guess after an EPERM; vigild has lifted the limit, so it cannot be the cause.
        logger->debug("{}", buf);
        return n;
    }
    if (buf.find(log_begin) != std::string::npos) {
        verifier_tail = tail_of(buf);
        // The whole log (it runs to megabytes) only at debug; its end goes into the error.
        logger->debug("{}", buf);
        return n;
    }
    logger->log(lvl, "{}", buf);
    return n;
}

// "<N>" with N the syslog priority of the level, as journald reads it from a stream.
class syslog_priority_flag : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override
    {
        // trace, debug -> debug(7); info(6); warn(4); err(3); critical(2)
        static constexpr std::string_view prefix[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
        std::string_view p = prefix[static_cast<size_t>(msg.level)];
        dest.append(p.data(), p.data() + p.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override
    {
        return std::make_unique<syslog_priority_flag>();
    }
};

bool stderr_is_journal()
{
    struct stat st {};
    return ::fstat(STDERR_FILENO, &st) == 0 && is_journal_stream(std::getenv("JOURNAL_STREAM"), st);
}

} // namespace

bool is_journal_stream(const char* journal_stream, const struct stat& stderr_stat)
{
    uintmax_t dev = 0, ino = 0;
    if (!journal_stream || std::sscanf(journal_stream, "%" SCNuMAX ":%" SCNuMAX, &dev, &ino) != 2)
        return false;
    return dev == stderr_stat.st_dev && ino == stderr_stat.st_ino;
}

std::unique_ptr<spdlog::formatter> journal_formatter()
{
    auto f = std::make_unique<spdlog::pattern_formatter>();
    f->add_flag<syslog_priority_flag>('*').set_pattern("%*[%n] %v");
    return f;
}

void setup(const std::string& level)
{
    current_level = spdlog::level::from_str(level);
    {
        std::lock_guard lock(loggers_mutex);
        spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->set_level(current_level); });
    }
    libbpf_set_print(libbpf_print);
}

std::string take_verifier_tail() { return std::exchange(verifier_tail, {}); }

std::string with_verifier_tail(std::string message)
{
    if (std::string tail = take_verifier_tail(); !tail.empty())
        message += " (verifier: " + tail + ")";
    return message;
}

std::shared_ptr<spdlog::logger> get(const std::string& name)
{
    std::lock_guard lock(loggers_mutex);
    if (auto l = spdlog::get(name))
        return l;
    auto l = spdlog::stderr_color_mt(name);
    l->set_level(current_level);
    static const bool journal = stderr_is_journal();
    if (journal)
        l->set_formatter(journal_formatter());
    else
        l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
    return l;
}

} // namespace vigil::log
