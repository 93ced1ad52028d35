#include "sensor.hpp"

#include "sensor.skel.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace vigil::socket {

using sdk::Error;

Sensor::Sensor(sdk::Host& host, SensorOptions options)
    : host_(host), options_(std::move(options)), skel_(host, VIGIL_SKELETON(sensor), "socket sensor")
{
}

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

    skel_.start([&](::sensor& s) {
        std::memcpy(const_cast<sock_sensor_config*>(&s.rodata->sensor_config), &options_.bpf, sizeof options_.bpf);
        // Each operation's programs, loaded (and so attached) only when it is reported.
        struct OpProgs {
            uint32_t ops;
            std::vector<bpf_program*> progs;
        };
        auto* p = &s.progs;
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
        for (const auto& t : table)
            for (bpf_program* prog : t.progs)
                bpf_program__set_autoload(prog, (ev & t.ops) != 0);
        skel_.ring(s.maps.socket_events, SOCK_RING_SENSOR, options_.ring_bytes);
    });
    host_.info(fmt::format("socket sensor attached ({} programs, state changes with {}, ring {} MiB)", skel_.link_count(),
                           state ? state_kind : "none", options_.ring_bytes >> 20));
}

void Sensor::stop() { skel_.stop(); }

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
