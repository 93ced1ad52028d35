// TracingPolicy `uprobes:` and `usdts:` end to end, on real binaries: bash's readline (driven
// through a pty) and uprobe_target (support/uprobe_target.c: a function with an int and a string
// argument, and a USDT probe). vigild loads the policies from a directory, the uprobe plugin
// attaches them, selectors run in the kernel, and the process_uprobe / process_usdt events are
// checked field by field; Sigkill and Signal must act on the caller. Bad policies must be refused
// with the policy's file:line and the reason.
#include "support/vigild.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace vigil::e2e;
namespace fs = std::filesystem;

namespace {

const std::string target = VIGIL_UPROBE_TARGET;

std::string policy(const std::string& name, const std::string& hooks)
{
    return fmt::format("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: {}\nspec:\n{}", name,
                       hooks);
}

// vigild with the process sensor, the uprobe plugin (unless `plugins` says otherwise) and these
// policy files.
std::unique_ptr<Vigild> start_with(const TempDir& dir, const std::vector<std::pair<std::string, std::string>>& files,
                                   std::vector<std::string> plugins = {"tracepoint", "uprobe"})
{
    for (const auto& [file, text] : files)
        std::ofstream(dir.path() / file) << text;
    VigildOptions o;
    o.plugins = std::move(plugins);
    o.ready_timeout = 90s; // each hook object is verified at load, on a shared 2-core machine
    o.policy_dir = dir.path();
    return Vigild::start(o);
}

// A hook on uprobe_target's vigil_target_call(int n, const char *text) acting on calls whose
// text is `text`.
std::string target_hook(const std::string& text, const std::string& action, const std::string& extra = "")
{
    return fmt::format(R"(  uprobes:
  - path: {}
    symbols: [vigil_target_call]
    args:
    - index: 0
      type: int
      label: n
    - index: 1
      type: string
      label: text
    selectors:
    - matchArgs:
      - index: 1
        operator: Equal
        values: ["{}"]
{}      matchActions:
      - action: {}
)",
                       target, text, extra, action);
}

std::function<bool(const json&)> event_of(const std::string& kind, const std::string& policy_name, pid_t pid)
{
    return [=](const json& ev) {
        auto it = ev.find(kind);
        return it != ev.end() && it->value("policy_name", "") == policy_name &&
               (*it)["process"].value("pid", -1) == pid;
    };
}

bool loaded(Vigild& v, const std::string& name)
{
    return v.wait_log(fmt::format("policy {} loaded", name), 2s).has_value();
}

// What a command prints on stdout.
std::string output_of(const std::string& command)
{
    std::string out;
    if (FILE* f = ::popen(command.c_str(), "r")) {
        char buf[256];
        while (std::fgets(buf, sizeof buf, f))
            out += buf;
        ::pclose(f);
    }
    return out;
}

// The file offset uprobe_target prints for `--offset` or `--semaphore`.
uint64_t target_offset(const std::string& what)
{
    return std::strtoull(output_of(target + " " + what).c_str(), nullptr, 10);
}

} // namespace

