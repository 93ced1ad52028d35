// The service manager's notification protocol (sd_notify(3)), spoken directly: one datagram of
// "KEY=VALUE" lines to the AF_UNIX socket named by $NOTIFY_SOCKET. Without that variable (vigild
// not started by systemd with Type=notify) every call does nothing.
#pragma once

#include "core/error.hpp"
#include "core/fd.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

class SdNotifier {
public:
    // Reads $NOTIFY_SOCKET ("/path" or "@abstract") and $WATCHDOG_USEC / $WATCHDOG_PID. A
    // malformed socket name is an error; an absent one gives a notifier that does nothing. The
    // variables are removed from the environment: vigild's children do not speak for it.
    [[nodiscard]] static Result<SdNotifier> from_environment();

    bool enabled() const { return fd_.valid(); }
    // Sends one datagram without blocking: a service manager that does not read is its problem,
    // not the agent's. Errors are returned for the caller to log.
    [[nodiscard]] Result<void> notify(std::string_view state) const;
    // How often to send WATCHDOG=1 (half the manager's timeout), when it asked for pings.
    std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_interval_; }

private:
    Fd fd_;
    sockaddr_un addr_{};
    socklen_t addr_len_ = 0;
    std::optional<std::chrono::microseconds> watchdog_interval_;
};

} // namespace vigil
