// The cgroup v1 controller a hybrid host keeps containers apart by. The process sensor names a
// task at the cgroup v2 root by that controller's cgroup; the host's /proc bootstrap reads the
// same controller's line of /proc/PID/cgroup. Both pick it with this one function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::sdk {

struct CgroupV1Controller {
    std::string name;    // "memory"
    uint32_t subsys_id;  // its cgroup_subsys_id on the running kernel
};

// From the text of /proc/cgroups ("#subsys_name hierarchy num_cgroups enabled", one line per
// controller in cgroup_subsys_id order): the first enabled controller of `preferred` that is
// bound to a v1 hierarchy (hierarchy != 0). None on a pure cgroup v2 host.
inline std::optional<CgroupV1Controller> pick_cgroup1_controller(std::string_view proc_cgroups,
                                                                 std::string_view preferred = "memory,pids,cpu,devices")
{
    struct Line {
        std::string_view name;
        uint32_t id;
        bool v1;
    };
    auto find = [&](std::string_view want) -> std::optional<Line> {
        uint32_t id = 0;
        size_t pos = 0;
        while (pos < proc_cgroups.size()) {
            size_t end = proc_cgroups.find('\n', pos);
            std::string_view line = proc_cgroups.substr(pos, end == std::string_view::npos ? end : end - pos);
            pos = end == std::string_view::npos ? proc_cgroups.size() : end + 1;
            if (line.empty() || line[0] == '#')
                continue;
            size_t tab = line.find('\t');
            std::string_view name = line.substr(0, tab);
            if (name == want && tab != std::string_view::npos) {
                std::string_view rest = line.substr(tab + 1);
                size_t tab2 = rest.find('\t');
                std::string_view hier = rest.substr(0, tab2);
                bool enabled = rest.size() >= 1 && rest.back() == '1';
                return Line{name, id, enabled && !hier.empty() && hier != "0"};
            }
            ++id;
        }
        return std::nullopt;
    };
    size_t pos = 0;
    while (pos <= preferred.size()) {
        size_t comma = preferred.find(',', pos);
        std::string_view want = preferred.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
        pos = comma == std::string_view::npos ? preferred.size() + 1 : comma + 1;
        if (auto l = find(want); l && l->v1)
            return CgroupV1Controller{std::string(l->name), l->id};
    }
    return std::nullopt;
}

} // namespace vigil::sdk
