// The typed model of a parsed and validated TracingPolicy. Everything here has been checked by
// the parser: enums are in range, limits hold, cross references (matchArgs -> args, list:NAME ->
// lists) resolve. Defaults of the format are filled in, so consumers never guess.
#pragma once

#include "policy/enums.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vigil::policy {

// Where an item starts in the policy source; 1-based, 0 when not known.
struct SourceLoc {
    uint32_t line = 0;
    uint32_t column = 0;
};

// args[] entry, and returnArg.
struct Arg {
    SourceLoc loc;
    uint32_t index = 0;             // function argument / tracepoint field number
    ArgType type = ArgType::auto_;
    std::string label;
    std::string resolve;            // BTF member path to follow from the argument, "" = none
    bool max_data = false;          // char_buf: read up to the large limit instead of 4096 bytes
    bool return_copy = false;       // char_buf/char_iovec: read the buffer when the call returns
    uint32_t size_arg_index = 0;    // char_buf/char_iovec: 1-based number of the size argument
};

struct PidFilter {
    SetOperator op = SetOperator::in;
    bool follow_forks = false;
    bool is_namespace_pid = false;
    std::vector<uint32_t> values;
};

struct ArgFilter {
    std::optional<uint32_t> index;  // `index` as written: a function argument number
    std::vector<uint32_t> args;     // `args` as written: positions in the hook's args[]
    ArgOperator op = ArgOperator::equal;
    std::vector<std::string> values;
    // Positions in the hook's args[] this filter reads, resolved from `args` or `index` (two
    // for CapabilitiesGained). Empty for CelExpr (it names args itself) and for
    // matchReturnArgs (they read returnArg).
    std::vector<uint32_t> arg_positions;
};

struct BinaryFilter {
    BinaryOperator op = BinaryOperator::in;
    std::vector<std::string> values;
    bool follow_children = false;
};

// A matchNamespaces value: a namespace inode number, or the host's namespace of that type.
struct NamespaceValue {
    bool host_ns = false;
    uint32_t inum = 0;
};

struct NamespaceFilter {
    NamespaceType type = NamespaceType::mnt;
    SetOperator op = SetOperator::in;
    std::vector<NamespaceValue> values;
};

struct NamespaceChangesFilter {
    SetOperator op = SetOperator::in;
    std::vector<NamespaceType> values;
};

// matchCapabilities and matchCapabilityChanges.
struct CapabilitiesFilter {
    CapabilitySet type = CapabilitySet::effective;
    SetOperator op = SetOperator::in;
    bool is_namespace_capability = false;
    uint64_t mask = 0;              // bit N = capability number N (CAP_CHOWN = bit 0)
};

struct Action {
    SourceLoc loc;
    ActionKind kind = ActionKind::post;
    int32_t arg_error = 0;          // Override, NotifyEnforcer: the return value to force
    uint32_t arg_sig = 0;           // Signal, NotifyEnforcer: the signal number
    uint32_t arg_sock = 0;          // TrackSock, UntrackSock: the argument holding the socket
    uint32_t arg_index = 0;         // Set
    uint32_t arg_value = 0;         // Set
    std::string arg_url;            // GetUrl
    std::string arg_fqdn;           // DnsLookup
    uint32_t rate_limit_ms = 0;     // Post: 0 = not rate limited
    RateLimitScope rate_limit_scope = RateLimitScope::thread;
    bool kernel_stack_trace = false; // Post
    bool user_stack_trace = false;   // Post
    bool ima_hash = false;           // Post
};

// Filters in one selector are ANDed; the hook's selectors are ORed, first match wins.
struct Selector {
    SourceLoc loc;
    std::string label;
    std::vector<PidFilter> match_pids;
    std::vector<ArgFilter> match_args;
    std::vector<ArgFilter> match_return_args;
    std::vector<BinaryFilter> match_binaries;
    std::vector<NamespaceFilter> match_namespaces;
    std::vector<NamespaceChangesFilter> match_namespace_changes;
    std::vector<CapabilitiesFilter> match_capabilities;
    std::vector<CapabilitiesFilter> match_capability_changes;
    std::vector<Action> match_actions;
    std::vector<Action> match_return_actions;
};

// Fields every hook kind has.
struct HookCommon {
    SourceLoc loc;
    std::string message;
    std::vector<std::string> tags;
    std::vector<Arg> args;
    std::vector<Selector> selectors;
};

