// TracingPolicy on tracepoints end to end: vigild loads policies from a directory, selectors are
// evaluated in the kernel (events only for what matches), Sigkill is enforced in enforce mode
// and only counted in monitor mode, matchPIDs behaves as docs/policies.md says inside a PID
// namespace.
#include "support/vigild.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace vigil::e2e;
namespace fs = std::filesystem;

namespace {

// A policy on syscalls/sys_enter_openat recording the filename (format field 6) and flags (7).
std::string openat_policy(const std::string& name, const std::string& selectors, const std::string& options = "")
{
    return fmt::format(R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: {}
spec:
{}  tracepoints:
  - subsystem: syscalls
    event: sys_enter_openat
    args:
    - index: 6
      type: string
    - index: 7
      type: int32
    selectors:
{}
)",
                       name, options, selectors);
}

std::unique_ptr<Vigild> start_with_policies(const TempDir& dir, const std::vector<std::pair<std::string, std::string>>& files)
{
    for (const auto& [file, text] : files)
        std::ofstream(dir.path() / file) << text;
    VigildOptions o;
    o.policy_dir = dir.path();
    // Each policy hook is a BPF object the verifier checks at load; on a loaded 2-core machine
    // several take a few seconds.
    o.ready_timeout = std::chrono::seconds(90);
    return Vigild::start(o);
}

// A selector for paths starting with `prefix`.
std::string prefix_selector(const std::string& prefix)
{
    return fmt::format(R"(    - matchArgs:
      - index: 0
        operator: Prefix
        values: ["{}"])",
                       prefix);
}

void touch(const std::string& path) { std::ofstream(path) << "x"; }

// Runs `cat path` in a child and returns its wait status.
int cat(const std::string& path)
{
    auto r = run({"/usr/bin/cat", path});
    return r.status;
}

} // namespace

TEST_CASE("tracepoint policy: every string operator filters in the kernel", "[e2e][policy]")
{
    TempDir pol;
    const std::string base = (pol.path() / "f-").string();
    struct Case {
        const char* name;
        const char* op;
        std::string value;
        std::string match, nomatch;
    };
    std::vector<Case> cases = {
        {"op-equal", "Equal", base + "eq", base + "eq", base + "eq2"},
        {"op-notequal", "NotEqual", base + "ne", base + "ne-other", base + "ne"},
        {"op-prefix", "Prefix", base + "pre-", base + "pre-1", base + "xpre-1"},
        {"op-postfix", "Postfix", ".vigilpost", base + "a.vigilpost", base + "a.vigilpost.bak"},
    };
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& c : cases) {
        // Each policy only looks at files under the test's directory, so other processes do not count.
        std::string sel = fmt::format(R"(    - matchArgs:
      - index: 0
        operator: {}
        values: ["{}"]
      - index: 0
        operator: Prefix
        values: ["{}"])",
                                      c.op, c.value, base);
        files.emplace_back(std::string(c.name) + ".yaml", openat_policy(c.name, sel));
    }
    auto v = start_with_policies(pol, files);
    for (const auto& c : cases) {
        touch(c.match);
        touch(c.nomatch);
        CHECK(cat(c.match) == 0);
        CHECK(cat(c.nomatch) == 0);
    }
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(v->wait_event(tracepoint_event(c.name, c.match)));
    }
    v->stop();
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(v->select(tracepoint_event(c.name, c.nomatch)).empty());
    }
}

