// Tetragon's JSON for a process (the "process", "parent" and "ancestors" members of every event):
// field names, nesting and value formats as Tetragon exports them, so existing consumers work.
#pragma once

#include "process/entry.hpp"

#include <vigil/sdk/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

// Boot-time ns -> RFC 3339 UTC with nanoseconds ("2023-10-06T22:03:57.700327580Z").
class WallClock {
public:
    WallClock(); // reads the boot-to-wall offset now
    explicit WallClock(int64_t boot_to_wall_ns) : boot_to_wall_ns_(boot_to_wall_ns) {}
    // "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ", formatted without allocating.
    struct Stamp {
        char text[30];
        std::string_view view() const { return {text, sizeof text}; }
    };
    Stamp stamp(uint64_t ktime_boot_ns) const;
    std::string rfc3339(uint64_t ktime_boot_ns) const { return std::string(stamp(ktime_boot_ns).view()); }
    int64_t offset() const { return boot_to_wall_ns_; }

private:
    int64_t boot_to_wall_ns_;
};

class ContainerTable;

struct ProcessJsonOptions {
    bool namespaces = false;   // "ns": {"uts": {"inum": N, "is_host": bool}, ...}
    bool capabilities = false; // "cap": {"permitted": ["CAP_..."], ...}
    bool pod_annotations = false; // "pod": {"pod_annotations": {...}}
    ContainerTable* containers = nullptr; // pod and container metadata; none: from cgroups only
    std::array<uint32_t, ns_slot_count> host_ns{}; // what "is_host" compares with
};

// "execve rootcwd clone": the flag names Tetragon uses, in its order; vigil's own flags
// (truncCwd) come after them.
std::string process_flags_string(uint32_t flags);
// The VIGIL_PROC_F_* bit of a flag name as process_flags_string writes it ("fileless").
std::optional<uint32_t> process_flag_bit(std::string_view name);
// Every flag name, space-separated, for error messages.
std::string process_flag_names();

// Arguments as Tetragon prints them: space-separated, an argument holding a space in quotes.
std::string join_arguments(std::string_view nul_separated);

// CAP_CHOWN ... for each bit set.
void write_capability_list(sdk::JsonWriter& w, uint64_t caps);

// Writes Tetragon's "pod" member for a process in a container: from the runtime's metadata when
// `meta` is given, else what the cgroup tells (uid, container id). Nothing outside pods.
void write_pod_json(sdk::JsonWriter& w, const ProcessEntry& e, const struct ContainerMeta* meta,
                    bool annotations);

// Writes one process object. tid 0: the entry's own.
void write_process_json(sdk::JsonWriter& w, const ProcessEntry& e, uint32_t tid, const WallClock& clock,
                        const ProcessJsonOptions& opts);

} // namespace vigil