TEST_CASE("uprobe policy: a function's int and string args, matchArgs, matchBinaries, Sigkill, Signal",
          "[e2e][uprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    auto v = start_with(
        pol, {{"args.yaml", policy("up-args", target_hook("match-me", "Post"))},
              {"kill.yaml", policy("up-kill", target_hook("kill-me", "Sigkill"))},
              {"signal.yaml", policy("up-signal", target_hook("signal-me", "Signal\n        argSig: 10"))},
              {"bin-in.yaml",
               policy("up-bin-in", target_hook("bin-check", "Post",
                                               fmt::format("      matchBinaries:\n      - operator: In\n"
                                                           "        values: [\"{}\"]\n",
                                                           target)))},
              {"bin-out.yaml", policy("up-bin-out", target_hook("bin-check", "Post",
                                                                "      matchBinaries:\n      - operator: In\n"
                                                                "        values: [\"/usr/bin/true\"]\n"))}});
    for (const char* name : {"up-args", "up-kill", "up-signal", "up-bin-in", "up-bin-out"}) {
        INFO(name << "\n" << v->log());
        REQUIRE(loaded(*v, name));
    }

    // matchArgs: the call with the text posts, with its arguments; the other is filtered in the kernel.
    auto hit = run({target, "7", "match-me"});
    auto miss = run({target, "8", "not-me"});
    REQUIRE(WIFEXITED(hit.status));
    REQUIRE(WIFEXITED(miss.status));
    auto ev = v->wait_event(event_of("process_uprobe", "up-args", hit.pid));
    REQUIRE(ev);
    const json& u = (*ev)["process_uprobe"];
    CHECK(u["path"] == target);
    CHECK(u["symbol"] == "vigil_target_call");
    CHECK_FALSE(u.contains("offset"));
    REQUIRE(u["args"].size() == 2);
    CHECK(u["args"][0]["int_arg"] == 7);
    CHECK(u["args"][0]["label"] == "n");
    CHECK(u["args"][1]["string_arg"] == "match-me");
    CHECK(u["args"][1]["label"] == "text");
    CHECK(u["action"] == "KPROBE_ACTION_POST");
    CHECK(u["process"]["binary"] == fs::canonical(target).string());
    CHECK(u["process"].contains("exec_id"));
    CHECK(u.contains("parent"));

    // matchBinaries: the same call, two policies; only the one naming this binary posts.
    auto bin = run({target, "1", "bin-check"});
    REQUIRE(WIFEXITED(bin.status));
    CHECK(v->wait_event(event_of("process_uprobe", "up-bin-in", bin.pid)));

    // Sigkill: the caller dies before it returns from the call; Signal sends the one asked for.
    auto killed = run({target, "2", "kill-me"});
    CHECK(WIFSIGNALED(killed.status));
    CHECK((WIFSIGNALED(killed.status) && WTERMSIG(killed.status) == SIGKILL));
    auto kev = v->wait_event(event_of("process_uprobe", "up-kill", killed.pid));
    REQUIRE(kev);
    CHECK((*kev)["process_uprobe"]["action"] == "KPROBE_ACTION_SIGKILL");
    CHECK((*kev)["process_uprobe"]["enforced"] == true);
    auto signalled = run({target, "3", "signal-me"});
    CHECK((WIFSIGNALED(signalled.status) && WTERMSIG(signalled.status) == SIGUSR1));
    CHECK(v->wait_event(event_of("process_uprobe", "up-signal", signalled.pid)));

    v->stop();
    CHECK(v->select(event_of("process_uprobe", "up-args", miss.pid)).empty());
    CHECK(v->select(event_of("process_uprobe", "up-bin-out", bin.pid)).empty());
    CHECK(v->select(event_of("process_uprobe", "up-kill", hit.pid)).empty());
}

TEST_CASE("uprobe policy: a hook on a file offset reports the offset, not a symbol", "[e2e][uprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    // The function's file offset, as the target finds it from where it is mapped.
    const uint64_t offset = target_offset("--offset");
    REQUIRE(offset != 0);
    TempDir pol;
    auto v = start_with(pol, {{"offset.yaml", policy("up-offset", fmt::format(R"(  uprobes:
  - path: {}
    offsets: [{:#x}]
    args:
    - index: 1
      type: string
)",
                                                                                  target, offset))}});
    INFO(v->log());
    REQUIRE(loaded(*v, "up-offset"));
    auto hit = run({target, "9", "at-offset"});
    REQUIRE(WIFEXITED(hit.status));
    auto ev = v->wait_event(event_of("process_uprobe", "up-offset", hit.pid));
    REQUIRE(ev);
    const json& u = (*ev)["process_uprobe"];
    CHECK(u["offset"] == offset);
    CHECK_FALSE(u.contains("symbol"));
    CHECK(u["args"][0]["string_arg"] == "at-offset");
}

TEST_CASE("uprobe policy: refCtrOffsets raise the semaphore at the given file offset", "[e2e][uprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    const uint64_t semaphore = target_offset("--semaphore");
    REQUIRE(semaphore != 0);
    CHECK(output_of(target + " 1 before").find("guarded") == std::string::npos);
    TempDir pol;
    auto v = start_with(pol, {{"refctr.yaml", policy("up-refctr", fmt::format(R"(  uprobes:
  - path: {}
    symbols: [vigil_target_call]
    refCtrOffsets: [{}]
    args:
    - index: 1
      type: string
)",
                                                                                  target, semaphore))}});
    INFO(v->log());
    REQUIRE(loaded(*v, "up-refctr"));
    CHECK(output_of(target + " 2 with-refctr").find("guarded") != std::string::npos);
    auto ev = v->wait_event([](const json& e) {
        auto it = e.find("process_uprobe");
        return it != e.end() && (*it)["policy_name"] == "up-refctr" &&
               (*it)["args"][0].value("string_arg", "") == "with-refctr";
    });
    REQUIRE(ev);
    CHECK((*ev)["process_uprobe"]["ref_ctr_offset"] == semaphore);
    CHECK((*ev)["process_uprobe"]["symbol"] == "vigil_target_call");
}

