// Every way a policy can be refused, with the exact message: source:line:column, the field path,
// and what is wrong.
#include "policy_test_util.hpp"

using namespace vigil;
using namespace vigil::policy;
using namespace vigil::policy::test;

namespace {

// A policy whose spec is `spec` (indented by two spaces; spec content starts on line 6).
std::string with_spec(std::string_view spec)
{
    return fmt::format("apiVersion: cilium.io/v1alpha1\n"
                       "kind: TracingPolicy\n"
                       "metadata:\n"
                       "  name: test\n"
                       "spec:\n"
                       "{}",
                       spec);
}

// One kprobe with one string arg (index 1) and one selector whose body starts on line 13,
// indented by six spaces.
std::string with_selector(std::string_view selector)
{
    return kprobe_policy(fmt::format("    args:\n"
                                     "    - index: 1\n"
                                     "      type: string\n"
                                     "    selectors:\n"
                                     "    - label: s\n"
                                     "{}",
                                     selector));
}

// One kprobe with an arg of the given type at index 0, and one matchArgs filter on it whose
// operator is on line 14 and whose values list starts on line 16 (items at column 11).
std::string with_filter(std::string_view type, std::string_view op, std::string_view values,
                        std::string_view call = "sys_openat")
{
    return kprobe_policy(fmt::format("    args:\n"
                                     "    - index: 0\n"
                                     "      type: {}\n"
                                     "    selectors:\n"
                                     "    - matchArgs:\n"
                                     "      - index: 0\n"
                                     "        operator: {}\n"
                                     "        values:\n"
                                     "{}",
                                     type, op, values),
                         call);
}

// One matchActions entry (line 9 is its first line, at column 9) on a sys_openat kprobe.
std::string with_action(std::string_view action)
{
    return kprobe_policy(fmt::format("    selectors:\n"
                                     "    - matchActions:\n"
                                     "      - {}",
                                     action));
}

} // namespace

// ---------------------------------------------------------------------------------------------
// The document

TEST_CASE("bad YAML syntax reports yaml-cpp's position", "[policy][errors]")
{
    CHECK(fixture_error("bad_syntax.yaml") ==
          "bad_syntax.yaml:9:1: invalid YAML: end of sequence flow not found");
    CHECK(parse_error("a: b: c\n") == "test.yaml:1:5: invalid YAML: illegal map value");
    CHECK(parse_error("kind: *missing\n") ==
          "test.yaml:1:7: invalid YAML: the referenced anchor is not defined");
    CHECK(parse_errc("a: [\n") == Errc::invalid_input);
}

TEST_CASE("a stray ',' is an error, not an endless loop in yaml-cpp", "[policy][errors]")
{
    // yaml-cpp 0.7's LoadAll never returns on these (found by fuzz/policy).
    const std::string message = "invalid YAML: more than 64 documents (a stray ',' outside a flow collection "
                                "makes yaml-cpp see endless empty ones)";
    CHECK(parse_error(",") == "test.yaml:1:1: " + message);
    CHECK(parse_error("---\n,\n").ends_with(message));
    CHECK(parse_error("# policy\n,, x\n").ends_with(message));
    std::string many;
    for (int i = 0; i < 65; ++i)
        many += "---\n";
    CHECK(parse_error(many).ends_with(message));
}

TEST_CASE("exactly one policy document", "[policy][errors]")
{
    CHECK(fixture_error("multi_doc.yaml") ==
          "multi_doc.yaml:9:1: 2 YAML documents hold a policy, but a policy file must hold "
          "exactly one; put each policy in its own file");
    CHECK(parse_error("") == "test.yaml: no policy in the document: expected a TracingPolicy "
                             "(apiVersion: cilium.io/v1alpha1)");
    CHECK(parse_error("# only a comment\n---\n") ==
          "test.yaml: no policy in the document: expected a TracingPolicy "
          "(apiVersion: cilium.io/v1alpha1)");
    CHECK(parse_error("just text\n") == "test.yaml:1:1: a policy must be a mapping with "
                                        "apiVersion, kind, metadata and spec, got \"just text\"");
}

TEST_CASE("top level: apiVersion, kind, metadata, spec", "[policy][errors]")
{
    CHECK(parse_error("apiVersion: cilium.io/v1\nkind: TracingPolicy\nmetadata: {name: a}\n"
                      "spec: {kprobes: [{call: sys_openat}]}\n") ==
          "test.yaml:1:13: apiVersion: invalid value \"cilium.io/v1\" (allowed: "
          "cilium.io/v1alpha1)");
    CHECK(parse_error("apiVersion: cilium.io/v1alpha1\nkind: Policy\nmetadata: {name: a}\n"
                      "spec: {kprobes: [{call: sys_openat}]}\n") ==
          "test.yaml:2:7: kind: invalid value \"Policy\" (allowed: TracingPolicy, "
          "TracingPolicyNamespaced)");
    CHECK(parse_error("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\n") ==
          "test.yaml:1:1: missing required field \"metadata\"\n"
          "test.yaml:1:1: missing required field \"spec\"");
    CHECK(parse_error(kprobe_policy("") + "status: {}\n") ==
          "test.yaml:8:1: unknown field \"status\"");
    CHECK(parse_error(kprobe_policy("") + "kind: TracingPolicy\n") ==
          "test.yaml:8:1: duplicate field \"kind\"");
    CHECK(parse_error("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata: []\n"
                      "spec: {kprobes: [{call: sys_openat}]}\n") ==
          "test.yaml:3:11: metadata: must be a mapping, got a list");
}

TEST_CASE("metadata", "[policy][errors]")
{
    auto meta = [](std::string_view m) {
        return fmt::format("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n{}"
                           "spec: {{kprobes: [{{call: sys_openat}}]}}\n",
                           m);
    };
    CHECK(parse_error(meta("  labels: {a: b}\n")) ==
          "test.yaml:4:3: metadata: missing required field \"name\"");
    CHECK(parse_error(meta("  name: my_policy\n")) ==
          "test.yaml:4:9: metadata.name: \"my_policy\" is not a valid name: use lowercase "
          "letters, digits, '-' and '.', start and end with a letter or digit, at most 253 "
          "characters");
    CHECK(parse_error(meta("  name: a\n  namespace: default\n")) ==
          "test.yaml:5:14: metadata.namespace: only valid with kind TracingPolicyNamespaced");
    CHECK(parse_error(meta("  name: a\n  labels: [x]\n")) ==
          "test.yaml:5:11: metadata.labels: must be a mapping of strings, got a list");
    CHECK(parse_error(meta("  name: a\n  annotations: {a: [1]}\n")) ==
          "test.yaml:5:20: metadata.annotations.a: must be a string, got a list");
    CHECK(parse_error(meta("  name: a\n  owner: me\n")) ==
          "test.yaml:5:3: metadata: unknown field \"owner\"");
}

