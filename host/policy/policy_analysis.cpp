// What a parsed policy needs from the plugins: hook kinds, enforcement, and per hook the
// features (argument types, operators, actions, selector kinds) a plugin must support.
#include "policy/policy.hpp"

#include <algorithm>
#include <set>

namespace vigil::policy {

namespace {

class FeatureSet {
public:
    void add(std::string_view group, std::string_view name)
    {
        items_.insert(fmt::format("{}:{}", group, name));
    }
    std::vector<std::string> take() { return {items_.begin(), items_.end()}; }

private:
    std::set<std::string> items_;
};

void add_arg(FeatureSet& f, const Arg& a)
{
    f.add("arg", name_of(a.type));
    if (a.return_copy)
        f.add("arg", "returnCopy");
    if (a.max_data)
        f.add("arg", "maxData");
    if (a.size_arg_index)
        f.add("arg", "sizeArgIndex");
    if (!a.resolve.empty())
        f.add("arg", "resolve");
}

bool add_actions(FeatureSet& f, const std::vector<Action>& actions)
{
    bool enforcement = false;
    for (const auto& a : actions) {
        f.add("action", name_of(a.kind));
        if (a.rate_limit_ms)
            f.add("action", "Post.rateLimit");
        if (a.kernel_stack_trace)
            f.add("action", "Post.kernelStackTrace");
        if (a.user_stack_trace)
            f.add("action", "Post.userStackTrace");
        if (a.ima_hash)
            f.add("action", "Post.imaHash");
        enforcement = enforcement || is_enforcement_action(a.kind);
    }
    return enforcement;
}

// Features of the parts every hook kind has; returns whether a selector enforces.
bool add_common(FeatureSet& f, const HookCommon& h)
{
    for (const auto& a : h.args)
        add_arg(f, a);
    bool enforcement = false;
    for (const auto& s : h.selectors) {
        for (const auto& p : s.match_pids) {
            f.add("selector", "matchPIDs");
            if (p.follow_forks)
                f.add("selector", "matchPIDs.followForks");
            if (p.is_namespace_pid)
                f.add("selector", "matchPIDs.isNamespacePID");
        }
        for (const auto* filters : {&s.match_args, &s.match_return_args}) {
            for (const auto& a : *filters) {
                f.add("selector", filters == &s.match_args ? "matchArgs" : "matchReturnArgs");
                f.add("operator", name_of(a.op));
            }
        }
        for (const auto& b : s.match_binaries) {
            f.add("selector", "matchBinaries");
            f.add("operator", fmt::format("matchBinaries.{}", name_of(b.op)));
            if (b.follow_children)
                f.add("selector", "matchBinaries.followChildren");
        }
        if (!s.match_namespaces.empty())
            f.add("selector", "matchNamespaces");
        if (!s.match_namespace_changes.empty())
            f.add("selector", "matchNamespaceChanges");
        if (!s.match_capabilities.empty())
            f.add("selector", "matchCapabilities");
        if (!s.match_capability_changes.empty())
            f.add("selector", "matchCapabilityChanges");
        if (!s.match_return_actions.empty())
            f.add("selector", "matchReturnActions");
        enforcement = add_actions(f, s.match_actions) || enforcement;
        enforcement = add_actions(f, s.match_return_actions) || enforcement;
    }
    return enforcement;
}

template <class H>
void summarise(PolicyInfo& info, HookKind kind, const std::vector<H>& hooks)
{
    for (size_t i = 0; i < hooks.size(); ++i) {
        const H& h = hooks[i];
        HookSummary s;
        s.kind = kind;
        s.index = i;
        FeatureSet f;
        s.has_enforcement = add_common(f, h);
        if constexpr (std::is_same_v<H, Kprobe>) {
            s.target = h.call;
            if (h.call.starts_with("list:"))
                f.add("hook", "list");
            if (h.return_)
                f.add("hook", "return");
            if (h.return_arg)
                add_arg(f, *h.return_arg);
            if (h.return_arg_action)
                f.add("hook", fmt::format("returnArgAction.{}", name_of(*h.return_arg_action)));
        } else if constexpr (std::is_same_v<H, Tracepoint>) {
            s.target = fmt::format("{}/{}", h.subsystem, h.event);
            if (h.raw)
                f.add("hook", "raw");
        } else if constexpr (std::is_same_v<H, Uprobe>) {
            s.target = h.path + ":";
            for (size_t j = 0; j < h.symbols.size(); ++j)
                s.target += (j ? "," : "") + h.symbols[j];
            for (size_t j = 0; j < h.offsets.size(); ++j)
                s.target += fmt::format("{}{:#x}", j ? "," : "", h.offsets[j]);
            if (h.return_)
                f.add("hook", "return");
            if (h.return_arg)
                add_arg(f, *h.return_arg);
        } else if constexpr (std::is_same_v<H, Usdt>) {
            s.target = fmt::format("{}:{}:{}", h.path, h.provider, h.name);
        } else if constexpr (std::is_same_v<H, Connect>) {
            s.target = h.datagrams ? "connect,sendmsg" : "connect";
        } else {
            s.target = h.hook;
        }
        s.features = f.take();
        info.has_enforcement = info.has_enforcement || s.has_enforcement;
        info.hooks.push_back(std::move(s));
    }
    if (!hooks.empty())
        info.hook_kinds.push_back(kind);
}

} // namespace

PolicyInfo analyse_policy(const Policy& policy)
{
    PolicyInfo info;
    info.requested_mode = policy.spec.mode.value_or(PolicyMode::enforce);
    summarise(info, HookKind::kprobes, policy.spec.kprobes);
    summarise(info, HookKind::tracepoints, policy.spec.tracepoints);
    summarise(info, HookKind::uprobes, policy.spec.uprobes);
    summarise(info, HookKind::lsmhooks, policy.spec.lsmhooks);
    summarise(info, HookKind::connects, policy.spec.connects);
    summarise(info, HookKind::usdts, policy.spec.usdts);
    std::sort(info.hook_kinds.begin(), info.hook_kinds.end());
    return info;
}

} // namespace vigil::policy
