#include "policy_host/service.hpp"

#include "policy/policy.hpp"

#include <algorithm>

namespace vigil {

api::PolicyStatus ManagedPolicyService::status(const PolicyEntry& e) const
{
    api::PolicyStatus i;
    i.name = e.policy.name;
    i.mode = e.enforce ? policy::PolicyMode::enforce : policy::PolicyMode::monitor;
    i.enabled = e.state != PolicyState::disabled;
    i.state = to_string(e.state);
    i.last_error = e.error;
    for (const auto& h : e.hooks) {
        if (std::find(i.hook_kinds.begin(), i.hook_kinds.end(), h.kind) == i.hook_kinds.end())
            i.hook_kinds.push_back(h.kind);
        i.hooks.push_back({h.kind, h.index, h.plugin, h.strategy, h.detail});
    }
    if (auto c = policies_.counters(e.policy.name)) {
        i.matched = c->matched;
        i.posted = c->posted;
        i.rate_limited = c->rate_limited;
        i.enforced = c->enforced;
        i.monitored = c->monitored;
        i.shed = c->shed;
        i.ring_full = c->ring_full;
    }
    return i;
}

Result<api::PolicyStatus> ManagedPolicyService::add(std::string_view yaml, std::optional<policy::PolicyMode> mode,
                                                  std::string_view source)
{
    auto p = policy::parse_policy(yaml, source);
    if (!p)
        return std::unexpected(p.error());
    std::string name = p->name;
    if (auto r = policies_.add(std::move(*p), mode); !r)
        return std::unexpected(r.error());
    return status(*policies_.find(name));
}

std::vector<api::PolicyStatus> ManagedPolicyService::list() const
{
    std::vector<api::PolicyStatus> out;
    for (const auto& e : policies_.policies())
        out.push_back(status(e));
    return out;
}

Result<void> ManagedPolicyService::set_mode(const std::string& name, policy::PolicyMode mode)
{
    return policies_.set_mode(name, mode);
}

} // namespace vigil