TEST_CASE("workload selectors: what is refused, where", "[policy][errors][workloads]")
{
    auto sel = [](std::string_view lines) { return with_spec(std::string(lines) + "  kprobes: [{call: sys_openat}]\n"); };
    // matchWorkloads inside a selector stays refused; the rest of the fixture parses
    CHECK(fixture_error("kubernetes_only.yaml") ==
          "kubernetes_only.yaml:18:7: spec.kprobes[0].selectors[0].matchWorkloads: not supported by vigil: "
          "matchWorkloads in a selector; scope the whole policy with spec.podSelector, spec.containerSelector "
          "or spec.hostSelector");
    CHECK(parse_error(sel("  podSelector: [a]\n")) == "test.yaml:6:16: spec.podSelector: must be a mapping, got a list");
    CHECK(parse_error(sel("  podSelector: {matchLabels: {app: [x]}}\n")) ==
          "test.yaml:6:36: spec.podSelector.matchLabels.app: must be a string, got a list");
    CHECK(parse_error(sel("  podSelector: {matchLabel: {app: x}}\n")) ==
          "test.yaml:6:17: spec.podSelector: unknown field \"matchLabel\" (did you mean \"matchLabels\"?)");
    CHECK(parse_error(sel("  podSelector:\n    matchExpressions:\n    - {key: app, operator: Has}\n")) ==
          "test.yaml:8:28: spec.podSelector.matchExpressions[0].operator: invalid value \"Has\" (allowed: In, "
          "NotIn, Exists, DoesNotExist)");
    CHECK(parse_error(sel("  podSelector:\n    matchExpressions:\n    - {key: app, operator: In}\n")) ==
          "test.yaml:8:7: spec.podSelector.matchExpressions[0]: operator In needs at least one value");
    CHECK(parse_error(sel("  podSelector:\n    matchExpressions:\n    - {key: app, operator: Exists, values: [a]}\n")) ==
          "test.yaml:8:44: spec.podSelector.matchExpressions[0].values: operator Exists takes no values");
    CHECK(parse_error(sel("  podSelector:\n    matchExpressions:\n    - {operator: Exists}\n")) ==
          "test.yaml:8:7: spec.podSelector.matchExpressions[0]: missing required field \"key\"");
    CHECK(parse_error(sel("  containerSelector:\n    matchExpressions:\n    - {key: image, operator: In, values: [a]}\n")) ==
          "test.yaml:8:13: spec.containerSelector.matchExpressions[0].key: unknown key \"image\" (allowed: name, repo)");
    CHECK(parse_error(sel("  containerSelector: {matchLabels: {nam: x}}\n")) ==
          "test.yaml:6:37: spec.containerSelector.matchLabels.nam: unknown key \"nam\" (allowed: name, repo)");
    CHECK(parse_error(sel("  hostSelector: true\n")) ==
          "test.yaml:6:17: spec.hostSelector: must be {} (every host process) or null, got \"true\"");
    CHECK(parse_error(sel("  hostSelector: {matchLabels: {a: b}}\n")) ==
          "test.yaml:6:17: spec.hostSelector: not supported by vigil: filters in hostSelector; {} selects every "
          "process outside a container");
    CHECK(parse_error(sel("  nodeSelector: {matchExpressions: [{key: zone, operator: NotIn}]}\n")) ==
          "test.yaml:6:37: spec.nodeSelector.matchExpressions[0]: operator NotIn needs at least one value");
}

TEST_CASE("TracingPolicyNamespaced: namespace required, no hostSelector", "[policy][errors][workloads]")
{
    auto namespaced = [](std::string_view meta, std::string_view spec = "") {
        return fmt::format("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicyNamespaced\nmetadata:\n{}"
                           "spec:\n{}  kprobes: [{{call: sys_openat}}]\n",
                           meta, spec);
    };
    CHECK(parse_error(namespaced("  name: a\n")) ==
          "test.yaml:4:3: metadata.namespace: missing required field: a TracingPolicyNamespaced applies to the pods "
          "of this namespace");
    CHECK(parse_error(namespaced("  name: a\n  namespace: Shop_1\n")) ==
          "test.yaml:5:14: metadata.namespace: \"Shop_1\" is not a valid namespace: use lowercase letters, digits "
          "and '-', start and end with a letter or digit, at most 63 characters");
    CHECK(parse_error(namespaced("  name: a\n  namespace: shop\n", "  hostSelector: {}\n")) ==
          "test.yaml:7:17: spec.hostSelector: not valid in a TracingPolicyNamespaced, which applies to the pods of "
          "its namespace only");
}

// ---------------------------------------------------------------------------------------------
// spec

TEST_CASE("spec sections vigil does not implement", "[policy][errors]")
{
    CHECK(parse_error(with_spec("  fentries: [{call: fd_install}]\n")) ==
          "test.yaml:6:3: spec.fentries: not supported by vigil: fentries hooks; use kprobes");
    CHECK(parse_error(with_spec("  enforcers: [{calls: [sys_dup]}]\n"
                                "  kprobes: [{call: sys_dup}]\n")) ==
          "test.yaml:6:3: spec.enforcers: not supported by vigil: enforcers (NotifyEnforcer "
          "programs); use Sigkill, Signal or Override in the hook's matchActions");
    CHECK(parse_error(with_spec("  selectorsMacros: {m: {}}\n  kprobes: [{call: sys_dup}]\n")) ==
          "test.yaml:6:3: spec.selectorsMacros: not supported by vigil: selectorsMacros; write "
          "the filters in each selector");
    CHECK(parse_error(with_spec("  loader: true\n  kprobes: [{call: sys_dup}]\n")) ==
          "test.yaml:6:11: spec.loader: not supported by vigil: loader events");
    // Written with its default value it is accepted.
    CHECK(parse_policy(with_spec("  loader: false\n  kprobes: [{call: sys_dup}]\n"), "t"));
    CHECK(parse_errc(with_spec("  fentries: [{call: fd_install}]\n")) == Errc::unsupported);
}

TEST_CASE("a policy needs hooks, and hook sections are lists", "[policy][errors]")
{
    CHECK(parse_error(with_spec("  lists: []\n")) ==
          "test.yaml:6:3: spec: the policy has no hooks: add kprobes, tracepoints, uprobes, "
          "usdts, lsmhooks or connects");
    CHECK(parse_error(with_spec("  kprobes:\n    call: sys_openat\n")) ==
          "test.yaml:7:5: spec.kprobes: must be a list, got a mapping");
    CHECK(parse_error(with_spec("  kprobes: [sys_openat]\n")) ==
          "test.yaml:6:13: spec.kprobes[0]: must be a mapping, got \"sys_openat\"");
    CHECK(parse_error(with_spec("  kprobes: [{call: a}]\n  kprobe: [{call: b}]\n")) ==
          "test.yaml:7:3: spec: unknown field \"kprobe\" (did you mean \"kprobes\"?)");
}

TEST_CASE("lists", "[policy][errors]")
{
    auto lists = [](std::string_view l) {
        return with_spec(fmt::format("  kprobes: [{{call: sys_dup}}]\n  lists:\n{}", l));
    };
    CHECK(parse_error(lists("  - name: a\n    type: syscall\n    values: [sys_dup]\n")) ==
          "test.yaml:9:11: spec.lists[0].type: invalid value \"syscall\" (allowed: syscalls, "
          "generated_syscalls, generated_ftrace)");
    CHECK(parse_error(lists("  - name: a\n    type: generated_syscalls\n    values: [sys_dup]\n")) ==
          "test.yaml:10:13: spec.lists[0].values: a generated_syscalls list is generated and "
          "must not have values");
    CHECK(parse_error(lists("  - name: a\n    type: generated_ftrace\n")) ==
          "test.yaml:8:5: spec.lists[0]: a generated_ftrace list needs a pattern (a regular "
          "expression over function names)");
    CHECK(parse_error(lists("  - name: a\n    type: syscalls\n    values: [sys_dup]\n"
                            "    pattern: sys_.*\n")) ==
          "test.yaml:11:14: spec.lists[0].pattern: only used by lists of type generated_ftrace");
    CHECK(parse_error(lists("  - name: a\n    type: syscalls\n")) ==
          "test.yaml:8:5: spec.lists[0]: missing required field \"values\"");
    CHECK(parse_error(lists("  - {name: a, values: [x]}\n  - {name: a, values: [y]}\n")) ==
          "test.yaml:9:12: spec.lists[1].name: list \"a\" is defined twice");
    CHECK(parse_error(lists("  - {values: [x]}\n")) ==
          "test.yaml:8:5: spec.lists[0]: missing required field \"name\"");

    std::string many;
    for (size_t i = 0; i <= limits::max_lists; ++i)
        many += fmt::format("  - {{name: l{}, values: [x]}}\n", i);
    CHECK(parse_error(lists(many)) ==
          "test.yaml:8:3: spec.lists: has 65 entries; the limit is 64 lists per policy");

    std::string values;
    for (size_t i = 0; i <= limits::max_list_values; ++i)
        values += fmt::format("{}f{}", i ? ", " : "", i);
    CHECK(parse_error(lists(fmt::format("  - name: big\n    values: [{}]\n", values))) ==
          "test.yaml:9:13: spec.lists[0].values: has 1025 entries; the limit is 1024 values per "
          "list");
}

