// What the API e2e tests share: a vigild with its own socket and metrics port, marker binaries
// whose paths no other process on the machine execs, and the vigil CLI run against it.
#pragma once

#include "child_process.hpp"

#include "api/client.hpp"
#include "api/json_value.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace e2e {

namespace fs = std::filesystem;

struct CliResult {
    int rc = -1;
    std::string out, err;
};

// Runs `path args...` and waits for it.
inline void exec_and_wait(const std::string& path, std::vector<std::string> args = {})
{
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
        exec_or_exit(path, args);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
}

// A child that waits on a pipe before exec'ing `path`, so a test can subscribe to its pid first.
// It leads its own process group, which the destructor kills.
class HeldExec {
public:
    explicit HeldExec(const std::string& path, std::vector<std::string> args = {})
    {
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            char c;
            ::setpgid(0, 0);
            ::close(p[1]);
            if (::read(p[0], &c, 1) != 1)
                ::_exit(126);
            exec_or_exit(path, args);
        }
        ::close(p[0]);
        go_ = p[1];
    }
    ~HeldExec()
    {
        if (go_ >= 0)
            ::close(go_);
        if (!reaped_) {
            ::kill(-pid_, SIGKILL);
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }
    void release()
    {
        REQUIRE(::write(go_, "x", 1) == 1);
        ::close(go_);
        go_ = -1;
    }
    void wait()
    {
        ::waitpid(pid_, nullptr, 0);
        reaped_ = true;
    }

private:
    pid_t pid_ = -1;
    int go_ = -1;
    bool reaped_ = false;
};

inline uint16_t free_tcp_port()
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

// Sends raw `request` bytes to 127.0.0.1:port and returns all it answers until it closes.
inline std::string http_request(uint16_t port, std::string_view request)
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
    std::string out;
    char buf[8192];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0)
        out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
}

// JSON lines of a CLI's stdout, each parsed.
inline std::vector<vigil::api::JsonValue> json_lines(const std::string& text)
{
    std::vector<vigil::api::JsonValue> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        auto v = vigil::api::JsonValue::parse(line);
        REQUIRE(v);
        out.push_back(std::move(*v));
    }
    return out;
}

inline std::string binary_of(const vigil::api::JsonValue& event)
{
    return std::string(event.get("process_exec").get("process").get("binary").string().value_or(""));
}

// A count from the environment (the kernel-matrix guest runs slower and sets smaller ones).
inline size_t env_count(const char* name, size_t fallback)
{
    const char* v = std::getenv(name);
    return v && *v ? static_cast<size_t>(std::stoul(v)) : fallback;
}

inline size_t count_of(const std::string& haystack, const std::string& needle)
{
    size_t n = 0;
    for (size_t pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1))
        ++n;
    return n;
}

class ApiEnv {
public:
    ApiEnv()
    {
        static std::atomic<int> seq{0};
        dir = fs::temp_directory_path() / ("vigil-e2e-api-" + std::to_string(::getpid()) + "-" + std::to_string(seq++));
        fs::remove_all(dir);
        fs::create_directories(dir / "bin");
        fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                 fs::perms::others_read | fs::perms::others_exec);
        socket = dir / "vigil.sock";
        config = dir / "vigild.toml";
        metrics_port = free_tcp_port();
        write_config();
    }
    ~ApiEnv()
    {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    // The config, with `api_keys` in [api] and `extra` TOML at the end.
    void write_config(const std::string& api_keys = "", const std::string& extra = "")
    {
        std::ofstream(config) << "[api]\nsocket = \"" << socket.string() << "\"\n"
                              << api_keys
                              << "[metrics]\nport = " << metrics_port << "\n"
                              << "[output]\nstdout = \"none\"\n"
                              << "[plugins.tracepoint]\nlibrary = \"libvigil_tracepoint.so\"\n"
                              << "[plugins.kprobe]\nlibrary = \"libvigil_kprobe.so\"\n"
                              << extra;
    }

    std::unique_ptr<Vigild> start()
    {
        auto v = std::make_unique<Vigild>(std::vector<std::string>{"--config", config.string()});
        REQUIRE(v->wait_for("vigild ready", true, 15s));
        return v;
    }

    // An executable at a path unique to this test, so its execs can be told apart: a shell
    // script (exec events name the script), which also works where /usr/bin/* are busybox
    // applets that go by argv[0], as in the kernel-matrix guest.
    std::string marker(const std::string& name, const std::string& body = "exit 0")
    {
        fs::path p = dir / "bin" / name;
        std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
        fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
        return p.string();
    }

    std::vector<std::string> cli_args(std::vector<std::string> args) const
    {
        args.insert(args.begin(), {"--socket", socket.string()});
        return args;
    }
    CliResult cli(std::vector<std::string> args, std::chrono::milliseconds timeout = 20s,
                  std::optional<uid_t> as_uid = std::nullopt) const
    {
        ChildProcess c(VIGIL_CLI_PATH, cli_args(std::move(args)), as_uid);
        CliResult r;
        r.rc = c.wait_exit(timeout);
        r.out = c.out_text();
        r.err = c.err_text();
        return r;
    }
    std::unique_ptr<ChildProcess> cli_background(std::vector<std::string> args) const
    {
        return std::make_unique<ChildProcess>(VIGIL_CLI_PATH, cli_args(std::move(args)));
    }

    vigil::api::Client client() const
    {
        auto c = vigil::api::Client::connect(socket);
        REQUIRE(c);
        return std::move(*c);
    }
    vigil::api::JsonValue status() const
    {
        auto c = client();
        auto r = c.call("status");
        REQUIRE(r);
        REQUIRE(r->kind == vigil::api::Reply::Kind::result);
        return r->value;
    }
    // Waits until vigild has `n` event subscribers.
    bool wait_subscribers(size_t n, std::chrono::milliseconds timeout = 10s) const
    {
        auto deadline = clock_type::now() + timeout;
        while (clock_type::now() < deadline) {
            if (auto c = vigil::api::Client::connect(socket)) {
                auto r = c->call("status");
                if (r && r->kind == vigil::api::Reply::Kind::result && r->value.get("subscribers").size() == n)
                    return true;
            }
            ::usleep(50'000);
        }
        return false;
    }

    fs::path dir, socket, config;
    uint16_t metrics_port = 0;
};

} // namespace e2e
