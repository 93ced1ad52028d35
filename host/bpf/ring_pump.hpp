// Moves a plugin's BPF ring-buffer records into user space and hands them to the agent's
// io_context. Capture is kept apart from decoding: a reader thread of its own (at a raised
// scheduling priority when configured) copies records out of the ring into a bounded queue as
// soon as a program wakes it (vigil/bpf/emit.h) or its tick comes, and the io_context decodes
// them in ring order when it gets to them. A busy io_context (slow outputs, a host with every
// CPU taken) then costs latency, not events: the ring overflows only once the queue is full.
#pragma once

#include "core/error.hpp"
#include "core/fd.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

struct ring_buffer;

namespace vigil {

struct RingReaderOptions {
    // A thread that moves records out of the rings; without it, records leave the ring only
    // when drain() is called (tests that need a ring to stay full).
    bool thread = true;
    // Nice value of the reader thread (0: unchanged). A negative value needs CAP_SYS_NICE;
    // without it the thread keeps the agent's priority and says so once.
    int nice = 0;
    // Records waiting for the io_context, in bytes, past which the reader leaves them in the ring.
    size_t queue_limit = 256u << 20;
    // The reader's tick while records come; doubled on each idle tick up to idle_tick. Records
    // submitted without a wake-up wait at most this long.
    std::chrono::milliseconds tick{20};
    std::chrono::milliseconds idle_tick{160};
};

struct RingSetStats {
    uint64_t records = 0;     // handed to the handler
    uint64_t queue_full = 0;  // reader passes that left records in the ring: the queue was full
    uint64_t queued_bytes = 0; // waiting for the io_context now
    uint64_t queue_peak = 0;  // the most ever waiting, in bytes
    uint64_t dropped_at_stop = 0; // queued but not decoded when stop() ran out of time
    // The fullest a ring was seen, in per mille of its size: its backlog (written by the programs,
    // not yet consumed) each time the reader came to it. Near 1000 the ring was about to lose
    // records: it is too small for its bursts, or its reader is starved of CPU.
    uint32_t fill_peak_permille = 0;
};

class RingSet {
public:
    // Called for every record on the io_context thread, in ring order; a non-zero return is
    // counted by the caller, never stops the pump.
    using Handler = std::function<void(uint32_t ring_id, const void* data, size_t len)>;

    RingSet(boost::asio::io_context& io, Handler handler, RingReaderOptions opts = {});
    ~RingSet();
    RingSet(const RingSet&) = delete;
    RingSet& operator=(const RingSet&) = delete;

    // Adds the ring buffer map `map_fd` (dup'd here) and starts reading it.
    [[nodiscard]] Result<void> add(int map_fd, uint32_t ring_id);
    // Moves what the rings hold now into the queue and hands queued records to the handler, at
    // most max_records_per_drain of them: past that the rest is left for a continuation posted
    // to the io_context, so that a flood never keeps API writes, timers and signals waiting.
    // Returns how many were handed over. A drain called from inside one of this set's own
    // handlers does nothing (the records before the one being handled are out already).
    uint64_t drain();
    static constexpr uint64_t max_records_per_drain = 4096;
    // How long stop() and drain_for() keep draining producers that do not stop posting.
    static constexpr std::chrono::milliseconds stop_drain_limit{1000};
    // drain() until a slice comes back short or `limit` has passed; returns the records.
    uint64_t drain_for(std::chrono::milliseconds limit);
    // Stops the reader; records still in the rings and the queue are handed over first.
    void stop();

    uint64_t records() const { return records_; }
    RingSetStats stats() const;
    // Bytes of the ring buffers in the set.
    uint64_t ring_bytes() const { return ring_bytes_; }

private:
    struct RingCtx {
        RingSet* self;
        uint32_t ring_id;
    };
    // A read-only mapping of a ring's consumer and producer position pages.
    struct RingPositions {
        void* pages = nullptr;
        size_t page_size = 0;
        uint64_t size = 0; // the ring's data bytes
        ~RingPositions();
        uint64_t backlog() const;
    };
    // Samples each ring's backlog into fill_peak_ (the caller holds consume_mu_).
    void sample_fill();
    static int on_record(void* ctx, void* data, size_t len);
    [[nodiscard]] Result<void> start_reader();
    void stop_reader();
    void read_loop();
    // Consumes the rings into the queue (the caller holds consume_mu_); false when the queue
    // was full and the records stayed in the ring.
    bool consume_locked();
    // Hands queued records to the handler, at most `budget` of them.
    uint64_t deliver(uint64_t budget);
    // One slice of deliver(); posts the next slice while records are left.
    uint64_t drain_queued();
    void post_delivery(); // the caller holds queue_mu_
    // Drops what is queued and not delivered; returns how many records that was.
    uint64_t discard_queued();

    boost::asio::io_context& io_;
    Handler handler_;
    RingReaderOptions opts_;
    ring_buffer* rb_ = nullptr;
    std::list<RingCtx> ctxs_;
    std::list<Fd> map_fds_;
    std::list<RingPositions> positions_;
    uint32_t fill_peak_ = 0; // per mille, under queue_mu_

    // Consumers of the rings (the reader, or drain() on the io_context) take turns.
    std::mutex consume_mu_;
    std::vector<std::byte> batch_; // what one consume pass took, before it joins the queue
    uint64_t pass_records_ = 0;    // records of the consume pass under way

    // Records out of the rings, in order: [u32 ring_id][u32 len][bytes, padded to 8].
    mutable std::mutex queue_mu_;
    std::condition_variable queue_space_; // the io_context took the queue
    std::vector<std::byte> queue_;
    bool delivery_posted_ = false;
    uint64_t queue_full_ = 0;
    uint64_t queue_peak_ = 0;
    uint64_t dropped_at_stop_ = 0;

    // The io_context's side: the records taken from the queue and how far it has got.
    std::vector<std::byte> delivering_;
    size_t delivered_off_ = 0;

    std::thread reader_;
    Fd wake_;  // eventfd: stop the reader
    Fd epoll_; // the rings' epoll fd and wake_
    bool quit_ = false; // under queue_mu_

    uint64_t records_ = 0;
    uint64_t ring_bytes_ = 0;
    bool stopped_ = false;
    bool draining_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace vigil
