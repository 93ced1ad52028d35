// The `connects` hook kind: one connect_hook BPF object per policy hook, its cgroup programs
// (connect4/6, and sendmsg4/6 unless datagrams: false) attached to the root of the cgroup v2
// hierarchy, the host-compiled selectors installed in its maps. Every hook object writes into
// one ring the plugin owns; records become process_connect events.
#pragma once

#include "records.h"

#include <vigil/plugin_abi.h>
#include <vigil/sdk/bpf.hpp>
#include <vigil/sdk/hook_event.hpp>
#include <vigil/sdk/json.hpp>
#include <vigil/sdk/plugin.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

struct connect_hook;

namespace vigil::socket {

class ConnectHooks {
public:
    explicit ConnectHooks(sdk::Host& host) : host_(host), ring_(host, "sock_hook_events", SOCK_RING_HOOKS) {}
    ~ConnectHooks() { reset(); }
    ConnectHooks(const ConnectHooks&) = delete;
    ConnectHooks& operator=(const ConnectHooks&) = delete;

    uint64_t add(const vigil_hook_request& req, vigil_hook_status& status);
    void remove(uint64_t handle);
    void set_mode(uint64_t handle, bool enforce);
    void stats(uint64_t handle, vigil_hook_stats& out) const;
    // Removes every hook and lets go of the ring (the host drops it when the plugin stops).
    void reset();

    // Turns one hook record into a process_connect event.
    void decode(std::span<const std::byte> rec, sdk::Emitter& out);

private:
    struct Hook {
        uint64_t handle = 0;
        std::string policy, message;
        std::vector<std::string> tags;
        std::string link_tag; // the host holds this hook's links under this tag
        ::connect_hook* skel = nullptr;
        std::vector<sdk::Link> links;
    };
    void destroy(Hook& h);
    const Hook& find(uint64_t handle) const;

    sdk::Host& host_;
    sdk::HookRing ring_;
    uint64_t next_handle_ = 1;
    std::map<uint64_t, std::unique_ptr<Hook>> hooks_;
    sdk::JsonWriter body_;
    std::string summary_;
};

} // namespace vigil::socket
