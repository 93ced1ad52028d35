// vigild started for real on its embedded default config: plugins load, events flow, SIGHUP
// reloads, SIGTERM stops it cleanly and quickly.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// vigild as a child process with its stdout and stderr captured.
class Vigild {
public:
    explicit Vigild(std::vector<std::string> args)
    {
        int out[2], err[2];
        REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(out[1], 1);
            ::dup2(err[1], 2);
            std::vector<char*> argv;
            std::string bin = VIGILD_PATH;
            argv.push_back(bin.data());
            for (auto& a : args)
                argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(bin.c_str(), argv.data());
            ::_exit(127);
        }
        ::close(out[1]);
        ::close(err[1]);
        out_ = out[0];
        err_ = err[0];
    }
    ~Vigild()
    {
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(out_);
        ::close(err_);
    }

    // Reads until `needle` shows up in stdout (or stderr) or the timeout passes.
    bool wait_for(const std::string& needle, bool in_stderr, std::chrono::milliseconds timeout = 10s)
    {
        auto deadline = clock_type::now() + timeout;
        std::string& buf = in_stderr ? err_text_ : out_text_;
        while (buf.find(needle) == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
            if (left.count() <= 0 || !pump(static_cast<int>(left.count())))
                return buf.find(needle) != std::string::npos;
        }
        return true;
    }

    // Sends `sig` and waits for the exit; returns the exit status or -1 on timeout.
    int stop(int sig, std::chrono::milliseconds timeout, std::chrono::milliseconds& took)
    {
        auto t0 = clock_type::now();
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

    pid_t pid() const { return pid_; }
    const std::string& err_text() const { return err_text_; }
    const std::string& out_text() const { return out_text_; }

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

void run(const char* cmd) { REQUIRE(std::system(cmd) == 0); }

} // namespace

TEST_CASE("vigild starts on its embedded default config, shows execs and stops on SIGTERM", "[e2e]")
{
    Vigild v({});
    REQUIRE(v.wait_for("vigild ready: 3 plugin(s) running", true));
    CHECK(v.err_text().find("loaded plugin tracepoint") != std::string::npos);
    CHECK(v.err_text().find("loaded plugin kprobe") != std::string::npos);
    CHECK(v.err_text().find("loaded plugin socket") != std::string::npos);

    run("/usr/bin/true vigil-e2e-marker");
    CHECK(v.wait_for("process_exec", false));
    CHECK(v.wait_for("/usr/bin/true", false));

    std::chrono::milliseconds took{};
    int status = v.stop(SIGTERM, 5s, took);
    REQUIRE(status != -1);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(took < 2s);
    CHECK(v.err_text().find("stopped in") != std::string::npos);
}

TEST_CASE("SIGHUP reloads the config and disables a plugin without a restart", "[e2e]")
{
    namespace fs = std::filesystem;
    fs::path cfg = fs::temp_directory_path() / "vigil-e2e-reload.toml";
    auto write = [&](bool socket_enabled) {
        std::ofstream(cfg) << "[plugins.tracepoint]\nlibrary = \"libvigil_tracepoint.so\"\n"
                           << "[plugins.socket]\nlibrary = \"libvigil_socket.so\"\nenabled = "
                           << (socket_enabled ? "true" : "false") << "\n";
    };
    write(true);
    Vigild v({"--config", cfg.string(), "--output", "none"});
    REQUIRE(v.wait_for("vigild ready: 2 plugin(s) running", true));
    write(false);
    ::kill(v.pid(), SIGHUP);
    CHECK(v.wait_for("plugin socket disabled by reload", true));
    write(true);
    ::kill(v.pid(), SIGHUP);
    CHECK(v.wait_for("plugin socket running", true));

    // A broken config on reload keeps the running one.
    std::ofstream(cfg) << "[plugins.tracepoint]\nlibary = \"x\"\n";
    ::kill(v.pid(), SIGHUP);
    CHECK(v.wait_for("reload failed, keeping the running configuration", true));
    CHECK(v.err_text().find("unknown key plugins.tracepoint.libary") != std::string::npos);

    std::chrono::milliseconds took{};
    int status = v.stop(SIGTERM, 5s, took);
    REQUIRE(status != -1);
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("vigild refuses a bad config with the place and exits non-zero", "[e2e]")
{
    namespace fs = std::filesystem;
    fs::path cfg = fs::temp_directory_path() / "vigil-e2e-bad.toml";
    std::ofstream(cfg) << "[process]\ncache_size = \"big\"\n";
    Vigild v({"--config", cfg.string()});
    std::chrono::milliseconds took{};
    CHECK(v.wait_for("process.cache_size must be an integer, not a string", true));
    int status = v.stop(0, 5s, took);
    REQUIRE(status != -1);
    CHECK(WEXITSTATUS(status) == 1);
}
