// TracingPolicy (cilium.io/v1alpha1) compatible policies: YAML -> typed, validated model ->
// routing summary and per-hook JSON for the plugins.
//
//   auto policy = vigil::policy::load_policy_file("examples/policies/file-open.yaml");
//   if (!policy) { log(policy.error().message()); return; }
//   auto info = vigil::policy::analyse_policy(*policy);
//   for (const auto& hook : info.hooks)
//       send_to_plugin(hook.kind, *vigil::policy::hook_to_json(*policy, hook.kind, hook.index));
//
// Nothing here throws: yaml-cpp exceptions are caught and become errors. Every error names
// `source:line:column` and the field path; when a policy has several problems they are all
// reported, one per line, sorted by position. Errc::invalid_input means the policy is wrong;
// Errc::unsupported means it is valid TracingPolicy but uses something vigil does not do.
#pragma once

#include "core/error.hpp"
#include "policy/enums.hpp"
#include "policy/limits.hpp"
#include "policy/model.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::policy {

// Parses and validates one policy. `source_name` is used in error messages (a file path, or
// "api" for a policy that came over the API socket). The text must hold exactly one YAML
// document; empty documents (a stray "---") are ignored.
[[nodiscard]] Result<Policy> parse_policy(std::string_view yaml_text, std::string_view source_name);

// Reads the file and parses it with the path as the source name.
[[nodiscard]] Result<Policy> load_policy_file(const std::filesystem::path& path);

// What the host needs to route a parsed policy to plugins.
struct HookSummary {
    HookKind kind = HookKind::kprobes;
    size_t index = 0;               // position inside its spec section
    std::string target;             // "sys_openat", "syscalls/sys_enter_openat",
                                    // "/bin/bash:readline,readline_internal", "file_open"
    bool has_enforcement = false;   // Sigkill, Signal, Override or NotifyEnforcer in a selector
    // What a plugin must be able to do to serve this hook, sorted: "arg:char_buf",
    // "action:Sigkill", "operator:Prefix", "selector:matchNamespaceChanges",
    // "selector:matchBinaries.followChildren", "hook:return", "arg:returnCopy", ...
    // The router compares these with what plugins declare.
    std::vector<std::string> features;
};

struct PolicyInfo {
    std::vector<HookKind> hook_kinds;   // sorted, each once
    std::vector<HookSummary> hooks;     // in spec order: kprobes, tracepoints, uprobes, lsmhooks, connects
    bool has_enforcement = false;
    // spec.options policy-mode, enforce when not given. Without enforcement actions the policy
    // is monitor-only whatever this says, and cannot be switched to enforce.
    PolicyMode requested_mode = PolicyMode::enforce;
    [[nodiscard]] bool monitor_only() const { return !has_enforcement; }
};

[[nodiscard]] PolicyInfo analyse_policy(const Policy& policy);

// One hook of the policy as a JSON object, for vigil_hook_request.spec_json. Field names are
// the format's (camelCase), enum values use their canonical spelling, every default is
// written out, and the lists the hook refers to are included. See docs/policies.md.
[[nodiscard]] Result<std::string> hook_to_json(const Policy& policy, HookKind kind, size_t index);

// Replaces each kprobe whose call is "list:NAME" by one kprobe per function of that list (a
// syscalls list or one without a type), each with the same arguments, selectors and actions:
// what loading the policy attaches. Generated lists are refused as calls, with file:line.
[[nodiscard]] Result<void> expand_call_lists(Policy& policy);

} // namespace vigil::policy
