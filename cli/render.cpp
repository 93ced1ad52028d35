#include "render.hpp"

#include "core/printable.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

namespace vigil::cli {

void Table::print() const
{
    std::vector<size_t> width;
    for (const auto& r : rows_) {
        width.resize(std::max(width.size(), r.size()), 0);
        for (size_t i = 0; i < r.size(); ++i)
            width[i] = std::max(width[i], r[i].size());
    }
    for (const auto& r : rows_) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size())
                line.append(width[i] - r[i].size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        std::printf("%s\n", line.c_str());
    }
}

std::string text(const api::JsonValue& v)
{
    if (!v.present() || v.is_null())
        return "";
    if (auto s = v.string())
        return std::string(*s);
    return v.dump();
}

namespace {

const char* colour_of(std::string_view kind)
{
    if (kind == "process_exec")
        return "\033[32m"; // green
    if (kind == "process_exit")
        return "\033[33m"; // yellow
    return "\033[36m";     // cyan
}

} // namespace

std::string compact_event(const api::JsonValue& event, bool color)
{
    std::string kind;
    for (const auto& [key, value] : event.members())
        if (key != "node_name" && key != "time" && value.is_object()) {
            kind = key;
            break;
        }
    api::JsonValue body = event.get(kind);
    api::JsonValue proc = body.get("process");
    std::string time = text(event.get("time"));
    if (time.size() >= 23)
        time = time.substr(11, 12); // HH:MM:SS.mmm
    time = printable(time);
    std::string details;
    if (kind == "process_exec") {
        details = text(proc.get("arguments"));
    } else if (kind == "process_exit") {
        if (auto status = body.get("status"); status.present())
            details = fmt::format("status={}", text(status));
        if (auto code = body.get("code"); code.present())
            details += fmt::format("{}code={}", details.empty() ? "" : " ", text(code));
        if (auto sig = body.get("signal"); sig.present() && !text(sig).empty())
            details += fmt::format("{}signal={}", details.empty() ? "" : " ", text(sig));
    } else {
        details = text(body.get("function_name"));
        if (details.empty())
            details = text(body.get("event"));
    }
    if (auto policy = text(body.get("policy_name")); !policy.empty())
        details += fmt::format("{}[{}]", details.empty() ? "" : " ", policy);
    std::string pid = printable(text(proc.get("pid")));
    std::string binary = printable(text(proc.get("binary")));
    details = printable(details);
    kind = printable(kind);
    std::string line =
        color ? fmt::format("\033[2m{}\033[0m {}{:<14}\033[0m {:>7} \033[1m{}\033[0m {}", time, colour_of(kind), kind,
                            pid, binary, details)
              : fmt::format("{} {:<14} {:>7} {} {}", time, kind, pid, binary, details);
    while (!line.empty() && line.back() == ' ')
        line.pop_back();
    return line;
}

std::string human_duration(int64_t s)
{
    if (s < 60)
        return fmt::format("{}s", s);
    if (s < 3600)
        return fmt::format("{}m{}s", s / 60, s % 60);
    if (s < 86400)
        return fmt::format("{}h{}m", s / 3600, s % 3600 / 60);
    return fmt::format("{}d{}h", s / 86400, s % 86400 / 3600);
}

} // namespace vigil::cli
