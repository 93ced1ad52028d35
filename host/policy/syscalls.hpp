// Syscall names as policies write them in lists ("sys_ptrace", "__x64_sys_ptrace", "ptrace") and
// their x86-64 numbers, from the UAPI header vigil was built with.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace vigil::policy {

std::optional<int32_t> syscall_number(std::string_view name);
// Every syscall number (a generated_syscalls list).
std::vector<int32_t> all_syscall_numbers();

} // namespace vigil::policy
