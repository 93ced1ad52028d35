// Turns the process sensor's ring-buffer records (records.h) into checked views. Header-only so
// the unit tests compile the same code the plugin runs. A record that is short, longer than it
// says, or whose parts do not add up is an error naming what is wrong; it is never read past.
#pragma once

#include "records.h"

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

static_assert(sizeof(tp_record_header) == 8);
static_assert(sizeof(tp_exec_record) == 168);
static_assert(offsetof(tp_exec_record, ktime) == 8);
static_assert(offsetof(tp_exec_record, cgroup1_id) == 32);
static_assert(offsetof(tp_exec_record, cgroup_level) == 40);
static_assert(offsetof(tp_exec_record, pid) == 72);
static_assert(offsetof(tp_exec_record, ns) == 112);
static_assert(offsetof(tp_exec_record, binary_len) == 152);
static_assert(offsetof(tp_exec_record, args_len) == 164);
static_assert(sizeof(tp_clone_record) == 48);
static_assert(offsetof(tp_clone_record, pid) == 24);
static_assert(sizeof(tp_exit_record) == 40);
static_assert(offsetof(tp_exit_record, exit_code) == 32);

namespace vigil::tracepoint {

// The path of an exec record's cgroup from its depth and its "parent/leaf" part: "/" at the
// root, "/leaf" and "/parent/leaf" in full, ".../parent/leaf" when deeper.
inline std::string cgroup_path(uint32_t level, std::string_view part)
{
    if (level == 0 || part.empty())
        return "/";
    return fmt::format("{}/{}", level > 2 ? "..." : "", part);
}

struct ExecView {
    tp_exec_record rec;
    std::string binary;           // normalised: "/a/./b/../c" -> "/a/c"
    std::string_view cwd;
    std::string_view cgroup_name; // "parent/leaf" of the cgroup at rec.cgroup_level
    std::string_view args;        // NUL-separated, trailing NULs removed
};

struct CloneView {
    tp_clone_record rec;
};

struct ExitView {
    tp_exit_record rec;
};

using Record = std::variant<ExecView, CloneView, ExitView>;

// Lexical normalisation of an absolute path: drops "." and empty components, applies "..".
inline std::string normalize_path(std::string_view path)
{
    if (path.empty() || path.front() != '/' ||
        (path.find("/./") == std::string_view::npos && path.find("/../") == std::string_view::npos &&
         path.find("//") == std::string_view::npos && !path.ends_with("/.") && !path.ends_with("/..")))
        return std::string(path);
    std::vector<std::string_view> parts;
    size_t i = 0;
    while (i < path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos)
            j = path.size();
        std::string_view part = path.substr(i, j - i);
        if (part == "..") {
            if (!parts.empty())
                parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        i = j + 1;
    }
    std::string out;
    for (auto p : parts) {
        out += '/';
        out += p;
    }
    return out.empty() ? std::string("/") : out;
}

namespace detail {

template <class T>
std::expected<T, std::string> read_fixed(std::span<const std::byte> rec, const char* what)
{
    if (rec.size() != sizeof(T))
        return std::unexpected(fmt::format("{} record of {} bytes, expected {}", what, rec.size(), sizeof(T)));
    T out;
    std::memcpy(&out, rec.data(), sizeof out);
    return out;
}

} // namespace detail

inline std::expected<Record, std::string> decode_record(std::span<const std::byte> rec)
{
    if (rec.size() < sizeof(tp_record_header))
        return std::unexpected(fmt::format("record of {} bytes is shorter than its header", rec.size()));
    tp_record_header hdr;
    std::memcpy(&hdr, rec.data(), sizeof hdr);
    if (hdr.size != rec.size())
        return std::unexpected(
            fmt::format("record kind {} says {} bytes, the ring gave {}", hdr.kind, hdr.size, rec.size()));
    switch (hdr.kind) {
    case TP_REC_EXEC: {
        if (rec.size() < sizeof(tp_exec_record))
            return std::unexpected(fmt::format("exec record of {} bytes, shorter than its fixed part ({})",
                                               rec.size(), sizeof(tp_exec_record)));
        ExecView v;
        std::memcpy(&v.rec, rec.data(), sizeof v.rec);
        const tp_exec_record& r = v.rec;
        if (r.binary_len > TP_BINARY_MAX || r.cwd_len > TP_CWD_MAX || r.cgroup_name_len > TP_CGROUP_PART_MAX ||
            r.args_len > TP_ARGS_MAX)
            return std::unexpected(fmt::format("exec record part over its bound: binary {}, cwd {}, cgroup {}, args {}",
                                               r.binary_len, r.cwd_len, r.cgroup_name_len, r.args_len));
        uint64_t parts = uint64_t(r.binary_len) + r.cwd_len + r.cgroup_name_len + r.args_len;
        if (sizeof(tp_exec_record) + parts != rec.size())
            return std::unexpected(fmt::format("exec record of {} bytes, its parts add up to {}", rec.size(),
                                               sizeof(tp_exec_record) + parts));
        const char* p = reinterpret_cast<const char*>(rec.data()) + sizeof(tp_exec_record);
        v.binary = normalize_path(std::string_view(p, r.binary_len));
        p += r.binary_len;
        v.cwd = std::string_view(p, r.cwd_len);
        p += r.cwd_len;
        v.cgroup_name = std::string_view(p, r.cgroup_name_len);
        p += r.cgroup_name_len;
        v.args = std::string_view(p, r.args_len);
        while (!v.args.empty() && v.args.back() == '\0')
            v.args.remove_suffix(1);
        return v;
    }
    case TP_REC_CLONE: {
        auto r = detail::read_fixed<tp_clone_record>(rec, "clone");
        if (!r)
            return std::unexpected(r.error());
        return CloneView{*r};
    }
    case TP_REC_EXIT: {
        auto r = detail::read_fixed<tp_exit_record>(rec, "exit");
        if (!r)
            return std::unexpected(r.error());
        return ExitView{*r};
    }
    default:
        return std::unexpected(fmt::format("unknown record kind {}", hdr.kind));
    }
}

} // namespace vigil::tracepoint