TEST_CASE("options", "[policy][errors]")
{
    auto options = [](std::string_view o) {
        return with_spec(fmt::format("  kprobes: [{{call: sys_dup}}]\n  options:\n{}", o));
    };
    CHECK(parse_error(options("  - name: policy-mode\n    value: enforcing\n")) ==
          "test.yaml:9:12: spec.options[0].value: invalid value \"enforcing\" for option "
          "policy-mode (allowed: enforce, monitor)");
    CHECK(parse_error(options("  - name: policy-mode\n")) ==
          "test.yaml:8:5: spec.options[0].value: invalid value \"\" for option policy-mode "
          "(allowed: enforce, monitor)");
    CHECK(parse_error(options("  - name: disable-kprobe-multi\n    value: yes\n")) ==
          "test.yaml:9:12: spec.options[0].value: invalid value \"yes\" for option "
          "disable-kprobe-multi (allowed: true, false, 1, 0)");
    CHECK(parse_error(options("  - name: max-events\n    value: \"10\"\n")) ==
          "test.yaml:8:11: spec.options[0].name: unknown option \"max-events\" (known: "
          "policy-mode, disable-kprobe-multi, disable-uprobe-multi)");
    CHECK(parse_error(options("  - {name: policy-mode, value: monitor}\n"
                              "  - {name: policy-mode, value: enforce}\n")) ==
          "test.yaml:9:12: spec.options[1].name: option \"policy-mode\" is given twice");
    CHECK(parse_error(options("  - value: monitor\n")) ==
          "test.yaml:8:5: spec.options[0]: missing required field \"name\"");
}

// ---------------------------------------------------------------------------------------------
// Hooks

TEST_CASE("kprobes fields", "[policy][errors]")
{
    CHECK(parse_error(with_spec("  kprobes:\n  - syscall: true\n")) ==
          "test.yaml:7:5: spec.kprobes[0]: missing required field \"call\"");
    CHECK(parse_error(with_spec("  kprobes:\n  - call: \"\"\n")) ==
          "test.yaml:7:11: spec.kprobes[0].call: must not be empty");
    CHECK(parse_error(kprobe_policy("", "list:nope")) ==
          "test.yaml:7:11: spec.kprobes[0].call: list \"nope\" is not defined in spec.lists");
    CHECK(parse_error(with_spec("  lists: [{name: s, type: syscalls, values: [sys_dup]}]\n"
                                "  kprobes:\n  - call: list:s\n    syscall: false\n")) ==
          "test.yaml:9:14: spec.kprobes[0].syscall: syscall: false contradicts list \"s\" of "
          "type syscalls");
    CHECK(parse_error(kprobe_policy("    return: true\n")) ==
          "test.yaml:8:13: spec.kprobes[0].return: return: true needs a returnArg that gives "
          "the type of the return value");
    // Accepted as Tetragon accepts them, with a warning that says what is ignored.
    CHECK(parse_warnings(kprobe_policy("    returnArg: {index: 0, type: int}\n")) ==
          "test.yaml:8:16: spec.kprobes[0].returnArg: ignored: without return: true no return value is read");
    CHECK(parse_warnings(kprobe_policy("    selectors:\n    - matchActions:\n      - action: Sigkill\n"
                                       "        argError: -1\n")) ==
          "test.yaml:11:19: spec.kprobes[0].selectors[0].matchActions[0].argError: ignored: not used by action "
          "Sigkill");
    CHECK(parse_warnings(kprobe_policy("    args:\n    - {index: 0, type: int}\n")).empty());
    CHECK(parse_error(kprobe_policy("    return: true\n    returnArg: {index: 0, type: sock}\n"
                                    "    returnArgAction: Post\n")) ==
          "test.yaml:10:22: spec.kprobes[0].returnArgAction: invalid value \"Post\" (allowed: "
          "TrackSock, UntrackSock)");
    CHECK(parse_error(kprobe_policy("    returnArgAction: TrackSock\n")) ==
          "test.yaml:8:22: spec.kprobes[0].returnArgAction: needs return: true");
    CHECK(parse_error(kprobe_policy("    return: true\n    returnArg: {index: 0, type: int}\n"
                                    "    returnArgAction: UntrackSock\n")) ==
          "test.yaml:10:22: spec.kprobes[0].returnArgAction: UntrackSock needs a returnArg of "
          "type sock, not int");
    CHECK(parse_error(kprobe_policy("    ignore: {callNotFound: true, typo: 1}\n")) ==
          "test.yaml:8:34: spec.kprobes[0].ignore: unknown field \"typo\"");
    CHECK(parse_error(kprobe_policy("    data:\n    - {index: 0, type: int, source: current_task, "
                                    "resolve: pid}\n")) ==
          "test.yaml:8:5: spec.kprobes[0].data: not supported by vigil: data (values read from "
          "the current task or registers)");
    CHECK(parse_error(kprobe_policy("    calls: sys_openat\n")) ==
          "test.yaml:8:5: spec.kprobes[0]: unknown field \"calls\" (did you mean \"call\"?)");
}

TEST_CASE("message and tags", "[policy][errors]")
{
    CHECK(parse_error(kprobe_policy(fmt::format("    message: {}\n", std::string(257, 'm')))) ==
          "test.yaml:8:14: spec.kprobes[0].message: is 257 bytes; the limit is 256 bytes");
    CHECK(parse_policy(kprobe_policy(fmt::format("    message: {}\n", std::string(256, 'm'))),
                       "t"));
    CHECK(parse_error(kprobe_policy("    tags: [a]\n")) ==
          "test.yaml:8:12: spec.kprobes[0].tags[0]: is 1 bytes; tags must be 2 to 128 bytes");
    CHECK(parse_error(kprobe_policy(fmt::format("    tags: [{}]\n", std::string(129, 't')))) ==
          "test.yaml:8:12: spec.kprobes[0].tags[0]: is 129 bytes; tags must be 2 to 128 bytes");
    std::string tags;
    for (int i = 0; i < 17; ++i)
        tags += fmt::format("{}t{}", i ? ", " : "", i);
    CHECK(parse_error(kprobe_policy(fmt::format("    tags: [{}]\n", tags))) ==
          "test.yaml:8:11: spec.kprobes[0].tags: has 17 entries; the limit is 16 tags per hook");
    CHECK(parse_error(kprobe_policy("    tags: network\n")) ==
          "test.yaml:8:11: spec.kprobes[0].tags: must be a list, got \"network\"");
}

TEST_CASE("args", "[policy][errors]")
{
    CHECK(fixture_error("over_limits.yaml").starts_with(
        "over_limits.yaml:9:5: spec.kprobes[0].args: has 6 entries; the limit is 5 args per "
        "hook\n"));
    CHECK(parse_error(kprobe_policy("    args:\n    - type: int\n")) ==
          "test.yaml:9:7: spec.kprobes[0].args[0]: missing required field \"index\"");
    CHECK(parse_error(kprobe_policy("    args:\n    - {index: 5, type: int}\n")) ==
          "test.yaml:9:15: spec.kprobes[0].args[0].index: must be an integer from 0 to 4, got "
          "\"5\"");
    CHECK(parse_error(kprobe_policy("    args:\n    - {index: -1, type: int}\n")) ==
          "test.yaml:9:15: spec.kprobes[0].args[0].index: must be an integer from 0 to 4, got "
          "\"-1\"");
    CHECK(parse_error(kprobe_policy("    args:\n    - {index: [0], type: int}\n")) ==
          "test.yaml:9:15: spec.kprobes[0].args[0].index: must be an integer from 0 to 4, got "
          "a list");
    CHECK(parse_error(kprobe_policy("    args:\n    - {index: 0, type: unsigned long}\n")) ==
          fmt::format("test.yaml:9:24: spec.kprobes[0].args[0].type: invalid value \"unsigned "
                      "long\" (allowed: {})",
                      allowed_names<ArgType>()));
    CHECK(parse_warnings(kprobe_policy("    args:\n    - {index: 0, type: string, maxData: true}\n")) ==
          "test.yaml:9:41: spec.kprobes[0].args[0].maxData: ignored: maxData applies to type char_buf, not "
          "string");
    CHECK(parse_error(kprobe_policy("    args:\n    - {index: 0, type: int, returnCopy: true}\n")) ==
          "test.yaml:9:41: spec.kprobes[0].args[0].returnCopy: only valid for types char_buf "
          "and char_iovec, not int");
    CHECK(parse_error(kprobe_policy("    args:\n    - {index: 0, type: int, sizeArgIndex: 2}\n")) ==
          "test.yaml:9:43: spec.kprobes[0].args[0].sizeArgIndex: only valid for types char_buf "
          "and char_iovec, not int");
    CHECK(parse_error(kprobe_policy("    args:\n    - {index: 0, type: char_buf, sizeArgIndex: 6}\n")) ==
          "test.yaml:9:48: spec.kprobes[0].args[0].sizeArgIndex: must be an integer from 0 to "
          "5, got \"6\"");
    CHECK(parse_error(kprobe_policy("    args:\n    - {index: 0, type: int, btfType: task_struct}\n")) ==
          "test.yaml:9:29: spec.kprobes[0].args[0].btfType: not supported by vigil: btfType "
          "(casting an argument to another BTF type)");
    CHECK(parse_error(kprobe_policy("    args:\n    - {index: 0, type: int, source: current_task}\n")) ==
          "test.yaml:9:29: spec.kprobes[0].args[0].source: not supported by vigil: args read "
          "from the current task or registers (source)");
    CHECK(parse_error(kprobe_policy("    args:\n    - {index: 0, type: int, lable: fd}\n")) ==
          "test.yaml:9:29: spec.kprobes[0].args[0]: unknown field \"lable\" (did you mean "
          "\"label\"?)");
    CHECK(parse_error(kprobe_policy("    return: true\n"
                                    "    returnArg: {index: 0, type: char_buf, sizeArgIndex: 1}\n")) ==
          "test.yaml:9:57: spec.kprobes[0].returnArg.sizeArgIndex: not valid in returnArg");
}

