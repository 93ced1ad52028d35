#include "bpf/ring_pump.hpp"

#include "core/log.hpp"

#include <boost/asio/post.hpp>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vigil {

namespace {

struct QueuedHeader {
    uint32_t ring_id;
    uint32_t len;
};

size_t padded(size_t len) { return (len + 7) & ~size_t(7); }

// A queue buffer that grew for a burst is not kept at that size once it has been handed over.
constexpr size_t retained_capacity = 4u << 20;

void trim(std::vector<std::byte>& v)
{
    v.clear();
    if (v.capacity() > retained_capacity)
        std::vector<std::byte>().swap(v);
}

} // namespace

RingSet::RingSet(boost::asio::io_context& io, Handler handler, RingReaderOptions opts)
    : io_(io), handler_(std::move(handler)), opts_(opts)
{
}

RingSet::~RingSet()
{
    stop();
    *alive_ = false;
    if (rb_)
        ring_buffer__free(rb_);
}

namespace {
// What on_record returns to end a consume pass once it has taken a slice: libbpf has already
// moved past the record just taken. Without it, producers that keep up with the consumer would
// keep one pass (and the consume lock) going for ever.
constexpr int slice_taken = -EAGAIN;
} // namespace

int RingSet::on_record(void* ctx, void* data, size_t len)
{
    auto* c = static_cast<RingCtx*>(ctx);
    std::vector<std::byte>& b = c->self->batch_;
    bool last = ++c->self->pass_records_ >= max_records_per_drain;
    size_t at = b.size();
    b.resize(at + sizeof(QueuedHeader) + padded(len));
    QueuedHeader h{c->ring_id, static_cast<uint32_t>(len)};
    std::memcpy(b.data() + at, &h, sizeof h);
    std::memcpy(b.data() + at + sizeof h, data, len);
    return last ? slice_taken : 0;
}

Result<void> RingSet::add(int map_fd, uint32_t ring_id)
{
    int fd = ::fcntl(map_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return fail_errno(Errc::io, errno, "dup of ring buffer fd {}", map_fd);
    Fd owned(fd);
    // The reader must not consume while the set of rings changes.
    stop_reader();
    RingCtx& ctx = ctxs_.emplace_back(RingCtx{this, ring_id});
    if (!rb_) {
        rb_ = ring_buffer__new(fd, &RingSet::on_record, &ctx, nullptr);
        if (!rb_) {
            int err = errno;
            ctxs_.pop_back();
            return fail_errno(Errc::kernel, err, "ring buffer {}", ring_id);
        }
    } else if (int err = ring_buffer__add(rb_, fd, &RingSet::on_record, &ctx); err) {
        ctxs_.pop_back();
        (void)start_reader();
        return fail_errno(Errc::kernel, -err, "ring buffer {}", ring_id);
    }
    bpf_map_info info{};
    uint32_t info_len = sizeof info;
    if (bpf_obj_get_info_by_fd(owned.get(), &info, &info_len) == 0) {
        ring_bytes_ += info.max_entries;
        // The consumer and producer positions (a page each, before the data): the backlog the
        // reader finds. Without the mapping the fill is not sampled, nothing else changes.
        RingPositions& pos = positions_.emplace_back();
        pos.page_size = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
        pos.size = info.max_entries;
        void* p = ::mmap(nullptr, 2 * pos.page_size, PROT_READ, MAP_SHARED, owned.get(), 0);
        if (p == MAP_FAILED)
            positions_.pop_back();
        else
            pos.pages = p;
    }
    map_fds_.push_back(std::move(owned));
    return start_reader();
}

Result<void> RingSet::start_reader()
{
    if (!opts_.thread || !rb_ || stopped_ || reader_.joinable())
        return {};
    if (!epoll_.valid()) {
        Fd ep(::epoll_create1(EPOLL_CLOEXEC));
        if (!ep.valid())
            return fail_errno(Errc::kernel, errno, "ring reader: epoll_create1");
        Fd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        if (!wake.valid())
            return fail_errno(Errc::kernel, errno, "ring reader: eventfd");
        epoll_event rings{.events = EPOLLIN, .data = {.u32 = 0}};
        epoll_event stop{.events = EPOLLIN, .data = {.u32 = 1}};
        if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, ring_buffer__epoll_fd(rb_), &rings) != 0 ||
            ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, wake.get(), &stop) != 0)
            return fail_errno(Errc::kernel, errno, "ring reader: epoll_ctl");
        epoll_ = std::move(ep);
        wake_ = std::move(wake);
    }
    quit_ = false;
    reader_ = std::thread([this] { read_loop(); });
    return {};
}

