#include "policy_host/manager.hpp"

#include "container/workload_sets.hpp"
#include "core/log.hpp"
#include "core/trusted_file.hpp"
#include "plugins/registry.hpp"
#include "policy/compiler.hpp"
#include "policy/policy.hpp"

#include <fmt/format.h>
#include <malloc.h>

namespace vigil {

namespace {

constexpr size_t err_buf_size = 512;

const policy::HookCommon& hook_of(const policy::Policy& p, policy::HookKind kind, size_t i)
{
    switch (kind) {
    case policy::HookKind::kprobes: return p.spec.kprobes[i];
    case policy::HookKind::tracepoints: return p.spec.tracepoints[i];
    case policy::HookKind::uprobes: return p.spec.uprobes[i];
    case policy::HookKind::connects: return p.spec.connects[i];
    case policy::HookKind::usdts: return p.spec.usdts[i];
    default: return p.spec.lsmhooks[i];
    }
}

} // namespace

const char* to_string(PolicyState s)
{
    switch (s) {
    case PolicyState::loaded: return "loaded";
    case PolicyState::error: return "error";
    case PolicyState::disabled: return "disabled";
    case PolicyState::other_node: return "not for this node";
    }
    return "unknown";
}

PolicyManager::~PolicyManager() { remove_all(); }

PolicyEntry* PolicyManager::find_mut(const std::string& name)
{
    for (auto& e : policies_)
        if (e.policy.name == name)
            return &e;
    return nullptr;
}

const PolicyEntry* PolicyManager::find(const std::string& name) const
{
    for (const auto& e : policies_)
        if (e.policy.name == name)
            return &e;
    return nullptr;
}

Result<void> PolicyManager::add_file(const std::filesystem::path& file, std::optional<policy::PolicyMode> mode)
{
    // Whoever can write a policy can kill root's processes: the same rule as the config file.
    auto f = open_trusted_file_in_trusted_directory(file, "refusing to load the policy (chown root, chmod go-w)");
    if (!f)
        return std::unexpected(f.error());
    auto text = read_all(*f, file);
    if (!text)
        return std::unexpected(text.error());
    auto p = policy::parse_policy(*text, file.string());
    if (!p)
        return std::unexpected(p.error());
    return add(std::move(*p), mode);
}

Result<void> PolicyManager::add(policy::Policy p, std::optional<policy::PolicyMode> mode)
{
    if (find(p.name))
        return fail(Errc::conflict, "a policy named \"{}\" is already loaded; delete it first", p.name);
    if (auto r = policy::expand_call_lists(p); !r)
        return fail(Errc::invalid_input, "policy {}: {}", p.name, r.error().message());
    for (const auto& w : p.warnings)
        log::get("policy")->warn("{}", w);
    policy::PolicyInfo info = policy::analyse_policy(p);
    PolicyEntry e;
    e.monitor_only = info.monitor_only();
    policy::PolicyMode want = mode.value_or(info.requested_mode);
    e.enforce = want == policy::PolicyMode::enforce && !e.monitor_only;
    for (const auto& h : info.hooks)
        e.hooks.push_back({std::string(policy::name_of(h.kind)), h.index, "", 0, "", "", h.features});
    e.policy = std::move(p);
    if (!node_selected(e.policy.spec.node_selector, node_labels_)) {
        e.state = PolicyState::other_node;
        log::get("policy")->info("policy {} not loaded: its nodeSelector does not match this node's labels "
                                 "([agent.node_labels])",
                                 e.policy.name);
        policies_.push_back(std::move(e));
        return {};
    }
    auto attached = attach(e);
    // Loading hook objects parses kernel BTF, tens of MiB freed again right after: give that heap
    // back, or the agent's resident size keeps the peak of its largest policy load.
    malloc_trim(0);
    if (!attached)
        return attached;
    e.state = PolicyState::loaded;
    log::get("policy")->info("policy {} loaded ({} hook(s), {} mode)", e.policy.name, e.hooks.size(),
                             e.enforce ? "enforce" : "monitor");
    policies_.push_back(std::move(e));
    return {};
}

namespace {

// The argument types a hook reads ("arg:<type>" among its features) that the plugin's descriptor
// does not declare, comma-separated; empty when it declares them all.
std::string undeclared_arg_types(const vigil_descriptor& d, const std::vector<std::string>& features)
{
    std::string missing;
    for (const auto& f : features) {
        if (!f.starts_with("arg:"))
            continue;
        std::string_view type = std::string_view(f).substr(4);
        if (!policy::enum_from_string<policy::ArgType>(type))
            continue; // a modifier (arg:returnCopy, arg:maxData, ...), not a type
        bool declared = false;
        for (uint32_t i = 0; i < d.arg_type_count && !declared; ++i)
            declared = type == d.arg_types[i];
        if (!declared)
            missing += fmt::format("{}{}", missing.empty() ? "" : ", ", type);
    }
    return missing;
}

std::string declared_list(const vigil_descriptor& d)
{
    std::string out;
    for (uint32_t i = 0; i < d.arg_type_count; ++i)
        out += fmt::format("{}{}", i ? ", " : "", d.arg_types[i]);
    return out.empty() ? "none" : out;
}

} // namespace

Result<void> PolicyManager::attach(PolicyEntry& e)
{
    uint32_t id = next_id_++;
    WorkloadPolicy scope{e.policy.namespace_, e.policy.spec.workloads};
    if (scope.scoped()) {
        if (!workloads_)
            return fail(Errc::unsupported, "policy {}: scoped to workloads, and this agent keeps no workload sets",
                        e.policy.name);
        if (auto r = workloads_->add(id, std::move(scope)); !r)
            return fail(Errc::kernel, "policy {}: {}", e.policy.name, r.error().message());
        e.workload_set = id;
    }
    for (auto& h : e.hooks) {
        auto kind = policy::enum_from_string<policy::HookKind>(h.kind);
        std::string where = fmt::format("spec.{}[{}]", h.kind, h.index);
        auto undo_and_fail = [&](Error err) -> Result<void> {
            detach(e);
            err.context = fmt::format("policy {}: {}: {}", e.policy.name, where, err.context);
            return std::unexpected(err);
        };
        // Refusals of the hook itself name where the policy file wrote it.
        auto locate = [&](const policy::SourceLoc& loc) {
            if (loc.line)
                where = fmt::format("{}:{}:{}: spec.{}[{}]", e.policy.source, loc.line, loc.column, h.kind, h.index);
        };
        Plugin* plugin = plugins_.server_of(h.kind);
        if (!plugin) {
            std::string served;
            for (const auto& p : plugins_.plugins())
                if (p->state() == PluginState::running)
                    for (uint32_t i = 0; i < p->descriptor().hook_kind_count; ++i)
                        served += fmt::format("{}{} ({})", served.empty() ? "" : ", ", p->descriptor().hook_kinds[i],
                                              p->id());
            locate(hook_of(e.policy, *kind, h.index).loc);
            return undo_and_fail(Error{Errc::unsupported, 0,
                                       fmt::format("no loaded plugin serves the hook kind \"{}\" (served: {})", h.kind,
                                                   served.empty() ? "none" : served)});
        }
        if (plugin->state() != PluginState::running)
            return undo_and_fail(Error{Errc::unsupported, 0,
                                       fmt::format("plugin {} serves \"{}\" but is {}", plugin->id(), h.kind,
                                                   to_string(plugin->state()))});
        const policy::HookCommon& hook = hook_of(e.policy, *kind, h.index);
        // The descriptor is the contract: a hook reading a type the plugin does not declare is
        // refused here, with the plugin and the type named, before the plugin is asked.
        if (std::string missing = undeclared_arg_types(plugin->descriptor(), h.features); !missing.empty()) {
            locate(hook.loc);
            return undo_and_fail(Error{Errc::unsupported, 0,
                                       fmt::format("plugin {} serves \"{}\" but does not declare the argument "
                                                   "type(s) {} in its descriptor (it declares: {})",
                                                   plugin->id(), h.kind, missing,
                                                   declared_list(plugin->descriptor()))});
        }
        auto compiled = policy::compile_selectors(e.policy, hook, {where, e.enforce});
        if (!compiled) {
            detach(e);
            return std::unexpected(compiled.error());
        }
        if (e.workload_set) {
            // cgroup socket programs read only the cgroup v2 id (vigil/bpf/selectors.h)
            if (*kind == policy::HookKind::connects && workloads_->cgroup1_subsys() != uint32_t(-1))
                return undo_and_fail(Error{Errc::unsupported, 0,
                                           "connects hooks cannot be scoped to workloads on a host with cgroup v1 "
                                           "controllers (they see only the cgroup v2 id)"});
            compiled->hook.workload_set = e.workload_set;
            compiled->hook.workload_host = e.policy.spec.workloads.host ? 1 : 0;
            compiled->hook.cgroup1_subsys = workloads_->cgroup1_subsys();
        }
        auto spec = policy::hook_to_json(e.policy, *kind, h.index);
        if (!spec)
            return undo_and_fail(spec.error());
        std::string blob = compiled->serialize();

        vigil_hook_request req{};
        req.struct_size = sizeof req;
        req.enforce = e.enforce ? 1 : 0;
        req.policy_name = e.policy.name.c_str();
        req.policy_id = id;
        req.hook_index = static_cast<uint32_t>(h.index);
        req.kind = h.kind.c_str();
        req.spec_json = spec->data();
        req.spec_json_len = spec->size();
        req.compiled = blob.data();
        req.compiled_len = blob.size();
        vigil_hook_status status{};
        status.struct_size = sizeof status;
        uint64_t handle = 0;
        char err[err_buf_size] = {};
        log::take_verifier_tail(); // only what this call makes libbpf print
        vigil_result r = plugin->api().add_hook(plugin->self(), &req, &handle, &status, err, sizeof err);
        if (r != VIGIL_OK) {
            locate(hook.loc);
            return undo_and_fail(Error{r == VIGIL_ERR_UNSUPPORTED ? Errc::unsupported : Errc::plugin, 0,
                                       log::with_verifier_tail(fmt::format("plugin {}: {}", plugin->id(),
                                                                           err[0] ? err : "(no message)"))});
        }
        h.plugin = plugin->id();
        h.handle = handle;
        h.strategy = status.strategy;
        h.detail = status.detail;
    }
    return {};
}

void PolicyManager::detach(PolicyEntry& e)
{
    if (e.workload_set && workloads_)
        workloads_->remove(e.workload_set);
    e.workload_set = 0;
    for (auto& h : e.hooks) {
        if (!h.handle)
            continue;
        if (Plugin* plugin = plugins_.find(h.plugin); plugin && plugin->self()) {
            char err[err_buf_size] = {};
            if (plugin->api().remove_hook(plugin->self(), h.handle, err, sizeof err) != VIGIL_OK)
                log::get("policy")->warn("policy {}: removing {}[{}] from plugin {}: {}", e.policy.name, h.kind,
                                         h.index, h.plugin, err);
        }
        h.handle = 0;
        h.strategy.clear();
        h.detail.clear();
    }
}

Result<void> PolicyManager::remove(const std::string& name)
{
    for (auto it = policies_.begin(); it != policies_.end(); ++it) {
        if (it->policy.name != name)
            continue;
        detach(*it);
        policies_.erase(it);
        log::get("policy")->info("policy {} deleted", name);
        return {};
    }
    return fail(Errc::not_found, "no policy named \"{}\"", name);
}

Result<void> PolicyManager::enable(const std::string& name)
{
    PolicyEntry* e = find_mut(name);
    if (!e)
        return fail(Errc::not_found, "no policy named \"{}\"", name);
    if (e->state == PolicyState::loaded || e->state == PolicyState::other_node)
        return {};
    if (auto r = attach(*e); !r) {
        e->state = PolicyState::error;
        e->error = r.error().message();
        return r;
    }
    e->state = PolicyState::loaded;
    e->error.clear();
    return {};
}

Result<void> PolicyManager::disable(const std::string& name)
{
    PolicyEntry* e = find_mut(name);
    if (!e)
        return fail(Errc::not_found, "no policy named \"{}\"", name);
    detach(*e);
    e->state = PolicyState::disabled;
    return {};
}

Result<void> PolicyManager::set_mode(const std::string& name, policy::PolicyMode mode)
{
    PolicyEntry* e = find_mut(name);
    if (!e)
        return fail(Errc::not_found, "no policy named \"{}\"", name);
    bool enforce = mode == policy::PolicyMode::enforce;
    if (enforce && e->monitor_only)
        return fail(Errc::invalid_input,
                    "policy {} has no enforcement actions (Sigkill, Signal, Override): it can only monitor", name);
    for (const auto& h : e->hooks) {
        if (!h.handle)
            continue;
        Plugin* plugin = plugins_.find(h.plugin);
        char err[err_buf_size] = {};
        if (!plugin || plugin->api().set_hook_mode(plugin->self(), h.handle, enforce, err, sizeof err) != VIGIL_OK)
            return fail(Errc::plugin, "policy {}: {}[{}]: setting the mode: {}", name, h.kind, h.index,
                        plugin ? err : "plugin gone");
    }
    e->enforce = enforce;
    log::get("policy")->info("policy {} now in {} mode", name, enforce ? "enforce" : "monitor");
    return {};
}

Result<PolicyCounters> PolicyManager::counters(const std::string& name) const
{
    const PolicyEntry* e = find(name);
    if (!e)
        return fail(Errc::not_found, "no policy named \"{}\"", name);
    PolicyCounters c;
    for (const auto& h : e->hooks) {
        if (!h.handle)
            continue;
        Plugin* plugin = plugins_.find(h.plugin);
        if (!plugin || !plugin->self())
            continue;
        vigil_hook_stats s{};
        s.struct_size = sizeof s;
        char err[err_buf_size] = {};
        if (plugin->api().hook_stats(plugin->self(), h.handle, &s, err, sizeof err) != VIGIL_OK)
            return fail(Errc::plugin, "policy {}: {}[{}]: reading counters: {}", name, h.kind, h.index, err);
        c.matched += s.matched;
        c.posted += s.posted;
        c.rate_limited += s.rate_limited;
        c.enforced += s.enforced;
        c.monitored += s.monitored;
        c.shed += s.shed;
        c.ring_full += s.ring_full;
    }
    return c;
}

void PolicyManager::remove_all()
{
    for (auto& e : policies_)
        detach(e);
    policies_.clear();
}

} // namespace vigil
