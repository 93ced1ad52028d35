#include "uprobe_hooks.hpp"

#include "elf_binary.hpp"
#include "hook_spec.hpp"
#include "kprobe_hook.skel.h"

#include <vigil/sdk/selectors.hpp>

#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>

namespace vigil::uprobe {

namespace {

using sdk::Error;
using json = nlohmann::json;

// A USDT probe: its arguments come from libbpf's spec of the call site, not from registers.
bool usdt_in(const ElfBinary& bin, const std::string& provider, const std::string& name)
{
    for (const auto& s : bin.usdt_sites())
        if (s.provider == provider && s.name == name)
            return true;
    return false;
}

std::string usdt_list(const ElfBinary& bin)
{
    std::string out;
    size_t shown = 0;
    for (const auto& s : bin.usdt_sites()) {
        std::string p = s.provider + ":" + s.name;
        if (out.find(p) != std::string::npos)
            continue;
        if (++shown > 12) {
            out += ", ...";
            break;
        }
        out += (out.empty() ? "" : ", ") + p;
    }
    return out.empty() ? "none" : out;
}

} // namespace

UprobeHooks::~UprobeHooks() { remove_all(); }

uint64_t UprobeHooks::add(const vigil_hook_request& req, vigil_hook_status& status)
{
    const json spec = kprobe::spec_of(req);
    auto compiled = sdk::CompiledSelectors::parse(req.compiled, req.compiled_len);
    if (!compiled)
        throw Error(VIGIL_ERR_INVALID, compiled.error());

    auto hook = std::make_unique<Hook>();
    hook->usdt = std::string_view(req.kind ? req.kind : "") == "usdts";
    hook->policy = req.policy_name ? req.policy_name : "";
    hook->path = spec.value("path", "");
    hook->provider = spec.value("provider", "");
    hook->name = spec.value("name", "");
    hook->message = spec.value("message", "");
    hook->tags = kprobe::tags_of(spec);
    const std::string where =
        hook->usdt ? fmt::format("usdts: {}:{}:{}", hook->path, hook->provider, hook->name)
                   : fmt::format("uprobes: {}", hook->path);
    auto fail = [&](vigil_result code, const std::string& why) { return Error(code, fmt::format("{}: {}", where, why)); };

    if (kprobe::has_action(spec, "Override"))
        throw fail(VIGIL_ERR_UNSUPPORTED,
                   "Override is not possible on user-space functions: the kernel's bpf_override_return works only "
                   "on kprobes of kernel functions that allow error injection; use Sigkill or Signal");

    auto bin = ElfBinary::open(hook->path);
    if (!bin)
        throw fail(VIGIL_ERR_NOT_FOUND, bin.error());

    // Where to attach.
    if (hook->usdt) {
        if (!usdt_in(*bin, hook->provider, hook->name))
            throw fail(VIGIL_ERR_NOT_FOUND, fmt::format("{} has no USDT probe {}:{} (its probes: {})", hook->path,
                                                        hook->provider, hook->name, usdt_list(*bin)));
        hook->targets.emplace_back();
    } else {
        const auto symbols = spec.value("symbols", std::vector<std::string>{});
        const auto offsets = spec.value("offsets", std::vector<uint64_t>{});
        const auto ref_ctrs = spec.value("refCtrOffsets", std::vector<uint64_t>{});
        for (const auto& sym : symbols) {
            auto off = bin->symbol_offset(sym);
            if (!off)
                throw fail(VIGIL_ERR_NOT_FOUND, off.error());
            hook->targets.push_back({sym, *off});
        }
        for (uint64_t off : offsets) {
            if (auto ok = bin->check_offset(off); !ok)
                throw fail(VIGIL_ERR_INVALID, ok.error());
            hook->targets.push_back({"", off});
        }
        if (hook->targets.empty())
            throw fail(VIGIL_ERR_INVALID, "no symbols or offsets to attach to");
        if (!ref_ctrs.empty() && ref_ctrs.size() != hook->targets.size())
            throw fail(VIGIL_ERR_INVALID, fmt::format("{} refCtrOffsets for {} targets", ref_ctrs.size(),
                                                      hook->targets.size()));
        for (size_t i = 0; i < ref_ctrs.size(); ++i)
            hook->targets[i].ref_ctr_offset = ref_ctrs[i];
    }
    if (hook->targets.size() > max_targets)
        throw fail(VIGIL_ERR_INVALID, fmt::format("{} targets, the limit is {}", hook->targets.size(), max_targets));

    // What to read.
    kp_spec cfg{};
    cfg.source = hook->usdt ? KP_SRC_USDT : KP_SRC_REGS;
    const auto& args = spec.value("args", json::array());
    if (args.size() > VSEL_MAX_ARGS)
        throw fail(VIGIL_ERR_INVALID, fmt::format("{} args, the limit is {}", args.size(), VSEL_MAX_ARGS));
    for (size_t i = 0; i < args.size(); ++i) {
        kprobe::ArgSpec a = kprobe::arg_spec_of(args[i]);
        auto k = kprobe::plan_arg(a, kprobe::ArgContext::user);
        if (!k)
            throw fail(VIGIL_ERR_INVALID, fmt::format("args[{}]: {}", i, k.error()));
        cfg.args[i] = *k;
        hook->args.push_back({a.type, a.label});
    }
    cfg.nargs = static_cast<uint32_t>(args.size());
    const bool ret = !hook->usdt && spec.value("return", false);
    if (ret) {
        const json& ra = spec["returnArg"];
        hook->return_type = ra.is_object() ? ra.value("type", "int64") : "int64";
        if (hook->return_type == "string") {
            // sent as one more argument (kprobe_hook.bpf.c's kp__return)
            if (args.size() >= VSEL_MAX_ARGS)
                throw fail(VIGIL_ERR_INVALID, fmt::format("a string returnArg needs a free argument slot: at most {} "
                                                          "args beside it",
                                                          VSEL_MAX_ARGS - 1));
            if (kprobe::has_return_filters(spec))
                throw fail(VIGIL_ERR_UNSUPPORTED, "matchReturnArgs compare integer return values, and this "
                                                  "returnArg is a string");
            cfg.ret.read = KP_READ_USER_STR;
            cfg.ret.enc = VHOOK_ENC_STRING;
        } else {
            auto k = kprobe::plan_return_arg(hook->return_type);
            if (!k)
                throw fail(VIGIL_ERR_INVALID, fmt::format("{} (or string, for a user-space function)", k.error()));
            cfg.ret = *k;
        }
        cfg.has_return = 1;
    }

    hook->handle = hooks_.next_handle();
    hook->link_tag = fmt::format("{}#uprobe{}", hook->policy, hook->handle);
    compiled->hook.enforce = req.enforce ? 1 : 0;
    try {
        for (size_t t = 0; t < hook->targets.size(); ++t) {
            Target& target = hook->targets[t];
            const std::string what = hook->usdt ? std::string("the USDT probe")
                                     : target.symbol.empty() ? fmt::format("offset {:#x}", target.offset)
                                                             : target.symbol;
            target.skel = kprobe_hook__open();
            if (!target.skel)
                throw fail(VIGIL_ERR_KERNEL, fmt::format("opening the hook object: {}", std::strerror(errno)));
            auto& p = target.skel->progs;
            std::memcpy(const_cast<kp_spec*>(&target.skel->rodata->kp_spec), &cfg, sizeof cfg);
            // kprobe programs attach as uprobes too: the same program type, the same registers
            bpf_program* entry = hook->usdt ? p.kp_usdt : p.kp_kprobe;
            bpf_program* exit = ret ? p.kp_kretprobe : nullptr;
            bpf_program* prog;
            bpf_object__for_each_program(prog, target.skel->obj)
                bpf_program__set_autoload(prog, prog == entry || prog == exit);
            if (!ret)
                bpf_map__set_max_entries(target.skel->maps.kp_stash, 1);
            sdk::reuse_shared_maps(target.skel->obj, host_);
            if (int err = bpf_map__reuse_fd(target.skel->maps.hook_events, ring_.fd()))
                throw fail(VIGIL_ERR_KERNEL, fmt::format("sharing the hook ring: {}", std::strerror(-err)));
            if (int err = kprobe_hook__load(target.skel))
                throw fail(VIGIL_ERR_KERNEL, fmt::format("loading the uprobe program: {}", std::strerror(-err)));
            compiled->hook.hook_id = static_cast<uint32_t>((hook->handle << target_bits) | t);
            std::string map;
            if (int err = compiled->install(target.skel->obj, map))
                throw fail(VIGIL_ERR_KERNEL, fmt::format("writing selectors into {}: {}", map, std::strerror(-err)));

            // The return half first, so that no entry is stashed without a return to take it.
            auto attach = [&](bpf_program* pr, bool is_exit) {
                bpf_link* l = nullptr;
                if (hook->usdt) {
                    l = bpf_program__attach_usdt(pr, -1, hook->path.c_str(), hook->provider.c_str(),
                                                 hook->name.c_str(), nullptr);
                } else {
                    LIBBPF_OPTS(bpf_uprobe_opts, o, .ref_ctr_offset = target.ref_ctr_offset, .retprobe = is_exit);
                    l = bpf_program__attach_uprobe_opts(pr, -1, hook->path.c_str(), target.offset, &o);
                }
                if (!l) {
                    int e = errno;
                    throw fail(e == ENOENT ? VIGIL_ERR_NOT_FOUND : VIGIL_ERR_KERNEL,
                               fmt::format("attaching the {} to {}: {}",
                                           hook->usdt ? "USDT program" : is_exit ? "uretprobe" : "uprobe", what,
                                           std::strerror(e)));
                }
                target.links.emplace_back(l);
                host_.register_link(bpf_link__fd(l), hook->link_tag.c_str());
            };
            if (exit)
                attach(exit, true);
            attach(entry, false);
        }
    } catch (...) {
        destroy(*hook);
        throw;
    }
    std::string detail = hook->usdt ? fmt::format("{}:{}:{}", hook->path, hook->provider, hook->name) : hook->path;
    if (!hook->usdt) {
        for (size_t t = 0; t < hook->targets.size(); ++t) {
            const Target& target = hook->targets[t];
            detail += fmt::format("{}{}", t ? "," : ":",
                                  target.symbol.empty() ? fmt::format("{:#x}", target.offset) : target.symbol);
        }
    }
    std::snprintf(status.strategy, sizeof status.strategy, "%s", hook->usdt ? "usdt" : ret ? "uprobe+uretprobe" : "uprobe");
    std::snprintf(status.detail, sizeof status.detail, "%s", detail.c_str());
    host_.debug(fmt::format("{}: attached ({})", where, detail));
    return hooks_.insert(std::move(hook));
}

void UprobeHooks::destroy(Hook& h)
{
    if (!h.link_tag.empty())
        host_.remove_links(h.link_tag.c_str());
    for (Target& t : h.targets) {
        std::string none;
        sdk::destroy_hook_object(host_, none, t.links, t.skel, kprobe_hook__destroy);
    }
}

void UprobeHooks::remove(uint64_t handle) { hooks_.remove(handle); }

void UprobeHooks::remove_all()
{
    hooks_.clear();
    ring_.reset(); // no hook object uses it any more; the host drops it when the plugin stops
}

void UprobeHooks::set_mode(uint64_t handle, bool enforce)
{
    for (const Target& t : hooks_.get(handle).targets)
        if (t.skel)
            sdk::set_hook_mode(t.skel->obj, enforce);
}

void UprobeHooks::stats(uint64_t handle, vigil_hook_stats& out) const
{
    for (const Target& t : hooks_.get(handle).targets) {
        if (!t.skel)
            continue;
        vigil_hook_stats one{};
        sdk::read_hook_stats(t.skel->obj, one);
        out.matched += one.matched;
        out.posted += one.posted;
        out.rate_limited += one.rate_limited;
        out.enforced += one.enforced;
        out.monitored += one.monitored;
        out.shed += one.shed;
        out.ring_full += one.ring_full;
    }
}

void UprobeHooks::decode(std::span<const std::byte> rec, sdk::Emitter& out)
{
    auto parsed = sdk::parse_hook_record(rec);
    if (!parsed)
        throw Error(VIGIL_ERR_INVALID, parsed.error());
    const vhook_record& r = parsed->hdr;
    const Hook* found = hooks_.find(r.hook_id >> target_bits);
    const size_t t = r.hook_id & (max_targets - 1);
    if (!found || t >= found->targets.size()) { // the hook was removed while its records were in flight
        host_.count("records_of_removed_hooks");
        return;
    }
    const Hook& h = *found;
    const Target& target = h.targets[t];

    const bool is_return = r.flags & VHOOK_F_RETURN;
    uint32_t entry_signal = is_return ? (r.flags >> KP_F_ENTRY_SIGNAL_SHIFT) & 0xff : r.signal;
    bool enforced = (r.flags & VHOOK_F_ENFORCED) || (is_return && (r.flags & KP_F_ENTRY_ENFORCED));
    bool acted = (r.flags & (VHOOK_F_ENFORCED | VHOOK_F_MONITORED)) || entry_signal;

    body_.clear();
    body_.member("path", h.path);
    if (h.usdt) {
        body_.member("provider", h.provider).member("name", h.name);
    } else {
        // Tetragon's fields: the symbol, or the offset for a hook on an offset (zero values left out)
        if (!target.symbol.empty())
            body_.member("symbol", target.symbol);
        else
            body_.member("offset", target.offset);
        if (target.ref_ctr_offset)
            body_.member("ref_ctr_offset", target.ref_ctr_offset);
    }
    // A string return value travels as the argument after the policy's args.
    const bool string_return = is_return && h.return_type == "string";
    size_t nargs = parsed->args.size();
    if (string_return && nargs > h.args.size())
        nargs = h.args.size();
    body_.key("args").begin_array();
    for (size_t i = 0; i < nargs; ++i) {
        const ArgOut* spec = i < h.args.size() ? &h.args[i] : nullptr;
        kprobe::write_arg(body_, spec ? spec->type : "int64", spec ? spec->label : "",
                          kprobe::ArgValue{parsed->args[i]});
    }
    body_.end_array();
    if (is_return) {
        body_.key("return");
        if (string_return && parsed->args.size() > h.args.size())
            kprobe::write_arg(body_, "string", "", kprobe::ArgValue{parsed->args[h.args.size()]});
        else {
            body_.begin_object();
            kprobe::write_int_value(body_, h.return_type, r.retval);
            body_.end_object();
        }
    }
    body_.member("action", kprobe::action_name(entry_signal, false));
    if (is_return)
        body_.member("return_action", kprobe::action_name(r.signal, false));
    kprobe::write_policy_members(body_, h.policy, acted, enforced, h.message, h.tags);

    uint32_t sig = r.signal ? r.signal : entry_signal;
    std::string what = h.usdt ? fmt::format("{}:{}", h.provider, h.name)
                       : target.symbol.empty() ? fmt::format("{}+{:#x}", h.path, target.offset)
                                               : target.symbol;
    summary_ = fmt::format("{} {}{}", what, h.policy,
                           !sig        ? ""
                           : !enforced ? fmt::format(" (monitor: would send signal {})", sig)
                           : sig == 9  ? " killed"
                                       : fmt::format(" signalled {}", sig));
    out.emit(sdk::hook_event(r, h.usdt ? "process_usdt" : "process_uprobe", body_.str(), summary_, h.policy));
}

} // namespace vigil::uprobe
