// The vigil CLI against a running vigild: getevents with each server-side filter, --reconnect
// across a vigild restart, plugin (and its old name sensors), policy and process verbs, and the
// documented exit codes.
#include "api_env.hpp"

#include <set>

namespace {

using namespace e2e;
using vigil::api::JsonValue;

// Binaries of the process_exec events in a getevents output.
std::multiset<std::string> binaries(const std::string& out)
{
    std::multiset<std::string> b;
    for (const auto& ev : json_lines(out))
        if (ev.get("process_exec").present())
            b.insert(binary_of(ev));
    return b;
}

// The types of the events in a getevents output.
std::multiset<std::string> kinds(const std::string& out)
{
    std::multiset<std::string> k;
    for (const auto& ev : json_lines(out))
        for (const auto& [key, value] : ev.members())
            if (value.is_object())
                k.insert(key);
    return k;
}

} // namespace

TEST_CASE("getevents applies each server-side filter", "[e2e][api]")
{
    ApiEnv env;
    auto vigild = env.start();
    std::string a = env.marker("vigil-marker-a"), b = env.marker("vigil-marker-b"), c = env.marker("vigil-marker-c");
    HeldExec held(c);
    std::string pid = std::to_string(held.pid());

    std::vector<std::unique_ptr<ChildProcess>> cli;
    auto add = [&](std::vector<std::string> filter) {
        std::vector<std::string> args{"getevents", "--timeout", "60"}; // stopped below
        args.insert(args.end(), filter.begin(), filter.end());
        cli.push_back(env.cli_background(args));
    };
    add({"--process", "vigil-marker-a$"});                                           // 0
    add({"--event-types", "process_exec", "--process", "vigil-marker-[ab]$"});        // 1
    add({"--event-types=PROCESS_EXEC", "--process", "vigil-marker-b$"});              // 2: Tetragon spelling
    // 3: the exec and the exit of one pid
    add({"--pid", pid});
    add({"--namespace", "kube-system", "--process", "vigil-marker"});                 // 4
    add({"--policy-names", "some-policy", "--process", "vigil-marker"});              // 5
    add({"--filter", ".process_exec.process.binary | endswith(\"vigil-marker-b\")"}); // 6
    add({"--filter", ".process_exec.process.pid", "--process", "vigil-marker"});     // 7: not a boolean
    add({"-o", "compact", "--process", "vigil-marker-a$"});                           // 8
    add({"--namespace", "", "--process", "vigil-marker-a$"});                         // 9: host processes
    REQUIRE(env.wait_subscribers(cli.size(), 30s));

    exec_and_wait(a);
    exec_and_wait(b);
    exec_and_wait(b);
    held.release();
    held.wait();
    // Every subscriber is handed an event in the same turn; once the widest ones have printed
    // the last event, the others have had theirs too.
    REQUIRE(cli[1]->wait_for_count("\n", 3));
    REQUIRE(cli[3]->wait_for_count("\n", 2));
    // A jq filter runs in its worker process, a step behind the others: wait for its two lines.
    REQUIRE(cli[6]->wait_for_count("\n", 2));
    ::usleep(300'000);
    for (auto& k : cli) {
        k->drain();
        CHECK(k->err_text().empty());
        k->stop(SIGINT);
    }
    auto out = [&](size_t i) -> const std::string& { return cli[i]->out_text(); };

    CHECK(binaries(out(0)) == std::multiset<std::string>{a});
    CHECK(binaries(out(1)) == std::multiset<std::string>{a, b, b});
    CHECK(kinds(out(1)) == std::multiset<std::string>{"process_exec", "process_exec", "process_exec"});
    CHECK(binaries(out(2)) == std::multiset<std::string>{b, b});
    CHECK(kinds(out(2)) == std::multiset<std::string>{"process_exec", "process_exec"});
    CHECK(binaries(out(3)) == std::multiset<std::string>{c});
    CHECK(kinds(out(3)) == std::multiset<std::string>{"process_exec", "process_exit"});
    for (const auto& ev : json_lines(out(3)))
        for (const auto& [key, value] : ev.members())
            if (value.is_object())
                CHECK(value.get("process").get("pid").integer(0, INT32_MAX) == held.pid());
    // Host processes are in the "" namespace, not in kube-system, and nothing here is a policy event.
    CHECK(out(4).empty());
    CHECK(out(5).empty());
    CHECK(binaries(out(6)) == std::multiset<std::string>{b, b});
    CHECK(out(7).empty());
    // Compact: one line per event, no JSON, no colour into a pipe.
    CHECK(count_of(out(8), "\n") == 2); // its exec and its exit
    CHECK(out(8).find("process_exec") != std::string::npos);
    CHECK(out(8).find(a) != std::string::npos);
    CHECK(out(8).find('{') == std::string::npos);
    CHECK(out(8).find('\033') == std::string::npos);
    CHECK(binaries(out(9)) == std::multiset<std::string>{a});
}

TEST_CASE("getevents refuses bad filters and says why, with the documented exit codes", "[e2e][api]")
{
    ApiEnv env;
    auto vigild = env.start();
    auto bad_jq = env.cli({"getevents", "--filter", "foo("});
    CHECK(bad_jq.rc == 1);
    CHECK(bad_jq.err.find("does not compile") != std::string::npos);
    CHECK(bad_jq.err.find("[invalid_params]") != std::string::npos);
    auto bad_type = env.cli({"getevents", "--event-types", "process_bogus"});
    CHECK(bad_type.rc == 1);
    CHECK(bad_type.err.find("unknown event type \"process_bogus\" (the loaded plugins emit: ") != std::string::npos);
    CHECK(bad_type.err.find("process_exec") != std::string::npos);
    auto bad_regex = env.cli({"getevents", "--process", "(unclosed"});
    CHECK(bad_regex.rc == 1);
    CHECK(bad_regex.err.find("not a valid regular expression") != std::string::npos);
    auto bad_option = env.cli({"getevents", "--bogus"});
    CHECK(bad_option.rc == 2);
    auto bad_pid = env.cli({"getevents", "--pid", "12x"});
    CHECK(bad_pid.rc == 2);
    auto missing = env.cli({"getevents", "--process"});
    CHECK(missing.rc == 2);
    auto timed = env.cli({"getevents", "--timeout", "0.5"});
    CHECK(timed.rc == 0);
    CHECK(timed.err.empty());

    ChildProcess no_agent(VIGIL_CLI_PATH, {"--socket", (env.dir / "nothing.sock").string(), "getevents"});
    CHECK(no_agent.wait_exit() == 3);
    CHECK(no_agent.err_text().find("vigild is not running") != std::string::npos);
}

TEST_CASE("getevents --reconnect survives a vigild restart and resumes", "[e2e][api]")
{
    ApiEnv env;
    std::string m = env.marker("vigil-marker-r");
    auto vigild = env.start();
    auto cli = env.cli_background({"getevents", "--reconnect", "--timeout", "25", "--process", "vigil-marker-r$"});
    REQUIRE(env.wait_subscribers(1));
    exec_and_wait(m);
    REQUIRE(cli->wait_for(m, false));

    std::chrono::milliseconds took{};
    REQUIRE(vigild->stop(SIGTERM, 5s, took) != -1);
    REQUIRE(cli->wait_for("reconnecting", true));
    vigild = env.start();
    REQUIRE(env.wait_subscribers(1, 15s));
    CHECK(cli->wait_for("reconnected to vigild", true));
    exec_and_wait(m);
    auto deadline = clock_type::now() + 10s;
    while (binaries(cli->out_text()).size() < 2 && clock_type::now() < deadline)
        cli->wait_for_count("\n", count_of(cli->out_text(), "\n") + 1, 1s);
    CHECK(binaries(cli->out_text()) == std::multiset<std::string>{m, m});

    // Without --reconnect, a lost connection is exit code 3.
    auto once = env.cli_background({"getevents", "--process", "vigil-marker-r$"});
    REQUIRE(env.wait_subscribers(2));
    REQUIRE(vigild->stop(SIGTERM, 5s, took) != -1);
    CHECK(once->wait_exit() == 3);
    CHECK(once->err_text().find("connection to vigild lost") != std::string::npos);
    CHECK(cli->stop(SIGINT) != -1);
}

TEST_CASE("plugins enable and disable round-trip through the CLI", "[e2e][api]")
{
    ApiEnv env;
    auto vigild = env.start();
    std::string m = env.marker("vigil-marker-s");

    auto list = env.cli({"sensors", "list"});
    REQUIRE(list.rc == 0);
    CHECK(list.out.find("tracepoint") != std::string::npos);
    CHECK(list.out.find("running") != std::string::npos);

    auto off = env.cli({"sensors", "disable", "tracepoint"});
    REQUIRE(off.rc == 0);
    CHECK(off.out == "sensor tracepoint: disabled\n");
    auto json = env.cli({"sensors", "list", "-o", "json"});
    REQUIRE(json.rc == 0);
    auto parsed = JsonValue::parse(json.out);
    REQUIRE(parsed);
    JsonValue sensors = parsed->get("sensors");
    REQUIRE(sensors.size() == 2);
    CHECK(sensors.at(0).get("id").string() == "tracepoint");
    CHECK(sensors.at(0).get("state").string() == "disabled");
    CHECK(sensors.at(0).get("links").integer(0, 100) == 0);

    // Disabled means detached: an exec while it is off is not seen.
    auto watch = env.cli_background({"getevents", "--timeout", "60", "--process", "vigil-marker-s$"});
    REQUIRE(env.wait_subscribers(1));
    exec_and_wait(m, {"off"});
    auto on = env.cli({"sensors", "enable", "tracepoint"});
    REQUIRE(on.rc == 0);
    CHECK(on.out == "sensor tracepoint: running\n");
    exec_and_wait(m, {"on"});
    CHECK(watch->wait_for(m, false));
    watch->stop(SIGINT);
    CHECK(binaries(watch->out_text()) == std::multiset<std::string>{m}); // only the run while enabled

    auto unknown = env.cli({"sensors", "enable", "nope"});
    CHECK(unknown.rc == 1);
    CHECK(unknown.err.find("no sensor \"nope\" (loaded: tracepoint, kprobe) [not_found]") != std::string::npos);
    CHECK(env.cli({"sensors", "disable", "nope"}).rc == 1);
    CHECK(env.cli({"sensors", "enable"}).rc == 2);
    CHECK(env.cli({"sensors", "frob", "x"}).rc == 2);
    CHECK(env.cli({"sensors"}).rc == 2);

    // `vigil plugin` is the verb; `vigil sensors` above is its old name, kept as an alias.
    auto plugins = env.cli({"plugin", "list", "-o", "json"});
    REQUIRE(plugins.rc == 0);
    auto listed = JsonValue::parse(plugins.out);
    REQUIRE(listed);
    CHECK(listed->get("plugins").size() == 2);
    auto again = env.cli({"plugin", "enable", "tracepoint"});
    REQUIRE(again.rc == 0);
    CHECK(again.out == "plugin tracepoint: running\n");
    auto missing = env.cli({"plugin", "disable", "nope"});
    CHECK(missing.rc == 1);
    CHECK(missing.err.find("no plugin \"nope\" (loaded: tracepoint, kprobe) [not_found]") != std::string::npos);
    CHECK(env.cli({"plugin", "frob", "x"}).rc == 2);
}

TEST_CASE("policy verbs manage policies in the running agent", "[e2e][api]")
{
    ApiEnv env;
    auto vigild = env.start();
    fs::path policy = env.dir / "policy.yaml";
    std::ofstream(policy) << R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: cli-policy
spec:
  tracepoints:
  - subsystem: syscalls
    event: sys_enter_openat
    args:
    - index: 6
      type: string
    selectors:
    - matchArgs:
      - index: 0
        operator: Equal
        values: ["/nonexistent/vigil-cli-policy"]
      matchActions:
      - action: Sigkill
)";
    auto added = env.cli({"policy", "add", policy.string(), "--mode", "monitor"});
    INFO(added.err);
    REQUIRE(added.rc == 0);

    auto list = env.cli({"policy", "list", "-o", "json"});
    REQUIRE(list.rc == 0);
    CHECK(list.out.find("\"name\":\"cli-policy\"") != std::string::npos);
    CHECK(list.out.find("\"mode\":\"monitor\"") != std::string::npos);
    CHECK(list.out.find("\"strategy\":\"tracepoint\"") != std::string::npos);
    CHECK(list.out.find("\"counters\":{") != std::string::npos);

    CHECK(env.cli({"policy", "set-mode", "cli-policy", "enforce"}).rc == 0);
    CHECK(env.cli({"policy", "list", "-o", "json"}).out.find("\"mode\":\"enforce\"") != std::string::npos);
    CHECK(env.cli({"policy", "disable", "cli-policy"}).rc == 0);
    CHECK(env.cli({"policy", "list", "-o", "json"}).out.find("\"state\":\"disabled\"") != std::string::npos);
    CHECK(env.cli({"policy", "enable", "cli-policy"}).rc == 0);
    CHECK(env.cli({"policy", "list", "-o", "json"}).out.find("\"state\":\"loaded\"") != std::string::npos);

    auto dup = env.cli({"policy", "add", policy.string()});
    CHECK(dup.rc == 1);
    CHECK(dup.err.find("already loaded") != std::string::npos);

    CHECK(env.cli({"policy", "delete", "cli-policy"}).rc == 0);
    auto gone = env.cli({"policy", "delete", "cli-policy"});
    CHECK(gone.rc == 1);
    CHECK(gone.err.find("no policy named \"cli-policy\"") != std::string::npos);

    fs::path bad = env.dir / "bad.yaml";
    std::ofstream(bad) << "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: p\nspec:\n  kprobs: []\n";
    auto badr = env.cli({"policy", "add", bad.string()});
    CHECK(badr.rc == 1);
    CHECK(badr.err.find("kprobs") != std::string::npos);

    CHECK(env.cli({"policy", "add", (env.dir / "missing.yaml").string()}).rc == 2);
    CHECK(env.cli({"policy", "add", policy.string(), "--mode", "loud"}).rc == 2);
    CHECK(env.cli({"policy", "set-mode", "p", "loud"}).rc == 2);
    CHECK(env.cli({"policy", "delete"}).rc == 2);
    CHECK(env.cli({"policy", "frob"}).rc == 2);
}