TEST_CASE("tracepoint policy: integer operators and matchBinaries", "[e2e][policy]")
{
    TempDir pol;
    const std::string base = (pol.path() / "i-").string();
    // O_RDONLY from cat; the shell's redirection opens with O_WRONLY|O_CREAT|O_TRUNC (0x241).
    std::string sel = fmt::format(R"(    - matchArgs:
      - index: 1
        operator: Mask
        values: ["0x40"]
      - index: 0
        operator: Prefix
        values: ["{}"])",
                                  base);
    std::string bin = fmt::format(R"(    - matchBinaries:
      - operator: In
        values: ["/usr/bin/cat"]
      matchArgs:
      - index: 0
        operator: Prefix
        values: ["{}"])",
                                  base);
    auto v = start_with_policies(pol, {{"mask.yaml", openat_policy("op-mask", sel)},
                                       {"bin.yaml", openat_policy("op-binary", bin)}});
    std::string file = base + "data";
    auto r = run({"/bin/sh", "-c", fmt::format("echo x > {}", file)});
    REQUIRE(r.status == 0);
    CHECK(cat(file) == 0);
    auto created = v->wait_event(tracepoint_event("op-mask", file));
    REQUIRE(created);
    CHECK(created->at("process_tracepoint").at("process").value("binary", "") != "/usr/bin/cat");
    auto by_cat = v->wait_event(tracepoint_event("op-binary", file));
    REQUIRE(by_cat);
    CHECK(by_cat->at("process_tracepoint").at("process").value("binary", "") == "/usr/bin/cat");
    v->stop();
    // cat opens read-only: no O_CREAT event; the shell is not /usr/bin/cat.
    for (const auto& ev : v->select(tracepoint_event("op-mask", file)))
        CHECK(ev.at("process_tracepoint").at("process").value("binary", "") != "/usr/bin/cat");
    for (const auto& ev : v->select(tracepoint_event("op-binary", file)))
        CHECK(ev.at("process_tracepoint").at("process").value("binary", "") == "/usr/bin/cat");
}

TEST_CASE("Sigkill kills in enforce mode, is only counted in monitor mode", "[e2e][policy]")
{
    TempDir pol;
    const std::string target = (pol.path() / "forbidden").string();
    touch(target);
    std::string sel = fmt::format(R"(    - matchArgs:
      - index: 0
        operator: Equal
        values: ["{}"]
      matchBinaries:
      - operator: In
        values: ["/usr/bin/cat"]
      matchActions:
      - action: Sigkill)",
                                  target);
    SECTION("enforce")
    {
        auto v = start_with_policies(pol, {{"kill.yaml", openat_policy("kill-enforce", sel)}});
        int status = cat(target);
        CHECK(WIFSIGNALED(status));
        CHECK(WTERMSIG(status) == SIGKILL);
        auto ev = v->wait_event(tracepoint_event("kill-enforce", target));
        REQUIRE(ev);
        CHECK(ev->at("process_tracepoint").value("action", "") == "KPROBE_ACTION_SIGKILL");
        CHECK(ev->at("process_tracepoint").value("enforced", false) == true);
        v->stop();
        CHECK(v->log().find("policy kill-enforce: matched=1 posted=1 rate_limited=0 enforced=1 monitored=0") !=
              std::string::npos);
    }
    SECTION("monitor")
    {
        auto v = start_with_policies(
            pol, {{"kill.yaml", openat_policy("kill-monitor", sel, "  options:\n  - name: policy-mode\n    value: monitor\n")}});
        int status = cat(target);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        auto ev = v->wait_event(tracepoint_event("kill-monitor", target));
        REQUIRE(ev);
        CHECK(ev->at("process_tracepoint").value("enforced", true) == false);
        v->stop();
        CHECK(v->log().find("policy kill-monitor: matched=1 posted=1 rate_limited=0 enforced=0 monitored=1") !=
              std::string::npos);
    }
}

