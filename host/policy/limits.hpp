// Limits a TracingPolicy must stay within to be accepted. The parser checks every one of them and
// names the limit in its error; docs/policies.md lists them for policy authors.
//
// Most exist because selectors are evaluated in-kernel by bounded BPF loops over fixed-size
// arrays: they are the sizes of those arrays, chosen to match what existing TracingPolicy
// (cilium.io/v1alpha1) policies are written against, so a policy that loads elsewhere loads here.
// Those are taken from the VSEL_MAX_* sizes in vigil/wire/selectors.h, the layout the SDK's BPF
// selector library evaluates; raising one means raising it there (and VSEL_LAYOUT).
#pragma once

#include <vigil/wire/selectors.h>

#include <cstddef>
#include <cstdint>

namespace vigil::policy::limits {

// Hooks.
inline constexpr size_t max_args_per_hook = VSEL_MAX_ARGS; // args[] entries a hook records
inline constexpr uint32_t max_func_arg_index = 4;      // kprobes/uprobes/lsmhooks: args[].index 0..4
inline constexpr uint32_t max_tracepoint_arg_index = 31; // tracepoints: a field of the format
inline constexpr uint32_t max_raw_tracepoint_arg_index = 5; // raw tracepoints: a TP_PROTO argument
inline constexpr size_t max_message_len = 256;         // hook message, bytes
inline constexpr size_t max_tags_per_hook = 16;
inline constexpr size_t min_tag_len = 2;
inline constexpr size_t max_tag_len = 128;
inline constexpr size_t max_uprobe_symbols = 64;       // symbols[] of one uprobe entry

// Selectors.
inline constexpr size_t max_selectors_per_hook = VSEL_MAX_SELECTORS;
inline constexpr size_t max_match_args_per_selector = VSEL_MAX_ARG_FILTERS; // matchArgs (and matchReturnArgs) filters
inline constexpr size_t max_match_pids_per_selector = VSEL_MAX_PID_FILTERS; // matchPIDs filters
inline constexpr size_t max_pid_values = VSEL_MAX_PID_VALUES; // values of one matchPIDs filter
inline constexpr size_t max_match_binaries_per_selector = 1;
inline constexpr size_t max_binary_values = 64;            // values of one matchBinaries filter
inline constexpr size_t max_binary_path_len = 255;         // matchBinaries In/NotIn value, bytes
inline constexpr size_t max_match_namespaces_per_selector = VSEL_MAX_NS_FILTERS; // one per namespace type
inline constexpr size_t max_namespace_values = VSEL_MAX_NS_VALUES; // values of one matchNamespaces filter
inline constexpr size_t max_match_namespace_changes_per_selector = 1;
inline constexpr size_t max_match_capabilities_per_selector = VSEL_MAX_CAP_FILTERS; // one per capability set
inline constexpr size_t max_actions_per_selector = VSEL_MAX_ACTIONS; // matchActions (and matchReturnActions)

// Values of one matchArgs / matchReturnArgs filter, by the kind of comparison.
inline constexpr size_t max_numeric_values = VSEL_MAX_NUM_VALUES; // integer Equal/NotEqual/GT/LT/Mask, InRange
inline constexpr size_t max_string_values = 16;     // string Equal/NotEqual, Prefix, Postfix, SubString
inline constexpr size_t max_map_values = 1024;      // InMap/NotInMap, port/address operators
inline constexpr size_t max_string_value_len = 4096; // Equal/NotEqual on strings, bytes
inline constexpr size_t max_prefix_len = 256;        // Prefix/NotPrefix, bytes
inline constexpr size_t max_postfix_len = 127;       // Postfix/NotPostfix, bytes
inline constexpr size_t max_substring_len = 99;      // SubString/SubStringIgnCase, bytes

// Spec-level.
inline constexpr size_t max_lists = 64;
// podSelector / containerSelector / nodeSelector: matched in user space, bounded all the same.
inline constexpr size_t max_label_requirements = 32; // matchLabels entries + matchExpressions
inline constexpr size_t max_label_values = 64;       // values of one matchExpressions entry
inline constexpr size_t max_list_values = 1024;
inline constexpr size_t max_list_call_hooks = 64;    // kprobes one "call: list:NAME" may expand to
inline constexpr size_t max_name_len = 253;          // metadata.name, as a DNS subdomain
inline constexpr uint32_t max_signal = 64;           // Signal argSig: 1..64

} // namespace vigil::policy::limits