TEST_CASE("status and process verbs", "[e2e][api]")
{
    ApiEnv env;
    auto vigild = env.start();
    auto st = env.cli({"status"});
    REQUIRE(st.rc == 0);
    CHECK(st.out.find("vigild " VIGIL_VERSION) != std::string::npos);
    CHECK(st.out.find("policy engine: available") != std::string::npos);
    CHECK(st.out.find("tracepoint  running") != std::string::npos);
    auto stj = env.cli({"status", "-o", "json"});
    REQUIRE(stj.rc == 0);
    auto status = JsonValue::parse(stj.out);
    REQUIRE(status);
    CHECK(status->get("version").string() == VIGIL_VERSION);
    CHECK(status->get("features").size() > 5);
    CHECK(status->get("counters").get("events_lost").is_number());
    CHECK(env.cli({"status", "extra"}).rc == 2);
    CHECK(env.cli({"status", "-o", "yaml"}).rc == 2);

    // A process that stays alive, so the cache has it.
    std::string sleeper = env.marker("vigil-marker-sleep", "sleep 30");
    HeldExec held(sleeper);
    held.release();
    std::string pid = std::to_string(held.pid());
    auto deadline = clock_type::now() + 10s;
    CliResult got;
    // Until the exec is in the cache: before it, the pid is the forked child still running this test.
    while (clock_type::now() < deadline) {
        got = env.cli({"process", "get", pid});
        if (got.rc == 0 && got.out.find("binary:         " + sleeper) != std::string::npos)
            break;
        ::usleep(100'000);
    }
    INFO(got.out);
    REQUIRE(got.rc == 0);
    CHECK(got.out.find("binary:         " + sleeper) != std::string::npos);
    CHECK(got.out.find("pid:            " + pid) != std::string::npos);

    auto list = env.cli({"process", "list"});
    REQUIRE(list.rc == 0);
    CHECK(list.out.find(sleeper) != std::string::npos);
    auto tree = env.cli({"process", "tree", pid, "-o", "json"});
    REQUIRE(tree.rc == 0);
    auto t = JsonValue::parse(tree.out);
    REQUIRE(t);
    REQUIRE(t->get("tree").size() >= 1); // the script, and its sleep once that has exec'd
    CHECK(t->get("tree").at(0).get("depth").integer(0, 10) == 0);
    CHECK(t->get("tree").at(0).get("process").get("binary").string() == sleeper);

    auto missing = env.cli({"process", "get", "1073741823"});
    CHECK(missing.rc == 1);
    CHECK(missing.err.find("[not_found]") != std::string::npos);
    CHECK(env.cli({"process", "get", "abc"}).rc == 2);
    CHECK(env.cli({"process", "get"}).rc == 2);
    CHECK(env.cli({"frobnicate"}).rc == 2);
}
