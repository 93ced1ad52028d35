// vigild: the vigil agent.
#include "agent.hpp"
#include "core/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

namespace {

// The build tree's plugins for a vigild run from the build tree, else the installed ones.
std::string default_plugin_dir()
{
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec && self.parent_path() == VIGIL_BUILD_BIN_DIR)
        return VIGIL_PLUGIN_BUILD_DIR;
    return VIGIL_PLUGIN_INSTALL_DIR;
}

void usage(std::FILE* f)
{
    std::fprintf(f,
                 "usage: vigild [options]\n"
                 "  --config FILE          TOML configuration (default: the embedded one, see --print-default-config)\n"
                 "  --output FORMAT        events on stdout: compact, json or none\n"
                 "  --export-file PATH     also write JSON events to PATH (rotated as configured)\n"
                 "  --api-socket PATH      serve the API on PATH instead of [api] socket\n"
                 "  --policy FILE          load a TracingPolicy at start (repeatable; a bad policy stops vigild)\n"
                 "  --plugin-dir DIR       where plugin libraries are (default: %s)\n"
                 "  --print-default-config print the embedded configuration and exit\n"
                 "  --version              print the version and exit\n",
                 default_plugin_dir().c_str());
}

} // namespace

int main(int argc, char** argv)
{
    // A closed stdout (`vigild | head`) shows as EPIPE on that sink, which turns it off.
    std::signal(SIGPIPE, SIG_IGN);
    // Started with 0, 1 or 2 closed: /dev/null takes the place, or the first file or BPF object
    // vigild opens would get the number and receive its events or log lines.
    for (int fd = 0; fd <= 2; ++fd)
        if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int null_fd = ::open("/dev/null", O_RDWR);
            if (null_fd >= 0 && null_fd != fd) {
                ::dup2(null_fd, fd);
                ::close(null_fd);
            }
            vigil::log::get("host")->warn("started with fd {} closed: /dev/null stands in for it", fd);
        }
    vigil::AgentOptions opts;
    opts.plugin_dir = default_plugin_dir();
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto next = [&](const char* what) -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "vigild: %s needs a value\n", what);
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--config")
            opts.config_path = next("--config");
        else if (a == "--output") {
            std::string_view v = next("--output");
            if (v == "json")
                opts.stdout_format = vigil::StdoutFormat::json;
            else if (v == "compact")
                opts.stdout_format = vigil::StdoutFormat::compact;
            else if (v == "none")
                opts.stdout_format = vigil::StdoutFormat::none;
            else {
                std::fprintf(stderr, "vigild: --output must be compact, json or none, not \"%.*s\"\n",
                             static_cast<int>(v.size()), v.data());
                return 2;
            }
        } else if (a == "--export-file")
            opts.export_file = next("--export-file");
        else if (a == "--api-socket")
            opts.api_socket = next("--api-socket");
        else if (a == "--policy")
            opts.policies.emplace_back(next("--policy"));
        else if (a == "--plugin-dir")
            opts.plugin_dir = next("--plugin-dir");
        else if (a == "--print-default-config") {
            std::fwrite(vigil::embedded_default_config().data(), 1, vigil::embedded_default_config().size(), stdout);
            return 0;
        } else if (a == "--version") {
            std::printf("vigild %s (plugin ABI %d.%d)\n", VIGIL_VERSION, VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR);
            return 0;
        } else if (a == "-h" || a == "--help") {
            usage(stdout);
            return 0;
        } else {
            std::fprintf(stderr, "vigild: unknown option \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    auto agent = vigil::Agent::make(std::move(opts));
    if (!agent) {
        vigil::log::get("host")->error("cannot start: {}", agent.error().message());
        return 1;
    }
    return (*agent)->run();
}