TEST_CASE("tracepoints fields", "[policy][errors]")
{
    CHECK(parse_error(with_spec("  tracepoints:\n  - event: sys_enter_openat\n")) ==
          "test.yaml:7:5: spec.tracepoints[0]: missing required field \"subsystem\"");
    CHECK(parse_error(with_spec("  tracepoints:\n  - {subsystem: syscalls, event: "
                                "syscalls/sys_enter_openat}\n")) ==
          "test.yaml:7:34: spec.tracepoints[0].event: \"syscalls/sys_enter_openat\" is not a "
          "tracepoint event name");
    CHECK(parse_error(with_spec("  tracepoints:\n  - {subsystem: syscalls, event: e, "
                                "args: [{index: 32, type: int}]}\n")) ==
          "test.yaml:7:52: spec.tracepoints[0].args[0].index: must be an integer from 0 to 31, "
          "got \"32\"");
    CHECK(parse_error(with_spec("  tracepoints:\n  - {subsystem: sched, event: e, raw: true, "
                                "args: [{index: 6, type: int}]}\n")) ==
          "test.yaml:7:60: spec.tracepoints[0].args[0].index: must be an integer from 0 to 5, "
          "got \"6\"");
    CHECK(parse_error(with_spec("  tracepoints:\n  - {subsystem: s, event: e, "
                                "args: [{index: 6, type: char_buf, returnCopy: true}]}\n")) ==
          "test.yaml:7:76: spec.tracepoints[0].args[0].returnCopy: needs a hook that returns "
          "(kprobes or uprobes), not tracepoints");
    CHECK(parse_error(with_spec("  tracepoints:\n  - {subsystem: s, event: e, return: true}\n")) ==
          "test.yaml:7:30: spec.tracepoints[0]: unknown field \"return\"");
}

TEST_CASE("uprobes fields", "[policy][errors]")
{
    CHECK(parse_error(with_spec("  uprobes:\n  - {path: bash, symbols: [readline]}\n")) ==
          "test.yaml:7:12: spec.uprobes[0].path: \"bash\" is not an absolute path");
    CHECK(parse_error(with_spec("  uprobes:\n  - {path: /bin/bash, symbols: []}\n")) ==
          "test.yaml:7:32: spec.uprobes[0].symbols: must name at least one symbol");
    CHECK(parse_error(with_spec("  uprobes:\n  - {path: /bin/bash}\n")) ==
          "test.yaml:7:5: spec.uprobes[0]: a uprobe needs symbols or offsets");
    CHECK(parse_error(with_spec("  uprobes:\n  - {path: /bin/bash, symbols: [f], offsets: [4096]}\n")) ==
          "test.yaml:7:46: spec.uprobes[0].offsets: a uprobe names symbols or offsets, not both");
    CHECK(parse_error(with_spec("  uprobes:\n  - {path: /bin/bash, offsets: [0x10, -1]}\n")) ==
          "test.yaml:7:39: spec.uprobes[0].offsets[1]: must be a file offset (an unsigned integer, decimal or "
          "0x hex), got \"-1\"");
    CHECK(parse_error(with_spec("  uprobes:\n  - {path: /bin/bash, offsets: [16, 32], refCtrOffsets: [8]}\n")) ==
          "test.yaml:7:57: spec.uprobes[0].refCtrOffsets: gives 1 offsets for 2 offsets: one semaphore offset per "
          "offset (0 for none)");
    CHECK(parse_error(with_spec("  uprobes:\n  - {path: /bin/bash, symbols: [f], addrs: [4096]}\n")) ==
          "test.yaml:7:37: spec.uprobes[0].addrs: not supported by vigil: uprobes on addresses; name the "
          "symbols or give file offsets");
    CHECK(parse_error(with_spec("  uprobes:\n  - {path: /bin/bash, symbols: [f], "
                                "args: [{index: 0, type: int, resolve: a.b}]}\n")) ==
          "test.yaml:7:75: spec.uprobes[0].args[0].resolve: not supported by vigil: resolve "
          "in uprobe arguments (there is no BTF for user space)");
    CHECK(parse_error(with_spec("  uprobes:\n  - {path: /bin/bash, symbols: [f], "
                                "binaryDigests: [\"sha256:00\"]}\n")) ==
          "test.yaml:7:37: spec.uprobes[0].binaryDigests: not supported by vigil: "
          "binaryDigests (checking the binary before attaching)");
}

TEST_CASE("usdts fields", "[policy][errors]")
{
    CHECK(parse_error(with_spec("  usdts:\n  - {path: /bin/x, provider: p}\n")) ==
          "test.yaml:7:5: spec.usdts[0]: missing required field \"name\"");
    CHECK(parse_error(with_spec("  usdts:\n  - {path: x, provider: p, name: n}\n")) ==
          "test.yaml:7:12: spec.usdts[0].path: \"x\" is not an absolute path");
    CHECK(parse_error(with_spec("  usdts:\n  - {path: /bin/x, provider: \"\", name: n}\n")) ==
          "test.yaml:7:30: spec.usdts[0].provider: must not be empty");
    CHECK(parse_error(with_spec("  usdts:\n  - {path: /bin/x, provider: p, name: n, symbols: [f]}\n")) ==
          "test.yaml:7:42: spec.usdts[0]: unknown field \"symbols\"");
}

TEST_CASE("lsmhooks fields", "[policy][errors]")
{
    CHECK(parse_error(with_spec("  lsmhooks:\n  - args: [{index: 0, type: file}]\n")) ==
          "test.yaml:7:5: spec.lsmhooks[0]: missing required field \"hook\"");
    CHECK(parse_error(with_spec("  lsmhooks:\n  - {hook: file_open, call: x}\n")) ==
          "test.yaml:7:23: spec.lsmhooks[0]: unknown field \"call\"");
}

// ---------------------------------------------------------------------------------------------
// Selectors

TEST_CASE("unknown field deep in a selector, with a suggestion", "[policy][errors]")
{
    CHECK(fixture_error("unknown_field.yaml") ==
          "unknown_field.yaml:17:9: spec.kprobes[0].selectors[1].matchArgs[0]: missing "
          "required field \"operator\"\n"
          "unknown_field.yaml:18:9: spec.kprobes[0].selectors[1].matchArgs[0]: unknown field "
          "\"operatr\" (did you mean \"operator\"?)");
}

