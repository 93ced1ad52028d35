// vigild started for real on its embedded default config: plugins load, events flow, SIGHUP
// reloads, SIGTERM stops it cleanly and quickly.
#include "child_process.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using e2e::Vigild;

void run(const char* cmd) { REQUIRE(std::system(cmd) == 0); }

// vigild's own API socket for these tests: another vigild on the machine may serve the default one.
std::vector<std::string> own_socket(std::vector<std::string> args)
{
    args.insert(args.end(), {"--api-socket", "/tmp/vigil-e2e-agent-" + std::to_string(::getpid()) + ".sock"});
    return args;
}

} // namespace

TEST_CASE("vigild starts on its embedded default config, shows execs and stops on SIGTERM", "[e2e]")
{
    Vigild v(own_socket({}));
    REQUIRE(v.wait_for("vigild ready: 4 plugin(s) running", true));
    CHECK(v.err_text().find("loaded plugin tracepoint") != std::string::npos);
    CHECK(v.err_text().find("loaded plugin kprobe") != std::string::npos);
    CHECK(v.err_text().find("loaded plugin socket") != std::string::npos);
    CHECK(v.err_text().find("loaded plugin uprobe") != std::string::npos);

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
    Vigild v(own_socket({"--config", cfg.string(), "--output", "none"}));
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

TEST_CASE("SIGHUP applies a plugin's changed config by restarting it, and refuses a bad one", "[e2e][faults]")
{
    namespace fs = std::filesystem;
    fs::path cfg = fs::temp_directory_path() / "vigil-e2e-reload-config.toml";
    auto write = [&](const std::string& plugin_config) {
        std::ofstream(cfg) << "[plugins.tracepoint]\nlibrary = \"libvigil_tracepoint.so\"\n"
                           << "[plugins.fake]\nlibrary = \"" << VIGIL_FAKE_PLUGIN_DIR << "/libfake_good.so\"\n"
                           << "[plugins.fake.config]\n" << plugin_config;
    };
    write("greeting = \"hello-one\"\n");
    Vigild v(own_socket({"--config", cfg.string(), "--output", "none"}));
    REQUIRE(v.wait_for("vigild ready: 2 plugin(s) running", true));
    CHECK(v.wait_for("[plugin.fake] hello-one", true));

    write("greeting = \"hello-two\"\n");
    ::kill(v.pid(), SIGHUP);
    CHECK(v.wait_for("plugin fake: [plugins.fake.config] changed; restarting it with the new values", true));
    CHECK(v.wait_for("[plugin.fake] hello-two", true));

    // Unknown keys and wrong types are refused with their place; the plugin keeps running.
    write("greting = \"typo\"\n");
    ::kill(v.pid(), SIGHUP);
    CHECK(v.wait_for("new configuration refused, the plugin keeps running as it was", true));
    CHECK(v.wait_for("plugins.fake.config: unknown key \"greting\"", true));
    write("repeat = \"often\"\n");
    ::kill(v.pid(), SIGHUP);
    CHECK(v.wait_for("plugins.fake.config.repeat must be an integer", true));
    CHECK(v.err_text().find("hello-two") != std::string::npos);
    CHECK(v.err_text().find("plugin fake running") != std::string::npos);

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
