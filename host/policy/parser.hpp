// Internal to the policy parser: the Parser class, whose methods are split between
// policy_parser.cpp (document, metadata, spec, lists, options, hooks) and selector_parser.cpp
// (selectors, their filters and actions). Not part of the library's API.
#pragma once

#include "policy/policy.hpp"
#include "policy/yaml_reader.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::policy::detail {

// "list:NAME" names a spec.lists entry in a value.
inline constexpr std::string_view list_prefix = "list:";

// What the selectors of one hook may refer to.
struct HookCtx {
    HookKind kind = HookKind::kprobes;
    std::string path;                 // "spec.kprobes[0]"
    const std::vector<Arg>* args = nullptr;
    const Arg* return_arg = nullptr;  // set when the hook reports its return value
    bool returns = false;             // return: true
    bool syscall = false;             // kprobes: the call is a syscall (or a syscall list)
    std::string call;                 // kprobes: the function, for Override checks
};

// An argument a filter reads, and how to name it in messages.
struct FilterTarget {
    ArgType type = ArgType::auto_;
    std::string name;                 // "args[1]" or "returnArg"
};

class Parser {
public:
    explicit Parser(Diagnostics& d) : d_(d) {}

    void parse(const YAML::Node& root, Policy& out);

private:
    void parse_metadata(const Field& f, Policy& out);
    void parse_spec(const Field& f, Policy& out);
    void parse_lists(const Field& f, std::vector<ListSpec>& out);
    void parse_options(const Field& f, Spec& spec);

    void parse_kprobe(const Field& f, Kprobe& out);
    void parse_tracepoint(const Field& f, Tracepoint& out);
    void parse_uprobe(const Field& f, Uprobe& out);
    void parse_usdt(const Field& f, Usdt& out);
    void parse_binary_path(MapReader& r, std::string& out);
    void parse_lsmhook(const Field& f, LsmHook& out);
    void parse_connect(const Field& f, Connect& out);

    void parse_message(MapReader& r, std::string& out);
    void parse_tags(MapReader& r, std::vector<std::string>& out);
    void parse_args(MapReader& r, HookKind kind, bool raw, std::vector<Arg>& out);
    std::optional<Arg> parse_arg(const Field& f, HookKind kind, bool raw, bool is_return);
    void parse_selectors(MapReader& r, const HookCtx& ctx, std::vector<Selector>& out);
    void parse_selector(const Field& f, const HookCtx& ctx, Selector& out);

    void parse_pid_filter(const Field& f, PidFilter& out);
    std::optional<ArgFilter> parse_arg_filter(const Field& f, const HookCtx& ctx, bool is_return);
    void check_arg_values(const Field& filter, const Field* op_field, const Field* values_field,
                          ArgOperator op, const std::vector<FilterTarget>& targets,
                          const std::vector<Field>& value_fields,
                          const std::vector<std::string>& values);
    void check_one_value(const Field& vf, const std::string& v, ArgOperator op, ArgType type,
                         bool numeric);
    void parse_binary_filter(const Field& f, BinaryFilter& out);
    void parse_namespace_filter(const Field& f, NamespaceFilter& out);
    void parse_namespace_changes_filter(const Field& f, NamespaceChangesFilter& out);
    void parse_capabilities_filter(const Field& f, CapabilitiesFilter& out);
    std::optional<Action> parse_action(const Field& f, const HookCtx& ctx, bool is_return);

    const ListSpec* find_list(std::string_view name) const;

    // podSelector, containerSelector, nodeSelector: matchLabels and matchExpressions. `keys`,
    // when not empty, are the only keys allowed ("name, repo").
    std::optional<LabelSelector> parse_label_selector(const Field& f, std::string_view what,
                                                      std::string_view keys);
    bool check_label_key(const Field& f, const std::string& key, std::string_view keys);

    // Reads a list-valued field, checking its length against a limit.
    template <class Fn>
    void for_each_item(MapReader& r, std::string_view key, size_t limit, std::string_view what,
                       Fn&& fn)
    {
        auto f = r.take(key);
        if (!f)
            return;
        auto items = read_list(d_, *f);
        if (!items)
            return;
        check_count(d_, *f, items->size(), limit, what);
        for (const auto& item : *items)
            fn(item);
    }

    Diagnostics& d_;
    const std::vector<ListSpec>* lists_ = nullptr;
};

} // namespace vigil::policy::detail