TEST_CASE("several errors are all reported, sorted by position", "[policy][errors]")
{
    CHECK(fixture_error("several_errors.yaml") ==
          "several_errors.yaml:4:9: metadata.name: \"Several_Errors\" is not a valid name: use "
          "lowercase letters, digits, '-' and '.', start and end with a letter or digit, at "
          "most 253 characters\n"
          "several_errors.yaml:8:14: spec.kprobes[0].syscall: must be true or false, got "
          "\"yes\"\n"
          "several_errors.yaml:10:14: spec.kprobes[0].args[0].index: must be an integer from 0 "
          "to 4, got \"seven\"\n"
          "several_errors.yaml:13:13: spec.kprobes[0].args[1].type: invalid value \"strnig\" "
          "(allowed: " + allowed_names<ArgType>() + ")\n"
          "several_errors.yaml:17:17: spec.kprobes[0].selectors[0].matchPIDs[0].values: must be "
          "a list of integers, got \"42\"\n"
          "several_errors.yaml:19:19: spec.kprobes[0].selectors[0].matchBinaries[0].operator: "
          "invalid value \"Contains\" (allowed: In, NotIn, Prefix, NotPrefix, Postfix, "
          "NotPostfix)");
}

TEST_CASE("strings must be UTF-8 and keys must be scalars", "[policy][errors]")
{
    CHECK(parse_error(kprobe_policy("    message: \"\xff\xfe\"\n")) ==
          "test.yaml:8:14: spec.kprobes[0].message: is not valid UTF-8");
    CHECK(parse_error(kprobe_policy("    ? [a, b]\n    : 1\n")) ==
          "test.yaml:8:7: spec.kprobes[0]: field names must be strings");
    CHECK(parse_error(kprobe_policy("") + "  labels: {a: b, a: c}\n") ==
          "test.yaml:8:3: spec: unknown field \"labels\"");
    auto meta = "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: a\n"
                "  labels: {x: y, x: z}\nspec: {kprobes: [{call: sys_openat}]}\n";
    CHECK(parse_error(meta) == "test.yaml:5:18: metadata.labels: duplicate field \"x\"");
}

TEST_CASE("more than 20 errors are counted, not listed", "[policy][errors]")
{
    std::string args;
    for (int i = 0; i < 25; ++i)
        args += "    - {index: 9, type: int}\n";
    std::string msg = parse_error(kprobe_policy("    args:\n" + args));
    CHECK(std::count(msg.begin(), msg.end(), '\n') == 20);
    CHECK(msg.ends_with("\ntest.yaml: 6 more errors not shown"));
}

TEST_CASE("selector limits", "[policy][errors]")
{
    CHECK(fixture_error("over_limits.yaml") ==
          "over_limits.yaml:9:5: spec.kprobes[0].args: has 6 entries; the limit is 5 args per "
          "hook\n"
          "over_limits.yaml:16:5: spec.kprobes[0].selectors: has 6 entries; the limit is 5 "
          "selectors per hook\n"
          "over_limits.yaml:18:17: spec.kprobes[0].selectors[0].matchPIDs[0].values: has 5 "
          "entries; the limit is 4 values per matchPIDs filter\n"
          "over_limits.yaml:20:7: spec.kprobes[0].selectors[0].matchActions: has 4 entries; the "
          "limit is 3 matchActions per selector\n"
          "over_limits.yaml:27:17: spec.kprobes[0].selectors[1].matchArgs[0].values: has 5 "
          "entries; the limit is 4 values for operator Equal on int");

    std::string filters;
    for (int i = 0; i < 6; ++i)
        filters += "      - {index: 1, operator: Prefix, values: [/]}\n";
    CHECK(parse_error(with_selector("      matchArgs:\n" + filters)) ==
          "test.yaml:14:7: spec.kprobes[0].selectors[0].matchArgs: has 6 entries; the limit is "
          "5 matchArgs filters per selector");
    CHECK(parse_error(with_selector("      matchBinaries:\n"
                                    "      - {operator: In, values: [/a]}\n"
                                    "      - {operator: In, values: [/b]}\n")) ==
          "test.yaml:14:7: spec.kprobes[0].selectors[0].matchBinaries: has 2 entries; the limit "
          "is 1 matchBinaries filter per selector");
    std::string pids;
    for (int i = 0; i < 5; ++i)
        pids += "      - {operator: NotIn, values: [1]}\n";
    CHECK(parse_error(with_selector("      matchPIDs:\n" + pids)) ==
          "test.yaml:14:7: spec.kprobes[0].selectors[0].matchPIDs: has 5 entries; the limit is "
          "4 matchPIDs filters per selector");
    std::string caps;
    for (int i = 0; i < 4; ++i)
        caps += "      - {operator: In, values: [CAP_BPF]}\n";
    CHECK(parse_error(with_selector("      matchCapabilities:\n" + caps)) ==
          "test.yaml:14:7: spec.kprobes[0].selectors[0].matchCapabilities: has 4 entries; the "
          "limit is 3 matchCapabilities filters per selector");
    std::string ns;
    for (int i = 0; i < 11; ++i)
        ns += "      - {namespace: Net, operator: In, values: [host_ns]}\n";
    CHECK(parse_error(with_selector("      matchNamespaces:\n" + ns)) ==
          "test.yaml:14:7: spec.kprobes[0].selectors[0].matchNamespaces: has 11 entries; the "
          "limit is 10 matchNamespaces filters per selector");
}

TEST_CASE("selector fields vigil does not implement", "[policy][errors]")
{
    CHECK(parse_error(with_selector("      matchParentBinaries: [{operator: In, values: [/x]}]\n")) ==
          "test.yaml:13:7: spec.kprobes[0].selectors[0].matchParentBinaries: not supported by "
          "vigil: matchParentBinaries");
    CHECK(parse_error(with_selector("      matchData: [{index: 0, operator: Equal, values: [a]}]\n")) ==
          "test.yaml:13:7: spec.kprobes[0].selectors[0].matchData: not supported by vigil: "
          "matchData (filters on data fields)");
    CHECK(parse_error(with_selector("      macros: [m]\n")) ==
          "test.yaml:13:7: spec.kprobes[0].selectors[0].macros: not supported by vigil: "
          "selector macros; write the filters in each selector");
    CHECK(parse_error(with_selector("      matchArg: []\n")) ==
          "test.yaml:13:7: spec.kprobes[0].selectors[0]: unknown field \"matchArg\" (did you "
          "mean \"matchArgs\"?)");
}

TEST_CASE("matchPIDs", "[policy][errors]")
{
    CHECK(parse_error(with_selector("      matchPIDs: [{operator: Equal, values: [1]}]\n")) ==
          "test.yaml:13:30: spec.kprobes[0].selectors[0].matchPIDs[0].operator: invalid value "
          "\"Equal\" (allowed: In, NotIn)");
    CHECK(parse_error(with_selector("      matchPIDs: [{operator: In}]\n")) ==
          "test.yaml:13:19: spec.kprobes[0].selectors[0].matchPIDs[0]: missing required field "
          "\"values\"");
    CHECK(parse_error(with_selector("      matchPIDs: [{operator: In, values: []}]\n")) ==
          "test.yaml:13:42: spec.kprobes[0].selectors[0].matchPIDs[0].values: must have at "
          "least one value");
    CHECK(parse_error(with_selector("      matchPIDs: [{operator: In, values: [-1]}]\n")) ==
          "test.yaml:13:43: spec.kprobes[0].selectors[0].matchPIDs[0].values[0]: must be an "
          "integer from 0 to 2147483647, got \"-1\"");
    CHECK(parse_error(with_selector("      matchPIDs: [{operator: In, values: [1], "
                                    "followForks: 1}]\n")) ==
          "test.yaml:13:60: spec.kprobes[0].selectors[0].matchPIDs[0].followForks: must be true "
          "or false, got \"1\"");
}

