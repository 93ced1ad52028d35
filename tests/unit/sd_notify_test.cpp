#include "core/fd.hpp"
#include "core/sd_notify.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace {

// A datagram socket standing in for the service manager's notification socket.
struct Manager {
    vigil::Fd fd{::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
    std::string name;

    explicit Manager(std::string n) : name(std::move(n))
    {
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path, name.data(), name.size());
        if (name[0] == '@')
            a.sun_path[0] = '\0';
        else
            std::filesystem::remove(name);
        auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
        REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len) == 0);
        timeval tv{2, 0};
        ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~Manager()
    {
        if (name[0] == '/')
            std::filesystem::remove(name);
    }
    std::string receive() const
    {
        char buf[512];
        ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        return n < 0 ? std::string("<nothing>") : std::string(buf, size_t(n));
    }
};

} // namespace

TEST_CASE("sd_notify: states reach the socket named by NOTIFY_SOCKET", "[unit][sd_notify]")
{
    for (std::string name : {(std::filesystem::temp_directory_path() / ("vigil-notify-" + std::to_string(::getpid())))
                                 .string(),
                             "@vigil-notify-" + std::to_string(::getpid())}) {
        Manager m(name);
        ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
        ::setenv("WATCHDOG_USEC", "3000000", 1);
        ::unsetenv("WATCHDOG_PID");
        auto n = vigil::SdNotifier::from_environment();
        REQUIRE(n);
        CHECK(n->enabled());
        REQUIRE(n->watchdog_interval());
        CHECK(*n->watchdog_interval() == std::chrono::milliseconds(1500));
        // children started later do not inherit the manager's socket
        CHECK(std::getenv("NOTIFY_SOCKET") == nullptr);
        CHECK(std::getenv("WATCHDOG_USEC") == nullptr);
        REQUIRE(n->notify("READY=1\nSTATUS=running"));
        CHECK(m.receive() == "READY=1\nSTATUS=running");
        REQUIRE(n->notify("WATCHDOG=1"));
        CHECK(m.receive() == "WATCHDOG=1");
    }
}

TEST_CASE("sd_notify: no NOTIFY_SOCKET, no notifications; bad names are errors", "[unit][sd_notify]")
{
    ::unsetenv("NOTIFY_SOCKET");
    auto n = vigil::SdNotifier::from_environment();
    REQUIRE(n);
    CHECK_FALSE(n->enabled());
    CHECK(n->notify("READY=1"));

    ::setenv("NOTIFY_SOCKET", "relative/socket", 1);
    n = vigil::SdNotifier::from_environment();
    REQUIRE_FALSE(n);
    CHECK(n.error().message() ==
          "NOTIFY_SOCKET \"relative/socket\" is not an absolute path or @abstract name of at most 107 bytes");

    // pings expected from another process (a wrapper's pid): not ours to send
    std::string name = "@vigil-notify-wd-" + std::to_string(::getpid());
    Manager m(name);
    ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
    ::setenv("WATCHDOG_USEC", "3000000", 1);
    ::setenv("WATCHDOG_PID", "1", 1);
    n = vigil::SdNotifier::from_environment();
    REQUIRE(n);
    CHECK_FALSE(n->watchdog_interval());
    ::unsetenv("WATCHDOG_PID");
}
