// vigil: the command-line client. `vigil plugin check FILE.so` inspects a plugin library without
// loading any BPF: it prints the descriptor and says whether this vigild would accept it.
#include "plugins/loader.hpp"

#include <cstdio>
#include <string>
#include <string_view>

namespace {

void usage(std::FILE* f)
{
    std::fprintf(f, "usage: vigil <command>\n"
                    "  plugin check FILE.so   print a plugin's descriptor and whether vigild would load it\n"
                    "  version                print the version\n");
}

// Exit codes: 0 accepted, 1 refused, 2 usage error.
int plugin_check(const char* file)
{
    auto lib = vigil::load_plugin_library(file);
    if (!lib) {
        std::printf("verdict: REFUSED: %s\n", lib.error().message().c_str());
        return 1;
    }
    std::fputs(vigil::describe_descriptor(*lib->descriptor).c_str(), stdout);
    std::printf("verdict: OK: host ABI %d.%d accepts %s\n", VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR, file);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    std::string_view cmd = argv[1];
    if (cmd == "plugin" && argc == 4 && std::string_view(argv[2]) == "check")
        return plugin_check(argv[3]);
    if (cmd == "version" || cmd == "--version") {
        std::printf("vigil %s (plugin ABI %d.%d)\n", VIGIL_VERSION, VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR);
        return 0;
    }
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
        usage(stdout);
        return 0;
    }
    std::fprintf(stderr, "vigil: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
