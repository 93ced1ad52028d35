// The host's error type: a category, the errno when a syscall failed, and context that says
// what and where ("plugins.kprobe.library: /x.so: no such file").
#pragma once

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>

#include <fmt/format.h>

namespace vigil {

enum class Errc {
    invalid_input, // config, policy, request or record content is wrong
    unsupported,   // the kernel or a plugin lacks what is needed
    io,            // a file or socket operation failed
    kernel,        // a bpf() call or kernel interface failed
    not_found,
    conflict,      // duplicate id, name already in use
    plugin,        // a plugin refused or failed
    internal,
};

struct Error {
    Errc code = Errc::internal;
    int sys_errno = 0;
    std::string context;

    std::string message() const
    {
        if (sys_errno)
            return fmt::format("{}: {}", context, std::strerror(sys_errno));
        return context;
    }
};

template <class T>
using Result = std::expected<T, Error>;

template <class... Args>
[[nodiscard]] std::unexpected<Error> fail(Errc code, fmt::format_string<Args...> f, Args&&... args)
{
    return std::unexpected(Error{code, 0, fmt::format(f, std::forward<Args>(args)...)});
}

template <class... Args>
[[nodiscard]] std::unexpected<Error> fail_errno(Errc code, int err, fmt::format_string<Args...> f,
                                                Args&&... args)
{
    return std::unexpected(Error{code, err, fmt::format(f, std::forward<Args>(args)...)});
}

} // namespace vigil
