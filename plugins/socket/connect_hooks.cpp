#include "connect_hooks.hpp"

#include "cgroup.hpp"
#include "connect_hook.skel.h"
#include "decode.hpp"

#include <vigil/sdk/hook_event.hpp>
#include <vigil/sdk/selectors.hpp>
#include <vigil/sdk/sock.hpp>
#include <vigil/wire/hook_event.h>

#include <bpf/bpf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vigil::socket {

using sdk::Error;

void ConnectHooks::reset()
{
    hooks_.clear();
    ring_.reset();
}

uint64_t ConnectHooks::add(const vigil_hook_request& req, vigil_hook_status& status)
{
    if (!host_.has_feature("cgroup_sock_addr"))
        throw Error(VIGIL_ERR_UNSUPPORTED, "connects hooks need cgroup socket address programs "
                                           "(BPF_PROG_TYPE_CGROUP_SOCK_ADDR), which this kernel does not load");
    nlohmann::json spec;
    try {
        spec = nlohmann::json::parse(std::string_view(req.spec_json, req.spec_json_len));
    } catch (const std::exception& e) {
        throw Error(VIGIL_ERR_INVALID, fmt::format("hook spec is not JSON: {}", e.what()));
    }
    auto compiled = sdk::CompiledSelectors::parse(req.compiled, req.compiled_len);
    if (!compiled)
        throw Error(VIGIL_ERR_INVALID, compiled.error());
    auto root = find_cgroup2_root();
    if (!root)
        throw Error(VIGIL_ERR_UNSUPPORTED, "connects hooks attach to the cgroup v2 hierarchy: " + root.error());

    auto hook = std::make_unique<Hook>();
    hook->policy = req.policy_name ? req.policy_name : "";
    hook->message = spec.value("message", "");
    for (const auto& t : spec.value("tags", nlohmann::json::array()))
        hook->tags.push_back(t.get<std::string>());
    bool datagrams = spec.value("datagrams", true);
    hook->handle = hooks_.next_handle();
    compiled->hook.hook_id = static_cast<uint32_t>(hook->handle);
    compiled->hook.enforce = req.enforce ? 1 : 0;

    hook->skel = connect_hook__open();
    if (!hook->skel)
        throw Error(VIGIL_ERR_KERNEL, fmt::format("connects: opening the hook object: {}", std::strerror(errno)));
    int cgroup_fd = -1;
    try {
        auto* p = &hook->skel->progs;
        bpf_program__set_autoload(p->sendmsg4, datagrams);
        bpf_program__set_autoload(p->sendmsg6, datagrams);
        sdk::reuse_shared_maps(hook->skel->obj, host_);
        if (int err = bpf_map__reuse_fd(hook->skel->maps.hook_events, ring_.fd()))
            throw Error(VIGIL_ERR_KERNEL, fmt::format("connects: sharing the hook ring: {}", std::strerror(-err)));
        if (int err = connect_hook__load(hook->skel))
            throw Error(VIGIL_ERR_KERNEL, fmt::format("connects: loading the hook programs: {}", std::strerror(-err)));
        std::string what;
        if (int err = compiled->install(hook->skel->obj, what))
            throw Error(VIGIL_ERR_KERNEL,
                        fmt::format("connects: writing selectors into {}: {}", what, std::strerror(-err)));
        cgroup_fd = ::open(root->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cgroup_fd < 0)
            throw Error(VIGIL_ERR_KERNEL, fmt::format("connects: opening {}: {}", *root, std::strerror(errno)));
        hook->link_tag = fmt::format("{}#connects{}", hook->policy, hook->handle);
        std::vector<bpf_program*> progs = {p->connect4, p->connect6};
        if (datagrams)
            progs.insert(progs.end(), {p->sendmsg4, p->sendmsg6});
        for (bpf_program* prog : progs) {
            bpf_link* l = bpf_program__attach_cgroup(prog, cgroup_fd);
            if (!l)
                throw Error(VIGIL_ERR_KERNEL, fmt::format("connects: attaching {} to {}: {}", bpf_program__name(prog),
                                                          *root, std::strerror(errno)));
            hook->links.emplace_back(l);
            host_.register_link(bpf_link__fd(l), hook->link_tag.c_str());
        }
        ::close(cgroup_fd);
    } catch (...) {
        if (cgroup_fd >= 0)
            ::close(cgroup_fd);
        destroy(*hook);
        throw;
    }
    std::snprintf(status.strategy, sizeof status.strategy, "%s", "cgroup_sock_addr");
    std::snprintf(status.detail, sizeof status.detail, "%s on %s",
                  datagrams ? "connect4,connect6,sendmsg4,sendmsg6" : "connect4,connect6", root->c_str());
    return hooks_.insert(std::move(hook));
}

