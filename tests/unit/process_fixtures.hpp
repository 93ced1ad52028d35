// Synthetic lifecycle updates, as the process sensor hands them to the host, for unit tests.
#pragma once

#include <vigil/plugin_abi.h>
#include <vigil/wire/process.h>

#include <cstdint>
#include <string>

namespace vigil::test {

inline vigil_process_update process_update(uint32_t op, uint32_t pid, uint64_t ktime, uint32_t ppid = 0,
                                           uint64_t parent_ktime = 0)
{
    vigil_process_update u{};
    u.struct_size = sizeof u;
    u.op = op;
    u.pid = pid;
    u.tid = pid;
    u.ktime = ktime;
    u.ppid = ppid;
    u.parent_ktime = parent_ktime;
    u.flags = op == VIGIL_PROC_EXEC ? VIGIL_PROC_F_EXECVE : op == VIGIL_PROC_CLONE ? VIGIL_PROC_F_CLONE : 0;
    return u;
}

// The strings must outlive the update: pass long-lived ones.
inline vigil_process_update exec_update(uint32_t pid, uint64_t ktime, uint32_t ppid, uint64_t parent_ktime,
                                        const std::string& binary)
{
    vigil_process_update u = process_update(VIGIL_PROC_EXEC, pid, ktime, ppid, parent_ktime);
    u.binary = binary.data();
    u.binary_len = binary.size();
    return u;
}

} // namespace vigil::test
