// The tracepoint plugin: the process lifecycle sensor (exec/fork/exit from sched tracepoints).
#include "records.h"
#include "process.skel.h"

#include <vigil/sdk/bpf.hpp>
#include <vigil/sdk/plugin.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <vector>

static_assert(sizeof(tp_exec_record) == 8 + 8 + 8 + 6 * 4 + VIGIL_BINARY_MAX);
static_assert(offsetof(tp_exec_record, filename) == 48);

namespace {

const char* const event_kinds[] = {"process_exec"};
const vigil_map_use shared[] = {
    {sizeof(vigil_map_use), VIGIL_PROCS_MAP, VIGIL_PROCS_LAYOUT},
    {sizeof(vigil_map_use), VIGIL_ERRORS_MAP, VIGIL_ERRORS_LAYOUT},
};

class TracepointPlugin {
public:
    static const vigil_descriptor& descriptor()
    {
        static const vigil_descriptor d = [] {
            vigil_descriptor x{};
            x.struct_size = sizeof x;
            x.abi_major = VIGIL_ABI_MAJOR;
            x.min_host_minor = 0;
            x.id = "tracepoint";
            x.name = "Tracepoint sensors";
            x.version = "0.1.0";
            x.description = "Process lifecycle sensor on the sched tracepoints";
            x.license = "GPL-2.0-only";
            x.event_kinds = event_kinds;
            x.event_kind_count = 1;
            x.shared_maps = shared;
            x.shared_map_count = 2;
            return x;
        }();
        return d;
    }

    TracepointPlugin(vigil::sdk::Host& host, const vigil::sdk::Config&) : host_(host) {}
    ~TracepointPlugin() { stop(); }

    void start()
    {
        skel_ = process__open();
        if (!skel_)
            throw vigil::sdk::Error(VIGIL_ERR_KERNEL, fmt::format("opening process sensor: {}", std::strerror(errno)));
        vigil::sdk::reuse_shared_maps(skel_->obj, host_);
        if (int err = process__load(skel_))
            throw vigil::sdk::Error(VIGIL_ERR_KERNEL, fmt::format("loading process sensor: {}", std::strerror(-err)));
        host_.add_ring(bpf_map__fd(skel_->maps.process_events), TP_RING_PROCESS);
        links_.push_back(vigil::sdk::attach(skel_->progs.tp_exec, host_));
    }

    void stop()
    {
        links_.clear();
        if (skel_) {
            process__destroy(skel_);
            skel_ = nullptr;
        }
    }

    void decode(uint32_t ring_id, std::span<const std::byte> rec, vigil::sdk::Emitter& out)
    {
        if (ring_id != TP_RING_PROCESS)
            throw vigil::sdk::Error(VIGIL_ERR_INVALID, fmt::format("unknown ring {}", ring_id));
        if (rec.size() < sizeof(tp_record_header))
            throw vigil::sdk::Error(VIGIL_ERR_INVALID, fmt::format("record of {} bytes is too short", rec.size()));
        tp_record_header hdr;
        std::memcpy(&hdr, rec.data(), sizeof hdr);
        switch (hdr.kind) {
        case TP_REC_EXEC:
            return decode_exec(rec, out);
        default:
            throw vigil::sdk::Error(VIGIL_ERR_INVALID, fmt::format("unknown record kind {}", hdr.kind));
        }
    }

private:
    void decode_exec(std::span<const std::byte> rec, vigil::sdk::Emitter& out)
    {
        if (rec.size() < sizeof(tp_exec_record))
            throw vigil::sdk::Error(VIGIL_ERR_INVALID,
                                    fmt::format("exec record of {} bytes, expected {}", rec.size(),
                                                sizeof(tp_exec_record)));
        tp_exec_record r;
        std::memcpy(&r, rec.data(), sizeof r);
        size_t len = std::min<size_t>(r.filename_len, sizeof r.filename - 1);

        vigil_process_update u{};
        u.struct_size = sizeof u;
        u.op = VIGIL_PROC_EXEC;
        u.pid = r.pid;
        u.tid = r.tid;
        u.ktime = r.ktime;
        u.ppid = r.ppid;
        u.parent_ktime = r.parent_ktime;
        u.uid = r.uid;
        u.flags = r.flags;
        u.binary = r.filename;
        u.binary_len = len;

        summary_ = std::string_view(r.filename, len);
        vigil_event ev{};
        ev.struct_size = sizeof ev;
        ev.pid = r.pid;
        ev.tid = r.tid;
        ev.ktime = r.ktime;
        ev.proc_ktime = r.ktime;
        ev.kind = "process_exec";
        ev.summary = summary_.data();
        ev.summary_len = summary_.size();
        ev.process = &u;
        out.emit(ev);
    }

    vigil::sdk::Host& host_;
    process* skel_ = nullptr;
    std::vector<vigil::sdk::Link> links_;
    std::string summary_;
};

} // namespace

VIGIL_PLUGIN(TracepointPlugin)