TEST_CASE("matchPIDs NotIn [0, 1] with isNamespacePID, with and without followForks", "[e2e][policy]")
{
    // nginx-style: PID 1 of a new PID namespace opens a file itself, then forks a worker that opens
    // another. Without followForks only PID 1 is exempt; with it the worker is exempt too.
    TempDir pol;
    const std::string master = (pol.path() / "ns-master").string();
    const std::string worker = (pol.path() / "ns-worker").string();
    touch(master);
    touch(worker);
    auto policy = [&](const char* name, bool follow) {
        return openat_policy(name, fmt::format(R"(    - matchPIDs:
      - operator: NotIn
        isNamespacePID: true
        followForks: {}
        values: [0, 1]
      matchArgs:
      - index: 0
        operator: Prefix
        values: ["{}"])",
                                               follow ? "true" : "false", (pol.path() / "ns-").string()));
    };
    auto v = start_with_policies(pol, {{"a.yaml", policy("pids-nofollow", false)}, {"b.yaml", policy("pids-follow", true)}});
    // "& wait": the worker must be a child of PID 1 — busybox's sh (the kernel matrix's) runs cat
    // inside the shell itself, without a fork.
    auto r = run({"/usr/bin/unshare", "--pid", "--fork", "/bin/sh", "-c",
                  fmt::format("read x < {}; /usr/bin/cat {} > /dev/null & wait", master, worker)});
    REQUIRE(WIFEXITED(r.status));
    REQUIRE(WEXITSTATUS(r.status) == 0);

    CHECK(v->wait_event(tracepoint_event("pids-nofollow", worker)));
    v->stop();
    CHECK(v->select(tracepoint_event("pids-nofollow", master)).empty());
    CHECK(v->select(tracepoint_event("pids-follow", master)).empty());
    CHECK(v->select(tracepoint_event("pids-follow", worker)).empty());
}

TEST_CASE("a policy nobody can serve is refused with the reason, and vigild keeps running", "[e2e][policy]")
{
    TempDir pol;
    std::ofstream(pol.path() / "lsm.yaml") << R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: lsm-open
spec:
  lsmhooks:
  - hook: file_open
)";
    std::ofstream(pol.path() / "bad-tp.yaml") << R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: no-such-tp
spec:
  tracepoints:
  - subsystem: nosuch
    event: nothing
)";
    auto v = start_with_policies(pol, {});
    // The place in the file, and what the running plugins do serve.
    CHECK(v->log().find(fmt::format("policy lsm-open: {}:7:5: spec.lsmhooks[0]: no loaded plugin serves the hook "
                                    "kind \"lsmhooks\" (served: tracepoints (tracepoint))",
                                    (pol.path() / "lsm.yaml").string())) != std::string::npos);
    CHECK(v->log().find(fmt::format("policy no-such-tp: {}:7:5: spec.tracepoints[0]: plugin tracepoint: tracepoint "
                                    "nosuch/nothing does not exist on this kernel",
                                    (pol.path() / "bad-tp.yaml").string())) != std::string::npos);
    CHECK(v->stop() == 0);
}

