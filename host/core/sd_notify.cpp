#include "core/sd_notify.hpp"

#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace vigil {

namespace {

std::optional<uint64_t> env_number(const char* name)
{
    const char* v = std::getenv(name);
    if (!v || !*v)
        return std::nullopt;
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(v, v + std::strlen(v), n);
    if (ec != std::errc() || *end)
        return std::nullopt;
    return n;
}

} // namespace

Result<SdNotifier> SdNotifier::from_environment()
{
    SdNotifier n;
    const char* name = std::getenv("NOTIFY_SOCKET");
    if (!name || !*name)
        return n;
    std::string_view path(name);
    if ((path[0] != '/' && path[0] != '@') || path.size() >= sizeof n.addr_.sun_path)
        return fail(Errc::invalid_input,
                    "NOTIFY_SOCKET \"{}\" is not an absolute path or @abstract name of at most {} bytes", path,
                    sizeof n.addr_.sun_path - 1);
    n.addr_.sun_family = AF_UNIX;
    std::memcpy(n.addr_.sun_path, path.data(), path.size());
    if (path[0] == '@') // abstract namespace: a leading NUL, and the length says where it ends
        n.addr_.sun_path[0] = '\0';
    n.addr_len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path[0] == '/'));
    n.fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!n.fd_.valid())
        return fail_errno(Errc::io, errno, "NOTIFY_SOCKET {}: socket", path);
    // WATCHDOG_PID names the process the pings are expected from; absent, it is the main one.
    auto usec = env_number("WATCHDOG_USEC");
    auto pid = env_number("WATCHDOG_PID");
    if (usec && *usec > 0 && (!pid || *pid == static_cast<uint64_t>(::getpid())))
        n.watchdog_interval_ = std::chrono::microseconds(*usec / 2);
    // vigild's children (the jq workers) do not speak for it.
    for (const char* v : {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"})
        ::unsetenv(v);
    return n;
}

Result<void> SdNotifier::notify(std::string_view state) const
{
    if (!fd_.valid())
        return {};
    ssize_t n = ::sendto(fd_.get(), state.data(), state.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                         reinterpret_cast<const sockaddr*>(&addr_), addr_len_);
    if (n < 0)
        return fail_errno(Errc::io, errno, "sd_notify \"{}\"", state);
    return {};
}

} // namespace vigil
