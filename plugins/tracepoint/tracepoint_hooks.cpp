#include "tracepoint_hooks.hpp"

#include "generic_tp.skel.h"

#include <vigil/sdk/selectors.hpp>

#include <bpf/bpf.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <optional>

namespace vigil::tracepoint {

namespace {

using sdk::Error;

// The class of a policy type; nullopt for a type tracepoint hooks cannot read.
std::optional<TypeClass> classify(const std::string& type)
{
    for (const auto& t : arg_type_classes)
        if (type == t.name)
            return t.cls;
    return std::nullopt;
}

// The key of an argument in the event's "args", by the policy's type.
const char* json_key(const std::string& type, uint8_t enc)
{
    if (enc == VHOOK_ENC_STRING)
        return "string_arg";
    if (type == "int" || type == "int8" || type == "int16" || type == "int32")
        return "int_arg";
    if (type == "uint8" || type == "uint16" || type == "uint32")
        return "uint_arg";
    // As Tetragon names them: 64-bit unsigned values are sizes.
    if (type == "size_t" || type == "uint64")
        return "size_arg";
    if (enc == VHOOK_ENC_U64)
        return "ulong_arg";
    return "long_arg";
}

const char* action_name(const vhook_record& r)
{
    if (r.signal == 9)
        return "KPROBE_ACTION_SIGKILL";
    if (r.signal)
        return "KPROBE_ACTION_SIGNAL";
    if (r.override)
        return "KPROBE_ACTION_OVERRIDE";
    return "KPROBE_ACTION_POST";
}

} // namespace

std::expected<FetchPlan, std::string> plan_fetch(const FormatField& field, const std::string& type, bool user_pointers)
{
    // gtp_arg holds 16-bit offsets and sizes; a field past them would be fetched from the wrong
    // place (found by fuzz/tracefs_format).
    if (uint64_t(field.offset) + field.size > UINT16_MAX)
        return std::unexpected(fmt::format("field {} (offset {}, size {}) lies past the {} bytes a hook can read",
                                           field.name, field.offset, field.size, UINT16_MAX));
    FetchPlan p;
    p.arg.offset = static_cast<uint16_t>(field.offset);
    p.arg.size = static_cast<uint16_t>(field.size);
    p.arg.is_signed = field.is_signed;
    bool stringy = field.is_data_loc() || field.is_char_array();
    std::optional<TypeClass> cls = classify(type);
    if (cls == TypeClass::by_field)
        cls = stringy ? TypeClass::string : field.is_signed ? TypeClass::int_signed : TypeClass::int_unsigned;
    switch (cls.value_or(TypeClass::by_field)) {
    case TypeClass::string:
        p.arg.enc = VHOOK_ENC_STRING;
        if (field.is_data_loc())
            p.arg.fetch = GTP_FETCH_DATA_LOC;
        else if (field.is_char_array())
            p.arg.fetch = GTP_FETCH_CHAR_ARRAY;
        else if (field.is_pointer())
            p.arg.fetch = user_pointers ? GTP_FETCH_USER_STR : GTP_FETCH_KERNEL_STR;
        else
            return std::unexpected(fmt::format("field {} ({}) is not a string, cannot read it as {}", field.name,
                                               field.type, type));
        return p;
    case TypeClass::int_signed:
    case TypeClass::int_unsigned:
        if (stringy)
            return std::unexpected(fmt::format("field {} ({}) is a string, cannot read it as {}", field.name,
                                               field.type, type));
        if (field.size != 1 && field.size != 2 && field.size != 4 && field.size != 8)
            return std::unexpected(fmt::format("field {} ({}) has size {}, not an integer", field.name, field.type,
                                               field.size));
        p.arg.fetch = GTP_FETCH_INT;
        p.arg.enc = cls == TypeClass::int_signed ? VHOOK_ENC_S64 : VHOOK_ENC_U64;
        return p;
    case TypeClass::by_field: // not a type tracepoint hooks read
        break;
    }
    return std::unexpected(fmt::format("argument type {} is not supported on tracepoints (use an integer type, "
                                       "string, filename or data_loc)",
                                       type));
}

std::expected<FetchPlan, std::string> plan_raw_fetch(uint32_t index, const std::string& type)
{
    FetchPlan p;
    p.arg.offset = static_cast<uint16_t>(index * 8);
    p.arg.size = 8;
    std::optional<TypeClass> cls = classify(type);
    switch (cls == TypeClass::by_field ? TypeClass::int_unsigned : cls.value_or(TypeClass::by_field)) {
    case TypeClass::string:
        p.arg.fetch = GTP_FETCH_KERNEL_STR;
        p.arg.enc = VHOOK_ENC_STRING;
        return p;
    case TypeClass::int_signed:
        p.arg.fetch = GTP_FETCH_INT;
        p.arg.enc = VHOOK_ENC_S64;
        p.arg.is_signed = 1;
        return p;
    case TypeClass::int_unsigned:
        p.arg.fetch = GTP_FETCH_INT;
        p.arg.enc = VHOOK_ENC_U64;
        return p;
    case TypeClass::by_field: // not a type tracepoint hooks read
        break;
    }
    return std::unexpected(fmt::format("argument type {} is not supported on raw tracepoints", type));
}

TracepointHooks::~TracepointHooks() { reset(); }

void TracepointHooks::reset()
{
    remove_all();
    ring_.reset();
}


uint64_t TracepointHooks::add(const vigil_hook_request& req, vigil_hook_status& status)
{
    nlohmann::json spec;
    try {
        spec = nlohmann::json::parse(std::string_view(req.spec_json, req.spec_json_len));
    } catch (const std::exception& e) {
        throw Error(VIGIL_ERR_INVALID, fmt::format("hook spec is not JSON: {}", e.what()));
    }
    auto compiled = sdk::CompiledSelectors::parse(req.compiled, req.compiled_len);
    if (!compiled)
        throw Error(VIGIL_ERR_INVALID, compiled.error());

    auto hook = std::make_unique<Hook>();
    hook->policy = req.policy_name ? req.policy_name : "";
    hook->subsystem = spec.value("subsystem", "");
    hook->event = spec.value("event", "");
    hook->message = spec.value("message", "");
    hook->summary = fmt::format("{}/{} {}", hook->subsystem, hook->event, hook->policy);
    for (const auto& t : spec.value("tags", nlohmann::json::array()))
        hook->tags.push_back(t.get<std::string>());
    bool raw = spec.value("raw", false);
    std::string where = fmt::format("tracepoint {}/{}", hook->subsystem, hook->event);

    gtp_spec cfg{};
    const auto& args = spec.value("args", nlohmann::json::array());
    if (args.size() > VSEL_MAX_ARGS)
        throw Error(VIGIL_ERR_INVALID, fmt::format("{}: {} args, the limit is {}", where, args.size(), VSEL_MAX_ARGS));
    std::expected<Format, std::string> format;
    if (!raw) {
        format = read_format(hook->subsystem, hook->event);
        if (!format)
            throw Error(VIGIL_ERR_NOT_FOUND, format.error());
    }
    // Pointers in syscall tracepoint records point into the calling process.
    bool user_pointers = hook->subsystem == "syscalls";
    for (size_t i = 0; i < args.size(); ++i) {
        uint32_t index = args[i].value("index", 0u);
        std::string type = args[i].value("type", "auto");
        std::expected<FetchPlan, std::string> plan;
        if (raw) {
            plan = plan_raw_fetch(index, type);
        } else if (index >= format->fields.size()) {
            throw Error(VIGIL_ERR_INVALID, fmt::format("{}: args[{}].index {} is past its {} fields", where, i, index,
                                                       format->fields.size()));
        } else {
            plan = plan_fetch(format->fields[index], type, user_pointers);
        }
        if (!plan)
            throw Error(VIGIL_ERR_INVALID, fmt::format("{}: args[{}]: {}", where, i, plan.error()));
        cfg.args[i] = plan->arg;
        hook->args.push_back({type, args[i].value("label", ""), plan->arg.enc});
    }
    cfg.nargs = static_cast<uint32_t>(args.size());

    hook->handle = hooks_.next_handle();
    compiled->hook.hook_id = static_cast<uint32_t>(hook->handle);
    compiled->hook.enforce = req.enforce ? 1 : 0;

    hook->skel = generic_tp__open();
    if (!hook->skel)
        throw Error(VIGIL_ERR_KERNEL, fmt::format("{}: opening the hook object: {}", where, std::strerror(errno)));
    try {
        std::memcpy(const_cast<gtp_spec*>(&hook->skel->rodata->gtp_spec), &cfg, sizeof cfg);
        bpf_program__set_autoload(raw ? hook->skel->progs.gtp_tracepoint : hook->skel->progs.gtp_raw, false);
        sdk::reuse_shared_maps(hook->skel->obj, host_);
        if (int err = bpf_map__reuse_fd(hook->skel->maps.hook_events, ring_.fd()))
            throw Error(VIGIL_ERR_KERNEL, fmt::format("{}: sharing the hook ring: {}", where, std::strerror(-err)));
        if (int err = generic_tp__load(hook->skel))
            throw Error(VIGIL_ERR_KERNEL, fmt::format("{}: loading the hook program: {}", where, std::strerror(-err)));
        std::string what;
        if (int err = compiled->install(hook->skel->obj, what))
            throw Error(VIGIL_ERR_KERNEL, fmt::format("{}: writing selectors into {}: {}", where, what,
                                                      std::strerror(-err)));
        bpf_link* l = raw ? bpf_program__attach_raw_tracepoint(hook->skel->progs.gtp_raw, hook->event.c_str())
                          : bpf_program__attach_tracepoint(hook->skel->progs.gtp_tracepoint,
                                                           hook->subsystem.c_str(), hook->event.c_str());
        if (!l)
            throw Error(VIGIL_ERR_KERNEL, fmt::format("{}: attaching: {}", where, std::strerror(errno)));
        hook->link = sdk::Link(l);
        hook->link_tag = fmt::format("{}#{}", hook->policy, hook->handle);
        host_.register_link(bpf_link__fd(l), hook->link_tag.c_str());
    } catch (...) {
        destroy(*hook);
        throw;
    }
    std::snprintf(status.strategy, sizeof status.strategy, "%s", raw ? "raw_tp" : "tracepoint");
    std::snprintf(status.detail, sizeof status.detail, "%s/%s", hook->subsystem.c_str(), hook->event.c_str());
    return hooks_.insert(std::move(hook));
}

void TracepointHooks::destroy(Hook& h)
{
    sdk::destroy_hook_object(host_, h.link_tag, h.link, h.skel, generic_tp__destroy);
}

void TracepointHooks::remove(uint64_t handle)
{
    hooks_.remove(handle);
}

void TracepointHooks::remove_all()
{
    hooks_.clear();
}

void TracepointHooks::set_mode(uint64_t handle, bool enforce)
{
    sdk::set_hook_mode(hooks_.get(handle).skel->obj, enforce);
}

void TracepointHooks::stats(uint64_t handle, vigil_hook_stats& out) const
{
    sdk::read_hook_stats(hooks_.get(handle).skel->obj, out);
}

void TracepointHooks::decode(std::span<const std::byte> rec, sdk::Emitter& out)
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

