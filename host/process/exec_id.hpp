// Process identity as Tetragon spells it: exec_id = base64("<node_name>:<ktime>:<pid>"), where
// ktime is the boot-time ns the process (exec or fork) started. Unique across the cluster.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

// Standard base64 (RFC 4648) with padding.
std::string base64_encode(std::string_view in);

std::string make_exec_id(std::string_view node_name, uint64_t ktime, uint32_t pid);

} // namespace vigil