void ConnectHooks::destroy(Hook& h)
{
    sdk::destroy_hook_object(host_, h.link_tag, h.links, h.skel, connect_hook__destroy);
}

void ConnectHooks::remove(uint64_t handle)
{
    hooks_.remove(handle);
}

void ConnectHooks::set_mode(uint64_t handle, bool enforce)
{
    sdk::set_hook_mode(hooks_.get(handle).skel->obj, enforce);
}

void ConnectHooks::stats(uint64_t handle, vigil_hook_stats& out) const
{
    sdk::read_hook_stats(hooks_.get(handle).skel->obj, out);
}

void ConnectHooks::decode(std::span<const std::byte> rec, sdk::Emitter& out)
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

    // args[0]: the socket (the bytes of a vsock_arg); args[1]: the operation (s64)
    const auto& args = parsed->args;
    if (args.size() != 2 || args[0].hdr.enc != VHOOK_ENC_BYTES || args[1].hdr.enc != VHOOK_ENC_S64 ||
        ((args[0].hdr.flags | args[1].hdr.flags) & VHOOK_ARG_ERROR))
        throw Error(VIGIL_ERR_INVALID, "connects hook record without its socket and operation");
    auto sk = sdk::sock::parse(args[0].value);
    if (!sk)
        throw Error(VIGIL_ERR_INVALID, "connects hook record: " + sk.error());
    int64_t op = 0;
    if (args[1].value.size() != sizeof op)
        throw Error(VIGIL_ERR_INVALID, "connects hook record: the operation is not 8 bytes");
    std::memcpy(&op, args[1].value.data(), sizeof op);
    if (op != SOCK_OP_CONNECT && op != SOCK_OP_SENDMSG)
        throw Error(VIGIL_ERR_INVALID, fmt::format("connects hook record for operation {}", op));

    bool decided = r.override != 0;
    bool denied = decided && (r.flags & VHOOK_F_ENFORCED);
    body_.clear();
    body_.member("op", op_name(static_cast<uint32_t>(op)));
    body_.key("sock_arg").begin_object();
    sdk::sock::write_members(body_, *sk);
    body_.end_object();
    body_.member("policy_name", h.policy).member("action", decided ? "KPROBE_ACTION_OVERRIDE" : "KPROBE_ACTION_POST");
    if (decided)
        body_.member("enforced", denied);
    if (denied)
        body_.member("error", "EPERM");
    if (!h.message.empty())
        body_.member("message", h.message);
    if (!h.tags.empty()) {
        body_.key("tags").begin_array();
        for (const auto& t : h.tags)
            body_.value(t);
        body_.end_array();
    }
    summary_ = fmt::format("{} to {} {}{}", op_name(static_cast<uint32_t>(op)),
                           sdk::sock::endpoint(sk->family, sk->daddr, sk->dport), h.policy,
                           denied ? " denied" : decided ? " (monitor: would deny)" : "");

    out.emit(sdk::hook_event(r, "process_connect", body_.str(), summary_, h.policy));
}

} // namespace vigil::socket
