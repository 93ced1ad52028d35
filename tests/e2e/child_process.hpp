// A program run by an e2e test as a child process with stdout and stderr captured: vigild, or
// the vigil CLI.
#pragma once

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace e2e {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// In a forked child: exec `path` with `args`, or exit 127.
[[noreturn]] inline void exec_or_exit(std::string path, std::vector<std::string> args)
{
    std::vector<char*> argv{path.data()};
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
}

class ChildProcess {
public:
    // `as_uid`: run with that uid and gid and no supplementary groups.
    ChildProcess(std::string binary, std::vector<std::string> args, std::optional<uid_t> as_uid = std::nullopt)
    {
        int out[2], err[2];
        REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(out[1], 1);
            ::dup2(err[1], 2);
            if (as_uid && (::setgroups(0, nullptr) != 0 || ::setgid(*as_uid) != 0 || ::setuid(*as_uid) != 0))
                ::_exit(126);
            exec_or_exit(binary, args);
        }
        ::close(out[1]);
        ::close(err[1]);
        out_ = out[0];
        err_ = err[0];
    }
    ~ChildProcess()
    {
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(out_);
        ::close(err_);
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    // Reads until `needle` shows up in stdout (or stderr) or the timeout passes.
    bool wait_for(const std::string& needle, bool in_stderr, std::chrono::milliseconds timeout = 10s)
    {
        auto deadline = clock_type::now() + timeout;
        std::string& buf = in_stderr ? err_text_ : out_text_;
        while (buf.find(needle) == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
            if (left.count() <= 0)
                return false;
            pump(static_cast<int>(left.count()));
        }
        return true;
    }

    // Reads until stdout holds `needle` `n` times or the timeout passes.
    bool wait_for_count(const std::string& needle, size_t n, std::chrono::milliseconds timeout = 10s)
    {
        auto deadline = clock_type::now() + timeout;
        for (;;) {
            size_t found = 0;
            for (size_t pos = out_text_.find(needle); pos != std::string::npos; pos = out_text_.find(needle, pos + 1))
                ++found;
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
            if (found >= n)
                return true;
            if (left.count() <= 0)
                return false;
            pump(static_cast<int>(left.count()));
        }
    }

    // Sends `sig` (none when 0) and waits for the exit; returns the wait status or -1 on timeout.
    int stop(int sig, std::chrono::milliseconds timeout, std::chrono::milliseconds& took)
    {
        auto t0 = clock_type::now();
        if (sig)
            ::kill(pid_, sig);
        while (clock_type::now() - t0 < timeout) {
            int status = 0;
            pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                exited_ = true;
                took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0);
                while (pump(0)) {
                }
                return status;
            }
            pump(20);
        }
        return -1;
    }
    int stop(int sig, std::chrono::milliseconds timeout = 10s)
    {
        std::chrono::milliseconds took{};
        return stop(sig, timeout, took);
    }
    // Waits for the exit (without a signal); the exit code, or -1 on timeout or a signal.
    int wait_exit(std::chrono::milliseconds timeout = 20s)
    {
        int status = stop(0, timeout);
        return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

    pid_t pid() const { return pid_; }
    const std::string& err_text() const { return err_text_; }
    const std::string& out_text() const { return out_text_; }
    // Reads whatever is there now.
    void drain()
    {
        while (pump(0)) {
        }
    }

private:
    // Reads what is available on both pipes; false when nothing came before the timeout.
    bool pump(int timeout_ms)
    {
        pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
        if (::poll(fds, 2, timeout_ms) <= 0)
            return false;
        bool got = false;
        char buf[8192];
        for (int i = 0; i < 2; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP)))
                continue;
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                (i == 0 ? out_text_ : err_text_).append(buf, static_cast<size_t>(n));
                got = true;
            }
        }
        return got;
    }

    pid_t pid_ = -1;
    int out_ = -1, err_ = -1;
    bool exited_ = false;
    std::string out_text_, err_text_;
};

// vigild with its output captured.
class Vigild : public ChildProcess {
public:
    explicit Vigild(std::vector<std::string> args) : ChildProcess(VIGILD_PATH, std::move(args)) {}
};

} // namespace e2e
