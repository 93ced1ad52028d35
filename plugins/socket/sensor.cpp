#include "sensor.hpp"

#include "sensor.skel.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace vigil::socket {

using sdk::Error;

void Sensor::start()
{
    if (!enabled())
        return; // events = []: only the policy hooks of the plugin are wanted
    uint32_t ev = options_.bpf.events;
    bool state = ev & (1u << SOCK_OP_STATE);
    bool btf = options_.attach == "tp_btf" || (options_.attach == "auto" && host_.has_feature("tp_btf"));
    const char* state_kind = btf ? "tp_btf" : "tracepoint";
    if (state && !host_.has_feature(state_kind))
        throw Error(VIGIL_ERR_UNSUPPORTED,
                    fmt::format("attach = \"{}\": this kernel does not support {} programs", options_.attach, state_kind));

    skel_ = sensor__open();
    if (!skel_)
        throw Error(VIGIL_ERR_KERNEL, fmt::format("opening the socket sensor: {}", std::strerror(errno)));
    try {
        std::memcpy(const_cast<sock_sensor_config*>(&skel_->rodata->sensor_config), &options_.bpf,
                    sizeof options_.bpf);
        // Each operation's programs, loaded only when it is reported.
        struct OpProgs {
            uint32_t ops;
            std::vector<bpf_program*> progs;
        };
        auto* p = &skel_->progs;
        const OpProgs table[] = {
            {1u << SOCK_OP_CONNECT, {p->enter_connect, p->exit_connect}},
            {1u << SOCK_OP_ACCEPT, {p->enter_accept, p->exit_accept, p->enter_accept4, p->exit_accept4}},
            {1u << SOCK_OP_BIND, {p->enter_bind, p->exit_bind}},
            {1u << SOCK_OP_LISTEN, {p->enter_listen, p->exit_listen}},
            {1u << SOCK_OP_SENDTO, {p->enter_sendto, p->exit_sendto}},
            {1u << SOCK_OP_SENDMSG, {p->enter_sendmsg, p->exit_sendmsg}},
            {1u << SOCK_OP_SENDMMSG, {p->enter_sendmmsg, p->exit_sendmmsg}},
            {state && btf ? 1u << SOCK_OP_STATE : 0, {p->state_btf}},
            {state && !btf ? 1u << SOCK_OP_STATE : 0, {p->state_tp}},
        };
        std::vector<bpf_program*> used;
        for (const auto& t : table)
            for (bpf_program* prog : t.progs) {
                bool on = (ev & t.ops) != 0;
                bpf_program__set_autoload(prog, on);
                if (on)
                    used.push_back(prog);
            }
        if (int err = bpf_map__set_max_entries(skel_->maps.socket_events, options_.ring_bytes))
            throw Error(VIGIL_ERR_INVALID, fmt::format("ring buffer size: {}", std::strerror(-err)));
        sdk::reuse_shared_maps(skel_->obj, host_);
        if (int err = sensor__load(skel_))
            throw Error(VIGIL_ERR_KERNEL, fmt::format("loading the socket sensor: {}", std::strerror(-err)));
        host_.add_ring(bpf_map__fd(skel_->maps.socket_events), SOCK_RING_SENSOR);
        for (bpf_program* prog : used)
            links_.push_back(sdk::attach(prog, host_));
    } catch (...) {
        stop();
        throw;
    }
    host_.info(fmt::format("socket sensor attached ({} programs, state changes with {}, ring {} MiB)", links_.size(),
                           state ? state_kind : "none", options_.ring_bytes >> 20));
}

void Sensor::stop()
{
    links_.clear();
    if (skel_) {
        sensor__destroy(skel_);
        skel_ = nullptr;
    }
}

void Sensor::decode(std::span<const std::byte> rec, sdk::Emitter& out)
{
    auto r = parse_record(rec);
    if (!r)
        throw Error(VIGIL_ERR_INVALID, r.error());
    body_.clear();
    write_body(body_, *r);
    summary_ = summary(*r);
    vigil_event ev{};
    ev.struct_size = sizeof ev;
    ev.pid = r->pid;
    ev.tid = r->tid;
    ev.ktime = r->ktime;
    ev.proc_ktime = r->proc_ktime;
    ev.kind = "process_socket";
    ev.body_json = body_.str().data();
    ev.body_json_len = body_.str().size();
    ev.summary = summary_.data();
    ev.summary_len = summary_.size();
    out.emit(ev);
}

} // namespace vigil::socket
