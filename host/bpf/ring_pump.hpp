// Drains a plugin's BPF ring buffers on the agent's io_context: the rings' epoll fd is watched by
// Asio (a BPF program wakes it when a ring fills up, vigil/bpf/emit.h), and the owner calls
// drain() on its timer (PluginRegistry), so programs may submit without waking us per record.
#pragma once

#include "core/error.hpp"
#include "core/fd.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <cstdint>
#include <functional>
#include <list>
#include <memory>

struct ring_buffer;

namespace vigil {

class RingSet {
public:
    // Called for every record; a non-zero return is counted by the caller, never stops the pump.
    using Handler = std::function<void(uint32_t ring_id, const void* data, size_t len)>;

    RingSet(boost::asio::io_context& io, Handler handler);
    ~RingSet();
    RingSet(const RingSet&) = delete;
    RingSet& operator=(const RingSet&) = delete;

    // Adds the ring buffer map `map_fd` (dup'd here) and starts watching it.
    [[nodiscard]] Result<void> add(int map_fd, uint32_t ring_id);
    // Consumes the records available now, at most max_records_per_drain of them: past that the
    // rest is left for a continuation posted to the io_context, so that a flood of records
    // never keeps API writes, timers and signals waiting. Returns how many were consumed. A
    // drain called from inside one of this set's own record handlers does nothing (libbpf
    // would hand out the same record again).
    uint64_t drain();
    static constexpr uint64_t max_records_per_drain = 4096;
    // Stops watching; records still in the rings are drained first.
    void stop();

    uint64_t records() const { return records_; }

private:
    struct RingCtx {
        RingSet* self;
        uint32_t ring_id;
    };
    static int on_record(void* ctx, void* data, size_t len);
    void arm_wait();

    boost::asio::io_context& io_;
    Handler handler_;
    ring_buffer* rb_ = nullptr;
    std::unique_ptr<boost::asio::posix::stream_descriptor> watch_;
    std::list<RingCtx> ctxs_;
    std::list<Fd> map_fds_;
    uint64_t records_ = 0;
    bool stopped_ = false;
    bool draining_ = false;
    bool continuation_posted_ = false;
    uint64_t slice_ = 0; // records consumed by the drain under way

    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace vigil