TEST_CASE("matchArgs: which argument", "[policy][errors]")
{
    CHECK(parse_error(with_selector("      matchArgs: [{index: 2, operator: Equal, values: [a]}]\n")) ==
          "test.yaml:13:27: spec.kprobes[0].selectors[0].matchArgs[0].index: no entry of "
          "spec.kprobes[0].args has index 2 (declared: 1)");
    CHECK(parse_error(with_selector("      matchArgs: [{operator: Equal, values: [a]}]\n")) ==
          "test.yaml:13:19: spec.kprobes[0].selectors[0].matchArgs[0]: no entry of "
          "spec.kprobes[0].args has index 0 (declared: 1)");
    CHECK(parse_error(kprobe_policy("    selectors:\n    - matchArgs: [{index: 0, operator: "
                                    "Equal, values: [a]}]\n")) ==
          "test.yaml:9:27: spec.kprobes[0].selectors[0].matchArgs[0].index: the hook declares "
          "no args; add the argument with index 0 to spec.kprobes[0].args");
    CHECK(parse_error(with_selector("      matchArgs: [{index: 1, args: [0], operator: Equal, "
                                    "values: [a]}]\n")) ==
          "test.yaml:13:27: spec.kprobes[0].selectors[0].matchArgs[0].index: give either index "
          "(an argument number) or args (positions in args[]), not both");
    CHECK(parse_error(with_selector("      matchArgs: [{args: [1], operator: Equal, "
                                    "values: [a]}]\n")) ==
          "test.yaml:13:26: spec.kprobes[0].selectors[0].matchArgs[0].args[0]: refers to "
          "args[1], but the hook has 1 args");
    CHECK(parse_error(with_selector("      matchArgs: [{args: [0, 0], operator: Equal, "
                                    "values: [a]}]\n")) ==
          "test.yaml:13:26: spec.kprobes[0].selectors[0].matchArgs[0].args: operator Equal "
          "reads one argument; give one position");
    CHECK(parse_error(with_selector("      matchArgs: [{index: 1, operator: CapabilitiesGained}]\n")) ==
          "test.yaml:13:19: spec.kprobes[0].selectors[0].matchArgs[0]: CapabilitiesGained "
          "needs args: [new, old], two positions in the hook's args[]");
    CHECK(parse_error(with_selector("      matchArgs: [{args: [0, 0], operator: "
                                    "CapabilitiesGained}]\n")) ==
          "test.yaml:13:44: spec.kprobes[0].selectors[0].matchArgs[0].operator: operator "
          "CapabilitiesGained needs arguments of type kernel_cap_t, cap_inheritable, "
          "cap_permitted or cap_effective, but args[0] has type string\n"
          "test.yaml:13:44: spec.kprobes[0].selectors[0].matchArgs[0].operator: operator "
          "CapabilitiesGained needs arguments of type kernel_cap_t, cap_inheritable, "
          "cap_permitted or cap_effective, but args[0] has type string");
    CHECK(parse_error(with_selector("      matchArgs: [{index: 1, operator: Equals, values: [a]}]\n")) ==
          fmt::format("test.yaml:13:40: spec.kprobes[0].selectors[0].matchArgs[0].operator: "
                      "invalid value \"Equals\" (allowed: {})",
                      allowed_names<ArgOperator>()));
    CHECK(parse_error(with_selector("      matchArgs: [{index: 1, operator: Equal, values: a}]\n")) ==
          "test.yaml:13:55: spec.kprobes[0].selectors[0].matchArgs[0].values: must be a list of "
          "strings, got \"a\"");
    CHECK(parse_error(with_selector("      matchArgs: [{index: 1, operator: Equal, "
                                    "values: [{a: b}]}]\n")) ==
          "test.yaml:13:56: spec.kprobes[0].selectors[0].matchArgs[0].values[0]: must be a "
          "string, got a mapping");
}

TEST_CASE("matchArgs: operator and argument type must fit", "[policy][errors]")
{
    std::string prefix = "test.yaml:14:19: spec.kprobes[0].selectors[0].matchArgs[0].operator: ";
    auto err = [&](std::string_view type, std::string_view op, std::string_view values) {
        return parse_error(with_filter(type, op, values));
    };
    CHECK(err("int", "Prefix", "        - /etc\n") ==
          prefix + "operator Prefix needs an argument of type char_buf, string, data_loc, fd, "
                   "file, path, dentry, sockaddr_un, net_device or linux_binprm, but args[0] "
                   "has type int");
    CHECK(err("string", "GT", "        - \"1\"\n") ==
          prefix + "operator GT needs an argument of type int, int8, uint8, int16, uint16, "
                   "int32, uint32, int64, uint64, size_t or syscall64, but args[0] has type "
                   "string");
    CHECK(err("int", "SPort", "        - \"80\"\n") ==
          prefix + "operator SPort needs an argument of type sock, skb, sockaddr or socket, but "
                   "args[0] has type int");
    CHECK(err("sockaddr", "DAddr", "        - 10.0.0.1\n") ==
          prefix + "operator DAddr needs an argument of type sock, skb or socket, but args[0] "
                   "has type sockaddr");
    CHECK(err("int", "Family", "        - AF_INET\n") ==
          prefix + "operator Family needs an argument of type sock, skb, sockaddr, socket or "
                   "sockaddr_un, but args[0] has type int");
    CHECK(err("string", "FileType", "        - reg\n") ==
          prefix + "operator FileType needs an argument of type file or path, but args[0] has "
                   "type string");
    CHECK(err("sock", "Equal", "        - x\n") ==
          prefix + "operator Equal needs an argument of type string, integer or capability set "
                   "(see docs/policies.md), but args[0] has type sock");
    CHECK(err("int", "InMap", "        - x\n") == "test.yaml:16:11: spec.kprobes[0].selectors[0]."
                                                  "matchArgs[0].values[0]: \"x\" is not an "
                                                  "integer");
}

TEST_CASE("matchArgs: values", "[policy][errors]")
{
    std::string at = "test.yaml:16:11: spec.kprobes[0].selectors[0].matchArgs[0].values[0]: ";
    auto err = [&](std::string_view type, std::string_view op, std::string_view value) {
        return parse_error(with_filter(type, op, fmt::format("        - \"{}\"\n", value)));
    };
    CHECK(err("int", "Equal", "one") == at + "\"one\" is not an integer");
    CHECK(err("uint8", "Equal", "256") == at + "\"256\" is out of range for type uint8");
    CHECK(err("int8", "LT", "-129") == at + "\"-129\" is out of range for type int8");
    CHECK(err("uint64", "Mask", "-1") == at + "\"-1\" is out of range for type uint64");
    CHECK(err("int", "InRange", "5") ==
          at + "\"5\" is not a range \"min:max\" of integers with min <= max");
    CHECK(err("int", "NotInRange", "9:1") ==
          at + "\"9:1\" is not a range \"min:max\" of integers with min <= max");
    CHECK(err("int16", "InRange", "0:40000") == at + "\"0:40000\" is out of range for type int16");
    CHECK(err("syscall64", "InMap", "list:none") ==
          at + "list \"none\" is not defined in spec.lists");
    CHECK(err("sock", "SPort", "70000") ==
          at + "\"70000\" is not a port (0-65535) or a port range \"min:max\"");
    CHECK(err("sock", "DPort", "90:80") ==
          at + "\"90:80\" is not a port (0-65535) or a port range \"min:max\"");
    CHECK(err("skb", "SAddr", "10.0.0.300") ==
          at + "\"10.0.0.300\" is not an IPv4/IPv6 address or CIDR prefix");
    CHECK(err("sock", "NotDAddr", "10.0.0.0/33") ==
          at + "\"10.0.0.0/33\" is not an IPv4/IPv6 address or CIDR prefix");
    CHECK(err("sock", "Protocol", "IPPROTO_QUIC") ==
          at + "\"IPPROTO_QUIC\" is not a protocol number or IPPROTO_* name");
    CHECK(err("socket", "Family", "AF_INET7") ==
          at + "\"AF_INET7\" is not an address family number or AF_* name");
    CHECK(err("sock", "State", "TCP_OPEN") ==
          at + "\"TCP_OPEN\" is not a TCP state number or TCP_* name");
    CHECK(err("sock", "State", "1:x") == at + "\"1:x\" is not a range \"min:max\" of integers");
    CHECK(err("file", "NotFileType", "regular-file") ==
          at + "\"regular-file\" is not a file type (allowed: sock, socket, lnk, link, reg, "
               "regular, blk, block, dir, chr, char, fifo, pipe)");
    CHECK(err("kernel_cap_t", "Equal", "CAP_SYS_ADMIN,CAP_FLY") ==
          at + "\"CAP_SYS_ADMIN,CAP_FLY\" is not a capability mask: give a number or "
               "comma-separated CAP_* names");
    CHECK(err("string", "SubString", "") == at + "must not be empty");
    CHECK(err("string", "CelExpr", "") == at + "must not be empty");
    CHECK(err("string", "Prefix", std::string(257, 'p')) ==
          at + "is 257 bytes; the limit is 256 bytes for Prefix/NotPrefix values");
    CHECK(err("path", "NotPostfix", std::string(128, 'p')) ==
          at + "is 128 bytes; the limit is 127 bytes for Postfix/NotPostfix values");
    CHECK(err("string", "SubStringIgnCase", std::string(100, 's')) ==
          at + "is 100 bytes; the limit is 99 bytes for SubString values");
    CHECK(err("char_buf", "NotEqual", std::string(4097, 'e')) ==
          at + "is 4097 bytes; the limit is 4096 bytes for Equal/NotEqual values");

    // A syscall list in InMap needs a syscall list and a syscall64 argument.
    std::string lists_spec = "  lists:\n  - {name: fns, values: [fd_install]}\n"
                             "  - {name: sys, type: syscalls, values: [sys_dup]}\n";
    auto with_list = [&](std::string_view type, std::string_view list) {
        return parse_error(with_filter(type, "InMap", fmt::format("        - \"list:{}\"\n", list)) +
                           lists_spec);
    };
    CHECK(with_list("syscall64", "fns") ==
          at + "list \"fns\" must have type syscalls or generated_syscalls to be used in InMap");
    CHECK(with_list("int64", "sys") ==
          at + "a syscall list needs an argument of type syscall64 or uint64, not int64");
}

