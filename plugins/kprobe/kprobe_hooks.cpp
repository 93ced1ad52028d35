#include "kprobe_hooks.hpp"

#include "btf_prototype.hpp"
#include "hook_spec.hpp"
#include "kprobe_hook.skel.h"
#include "syscalls.hpp"

#include <vigil/sdk/hook_event.hpp>
#include <vigil/wire/args.h>
#include <vigil/sdk/selectors.hpp>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstring>
#include <fstream>
#include <iterator>

// The BPF side reads these through .rodata and the ring: one layout on both sides.
static_assert(sizeof(kp_arg) == 8);
static_assert(sizeof(kp_spec) == 88 && offsetof(kp_spec, tp_offsets) == 24 && offsetof(kp_spec, args) == 40);
static_assert(sizeof(vigil_cred_arg) == 80);

namespace vigil::kprobe {

namespace {

using sdk::Error;
using json = nlohmann::json;

std::string errno_name(int err)
{
    const char* n = strerrorname_np(err);
    return n ? n : fmt::format("errno {}", err);
}

bool in_vmlinux_btf(const std::string& func)
{
    btf* b = btf__load_vmlinux_btf();
    if (!b)
        return false;
    bool found = btf__find_by_name_kind(b, func.c_str(), BTF_KIND_FUNC) > 0;
    btf__free(b);
    return found;
}

// Why args do not fit the kernel function's BTF prototype (an index it does not have, a type
// its parameter cannot be), naming the prototype; nullopt when they fit or there is no BTF.
std::optional<std::string> prototype_mismatch(const std::string& function, const json& args)
{
    btf* b = btf__load_vmlinux_btf();
    auto proto = btf_prototype(b, function);
    btf__free(b);
    if (!proto)
        return std::nullopt;
    for (size_t i = 0; i < args.size(); ++i) {
        unsigned index = args[i].value("index", 0u);
        std::string type = args[i].value("type", "auto");
        if (index >= proto->params.size())
            return fmt::format("args[{}]: index {}, but this kernel's {} has {} argument{} (a policy written for "
                               "another kernel's signature?)",
                               i, index, proto->text(), proto->params.size(), proto->params.size() == 1 ? "" : "s");
        if (auto why = arg_mismatch(type, proto->params[index]))
            return fmt::format("args[{}]: {} of this kernel's {}", i, *why, proto->text());
    }
    return std::nullopt;
}

// A function kprobes or fentry could attach to: in the BTF, or a text symbol in kallsyms.
bool kernel_function_exists(const std::string& func)
{
    if (in_vmlinux_btf(func))
        return true;
    std::ifstream in("/proc/kallsyms");
    std::string addr, type, name;
    while (in >> addr >> type >> name) {
        if (name == func && (type == "T" || type == "t"))
            return true;
        in.ignore(256, '\n');
    }
    return false;
}

std::string active_lsms()
{
    std::ifstream in("/sys/kernel/security/lsm");
    std::string list((std::istreambuf_iterator<char>(in)), {});
    return list.empty() ? "unknown" : list;
}

// Why Override cannot be carried out for a hook on this kernel.
std::string override_refusal(const KernelFeatures& f)
{
    return fmt::format("Override needs bpf_override_return on a kprobe (CONFIG_BPF_KPROBE_OVERRIDE) or fmod_ret, "
                       "and this kernel has {}; remove the Override action or use Sigkill",
                       !f.kprobe ? "no kprobes (kprobe PMU missing)"
                                 : "kprobes without bpf_override_return (a kprobe program calling it does not load)");
}

} // namespace

const char* to_string(Strategy s)
{
    switch (s) {
    case Strategy::kprobe: return "kprobe";
    case Strategy::fentry: return "fentry";
    case Strategy::lsm: return "lsm";
    case Strategy::syscall_tracepoint: return "syscall_tracepoint";
    case Strategy::raw_syscalls: return "raw_syscalls";
    }
    return "unknown";
}

KprobeHooks::~KprobeHooks() { remove_all(); }

KernelFeatures KprobeHooks::features() const
{
    return {host_.has_feature("kprobe"), host_.has_feature("kretprobe"), host_.has_feature("override_return")};
}

uint64_t KprobeHooks::add(const vigil_hook_request& req, vigil_hook_status& status)
{
    const json spec = spec_of(req);
    auto compiled = sdk::CompiledSelectors::parse(req.compiled, req.compiled_len);
    if (!compiled)
        throw Error(VIGIL_ERR_INVALID, compiled.error());

    auto hook = std::make_unique<Hook>();
    hook->kind = req.kind ? req.kind : "";
    hook->lsm = hook->kind == "lsmhooks";
    hook->policy = req.policy_name ? req.policy_name : "";
    hook->message = spec.value("message", "");
    hook->tags = tags_of(spec);
    const std::string call = spec.value(hook->lsm ? "hook" : "call", "");
    const std::string where = fmt::format("{}: hook {}", hook->kind, call);
    auto fail = [&](vigil_result code, const std::string& why) { return Error(code, fmt::format("{}: {}", where, why)); };

    if (call.starts_with("list:"))
        throw fail(VIGIL_ERR_UNSUPPORTED, "calls from a list are not supported by the kprobe plugin yet; write one "
                                          "hook per function");
    if (call.starts_with("__ia32_") || call.starts_with("__x32_") || call.starts_with("compat_sys_"))
        throw fail(VIGIL_ERR_UNSUPPORTED, "32-bit syscall entry points are not supported; hook sys_<name>");

    const bool ret = !hook->lsm && spec.value("return", false);
    const bool wants_override = has_action(spec, "Override");
    const KernelFeatures f = features();

    // Where and how to attach.
    Plan plan;
    auto syscall = hook->lsm ? std::nullopt : syscall_name_of(call);
    if (hook->lsm) {
        plan.strategy = Strategy::lsm;
        plan.function = call;
        if (!in_vmlinux_btf("bpf_lsm_" + call))
            throw fail(VIGIL_ERR_NOT_FOUND, fmt::format("bpf_lsm_{} is not in the kernel's BTF: not an LSM hook "
                                                        "this kernel has",
                                                        call));
    } else if (syscall) {
        plan.syscall = *syscall;
        plan.function = "__x64_sys_" + *syscall;
        auto offsets = syscall_tp_offsets(*syscall);
        auto nr = syscall_number(*syscall);
        if (!offsets && !nr)
            throw fail(VIGIL_ERR_NOT_FOUND, fmt::format("{} is not a syscall this kernel or vigil knows ({})",
                                                        *syscall, offsets.error()));
        if (f.kprobe && (!ret || f.kretprobe)) {
            plan.strategy = Strategy::kprobe;
            plan.detail = plan.function + " (syscall wrapper)";
        } else if (offsets && (!ret || tracepoint_exists("syscalls", "sys_exit_" + *syscall))) {
            plan.strategy = Strategy::syscall_tracepoint;
            plan.tp_offsets = *offsets;
            plan.detail = fmt::format("syscalls/sys_enter_{}{}", *syscall, ret ? " + sys_exit_" + *syscall : "");
        } else if (nr && tracepoint_exists("raw_syscalls", "sys_enter")) {
            plan.strategy = Strategy::raw_syscalls;
            plan.syscall_nr = *nr;
            plan.detail = fmt::format("raw_syscalls/sys_enter{} for syscall {} ({})", ret ? " + sys_exit" : "",
                                      *nr, *syscall);
        } else {
            throw fail(VIGIL_ERR_UNSUPPORTED, "syscall hooks need kprobes or the syscall tracepoints, and this "
                                              "kernel has neither");
        }
    } else {
        plan.function = call;
        if (!kernel_function_exists(call)) {
            if (!spec.value("ignore", json::object()).value("callNotFound", false))
                throw fail(VIGIL_ERR_NOT_FOUND, fmt::format("no kernel function {} (neither in the kernel's BTF nor "
                                                            "in /proc/kallsyms)",
                                                            call));
            // ignore.callNotFound: the hook stays in the policy, attached to nothing.
            std::snprintf(status.strategy, sizeof status.strategy, "none");
            std::snprintf(status.detail, sizeof status.detail, "%s not found (ignore.callNotFound)", call.c_str());
            hook->handle = hooks_.next_handle();
            return hooks_.insert(std::move(hook));
        }
        if (f.kprobe && (!ret || f.kretprobe)) {
            plan.strategy = Strategy::kprobe;
        } else {
            plan.strategy = Strategy::fentry; // tried at load; refused loads are reported there
            if (!in_vmlinux_btf(call))
                throw fail(VIGIL_ERR_UNSUPPORTED,
                           fmt::format("kernel function hooks need kprobe or fentry support, this kernel has neither "
                                       "(kprobe PMU missing, fentry impossible: {} is not in the kernel's BTF)",
                                       call));
        }
    }
    if (plan.detail.empty())
        plan.detail = plan.function;
    if (!syscall)
        if (auto why = prototype_mismatch(hook->lsm ? "bpf_lsm_" + call : call, spec.value("args", json::array())))
            throw fail(VIGIL_ERR_INVALID, *why);
    if (wants_override && plan.strategy != Strategy::lsm) {
        if (plan.strategy != Strategy::kprobe || !f.override_return)
            throw fail(VIGIL_ERR_UNSUPPORTED, override_refusal(f));
        plan.override_return = true;
    }
    hook->function = plan.function;

    // What to read.
    kp_spec cfg{};
    const ArgContext ctx = syscall ? ArgContext::syscall : ArgContext::kernel;
    const auto& args = spec.value("args", json::array());
    if (args.size() > VSEL_MAX_ARGS)
        throw fail(VIGIL_ERR_INVALID, fmt::format("{} args, the limit is {}", args.size(), VSEL_MAX_ARGS));
    for (size_t i = 0; i < args.size(); ++i) {
        ArgSpec a = arg_spec_of(args[i]);
        auto k = plan_arg(a, ctx);
        if (!k)
            throw fail(VIGIL_ERR_INVALID, fmt::format("args[{}]: {}", i, k.error()));
        if (plan.strategy == Strategy::syscall_tracepoint &&
            (a.index >= plan.tp_offsets.size() || a.size_arg_index > plan.tp_offsets.size()))
            throw fail(VIGIL_ERR_INVALID, fmt::format("args[{}]: syscall {} has {} arguments", i, plan.syscall,
                                                      plan.tp_offsets.size()));
        cfg.args[i] = *k;
        hook->args.push_back({a.type, a.label});
    }
    cfg.nargs = static_cast<uint32_t>(args.size());
    if (ret) {
        const json& ra = spec["returnArg"];
        hook->return_type = ra.is_object() ? ra.value("type", "int64") : "int64";
        auto k = plan_return_arg(hook->return_type);
        if (!k)
            throw fail(VIGIL_ERR_INVALID, k.error());
        cfg.ret = *k;
        cfg.has_return = 1;
    }
    switch (plan.strategy) {
    case Strategy::kprobe: cfg.source = syscall ? KP_SRC_SYSCALL_REGS : KP_SRC_REGS; break;
    case Strategy::fentry:
    case Strategy::lsm: cfg.source = KP_SRC_TRAMPOLINE; break;
    case Strategy::syscall_tracepoint: cfg.source = KP_SRC_SYSCALL_TP; break;
    case Strategy::raw_syscalls: cfg.source = KP_SRC_RAW_SYSCALLS; break;
    }
    for (size_t i = 0; i < plan.tp_offsets.size() && i < KP_MAX_RAW_ARGS; ++i)
        cfg.tp_offsets[i] = plan.tp_offsets[i];
    cfg.syscall_nr = plan.syscall_nr;

    hook->handle = hooks_.next_handle();
    hook->link_tag = fmt::format("{}#kprobe{}", hook->policy, hook->handle);
    compiled->hook.hook_id = static_cast<uint32_t>(hook->handle);
    compiled->hook.enforce = req.enforce ? 1 : 0;

    hook->skel = kprobe_hook__open();
    if (!hook->skel)
        throw fail(VIGIL_ERR_KERNEL, fmt::format("opening the hook object: {}", std::strerror(errno)));
    try {
        auto& p = hook->skel->progs;
        std::memcpy(const_cast<kp_spec*>(&hook->skel->rodata->kp_spec), &cfg, sizeof cfg);
        bpf_program* entry = nullptr;
        bpf_program* exit = nullptr;
        switch (plan.strategy) {
        case Strategy::kprobe:
            entry = plan.override_return ? p.kp_kprobe_override : p.kp_kprobe;
            exit = p.kp_kretprobe;
            break;
        case Strategy::fentry:
            entry = p.kp_fentry;
            exit = p.kp_fexit;
            break;
        case Strategy::lsm: entry = p.kp_lsm; break;
        case Strategy::syscall_tracepoint:
        case Strategy::raw_syscalls:
            entry = p.kp_sys_enter;
            exit = p.kp_sys_exit;
            break;
        }
        if (!ret)
            exit = nullptr;
        bpf_program* prog;
        bpf_object__for_each_program(prog, hook->skel->obj)
            bpf_program__set_autoload(prog, prog == entry || prog == exit);
        if (plan.strategy == Strategy::fentry || plan.strategy == Strategy::lsm)
            for (bpf_program* t : {entry, exit})
                if (t && bpf_program__set_attach_target(t, 0, plan.function.c_str()))
                    throw fail(VIGIL_ERR_NOT_FOUND, fmt::format("{} is not in the kernel's BTF", plan.function));
        if (!ret)
            bpf_map__set_max_entries(hook->skel->maps.kp_stash, 1);
        sdk::reuse_shared_maps(hook->skel->obj, host_);
        if (int err = bpf_map__reuse_fd(hook->skel->maps.hook_events, ring_.fd()))
            throw fail(VIGIL_ERR_KERNEL, fmt::format("sharing the hook ring: {}", std::strerror(-err)));
        if (int err = kprobe_hook__load(hook->skel)) {
            if (plan.strategy == Strategy::fentry)
                throw fail(VIGIL_ERR_UNSUPPORTED,
                           fmt::format("kernel function hooks need kprobe or fentry support, this kernel has neither "
                                       "(kprobe PMU missing, fentry load refused: {})",
                                       errno_name(-err)));
            if (plan.strategy == Strategy::lsm)
                throw fail(VIGIL_ERR_UNSUPPORTED,
                           fmt::format("LSM hooks need BPF-LSM (CONFIG_BPF_LSM and \"bpf\" in the kernel's lsm= "
                                       "list), and this kernel refused the program ({}; active LSMs: {})",
                                       errno_name(-err), active_lsms()));
            throw fail(VIGIL_ERR_KERNEL, fmt::format("loading the {} program: {}", to_string(plan.strategy),
                                                     std::strerror(-err)));
        }
        std::string what;
        if (int err = compiled->install(hook->skel->obj, what))
            throw fail(VIGIL_ERR_KERNEL, fmt::format("writing selectors into {}: {}", what, std::strerror(-err)));

        // The return half first, so that no entry is stashed without a return to take it.
        auto attach = [&](bpf_program* t, bool is_exit) {
            bpf_link* l = nullptr;
            switch (plan.strategy) {
            case Strategy::kprobe: l = bpf_program__attach_kprobe(t, is_exit, plan.function.c_str()); break;
            case Strategy::fentry:
            case Strategy::lsm: l = bpf_program__attach(t); break;
            case Strategy::syscall_tracepoint:
                l = bpf_program__attach_tracepoint(
                    t, "syscalls", fmt::format("sys_{}_{}", is_exit ? "exit" : "enter", plan.syscall).c_str());
                break;
            case Strategy::raw_syscalls:
                l = bpf_program__attach_tracepoint(t, "raw_syscalls", is_exit ? "sys_exit" : "sys_enter");
                break;
            }
            if (!l) {
                int e = errno;
                throw fail(e == ENOENT ? VIGIL_ERR_NOT_FOUND : VIGIL_ERR_KERNEL,
                           fmt::format("attaching the {} program{}: {}", to_string(plan.strategy),
                                       is_exit ? " (return)" : "", std::strerror(e)));
            }
            hook->links.emplace_back(l);
            host_.register_link(bpf_link__fd(l), hook->link_tag.c_str());
        };
        if (exit)
            attach(exit, true);
        attach(entry, false);
    } catch (...) {
        destroy(*hook);
        throw;
    }
    std::snprintf(status.strategy, sizeof status.strategy, "%s", to_string(plan.strategy));
    std::snprintf(status.detail, sizeof status.detail, "%s", plan.detail.c_str());
    host_.debug(fmt::format("{}: attached by {} ({})", where, to_string(plan.strategy), plan.detail));
    return hooks_.insert(std::move(hook));
}

void KprobeHooks::destroy(Hook& h)
{
    sdk::destroy_hook_object(host_, h.link_tag, h.links, h.skel, kprobe_hook__destroy);
}

void KprobeHooks::remove(uint64_t handle)
{
    hooks_.remove(handle);
}

void KprobeHooks::remove_all()
{
    hooks_.clear();
    ring_.reset(); // no hook object uses it any more; the host drops it when the plugin stops
}

void KprobeHooks::set_mode(uint64_t handle, bool enforce)
{
    const Hook& h = hooks_.get(handle);
    if (h.skel) // else attached to nothing (ignore.callNotFound)
        sdk::set_hook_mode(h.skel->obj, enforce);
}

void KprobeHooks::stats(uint64_t handle, vigil_hook_stats& out) const
{
    const Hook& h = hooks_.get(handle);
    if (h.skel)
        sdk::read_hook_stats(h.skel->obj, out);
}

void KprobeHooks::decode(std::span<const std::byte> rec, sdk::Emitter& out)
{
    auto parsed = sdk::parse_hook_record(rec);
    if (!parsed)
        throw Error(VIGIL_ERR_INVALID, parsed.error());
    const vhook_record& r = parsed->hdr;
    const Hook* found = hooks_.find(r.hook_id);
    if (!found) { // the hook was removed while its records were in flight
        host_.count("records_of_removed_hooks");
        return;
    }
    const Hook& h = *found;

    const bool is_return = r.flags & VHOOK_F_RETURN;
    // A return record's own decision is the return half's; the entry half's rides in the flags.
    uint32_t entry_signal = is_return ? (r.flags >> KP_F_ENTRY_SIGNAL_SHIFT) & 0xff : r.signal;
    bool entry_override = is_return ? (r.flags & KP_F_ENTRY_OVERRIDE) != 0 : r.override != 0;
    bool enforced = (r.flags & VHOOK_F_ENFORCED) || (is_return && (r.flags & KP_F_ENTRY_ENFORCED));
    bool acted = (r.flags & (VHOOK_F_ENFORCED | VHOOK_F_MONITORED)) || entry_signal || entry_override;

    body_.clear();
    body_.member("function_name", h.function);
    body_.key("args").begin_array();
    for (size_t i = 0; i < parsed->args.size(); ++i) {
        const ArgOut* spec = i < h.args.size() ? &h.args[i] : nullptr;
        write_arg(body_, spec ? spec->type : "int64", spec ? spec->label : "", ArgValue{parsed->args[i]});
    }
    body_.end_array();
    if (is_return) {
        body_.key("return").begin_object();
        write_int_value(body_, h.return_type, r.retval);
        body_.end_object();
    }
    body_.member("action", action_name(entry_signal, entry_override));
    if (is_return)
        body_.member("return_action", action_name(r.signal, r.override != 0));
    write_policy_members(body_, h.policy, acted, enforced, h.message, h.tags);
    uint32_t sig = r.signal ? r.signal : entry_signal;
    summary_ = fmt::format("{} {}{}{}", h.function, h.policy, is_return ? fmt::format(" = {}", r.retval) : "",
                           !sig        ? ""
                           : !enforced ? fmt::format(" (monitor: would send signal {})", sig)
                           : sig == 9  ? " killed"
                                       : fmt::format(" signalled {}", sig));

    out.emit(sdk::hook_event(r, h.lsm ? "process_lsm" : "process_kprobe", body_.str(), summary_, h.policy));
}

} // namespace vigil::kprobe
