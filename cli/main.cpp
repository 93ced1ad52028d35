// vigil: the command-line client of vigild's API (docs/api.md), and `vigil plugin check FILE.so`,
// which inspects a plugin library without loading any BPF.
#include "cli.hpp"
#include "plugins/loader.hpp"

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace vigil::cli;

void usage(std::FILE* f)
{
    std::fprintf(f,
                 "usage: vigil [--socket PATH] <command>\n"
                 "  getevents [-o json|compact] [--event-types T,..] [--process REGEX] [--pid N,..]\n"
                 "            [--namespace NS,..] [--policy-names P,..] [--process-flags F,..] [--filter JQ]\n"
                 "            [--pod REGEX].. [--pod-labels SELECTOR].. [--container-id REGEX]..\n"
                 "            [--reconnect] [--timeout SECONDS]  stream events (JSON lines by default)\n"
                 "            [--nats URL,.. [--node NAME] [--from-start] [--stream NAME]\n"
                 "             [--nats-creds FILE | --nats-userinfo FILE]]  the fleet's events, from JetStream\n"
                 "  status [-o json]                        agent version, features, plugins, counters\n"
                 "  plugin list [-o json] | enable ID | disable ID   (also: sensors ...)\n"
                 "  process list [-o json] | get PID | tree [PID]\n"
                 "  policy add FILE [--mode enforce|monitor] | delete NAME | list [-o json]\n"
                 "         | enable NAME | disable NAME | set-mode NAME enforce|monitor\n"
                 "  fleet policy add FILE | delete NAME | list [-o json]  --nats URL,.. [--nats-creds FILE]\n"
                 "                                          the fleet's policies and each node's verdict\n"
                 "  plugin check FILE.so                    print a plugin's descriptor and whether vigild would load it\n"
                 "  version                                 print the version\n"
                 "\n"
                 "  --socket PATH   vigild's API socket (default %s)\n"
                 "\n"
                 "exit codes: 0 ok, 1 vigild answered with an error, 2 usage error, 3 cannot reach vigild\n",
                 vigil::api::default_socket_path);
}

// Exit codes: 0 accepted, 1 refused, 2 usage error.
int plugin_check(Args& args)
{
    if (args.remaining() != 2 || args.next() != "check")
        return usage_error("usage: vigil plugin check FILE.so");
    std::string file = args.next();
    std::string refused_descriptor;
    auto lib = vigil::load_plugin_library(file, {}, &refused_descriptor);
    if (!lib) {
        std::fputs(refused_descriptor.c_str(), stdout); // what it declares, when that could be read
        std::printf("verdict: REFUSED: %s\n", lib.error().message().c_str());
        return 1;
    }
    std::fputs(vigil::describe_descriptor(*lib->descriptor).c_str(), stdout);
    if (lib->legacy_entry)
        std::printf("note: exports the Boost.DLL alias \"%s\" of ABI < 1.2, not the C function \"%s\"; a later "
                    "host will refuse it\n", VIGIL_LEGACY_ENTRY_SYMBOL, VIGIL_ENTRY_SYMBOL);
    std::printf("verdict: OK: host ABI %d.%d accepts %s\n", VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR, file.c_str());
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    Globals g;
    g.socket_path = vigil::api::default_socket_path;
    // --socket may come anywhere; everything else is the command's.
    std::vector<std::string> words;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--socket") {
            if (i + 1 >= argc)
                return usage_error("--socket needs a path");
            g.socket_path = argv[++i];
        } else if (a.starts_with("--socket=")) {
            g.socket_path = std::string(a.substr(9));
        } else {
            words.emplace_back(a);
        }
    }
    if (words.empty()) {
        usage(stderr);
        return exit_usage;
    }
    std::string cmd = words.front();
    Args args(std::vector<std::string>(words.begin() + 1, words.end()));
    if (cmd == "getevents")
        return cmd_getevents(g, args);
    if (cmd == "status")
        return cmd_status(g, args);
    if (cmd == "sensors")
        return cmd_plugins(g, args, cmd);
    if (cmd == "process")
        return cmd_process(g, args);
    if (cmd == "policy")
        return cmd_policy(g, args);
    if (cmd == "fleet")
        return cmd_fleet(g, args);
    if (cmd == "plugin")
        return !args.empty() && args.peek() == "check" ? plugin_check(args) : cmd_plugins(g, args, cmd);
    if (cmd == "version" || cmd == "--version") {
        std::printf("vigil %s (plugin ABI %d.%d, API protocol %d)\n", VIGIL_VERSION, VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR,
                    vigil::api::protocol_version);
        return exit_ok;
    }
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
        usage(stdout);
        return exit_ok;
    }
    error("unknown command \"" + cmd + "\"");
    usage(stderr);
    return exit_usage;
}
