#include "syscalls.hpp"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>

namespace vigil::kprobe {

namespace {

// Generated at configure time from asm/unistd_64.h (see CMakeLists.txt).
constexpr std::pair<std::string_view, int32_t> syscall_table[] = {
#include "syscall_table.inc"
};

const char* const tracefs_roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

std::string_view value_after(std::string_view line, std::string_view key)
{
    size_t p = line.find(key);
    if (p == std::string_view::npos)
        return {};
    line.remove_prefix(p + key.size());
    return line.substr(0, line.find(';'));
}

} // namespace

std::optional<std::string> syscall_name_of(std::string_view call)
{
    for (std::string_view prefix : {"__x64_sys_", "sys_"})
        if (call.starts_with(prefix) && call.size() > prefix.size())
            return std::string(call.substr(prefix.size()));
    return std::nullopt;
}

std::optional<int32_t> syscall_number(std::string_view name)
{
    for (const auto& [n, nr] : syscall_table)
        if (n == name)
            return nr;
    return std::nullopt;
}

std::expected<std::vector<uint16_t>, std::string> parse_syscall_tp_format(std::string_view text)
{
    std::vector<uint16_t> out;
    bool after_nr = false;
    while (!text.empty()) {
        size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        std::string_view field = value_after(line, "field:");
        if (field.empty())
            continue;
        if (field.ends_with("__syscall_nr")) {
            after_nr = true;
            continue;
        }
        if (!after_nr)
            continue;
        std::string_view off = value_after(line, "offset:");
        unsigned v = 0;
        auto [p, ec] = std::from_chars(off.data(), off.data() + off.size(), v);
        if (ec != std::errc() || v == 0 || v > 0xffff)
            return std::unexpected(fmt::format("bad offset in \"{}\"", line));
        out.push_back(static_cast<uint16_t>(v));
    }
    if (!after_nr)
        return std::unexpected(std::string("no __syscall_nr field: not a syscall tracepoint"));
    return out;
}

std::expected<std::vector<uint16_t>, std::string> syscall_tp_offsets(std::string_view name)
{
    for (const char* root : tracefs_roots) {
        std::filesystem::path p = fmt::format("{}/events/syscalls/sys_enter_{}/format", root, name);
        std::ifstream in(p);
        if (!in)
            continue;
        std::string text((std::istreambuf_iterator<char>(in)), {});
        auto r = parse_syscall_tp_format(text);
        if (!r)
            return std::unexpected(fmt::format("{}: {}", p.string(), r.error()));
        return r;
    }
    return std::unexpected(fmt::format("no tracepoint syscalls/sys_enter_{}", name));
}

bool tracepoint_exists(std::string_view subsystem, std::string_view event)
{
    std::error_code ec;
    for (const char* root : tracefs_roots)
        if (std::filesystem::exists(fmt::format("{}/events/{}/{}", root, subsystem, event), ec))
            return true;
    return false;
}

} // namespace vigil::kprobe