TEST_CASE("usdt policy: a USDT probe's typed args through libbpf, filtered by matchArgs", "[e2e][uprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    auto v = start_with(pol, {{"usdt.yaml", policy("usdt-probe", fmt::format(R"(  usdts:
  - path: {}
    provider: vigil_test
    name: probe_hit
    message: "probe hit"
    tags: ["test"]
    args:
    - index: 0
      type: int
    - index: 1
      type: string
    selectors:
    - matchArgs:
      - index: 0
        operator: Equal
        values: ["41"]
  - path: {}
    provider: vigil_test
    name: guarded
    args:
    - index: 0
      type: int
)",
                                                                                target, target))}});
    INFO(v->log());
    REQUIRE(loaded(*v, "usdt-probe"));
    // A probe behind a semaphore fires only because libbpf raised it for the hook.
    CHECK(output_of(target + " 43 guarded").find("guarded") != std::string::npos);
    CHECK(v->wait_event([](const json& e) {
        auto it = e.find("process_usdt");
        return it != e.end() && (*it)["name"] == "guarded" && (*it)["args"][0].value("int_arg", 0) == 43;
    }));
    auto hit = run({target, "41", "from-usdt"});
    auto miss = run({target, "42", "other"});
    REQUIRE(WIFEXITED(hit.status));
    auto ev = v->wait_event(event_of("process_usdt", "usdt-probe", hit.pid));
    REQUIRE(ev);
    const json& u = (*ev)["process_usdt"];
    CHECK(u["path"] == target);
    CHECK(u["provider"] == "vigil_test");
    CHECK(u["name"] == "probe_hit");
    REQUIRE(u["args"].size() == 2);
    CHECK(u["args"][0]["int_arg"] == 41);
    CHECK(u["args"][1]["string_arg"] == "from-usdt");
    CHECK(u["message"] == "probe hit");
    CHECK(u["tags"] == json::array({"test"}));
    CHECK(u["action"] == "KPROBE_ACTION_POST");
    v->stop();
    // probe_hit's call with 42 was filtered in the kernel (guarded, unfiltered, reports it)
    for (const auto& e : v->select(event_of("process_usdt", "usdt-probe", miss.pid)))
        CHECK(e["process_usdt"]["name"] == "guarded");
}

TEST_CASE("uprobe policy: bash's readline returns the line typed at an interactive bash", "[e2e][uprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    if (!fs::exists("/usr/bin/bash")) {
        WARN("skipped: no /usr/bin/bash to hook");
        return;
    }
    const std::string bash = fs::canonical("/usr/bin/bash").string();
    TempDir pol;
    // Only this test's descendants: other bash sessions on the machine are not reported.
    auto v = start_with(pol, {{"readline.yaml", policy("bash-readline", fmt::format(R"(  uprobes:
  - path: {}
    symbols: [readline]
    return: true
    returnArg:
      index: 0
      type: string
    selectors:
    - matchPIDs:
      - operator: In
        followForks: true
        values: [{}]
)",
                                                                                       bash, getpid()))}});
    INFO(v->log());
    REQUIRE(loaded(*v, "bash-readline"));

    int master = -1;
    pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
    REQUIRE(pid >= 0);
    if (pid == 0) {
        execl(bash.c_str(), "bash", "--norc", "--noprofile", "-i", nullptr);
        _exit(127);
    }
    // Types two lines, reading whatever bash prints so that the pty never fills.
    auto drain = [&](std::chrono::milliseconds d) {
        char buf[4096];
        auto until = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < until) {
            pollfd p{master, POLLIN, 0};
            if (::poll(&p, 1, 50) > 0 && ::read(master, buf, sizeof buf) <= 0)
                return;
        }
    };
    drain(500ms);
    const std::string line = "echo vigil-readline-$((6*7))";
    CHECK(::write(master, (line + "\n").data(), line.size() + 1) == static_cast<ssize_t>(line.size() + 1));
    drain(500ms);
    CHECK(::write(master, "exit\n", 5) == 5);
    drain(500ms);
    int status = wait_child(pid);
    ::close(master);
    CHECK(WIFEXITED(status));

    auto ev = v->wait_event([&](const json& e) {
        auto it = e.find("process_uprobe");
        return it != e.end() && (*it)["process"].value("pid", -1) == pid && it->contains("return") &&
               (*it)["return"].value("string_arg", "") == line;
    });
    REQUIRE(ev);
    const json& u = (*ev)["process_uprobe"];
    CHECK(u["path"] == bash);
    CHECK(u["symbol"] == "readline");
    CHECK(u["policy_name"] == "bash-readline");
    CHECK(u["process"]["binary"] == bash);
    CHECK(u["parent"]["pid"] == getpid());
}