TEST_CASE("matchArgs: number of values", "[policy][errors]")
{
    auto values = [](size_t n, std::string_view text) {
        std::string out;
        for (size_t i = 0; i < n; ++i)
            out += fmt::format("        - \"{}{}\"\n", text, i);
        return out;
    };
    std::string at = "test.yaml:16:9: spec.kprobes[0].selectors[0].matchArgs[0].values: ";
    CHECK(parse_error(with_filter("string", "Equal", values(17, "/f"))) ==
          at + "has 17 entries; the limit is 16 values for operator Equal");
    CHECK(parse_error(with_filter("int64", "InRange", values(5, "0:"))) ==
          at + "has 5 entries; the limit is 4 values for operator InRange on int64");
    CHECK(parse_error(with_filter("syscall64", "InMap", values(1025, ""))) ==
          at + "has 1025 entries; the limit is 1024 values for operator InMap on syscall64");
    CHECK(parse_error(with_filter("sock", "SPortPriv", "        - \"1\"\n")) ==
          at + "operator SPortPriv takes no values");
    CHECK(parse_error(with_filter("string", "Equal", "        []\n")) ==
          "test.yaml:13:9: spec.kprobes[0].selectors[0].matchArgs[0]: operator Equal needs at "
          "least one value in values");
}

TEST_CASE("matchReturnArgs", "[policy][errors]")
{
    CHECK(parse_error(with_selector("      matchReturnArgs: [{operator: Equal, values: [\"0\"]}]\n")) ==
          "test.yaml:13:24: spec.kprobes[0].selectors[0].matchReturnArgs: needs return: true "
          "and a returnArg on the hook");
    CHECK(parse_error(with_spec("  lsmhooks:\n  - hook: file_open\n    selectors:\n"
                                "    - matchReturnArgs: [{operator: Equal, values: [\"0\"]}]\n")) ==
          "test.yaml:9:24: spec.lsmhooks[0].selectors[0].matchReturnArgs: not valid in "
          "lsmhooks: they do not return");
    std::string ret = "    return: true\n    returnArg: {index: 0, type: int}\n"
                      "    selectors:\n";
    CHECK(parse_error(kprobe_policy(ret + "    - matchReturnArgs: [{index: 1, operator: LT, "
                                          "values: [\"0\"]}]\n")) ==
          "test.yaml:11:33: spec.kprobes[0].selectors[0].matchReturnArgs[0].index: 1 does not "
          "match returnArg.index 0");
    CHECK(parse_error(kprobe_policy(ret + "    - matchReturnArgs: [{args: [0], operator: LT, "
                                          "values: [\"0\"]}]\n")) ==
          "test.yaml:11:32: spec.kprobes[0].selectors[0].matchReturnArgs[0].args: not used in "
          "matchReturnArgs: they compare returnArg");
    CHECK(parse_error(kprobe_policy(ret + "    - matchReturnArgs: [{operator: Prefix, "
                                          "values: [\"/\"]}]\n")) ==
          "test.yaml:11:36: spec.kprobes[0].selectors[0].matchReturnArgs[0].operator: operator "
          "Prefix needs an argument of type char_buf, string, data_loc, fd, file, path, dentry, "
          "sockaddr_un, net_device or linux_binprm, but returnArg has type int");
    CHECK(parse_error(with_selector("      matchReturnActions: [{action: Post}]\n")) ==
          "test.yaml:13:27: spec.kprobes[0].selectors[0].matchReturnActions: needs return: true "
          "and a returnArg on the hook");
}

TEST_CASE("matchBinaries", "[policy][errors]")
{
    CHECK(parse_error(with_selector("      matchBinaries: [{operator: Prefix, values: [/usr/], "
                                    "followChildren: true}]\n")) ==
          "test.yaml:13:75: spec.kprobes[0].selectors[0].matchBinaries[0].followChildren: "
          "followChildren works with operators In and NotIn, not Prefix");
    CHECK(parse_error(with_selector(fmt::format("      matchBinaries: [{{operator: In, "
                                                "values: [/{}]}}]\n",
                                                std::string(255, 'b')))) ==
          "test.yaml:13:47: spec.kprobes[0].selectors[0].matchBinaries[0].values[0]: is 256 "
          "bytes; the limit is 255 bytes for binary paths values");
    CHECK(parse_error(with_selector("      matchBinaries: [{operator: In, values: []}]\n")) ==
          "test.yaml:13:46: spec.kprobes[0].selectors[0].matchBinaries[0].values: must have at "
          "least one value");
    CHECK(parse_error(with_selector("      matchBinaries: [{operator: In, values: [\"\"]}]\n")) ==
          "test.yaml:13:47: spec.kprobes[0].selectors[0].matchBinaries[0].values[0]: must not "
          "be empty");
    std::string many;
    for (int i = 0; i < 65; ++i)
        many += fmt::format("{}/b{}", i ? ", " : "", i);
    CHECK(parse_error(with_selector(fmt::format("      matchBinaries: [{{operator: NotIn, "
                                                "values: [{}]}}]\n",
                                                many))) ==
          "test.yaml:13:49: spec.kprobes[0].selectors[0].matchBinaries[0].values: has 65 "
          "entries; the limit is 64 values per matchBinaries filter");
}

TEST_CASE("matchNamespaces and matchNamespaceChanges", "[policy][errors]")
{
    CHECK(parse_error(with_selector("      matchNamespaces: [{namespace: Network, operator: In, "
                                    "values: [host_ns]}]\n")) ==
          "test.yaml:13:37: spec.kprobes[0].selectors[0].matchNamespaces[0].namespace: invalid "
          "value \"Network\" (allowed: Uts, Ipc, Mnt, Pid, PidForChildren, Net, Time, "
          "TimeForChildren, Cgroup, User)");
    CHECK(parse_error(with_selector("      matchNamespaces: [{namespace: Net, operator: In, "
                                    "values: [host]}]\n")) ==
          "test.yaml:13:65: spec.kprobes[0].selectors[0].matchNamespaces[0].values[0]: \"host\" "
          "is not a namespace inode number or \"host_ns\"");
    CHECK(parse_error(with_selector("      matchNamespaces: [{namespace: Net, operator: In, "
                                    "values: [1, 2, 3, 4, 5]}]\n")) ==
          "test.yaml:13:64: spec.kprobes[0].selectors[0].matchNamespaces[0].values: has 5 "
          "entries; the limit is 4 values per matchNamespaces filter");
    CHECK(parse_error(with_selector("      matchNamespaceChanges: [{operator: In, values: [Mnt]}, "
                                    "{operator: NotIn, values: [Net]}]\n")) ==
          "test.yaml:13:30: spec.kprobes[0].selectors[0].matchNamespaceChanges: has 2 entries; "
          "the limit is 1 matchNamespaceChanges filter per selector");
    CHECK(parse_error(with_selector("      matchNamespaceChanges: [{operator: In, values: "
                                    "[Mount]}]\n")) ==
          "test.yaml:13:55: spec.kprobes[0].selectors[0].matchNamespaceChanges[0].values[0]: "
          "invalid value \"Mount\" (allowed: Uts, Ipc, Mnt, Pid, PidForChildren, Net, Time, "
          "TimeForChildren, Cgroup, User)");
}