void RingSet::stop_reader()
{
    if (!reader_.joinable())
        return;
    {
        std::lock_guard lk(queue_mu_);
        quit_ = true;
    }
    uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
    queue_space_.notify_all();
    reader_.join();
    uint64_t drained;
    (void)!::read(wake_.get(), &drained, sizeof drained);
}

void RingSet::read_loop()
{
    if (opts_.nice != 0 && ::setpriority(PRIO_PROCESS, 0, opts_.nice) != 0)
        log::get("plugins")->warn("ring reader: cannot set nice {} ({}); it keeps the agent's priority", opts_.nice,
                                  std::strerror(errno));
    auto tick = opts_.tick;
    bool more = false; // the last pass took a full slice: the ring may hold more right now
    for (;;) {
        epoll_event ev[2];
        int n = ::epoll_wait(epoll_.get(), ev, 2, more ? 0 : static_cast<int>(tick.count()));
        if (n < 0 && errno != EINTR)
            break;
        bool full;
        size_t before;
        {
            std::lock_guard lk(queue_mu_);
            if (quit_)
                return;
            before = queue_.size();
            full = before >= opts_.queue_limit;
        }
        if (full) {
            // The records stay in the ring (a full ring is counted by the programs) until the
            // io_context has taken the queue; the ring's readiness would spin epoll meanwhile.
            std::unique_lock lk(queue_mu_);
            queue_full_++;
            queue_space_.wait_for(lk, tick, [this] { return quit_ || queue_.size() < opts_.queue_limit; });
            continue;
        }
        bool got;
        {
            std::lock_guard lk(consume_mu_);
            got = consume_locked();
            more = pass_records_ >= max_records_per_drain;
        }
        tick = got ? opts_.tick : std::min(tick * 2, opts_.idle_tick);
    }
}

RingSet::RingPositions::~RingPositions()
{
    if (pages)
        ::munmap(pages, 2 * page_size);
}

uint64_t RingSet::RingPositions::backlog() const
{
    auto* base = static_cast<const char*>(pages);
    uint64_t cons = __atomic_load_n(reinterpret_cast<const uint64_t*>(base), __ATOMIC_ACQUIRE);
    uint64_t prod = __atomic_load_n(reinterpret_cast<const uint64_t*>(base + page_size), __ATOMIC_ACQUIRE);
    return prod > cons ? prod - cons : 0;
}

void RingSet::sample_fill()
{
    uint32_t peak = 0;
    for (const auto& pos : positions_)
        if (pos.size)
            peak = std::max<uint32_t>(peak, static_cast<uint32_t>(std::min<uint64_t>(pos.backlog(), pos.size) * 1000 / pos.size));
    if (peak) {
        std::lock_guard lk(queue_mu_);
        fill_peak_ = std::max(fill_peak_, peak);
    }
}

bool RingSet::consume_locked()
{
    sample_fill();
    batch_.clear();
    pass_records_ = 0;
    ring_buffer__consume(rb_);
    if (batch_.empty())
        return false;
    std::lock_guard lk(queue_mu_);
    if (queue_.empty() && queue_.capacity() <= batch_.capacity())
        queue_.swap(batch_);
    else
        queue_.insert(queue_.end(), batch_.begin(), batch_.end());
    queue_peak_ = std::max<uint64_t>(queue_peak_, queue_.size());
    if (opts_.thread && !delivery_posted_)
        post_delivery();
    trim(batch_);
    return true;
}