TEST_CASE("uprobe and usdt policies: bad binaries, symbols, offsets, probes and Override are refused with "
          "file:line",
          "[e2e][uprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    auto file = [&](const char* name) { return (pol.path() / name).string(); };
    auto v = start_with(
        pol,
        {{"nofile.yaml", policy("up-nofile", "  uprobes:\n  - path: /nonexistent/vigil-bin\n    symbols: [main]\n")},
         {"nosym.yaml", policy("up-nosym", fmt::format("  uprobes:\n  - path: {}\n    symbols: [no_such_fn]\n", target))},
         {"badoff.yaml", policy("up-badoff", fmt::format("  uprobes:\n  - path: {}\n    offsets: [0x7fffffff]\n", target))},
         {"noprobe.yaml",
          policy("usdt-noprobe",
                 fmt::format("  usdts:\n  - path: {}\n    provider: vigil_test\n    name: no_probe\n", target))},
         {"override.yaml", policy("up-override", target_hook("x", "Override\n        argError: -1"))},
         {"good.yaml", policy("up-good", target_hook("good", "Post"))}});
    INFO(v->log());
    REQUIRE(loaded(*v, "up-good")); // vigild keeps going with everything else
    auto refused = [&](const std::string& name, const std::string& file_name, const std::string& kind,
                       const std::string& why) {
        std::string text = fmt::format("policy {}: {}:7:5: spec.{}[0]: plugin uprobe: ", name, file(file_name.c_str()),
                                       kind);
        auto at = v->log().find(text);
        INFO(text);
        REQUIRE(at != std::string::npos);
        std::string rest = v->log().substr(at + text.size(), v->log().find('\n', at) - at - text.size());
        INFO(rest);
        CHECK(rest.find(why) != std::string::npos);
    };
    refused("up-nofile", "nofile.yaml", "uprobes", "cannot open /nonexistent/vigil-bin: No such file or directory");
    refused("up-nosym", "nosym.yaml", "uprobes", fmt::format("{} defines no function no_such_fn", target));
    refused("up-badoff", "badoff.yaml", "uprobes",
            fmt::format("offset 0x7fffffff is not in an executable segment of {}", target));
    refused("usdt-noprobe", "noprobe.yaml", "usdts",
            fmt::format("{} has no USDT probe vigil_test:no_probe (its probes: vigil_test:probe_hit, "
                        "vigil_test:guarded)",
                        target));
    refused("up-override", "override.yaml", "uprobes", "Override is not possible on user-space functions");
    CHECK(v->stop() == 0);
}

TEST_CASE("uprobe and usdt hooks without the uprobe plugin are refused with file:line and the served kinds",
          "[e2e][uprobe]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir pol;
    auto v = start_with(
        pol,
        {{"usdt.yaml", policy("usdt-unserved",
                              fmt::format("  usdts:\n  - path: {}\n    provider: vigil_test\n    name: probe_hit\n",
                                          target))},
         {"up.yaml", policy("up-unserved", target_hook("x", "Post"))}},
        {"tracepoint"});
    for (auto [name, file, kind] : {std::tuple{"usdt-unserved", "usdt.yaml", "usdts"},
                                    std::tuple{"up-unserved", "up.yaml", "uprobes"}}) {
        std::string text = fmt::format("policy {}: {}:7:5: spec.{}[0]: no loaded plugin serves the hook kind \"{}\" "
                                       "(served: tracepoints (tracepoint))",
                                       name, (pol.path() / file).string(), kind, kind);
        INFO(text << "\n" << v->log());
        CHECK(v->log().find(text) != std::string::npos);
    }
    CHECK(v->stop() == 0);
}
