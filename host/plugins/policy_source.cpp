// Policy sources (ABI 1.3): documents a plugin hands over from its own threads go, copied, to
// the registry's policy sink (the agent queues them for its loop); verdicts go back on the loop.
#include "plugins/policy_source.hpp"

#include "core/log.hpp"
#include "policy_host/manager.hpp"

#include <fmt/format.h>

namespace vigil {

void PluginRegistry::cb_policy_update(void* ctx, const vigil_policy_doc* doc)
{
    auto* p = static_cast<Plugin*>(ctx);
    if (!doc || doc->struct_size < offsetof(vigil_policy_doc, revision) + sizeof(uint64_t) ||
        !p->registry_->policy_sink_)
        return;
    PolicyDoc d;
    d.plugin = p->id();
    d.op = doc->op;
    d.key.assign(doc->key ? doc->key : "", doc->key ? doc->key_len : 0);
    d.yaml.assign(doc->yaml ? doc->yaml : "", doc->yaml ? doc->yaml_len : 0);
    d.revision = doc->revision;
    p->registry_->policy_sink_(std::move(d));
}

void PluginRegistry::policy_verdict(const std::string& plugin_id, const vigil_policy_verdict& v)
{
    Plugin* p = find(plugin_id);
    if (!p || p->state_ != PluginState::running || !p->self_)
        return;
    const vigil_plugin_api& api = p->api();
    if (api.struct_size < offsetof(vigil_plugin_api, policy_verdict) + sizeof(void*) || !api.policy_verdict)
        return;
    api.policy_verdict(p->self_, &v);
}


void PolicySources::answer(const PolicyDoc& doc, const char* state, const std::string& policy,
                           const std::string& mode, const std::string& error)
{
    vigil_policy_verdict v{};
    v.struct_size = sizeof v;
    v.key = doc.key.c_str();
    v.revision = doc.revision;
    v.state = state;
    v.policy = policy.c_str();
    v.mode = mode.c_str();
    v.error = error.c_str();
    plugins_.policy_verdict(doc.plugin, v);
}

void PolicySources::apply(const PolicyDoc& doc)
{
    auto log = log::get("policy");
    auto at = std::pair{doc.plugin, doc.key};
    // what the key held goes first: a new version replaces it, a delete removes it
    if (auto it = applied_.find(at); it != applied_.end()) {
        if (auto r = policies_.remove(it->second); !r)
            log->warn("policy {} of {} key {}: {}", it->second, doc.plugin, doc.key, r.error().message());
        applied_.erase(it);
    }
    if (doc.op == VIGIL_POLICY_DELETE) {
        log->info("policy of {} key {} deleted", doc.plugin, doc.key);
        answer(doc, "deleted", "", "", "");
        return;
    }
    auto info = policies_.add(doc.yaml, std::nullopt, fmt::format("{}:{}", doc.plugin, doc.key));
    if (!info) {
        log->warn("policy of {} key {} refused: {}", doc.plugin, doc.key, info.error().message());
        answer(doc, "refused", "", "", info.error().message());
        return;
    }
    applied_[at] = info->name;
    std::string mode(policy::name_of(info->mode));
    if (info->state == "loaded")
        answer(doc, "loaded", info->name, mode, "");
    else if (info->state == to_string(PolicyState::other_node))
        answer(doc, "skipped", info->name, mode, "");
    else
        answer(doc, "refused", info->name, mode, info->last_error.empty() ? info->state : info->last_error);
}

} // namespace vigil
