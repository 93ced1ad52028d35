#include "policy/syscalls.hpp"

#include <string_view>
#include <utility>

namespace vigil::policy {

namespace {

constexpr std::pair<std::string_view, int32_t> syscall_table[] = {
#include "syscall_table.inc"
};

} // namespace

std::optional<int32_t> syscall_number(std::string_view name)
{
    for (std::string_view prefix : {"__x64_sys_", "sys_"})
        if (name.starts_with(prefix)) {
            name.remove_prefix(prefix.size());
            break;
        }
    for (const auto& [n, nr] : syscall_table)
        if (n == name)
            return nr;
    return std::nullopt;
}

std::vector<int32_t> all_syscall_numbers()
{
    std::vector<int32_t> out;
    for (const auto& e : syscall_table)
        out.push_back(e.second);
    return out;
}

} // namespace vigil::policy
