// Builds the vigil_event a decode() hands to the host: kind, process, time, body members, summary,
// and a second process the event is about. The body is written into the caller's JsonWriter, the
// decode scratch of its ring (see vigil_plugin_api.decode), so nothing is allocated per event.
//
//   vigil::sdk::Event ev(body_, "signal_send");
//   ev.process(r.pid, r.tid, r.proc_ktime).at(r.ktime).other_process("target", r.target_pid);
//   ev.member("signal", r.sig).summary(summary_);
//   out.emit(ev.done());
#pragma once

#include <vigil/plugin_abi.h>
#include <vigil/sdk/json.hpp>

#include <cstdint>
#include <string_view>

namespace vigil::sdk {

class Event {
public:
    // `kind` is one of the descriptor's event_kinds (a literal: it must outlive the emit call).
    Event(JsonWriter& body, const char* kind) : body_(body)
    {
        body_.clear();
        ev_.struct_size = sizeof ev_;
        ev_.kind = kind;
    }

    // The process (thread group) the event is about; proc_ktime its exec ktime when the BPF side
    // read it (vigil/bpf/process.h), else 0 and the host takes the live process of that pid.
    Event& process(uint32_t pid, uint32_t tid = 0, uint64_t proc_ktime = 0)
    {
        ev_.pid = pid;
        ev_.tid = tid ? tid : pid;
        ev_.proc_ktime = proc_ktime;
        return *this;
    }
    // When it happened, boot-time ns (bpf_ktime_get_boot_ns()).
    Event& at(uint64_t ktime)
    {
        ev_.ktime = ktime;
        return *this;
    }
    // A second process, written by the host as a full process object (exec_id, binary, ...)
    // under `key` ([a-z_]{1,32}, not one of process/parent/ancestors/time/node_name). Needs host
    // ABI 1.2: declare min_host_minor = 2.
    Event& other_process(const char* key, uint32_t pid, uint64_t proc_ktime = 0)
    {
        ev_.other_key = key;
        ev_.other_pid = pid;
        ev_.other_proc_ktime = proc_ktime;
        return *this;
    }
    // One member of the event body.
    template <class V>
    Event& member(std::string_view key, const V& value)
    {
        body_.member(key, value);
        return *this;
    }
    // The writer itself, for nested objects and arrays.
    JsonWriter& body() { return body_; }
    // Short human text for compact output; must stay valid until the emit call returns.
    Event& summary(std::string_view text)
    {
        ev_.summary = text.data();
        ev_.summary_len = text.size();
        return *this;
    }
    Event& policy(const char* name)
    {
        ev_.policy_name = name;
        return *this;
    }

    // The finished event, valid until the body writer is written again.
    const vigil_event& done()
    {
        ev_.body_json = body_.str().data();
        ev_.body_json_len = body_.str().size();
        return ev_;
    }

private:
    JsonWriter& body_;
    vigil_event ev_{};
};

} // namespace vigil::sdk
