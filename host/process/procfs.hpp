// Reading processes from /proc: parsers for the files (pure, unit-tested with fixtures) and a
// reader for one process that tells "gone" (the process exited while we read it) apart from
// real errors. The proc root is a parameter so tests can point it at a fake tree.
#pragma once

#include "core/error.hpp"
#include "process/entry.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::procfs {

// /proc/PID/stat. comm may hold spaces and parentheses: it ends at the last ')'.
struct Stat {
    uint32_t pid = 0;
    std::string comm;
    char state = '?';
    uint32_t ppid = 0;
    uint32_t flags = 0;          // PF_* (field 9)
    uint64_t starttime = 0;      // clock ticks after boot (field 22)
};
[[nodiscard]] Result<Stat> parse_stat(std::string_view text);

// The lines of /proc/PID/status the bootstrap needs.
struct Status {
    uint32_t tgid = 0;
    std::array<uint32_t, 4> uid{}; // real, effective, saved, fs
    std::array<uint32_t, 4> gid{};
    std::vector<uint32_t> nspid;   // outermost (the reader's namespace) first, own namespace last
    uint64_t cap_inheritable = 0, cap_permitted = 0, cap_effective = 0;
};
[[nodiscard]] Result<Status> parse_status(std::string_view text);

// The cgroup v2 path ("0::/system.slice/x.service" -> "/system.slice/x.service"); empty when
// the process has no v2 hierarchy line.
std::string parse_cgroup_v2(std::string_view text);

// The path of controller's v1 hierarchy ("4:memory:/docker/x" -> "/docker/x" for "memory");
// empty when no line names it.
std::string parse_cgroup_v1(std::string_view text, std::string_view controller);

// "pid:[4026531836]" (an /proc/PID/ns/* link) -> 4026531836.
std::optional<uint32_t> parse_ns_link(std::string_view link);

// /proc/PID/cmdline: argv[0], and the rest NUL-separated without the trailing NUL.
struct Cmdline {
    std::string argv0;
    std::string args;
};
Cmdline split_cmdline(std::string_view raw);

inline constexpr uint32_t pf_kthread = 0x00200000;

// Everything the cache and the BPF process map need about one process.
struct Snapshot {
    uint32_t pid = 0;
    uint32_t ppid = 0;
    uint32_t nspid = 0;
    uint64_t ktime = 0;          // start, boot-time ns (clock ticks precision)
    uint32_t uid = 0, euid = 0, gid = 0, egid = 0;
    uint32_t auid = 0xffffffff;
    uint64_t cap_inheritable = 0, cap_permitted = 0, cap_effective = 0;
    std::array<uint32_t, ns_slot_count> ns{};
    std::string binary;
    std::string args;
    std::string cwd;
    bool cwd_error = false;
    std::string cgroup_path;   // cgroup v2
    uint64_t cgroup_id = 0;
    std::string cgroup1_path;  // in the v1 hierarchy of ReadOptions::cgroup1_controller
    uint64_t cgroup1_id = 0;   // that cgroup's id (its directory's inode number), 0 = unknown
    bool kernel_thread = false;
};

struct ReadOptions {
    std::filesystem::path proc_root = "/proc";
    std::filesystem::path cgroup_root = "/sys/fs/cgroup"; // where cgroup2 is mounted
    uint64_t ns_per_tick = 0; // 0: from sysconf(_SC_CLK_TCK)
    std::string cgroup1_controller; // hybrid hosts: the v1 controller whose path is read too
    uint32_t cgroup1_subsys = uint32_t(-1); // its cgroup_subsys_id
    std::filesystem::path cgroup1_root = "/sys/fs/cgroup"; // where v1 controllers are mounted
};

// Reads /proc/PID. Errc::not_found when the process is gone (it may exit at any point while
// its files are read); other errors say which file and why.
// This host's reading options: cgroup2's mount (/sys/fs/cgroup, or /sys/fs/cgroup/unified on
// hybrid hosts) and the v1 controller the process sensor names containers by.
ReadOptions host_read_options();

// The path (below `cgroup2_root`, starting with '/') of the cgroup whose v2 id is `id`, found
// through the id as a file handle (needs CAP_DAC_READ_SEARCH); nullopt when it is gone.
std::optional<std::string> cgroup_path_of(const std::filesystem::path& cgroup2_root, uint64_t id);

[[nodiscard]] Result<Snapshot> read_process(uint32_t pid, const ReadOptions& opts);

// When the process started (boot-time ns, as Snapshot::ktime), from its stat file only.
[[nodiscard]] Result<uint64_t> read_start_ktime(uint32_t pid, const ReadOptions& opts);

// Thread-group ids listed in the proc root, ascending.
std::vector<uint32_t> list_pids(const std::filesystem::path& proc_root);

// The namespace inodes of a process (0 for those that cannot be read).
std::array<uint32_t, ns_slot_count> read_namespaces(const std::filesystem::path& proc_root, std::string_view pid);

} // namespace vigil::procfs