struct Kprobe : HookCommon {
    std::string call;               // a kernel function, or "list:NAME"
    bool syscall = true;            // the format's default; false for plain kernel functions
    bool return_ = false;           // also hook the return
    std::optional<Arg> return_arg;  // present exactly when return_
    std::optional<ActionKind> return_arg_action; // TrackSock / UntrackSock
    bool ignore_call_not_found = false; // ignore.callNotFound
};

struct Tracepoint : HookCommon {
    std::string subsystem;
    std::string event;
    bool raw = false;               // raw tracepoint: args are the TP_PROTO arguments
};

struct Uprobe : HookCommon {
    std::string path;
    std::vector<std::string> symbols;      // either symbols or offsets, not both
    std::vector<uint64_t> offsets;         // file offsets in `path`
    std::vector<uint64_t> ref_ctr_offsets; // semaphore file offsets, one per symbol or offset
    bool return_ = false;
    std::optional<Arg> return_arg;
};

// A USDT probe (statically defined tracepoint in a user-space binary), found by provider and
// name in the binary's .note.stapsdt notes; its args are the probe's arguments.
struct Usdt : HookCommon {
    std::string path;
    std::string provider;
    std::string name;
};

struct LsmHook : HookCommon {
    std::string hook;               // LSM hook name without the "security_" prefix
};

// connect() on TCP and UDP sockets, and with `datagrams` UDP datagrams sent to an address,
// checked where the kernel decides (cgroup connect4/6, sendmsg4/6 programs). `args` is not
// written in the policy: it is always [{index: 0, type: sock}], the socket with the destination
// as its remote end, so matchArgs compare it with DAddr, DPort and the other network operators.
struct Connect : HookCommon {
    bool datagrams = true;
};

struct ListSpec {
    SourceLoc loc;
    std::string name;
    ListType type = ListType::none;
    std::vector<std::string> values;
    std::string pattern;            // generated_ftrace: regular expression over function names
};

struct OptionSpec {
    SourceLoc loc;
    std::string name;
    std::string value;
};

// A Kubernetes label selector: every requirement must hold (matchLabels entries are In with one
// value). Empty: selects everything.
struct LabelRequirement {
    SourceLoc loc;
    std::string key;
    LabelOperator op = LabelOperator::in;
    std::vector<std::string> values; // sorted; empty for Exists / DoesNotExist
};

struct LabelSelector {
    std::vector<LabelRequirement> requirements;
};

// Which workloads a policy applies to. Absent and null are the same: nullopt / false. All three
// null: every process, on the host and in containers (no workload check at all).
struct WorkloadScope {
    std::optional<LabelSelector> pods;       // podSelector, over pod labels (+ the pod's namespace)
    std::optional<LabelSelector> containers; // containerSelector: keys "name" and "repo"
    bool host = false;                       // hostSelector: {}
    bool scoped() const { return pods || containers || host; }
};

struct Spec {
    std::vector<Kprobe> kprobes;
    std::vector<Tracepoint> tracepoints;
    std::vector<Uprobe> uprobes;
    std::vector<Usdt> usdts;
    std::vector<LsmHook> lsmhooks;
    std::vector<Connect> connects;
    std::vector<ListSpec> lists;
    std::vector<OptionSpec> options;       // as written
    WorkloadScope workloads;
    std::optional<LabelSelector> node_selector; // over [agent] node_labels: loaded on this node or not
    // Parsed from options:
    std::optional<PolicyMode> mode;        // "policy-mode"; unset = enforce
    bool disable_kprobe_multi = false;     // "disable-kprobe-multi"
    bool disable_uprobe_multi = false;     // "disable-uprobe-multi"
};

struct Policy {
    std::string source;             // the source name given to the parser (file path)
    std::string api_version;        // always "cilium.io/v1alpha1"
    PolicyKind kind = PolicyKind::tracing_policy;
    SourceLoc kind_loc;
    std::string name;
    // kind TracingPolicyNamespaced: the Kubernetes namespace whose pods the policy applies to.
    std::string namespace_;
    std::map<std::string, std::string> labels;
    std::map<std::string, std::string> annotations;
    Spec spec;
    // "file:line:column: path: message" for what was accepted but ignored (as Tetragon ignores
    // it); logged when the policy loads.
    std::vector<std::string> warnings;
};

} // namespace vigil::policy