void RingSet::post_delivery()
{
    delivery_posted_ = true;
    boost::asio::post(io_, [this, alive = alive_] {
        if (!*alive)
            return;
        {
            std::lock_guard lk(queue_mu_);
            delivery_posted_ = false;
        }
        if (draining_)
            return;
        // Without a reader thread, what is left in the ring comes out on these continuations.
        if (opts_.thread)
            drain_queued();
        else
            drain();
    });
}

uint64_t RingSet::drain_queued()
{
    draining_ = true;
    uint64_t n = deliver(max_records_per_drain);
    draining_ = false;
    bool more;
    {
        std::lock_guard lk(queue_mu_);
        more = delivered_off_ < delivering_.size() || !queue_.empty() ||
               (!opts_.thread && pass_records_ >= max_records_per_drain);
        if (more && !stopped_ && !delivery_posted_)
            post_delivery();
    }
    return n;
}

uint64_t RingSet::deliver(uint64_t budget)
{
    uint64_t n = 0;
    while (n < budget) {
        if (delivered_off_ >= delivering_.size()) {
            trim(delivering_);
            delivered_off_ = 0;
            std::lock_guard lk(queue_mu_);
            if (queue_.empty())
                break;
            delivering_.swap(queue_);
            queue_space_.notify_all();
        }
        QueuedHeader h;
        std::memcpy(&h, delivering_.data() + delivered_off_, sizeof h);
        const std::byte* data = delivering_.data() + delivered_off_ + sizeof h;
        delivered_off_ += sizeof h + padded(h.len);
        records_++;
        n++;
        handler_(h.ring_id, data, h.len);
    }
    return n;
}

uint64_t RingSet::drain()
{
    if (!rb_ || draining_)
        return 0;
    {
        std::lock_guard lk(consume_mu_);
        consume_locked();
    }
    return drain_queued();
}

uint64_t RingSet::drain_for(std::chrono::milliseconds limit)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    uint64_t total = 0, n;
    do {
        n = drain();
        total += n;
    } while (n >= max_records_per_drain && std::chrono::steady_clock::now() < deadline);
    return total;
}

void RingSet::stop()
{
    if (stopped_)
        return;
    stopped_ = true;
    stop_reader();
    if (!rb_)
        return;
    // What the programs posted before now: out of the rings, then to the handler. Producers that
    // keep posting as fast as this drains would keep a stop going for ever: it ends after
    // stop_drain_limit, and what is still in the ring then goes with it (logged).
    auto deadline = std::chrono::steady_clock::now() + stop_drain_limit;
    for (;;) {
        {
            std::lock_guard lk(consume_mu_);
            consume_locked();
        }
        if (deliver(max_records_per_drain) == 0)
            break;
        if (std::chrono::steady_clock::now() > deadline) {
            uint64_t left = discard_queued();
            dropped_at_stop_ += left;
            log::get("plugins")->warn("ring drain at stop cut after {} ms: {} record(s) out of the ring but not "
                                      "decoded were dropped, and records were still arriving",
                                      stop_drain_limit.count(), left);
            break;
        }
    }
}

uint64_t RingSet::discard_queued()
{
    uint64_t n = 0;
    auto count = [&n](const std::vector<std::byte>& v, size_t off) {
        while (off + sizeof(QueuedHeader) <= v.size()) {
            QueuedHeader h;
            std::memcpy(&h, v.data() + off, sizeof h);
            off += sizeof h + padded(h.len);
            n++;
        }
    };
    std::lock_guard lk(queue_mu_);
    count(delivering_, delivered_off_);
    count(queue_, 0);
    trim(delivering_);
    delivered_off_ = 0;
    trim(queue_);
    return n;
}

RingSetStats RingSet::stats() const
{
    std::lock_guard lk(queue_mu_);
    return RingSetStats{.records = records_,
                        .queue_full = queue_full_,
                        .queued_bytes = queue_.size() + (delivering_.size() - delivered_off_),
                        .queue_peak = queue_peak_,
                        .dropped_at_stop = dropped_at_stop_,
                        .fill_peak_permille = fill_peak_};
}

} // namespace vigil