TEST_CASE("tracepoint policy: a syscall64 argument is rendered as Tetragon's syscall_id", "[e2e][policy]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir dir;
    auto v = start_with_policies(dir, {{"raw.yaml", fmt::format(R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: raw-getppid
spec:
  tracepoints:
  - subsystem: raw_syscalls
    event: sys_enter
    args:
    - index: 4
      type: syscall64
      label: id
    selectors:
    - matchArgs:
      - index: 4
        operator: Equal
        values: ["{}"]
)", SYS_getppid)}});
    REQUIRE(v->wait_log("policy raw-getppid loaded", 30s));
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::syscall(SYS_getppid);
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    auto ev = v->wait_event([child](const json& e) {
        auto it = e.find("process_tracepoint");
        return it != e.end() && it->value("policy_name", "") == "raw-getppid" &&
               (*it)["process"].value("pid", 0) == child;
    });
    REQUIRE(ev);
    CHECK(ev->at("process_tracepoint").at("args") ==
          json::parse(fmt::format(R"([{{"syscall_id":{{"id":{},"abi":"x64"}},"label":"id"}}])", SYS_getppid)));
}

TEST_CASE("nodeSelector: a policy for other nodes is kept and listed, not attached", "[e2e][policy]")
{
    TempDir pol;
    const std::string base = (pol.path() / "node-").string();
    std::string sel = prefix_selector(base);
    auto with_node = [&](const std::string& name, const std::string& zone) {
        return openat_policy(name, sel, fmt::format("  nodeSelector:\n    matchLabels: {{zone: {}}}\n", zone));
    };
    std::ofstream(pol.path() / "a.yaml") << with_node("node-here", "a");
    std::ofstream(pol.path() / "b.yaml") << with_node("node-elsewhere", "b");
    VigildOptions o;
    o.policy_dir = pol.path();
    o.agent_toml = "node_labels = { zone = \"a\", \"kubernetes.io/os\" = \"linux\" }\n";
    o.ready_timeout = std::chrono::seconds(90);
    auto v = Vigild::start(o);
    const std::string file = base + "1";
    touch(file);
    CHECK(cat(file) == 0);
    auto here = v->wait_event(tracepoint_event("node-here", file));
    json policies = v->policy_list();
    v->stop();

    CHECK(here);
    CHECK(v->select(tracepoint_event("node-elsewhere", file)).empty());
    INFO(policies.dump());
    REQUIRE(policies.is_array());
    std::map<std::string, std::string> state;
    for (const auto& p : policies)
        state[p.value("name", "")] = p.value("state", "");
    CHECK(state["node-here"] == "loaded");
    CHECK(state["node-elsewhere"] == "not for this node");
    CHECK(v->log().find("policy node-elsewhere not loaded: its nodeSelector does not match") != std::string::npos);
}

TEST_CASE("workload scope in the kernel: hostSelector takes host processes, podSelector none of them",
          "[e2e][policy]")
{
    TempDir pol;
    const std::string base = (pol.path() / "scope-").string();
    std::string sel = prefix_selector(base);
    auto v = start_with_policies(pol, {{"host.yaml", openat_policy("scope-host", sel, "  hostSelector: {}\n")},
                                       {"pods.yaml", openat_policy("scope-pods", sel, "  podSelector: {}\n")}});
    const std::string file = base + "1";
    touch(file);
    for (int i = 0; i < 3; ++i)
        CHECK(cat(file) == 0);
    auto host = v->wait_event(tracepoint_event("scope-host", file));
    json policies = v->policy_list();
    v->stop();
    CHECK(host);
    // no pod runs here: the podSelector policy's hook drops every open before its selectors
    // run (matched stays 0), so it never posts
    CHECK(v->select(tracepoint_event("scope-pods", file)).empty());
    INFO(policies.dump());
    REQUIRE(policies.is_array());
    for (const auto& p : policies) {
        if (p.value("name", "") == "scope-pods")
            CHECK(p["counters"].value("matched", -1) == 0);
        if (p.value("name", "") == "scope-host")
            CHECK(p["counters"].value("matched", 0) >= 3);
    }
}

TEST_CASE("policy_dir is watched: a policy added, changed and deleted applies without a restart", "[e2e][policy]")
{
    TempDir pol;
    const std::string base = (pol.path() / "w-").string();
    auto v = start_with_policies(pol, {});
    auto selector = [&](const std::string& prefix) {
        return fmt::format("    - matchArgs:\n      - index: 0\n        operator: Prefix\n        values: [\"{}\"]", prefix);
    };
    auto write = [&](const std::string& text) {
        // written aside and renamed in, as a ConfigMap update or a package install does
        { std::ofstream(pol.path() / "watched.tmp") << text; }
        fs::rename(pol.path() / "watched.tmp", pol.path() / "watched.yaml");
    };
    write(openat_policy("watched", selector(base + "one")));
    REQUIRE(v->wait_log("watched.yaml: policy watched loaded", std::chrono::seconds(60)));
    touch(base + "one");
    CHECK(cat(base + "one") == 0);
    CHECK(v->wait_event(tracepoint_event("watched", base + "one")));

    write(openat_policy("watched", selector(base + "two")));
    REQUIRE(v->wait_log("watched.yaml: policy watched replaced", std::chrono::seconds(60)));
    touch(base + "two");
    CHECK(cat(base + "two") == 0);
    CHECK(v->wait_event(tracepoint_event("watched", base + "two")));

    fs::remove(pol.path() / "watched.yaml");
    REQUIRE(v->wait_log("file deleted, policy watched deleted", std::chrono::seconds(30)));
    touch(base + "three");
    CHECK(cat(base + "three") == 0);
    v->stop();
    CHECK(v->select(tracepoint_event("watched", base + "three")).empty());
}
