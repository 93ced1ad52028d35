// Syscalls as the kprobe plugin hooks them: which policy calls name a syscall, their numbers
// (for raw_syscalls dispatch), and where their arguments sit in the syscall tracepoints' records.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::kprobe {

// "sys_openat" and "__x64_sys_openat" name the syscall "openat"; anything else is not a syscall
// entry point. 32-bit entry points (__ia32_sys_, __x32_) are refused by the caller.
std::optional<std::string> syscall_name_of(std::string_view call);

// The x86-64 number of a syscall, from the kernel UAPI header the plugin was built with.
std::optional<int32_t> syscall_number(std::string_view name);

// Offsets of the syscall's arguments in the record of syscalls/sys_enter_<name>, parsed from its
// tracefs format (the fields after __syscall_nr, in order). The error says whether the tracepoint
// is missing or its format unexpected.
std::expected<std::vector<uint16_t>, std::string> syscall_tp_offsets(std::string_view name);
std::expected<std::vector<uint16_t>, std::string> parse_syscall_tp_format(std::string_view text);

// Whether a tracepoint exists (tracefs events/<subsystem>/<event>).
bool tracepoint_exists(std::string_view subsystem, std::string_view event);

} // namespace vigil::kprobe