    body_.clear();
    body_.member("subsys", h.subsystem).member("event", h.event);
    body_.key("args").begin_array();
    for (size_t i = 0; i < parsed->args.size(); ++i) {
        const sdk::HookArg& a = parsed->args[i];
        const ArgOut* spec = i < h.args.size() ? &h.args[i] : nullptr;
        body_.begin_object();
        if (a.hdr.flags & VHOOK_ARG_ERROR) {
            body_.member("error_arg", "could not be read");
        } else if (a.hdr.enc == VHOOK_ENC_S64 || a.hdr.enc == VHOOK_ENC_U64) {
            int64_t v = 0;
            std::memcpy(&v, a.value.data(), std::min(a.value.size(), sizeof v));
            const char* key = json_key(spec ? spec->type : "", a.hdr.enc);
            if (spec && spec->type == "syscall64") {
                // {"id":N,"abi":"x64"}, as Tetragon renders a syscall id; bit 30 marks x32
                body_.key("syscall_id").begin_object().member("id", static_cast<uint64_t>(v & 0x3fffffff));
                body_.member("abi", (v & 0x40000000) ? "x32" : "x64").end_object();
            } else if (a.hdr.enc == VHOOK_ENC_U64)
                body_.member(key, static_cast<uint64_t>(v));
            else
                body_.member(key, v);
        } else {
            body_.member("string_arg", std::string_view(reinterpret_cast<const char*>(a.value.data()), a.value.size()));
            if (a.hdr.flags & VHOOK_ARG_TRUNCATED)
                body_.member("truncated", true);
        }
        if (spec && !spec->label.empty())
            body_.member("label", spec->label);
        body_.end_object();
    }
    body_.end_array();
    body_.member("policy_name", h.policy).member("action", action_name(r));
    if (r.flags & (VHOOK_F_ENFORCED | VHOOK_F_MONITORED))
        body_.member("enforced", (r.flags & VHOOK_F_ENFORCED) != 0);
    if (!h.message.empty())
        body_.member("message", h.message);
    if (!h.tags.empty()) {
        body_.key("tags").begin_array();
        for (const auto& t : h.tags)
            body_.value(t);
        body_.end_array();
    }
    summary_ = h.summary; // reuses summary_'s storage: no allocation per event
    if (r.signal)
        summary_ += (r.flags & VHOOK_F_ENFORCED) ? " killed" : " (monitor: would signal)";

    out.emit(sdk::hook_event(r, "process_tracepoint", body_.str(), summary_, h.policy));
}

} // namespace vigil::tracepoint
