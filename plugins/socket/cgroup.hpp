// Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup on a unified system, often
// /sys/fs/cgroup/unified on a hybrid (v1 + v2) one. Found in /proc/self/mountinfo, never
// assumed. Header-only so the unit tests parse the same way.
#pragma once

#include <expected>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::socket {

// mountinfo escapes space, tab, newline and backslash in paths as \ooo.
inline std::string unescape_mount_path(std::string_view s)
{
    auto oct = [](char c) { return c >= '0' && c <= '7'; };
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && oct(s[i + 1]) && oct(s[i + 2]) && oct(s[i + 3])) {
            out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

// The mount point of the cgroup2 hierarchy's root in mountinfo text. A mount of a sub-tree
// (root field other than "/") would only cover that sub-tree, so it does not count.
inline std::expected<std::string, std::string> find_cgroup2_root(std::string_view mountinfo)
{
    std::istringstream in{std::string(mountinfo)};
    std::string line;
    bool subtree_only = false;
    while (std::getline(in, line)) {
        // id parent major:minor root mount-point options [optional...] - fstype source super-options
        std::istringstream fields(line);
        std::vector<std::string> f;
        for (std::string w; fields >> w;)
            f.push_back(w);
        size_t dash = 0;
        while (dash < f.size() && f[dash] != "-")
            ++dash;
        if (f.size() < 5 || dash + 1 >= f.size() || f[dash + 1] != "cgroup2")
            continue;
        if (f[3] != "/") {
            subtree_only = true;
            continue;
        }
        return unescape_mount_path(f[4]);
    }
    return std::unexpected(std::string(subtree_only ? "cgroup2 is only mounted for a sub-tree of its hierarchy"
                                                    : "no cgroup2 file system is mounted"));
}

inline std::expected<std::string, std::string> find_cgroup2_root()
{
    std::ifstream f("/proc/self/mountinfo");
    if (!f)
        return std::unexpected(std::string("cannot read /proc/self/mountinfo"));
    std::ostringstream text;
    text << f.rdbuf();
    return find_cgroup2_root(text.str());
}

} // namespace vigil::socket
