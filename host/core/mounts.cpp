#include "core/mounts.hpp"

#include <sys/mount.h>

#include <cerrno>
#include <filesystem>

namespace vigil {

Result<bool> ensure_tracefs()
{
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::exists("/sys/kernel/tracing/events", ec) || fs::exists("/sys/kernel/debug/tracing/events", ec))
        return false;
    if (::mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0)
        return fail_errno(Errc::kernel, errno, "mounting tracefs at /sys/kernel/tracing");
    return true;
}

} // namespace vigil