TEST_CASE("matchCapabilities and matchCapabilityChanges", "[policy][errors]")
{
    CHECK(parse_error(with_selector("      matchCapabilities: [{type: Bounding, operator: In, "
                                    "values: [CAP_BPF]}]\n")) ==
          "test.yaml:13:34: spec.kprobes[0].selectors[0].matchCapabilities[0].type: invalid "
          "value \"Bounding\" (allowed: Effective, Inheritable, Permitted)");
    CHECK(parse_error(with_selector("      matchCapabilityChanges: [{operator: In, values: "
                                    "[CAP_ROOT]}]\n")) ==
          "test.yaml:13:56: spec.kprobes[0].selectors[0].matchCapabilityChanges[0].values[0]: "
          "\"CAP_ROOT\" is not a capability (CAP_CHOWN ... CAP_CHECKPOINT_RESTORE)");
    CHECK(parse_error(with_selector("      matchCapabilities: [{operator: In, values: []}]\n")) ==
          "test.yaml:13:50: spec.kprobes[0].selectors[0].matchCapabilities[0].values: must have "
          "at least one value");
}

// ---------------------------------------------------------------------------------------------
// Actions

TEST_CASE("FollowFD, UnfollowFD and CopyFD were removed", "[policy][errors]")
{
    std::string removed = " has been removed: declare the argument with type \"file\" or "
                          "\"path\" (or \"fd\", which vigil resolves to the file's path in the "
                          "kernel) and filter on it with matchArgs";
    CHECK(fixture_error("follow_fd.yaml") ==
          "follow_fd.yaml:16:17: spec.kprobes[0].selectors[0].matchActions[0].action: action "
          "FollowFD" + removed + "\n"
          "follow_fd.yaml:26:17: spec.kprobes[1].selectors[0].matchActions[0].action: action "
          "UnfollowFD" + removed + "\n"
          "follow_fd.yaml:28:17: spec.kprobes[1].selectors[0].matchActions[1].action: action "
          "CopyFD" + removed);
    CHECK(parse_error(with_action("{action: Post, argFd: 0}")) ==
          "test.yaml:10:31: spec.kprobes[0].selectors[0].matchActions[0].argFd: belonged to the "
          "removed FollowFD, UnfollowFD and CopyFD actions");
}

TEST_CASE("actions and their arguments", "[policy][errors]")
{
    std::string at = "test.yaml:10:9: spec.kprobes[0].selectors[0].matchActions[0]";
    CHECK(parse_error(with_action("{action: Kill}")) ==
          "test.yaml:10:18: spec.kprobes[0].selectors[0].matchActions[0].action: invalid value \"Kill\" (allowed: Post, NoPost, Sigkill, Signal, "
              "Override, GetUrl, DnsLookup, TrackSock, UntrackSock, NotifyEnforcer, "
              "CleanupEnforcerNotification, Set)");
    CHECK(parse_error(with_action("{argSig: 9}")) == at + ": missing required field \"action\"");
    CHECK(parse_error(with_action("{action: Signal}")) ==
          at + ": action Signal needs argSig, a signal number from 1 to 64");
    CHECK(parse_error(with_action("{action: Signal, argSig: 65}")) ==
          "test.yaml:10:34: spec.kprobes[0].selectors[0].matchActions[0].argSig: must be an "
          "integer from 0 to 64, got \"65\"");
    CHECK(parse_error(with_action("{action: GetUrl}")) == at + ": action GetUrl needs argUrl");
    CHECK(parse_error(with_action("{action: DnsLookup, argUrl: http://x}")) ==
          at + ": action DnsLookup needs argFqdn");
    // Fields an action does not use are ignored, as Tetragon ignores them, with a warning.
    CHECK(parse_warnings(with_action("{action: Sigkill, rateLimit: 1m}")) ==
          "test.yaml:10:38: spec.kprobes[0].selectors[0].matchActions[0].rateLimit: ignored: not used by "
          "action Sigkill; it is only valid with action Post");
    CHECK(parse_warnings(with_action("{action: NoPost, kernelStackTrace: true}")) ==
          "test.yaml:10:44: spec.kprobes[0].selectors[0].matchActions[0].kernelStackTrace: ignored: not "
          "used by action NoPost; it is only valid with action Post");
    CHECK(parse_error(with_action("{action: Post, rateLimit: 5x}")) ==
          "test.yaml:10:35: spec.kprobes[0].selectors[0].matchActions[0].rateLimit: \"5x\" is "
          "not a rate limit: give a positive number of seconds, optionally with an s, m or h "
          "suffix, below 49 days");
    CHECK(parse_error(with_action("{action: Post, rateLimitScope: process}")) ==
          "test.yaml:10:40: spec.kprobes[0].selectors[0].matchActions[0].rateLimitScope: needs "
          "rateLimit");
    CHECK(parse_error(with_action("{action: Post, rateLimit: 1s, rateLimitScope: pod}")) ==
          "test.yaml:10:55: spec.kprobes[0].selectors[0].matchActions[0].rateLimitScope: invalid "
          "value \"pod\" (allowed: thread, process, global)");
    CHECK(parse_error(with_action("{action: Override, argError: -1, argRegs: [\"rax=1\"]}")) ==
          "test.yaml:10:42: spec.kprobes[0].selectors[0].matchActions[0].argRegs: not supported "
          "by vigil: Override of registers or of the call target in uprobes");
    CHECK(parse_error(with_action("{action: Post, argUrl: 5, argErr: 1}")) ==
          "test.yaml:10:35: spec.kprobes[0].selectors[0].matchActions[0]: unknown field "
          "\"argErr\" (did you mean \"argError\"?)");
}

TEST_CASE("where enforcement actions can go", "[policy][errors]")
{
    std::string at = "test.yaml:10:9: spec.kprobes[0].selectors[0].matchActions[0]: ";
    CHECK(parse_error(kprobe_policy("    syscall: false\n    selectors:\n"
                                    "    - matchActions:\n      - {action: Override, argError: -1}\n",
                                    "fd_install")) ==
          "test.yaml:11:9: spec.kprobes[0].selectors[0].matchActions[0]: Override on kprobes "
          "needs a syscall (syscall: true) or a security_* function, and \"fd_install\" is "
          "neither");
    CHECK(parse_policy(kprobe_policy("    syscall: false\n    selectors:\n"
                                     "    - matchActions:\n      - {action: Override, argError: -1}\n",
                                     "security_file_open"),
                       "t"));
    CHECK(parse_error(with_spec("  tracepoints:\n  - subsystem: syscalls\n    event: e\n"
                                "    selectors:\n    - matchActions: [{action: Override, "
                                "argError: -1}]\n")) ==
          "test.yaml:10:22: spec.tracepoints[0].selectors[0].matchActions[0]: Override is not "
          "possible on tracepoints; use kprobes, lsmhooks or uprobes");
    CHECK(parse_error(kprobe_policy("    return: true\n    returnArg: {index: 0, type: int}\n"
                                    "    selectors:\n    - matchReturnActions: [{action: "
                                    "Override, argError: -1}]\n")) ==
          "test.yaml:11:28: spec.kprobes[0].selectors[0].matchReturnActions[0]: Override cannot "
          "run when the call has already returned; put it in matchActions");

    auto e = parse_policy(with_action("{action: NotifyEnforcer, argSig: 9}"), "test.yaml");
    REQUIRE_FALSE(e);
    CHECK(e.error().code == Errc::unsupported);
    CHECK(e.error().message() ==
          at + "not supported by vigil: action NotifyEnforcer (it needs spec.enforcers); use "
               "Sigkill, Signal or Override");
    CHECK(parse_error(with_action("{action: Set, argIndex: 0, argValue: 1}")) ==
          at + "not supported by vigil: action Set (it writes usdts probe arguments)");
}

TEST_CASE("error codes: unsupported only when everything is unsupported", "[policy][errors]")
{
    CHECK(parse_errc(with_spec("  fentries: [{call: x}]\n")) == Errc::unsupported);
    CHECK(parse_errc(with_spec("  fentries: [{call: x}]\n  kprobes: [{call: \"\"}]\n")) ==
          Errc::invalid_input);
}
