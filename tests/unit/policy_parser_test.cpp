// Valid policies: each hook kind, lists, options and metadata end up in the model as written,
// with the format's defaults filled in.
#include "policy_test_util.hpp"

using namespace vigil;
using namespace vigil::policy;
using namespace vigil::policy::test;

TEST_CASE("kprobes: every field reaches the model", "[policy][parser]")
{
    Policy p = fixture_ok("kprobe_full.yaml");
    CHECK(p.source == "kprobe_full.yaml");
    CHECK(p.api_version == "cilium.io/v1alpha1");
    CHECK(p.kind == PolicyKind::tracing_policy);
    CHECK(p.kind_loc.line == 3);
    CHECK(p.name == "kprobe-full");
    CHECK(p.namespace_.empty());
    CHECK(p.labels == std::map<std::string, std::string>{{"team", "security"}});
    CHECK(p.annotations.at("description") == "all kprobe fields");
    REQUIRE(p.spec.kprobes.size() == 3);

    const Kprobe& k = p.spec.kprobes[0];
    CHECK(k.loc.line == 14);
    CHECK(k.loc.column == 5);
    CHECK(k.call == "tcp_sendmsg");
    CHECK_FALSE(k.syscall);
    CHECK(k.return_);
    CHECK(k.message == "data sent");
    CHECK(k.tags == std::vector<std::string>{"network", "egress"});
    CHECK(k.ignore_call_not_found);
    REQUIRE(k.args.size() == 4);
    CHECK(k.args[0].index == 0);
    CHECK(k.args[0].type == ArgType::sock);
    CHECK(k.args[0].label == "sk");
    CHECK(k.args[1].type == ArgType::char_iovec);
    CHECK(k.args[1].return_copy);
    CHECK(k.args[1].size_arg_index == 3);
    CHECK_FALSE(k.args[1].max_data);
    CHECK(k.args[2].type == ArgType::size_t_);
    CHECK(k.args[3].resolve == "sk_hash");
    CHECK(k.args[3].type == ArgType::uint32);
    REQUIRE(k.return_arg);
    CHECK(k.return_arg->type == ArgType::int_);
    CHECK(k.return_arg->label == "sent");
    CHECK_FALSE(k.return_arg_action);

    REQUIRE(k.selectors.size() == 1);
    const Selector& s = k.selectors[0];
    CHECK(s.label == "large-sends");
    REQUIRE(s.match_args.size() == 1);
    CHECK(s.match_args[0].op == ArgOperator::gt);
    CHECK(s.match_args[0].arg_positions == std::vector<uint32_t>{2});
    REQUIRE(s.match_return_args.size() == 1);
    CHECK(s.match_return_args[0].op == ArgOperator::lt);
    CHECK(s.match_return_args[0].arg_positions.empty());
    REQUIRE(s.match_return_actions.size() == 1);
    CHECK(s.match_return_actions[0].kind == ActionKind::post);
    CHECK(s.match_return_actions[0].rate_limit_ms == 60'000);
    CHECK(s.match_return_actions[0].rate_limit_scope == RateLimitScope::process);

    const Kprobe& r = p.spec.kprobes[1];
    CHECK(r.call == "sys_read");
    CHECK(r.syscall);
    CHECK(r.args[0].type == ArgType::fd);
    CHECK(r.args[1].max_data);
    CHECK(r.args[2].type == ArgType::uint64); // "ulong" is an alias

    const Kprobe& sk = p.spec.kprobes[2];
    REQUIRE(sk.return_arg);
    CHECK(sk.return_arg->type == ArgType::sock);
    CHECK(sk.return_arg_action == ActionKind::track_sock);
}

TEST_CASE("kprobes: defaults of the format", "[policy][parser]")
{
    Policy p = parse_ok(kprobe_policy(""));
    const Kprobe& k = p.spec.kprobes.at(0);
    CHECK(k.syscall); // the format's schema default
    CHECK_FALSE(k.return_);
    CHECK_FALSE(k.return_arg);
    CHECK_FALSE(k.ignore_call_not_found);
    CHECK(k.args.empty());
    CHECK(k.selectors.empty());
    CHECK(k.message.empty());
    CHECK_FALSE(p.spec.mode);

    Policy q = parse_ok(kprobe_policy("    args:\n    - index: 2\n"));
    CHECK(q.spec.kprobes[0].args[0].type == ArgType::auto_);
}

TEST_CASE("kprobes: fields written with their default values are accepted", "[policy][parser]")
{
    // What tools that write every field produce.
    Policy p = parse_ok(kprobe_policy("    syscall: true\n"
                                      "    return: false\n"
                                      "    message: \"\"\n"
                                      "    args:\n"
                                      "    - index: 0\n"
                                      "      type: int\n"
                                      "      label: \"\"\n"
                                      "      resolve: \"\"\n"
                                      "      maxData: false\n"
                                      "      returnCopy: false\n"
                                      "      sizeArgIndex: 0\n"
                                      "    selectors:\n"
                                      "    - matchActions:\n"
                                      "      - action: Sigkill\n"
                                      "        argError: 0\n"
                                      "        argSig: 0\n"
                                      "        argSock: 0\n"
                                      "        argUrl: \"\"\n"
                                      "        argFqdn: \"\"\n"
                                      "        rateLimit: \"\"\n"
                                      "        rateLimitScope: \"\"\n"
                                      "        kernelStackTrace: false\n"
                                      "        userStackTrace: false\n"
                                      "        imaHash: false\n"));
    CHECK(p.spec.kprobes[0].selectors[0].match_actions[0].kind == ActionKind::sigkill);
}

TEST_CASE("tracepoints: fields, raw tracepoints and field numbering", "[policy][parser]")
{
    Policy p = fixture_ok("tracepoint_full.yaml");
    REQUIRE(p.spec.tracepoints.size() == 2);
    const Tracepoint& t = p.spec.tracepoints[0];
    CHECK(t.subsystem == "syscalls");
    CHECK(t.event == "sys_enter_write");
    CHECK_FALSE(t.raw);
    CHECK(t.message == "write to a terminal");
    CHECK(t.tags == std::vector<std::string>{"tty"});
    REQUIRE(t.args.size() == 3);
    CHECK(t.args[1].type == ArgType::char_buf);
    CHECK(t.args[1].size_arg_index == 8); // field 7 (count) + 1
    const Selector& s = t.selectors.at(0);
    CHECK(s.match_args.at(0).arg_positions == std::vector<uint32_t>{0});
    CHECK(s.match_args[0].values == std::vector<std::string>{"1", "2"});
    const Action& a = s.match_actions.at(0);
    CHECK(a.kernel_stack_trace);
    CHECK(a.user_stack_trace);
    CHECK(a.rate_limit_ms == 0);

    const Tracepoint& raw = p.spec.tracepoints[1];
    CHECK(raw.raw);
    CHECK(raw.args[0].type == ArgType::linux_binprm);
    CHECK(raw.args[1].resolve == "pid");
}

TEST_CASE("tracepoints: matchArgs index may also be a position in args", "[policy][parser]")
{
    Policy p = parse_ok(R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: raw-syscalls
spec:
  tracepoints:
  - subsystem: raw_syscalls
    event: sys_enter
    args:
    - index: 4
      type: int64
    selectors:
    - matchArgs:
      - index: 0
        operator: Equal
        values: ["59"]
      - index: 4
        operator: NotEqual
        values: ["60"]
)");
    const auto& filters = p.spec.tracepoints[0].selectors[0].match_args;
    CHECK(filters[0].arg_positions == std::vector<uint32_t>{0});
    CHECK(filters[1].arg_positions == std::vector<uint32_t>{0});
}

TEST_CASE("uprobes: path, symbols, return value", "[policy][parser]")
{
    Policy p = fixture_ok("uprobe_full.yaml");
    REQUIRE(p.spec.uprobes.size() == 2);
    const Uprobe& u = p.spec.uprobes[0];
    CHECK(u.path == "/bin/bash");
    CHECK(u.symbols == std::vector<std::string>{"readline"});
    CHECK(u.return_);
    REQUIRE(u.return_arg);
    CHECK(u.return_arg->type == ArgType::string);
    const Selector& s = u.selectors.at(0);
    CHECK(s.match_binaries.at(0).values ==
          std::vector<std::string>{"/bin/bash", "/usr/bin/bash"});
    CHECK(s.match_return_args.at(0).op == ArgOperator::prefix);
    CHECK(s.match_return_args[0].values == std::vector<std::string>{"sudo "});
    CHECK(p.spec.uprobes[1].symbols == std::vector<std::string>{"malloc", "free"});
    CHECK(p.spec.disable_uprobe_multi);
    CHECK_FALSE(p.spec.disable_kprobe_multi);
}

TEST_CASE("uprobes on file offsets with semaphores, and usdts", "[policy][parser]")
{
    Policy p = parse_ok(R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: offsets
spec:
  uprobes:
  - path: /usr/bin/prog
    offsets: [4096, 0x1a2b]
    refCtrOffsets: [0, 0x3000]
  usdts:
  - path: /usr/bin/prog
    provider: app
    name: request
    args:
    - index: 1
      type: string
    selectors:
    - matchArgs:
      - index: 1
        operator: Prefix
        values: ["/admin"]
      matchActions:
      - action: Sigkill
)");
    const Uprobe& u = p.spec.uprobes.at(0);
    CHECK(u.symbols.empty());
    CHECK(u.offsets == std::vector<uint64_t>{4096, 0x1a2b});
    CHECK(u.ref_ctr_offsets == std::vector<uint64_t>{0, 0x3000});
    const Usdt& d = p.spec.usdts.at(0);
    CHECK(d.path == "/usr/bin/prog");
    CHECK(d.provider == "app");
    CHECK(d.name == "request");
    CHECK(d.loc.line == 11);
    REQUIRE(d.args.size() == 1);
    CHECK(d.args[0].type == ArgType::string);
    CHECK(d.selectors.at(0).match_actions.at(0).kind == ActionKind::sigkill);

    PolicyInfo info = analyse_policy(p);
    CHECK(info.hook_kinds == std::vector<HookKind>{HookKind::uprobes, HookKind::usdts});
    CHECK(info.hooks.at(0).target == "/usr/bin/prog:0x1000,0x1a2b");
    CHECK(info.hooks.at(1).target == "/usr/bin/prog:app:request");
    auto uj = hook_to_json(p, HookKind::uprobes, 0);
    REQUIRE(uj);
    CHECK(uj->find(R"("offsets":[4096,6699],"refCtrOffsets":[0,12288])") != std::string::npos);
    auto dj = hook_to_json(p, HookKind::usdts, 0);
    REQUIRE(dj);
    CHECK(dj->starts_with(R"({"policy":"offsets","kind":"usdts","index":0,"path":"/usr/bin/prog","provider":"app",)"
                          R"("name":"request","message":"","tags":[],"args":[{"index":1,"type":"string")"));
}

TEST_CASE("lsmhooks: hook name, args, enforcement", "[policy][parser]")
{
    Policy p = fixture_ok("lsmhook_full.yaml");
    REQUIRE(p.spec.lsmhooks.size() == 2);
    const LsmHook& h = p.spec.lsmhooks[0];
    CHECK(h.hook == "file_open");
    CHECK(h.args.at(0).type == ArgType::file);
    const Selector& s = h.selectors.at(0);
    CHECK(s.match_binaries.at(0).op == BinaryOperator::not_in);
    CHECK(s.match_actions.at(0).kind == ActionKind::override_);
    CHECK(s.match_actions[0].arg_error == -13);
    CHECK(p.spec.lsmhooks[1].selectors.at(0).match_args.at(0).op == ArgOperator::postfix);
}

TEST_CASE("lists and options", "[policy][parser]")
{
    Policy p = fixture_ok("lists_options.yaml");
    REQUIRE(p.spec.lists.size() == 4);
    CHECK(p.spec.lists[0].name == "dups");
    CHECK(p.spec.lists[0].type == ListType::syscalls);
    CHECK(p.spec.lists[0].values ==
          std::vector<std::string>{"sys_dup", "sys_dup2", "i386/sys_dup"});
    CHECK(p.spec.lists[1].type == ListType::generated_syscalls);
    CHECK(p.spec.lists[1].values.empty());
    CHECK(p.spec.lists[2].type == ListType::generated_ftrace);
    CHECK(p.spec.lists[2].pattern == "^ksys_.*");
    CHECK(p.spec.lists[3].type == ListType::none);

    CHECK(p.spec.mode == PolicyMode::monitor);
    CHECK(p.spec.disable_kprobe_multi);
    REQUIRE(p.spec.options.size() == 2);
    CHECK(p.spec.options[0].name == "policy-mode");
    CHECK(p.spec.options[0].value == "monitor");

    // A syscall list makes the call a syscall; other lists keep what the entry says.
    CHECK(p.spec.kprobes.at(0).call == "list:dups");
    CHECK(p.spec.kprobes[0].syscall);
    CHECK_FALSE(p.spec.kprobes.at(1).syscall);

    const ArgFilter& f = p.spec.tracepoints.at(0).selectors.at(0).match_args.at(0);
    CHECK(f.op == ArgOperator::not_in_map);
    CHECK(f.values == std::vector<std::string>{"list:all", "1000:1010", "42"});
    CHECK(p.spec.tracepoints[0].selectors[0].match_actions.at(0).arg_sig == 19);
}

TEST_CASE("policy-mode enforce", "[policy][parser]")
{
    Policy p = parse_ok(R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata: {name: m}
spec:
  options: [{name: policy-mode, value: enforce}]
  kprobes: [{call: sys_openat}]
)");
    CHECK(p.spec.mode == PolicyMode::enforce);
}

TEST_CASE("a leading or trailing empty document is not a second policy", "[policy][parser]")
{
    Policy p = parse_ok("---\n" + kprobe_policy("") + "---\n");
    CHECK(p.name == "test");
}

TEST_CASE("YAML anchors and flow style are plain YAML", "[policy][parser]")
{
    Policy p = parse_ok(R"(apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata: {name: anchors}
spec:
  kprobes:
  - call: sys_openat
    args: &args [{index: 1, type: string}]
    selectors: &sel
    - matchArgs: [{index: 1, operator: Prefix, values: [/etc/]}]
  - call: sys_openat2
    args: *args
    selectors: *sel
)");
    REQUIRE(p.spec.kprobes.size() == 2);
    CHECK(p.spec.kprobes[1].args.at(0).type == ArgType::string);
    CHECK(p.spec.kprobes[1].selectors.at(0).match_args.at(0).values ==
          std::vector<std::string>{"/etc/"});
}

TEST_CASE("load_policy_file reads the file and names it in errors", "[policy][parser]")
{
    std::string path = std::string(VIGIL_POLICY_FIXTURES) + "/kprobe_full.yaml";
    auto p = load_policy_file(path);
    REQUIRE(p);
    CHECK(p->source == path);

    auto missing = load_policy_file("/nonexistent/policy.yaml");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == Errc::io);
    CHECK(missing.error().message() ==
          "/nonexistent/policy.yaml: cannot open: No such file or directory");

    auto bad = load_policy_file(std::string(VIGIL_POLICY_FIXTURES) + "/bad_syntax.yaml");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message().starts_with(std::string(VIGIL_POLICY_FIXTURES) +
                                            "/bad_syntax.yaml:9:1: invalid YAML: "));
}
