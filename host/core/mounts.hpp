// Kernel filesystems the agent needs: tracefs (tracepoint ids and formats) and bpffs. A host
// that has not mounted them gets them mounted at their usual places.
#pragma once

#include "core/error.hpp"

namespace vigil {

// Mounts tracefs at /sys/kernel/tracing unless tracepoint ids are already readable there or
// under /sys/kernel/debug/tracing. Returns whether a mount was made.
[[nodiscard]] Result<bool> ensure_tracefs();

} // namespace vigil
