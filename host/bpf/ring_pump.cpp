#include "bpf/ring_pump.hpp"

#include <boost/asio/post.hpp>
#include <bpf/libbpf.h>
#include <fcntl.h>

#include <cerrno>

namespace vigil {

RingSet::RingSet(boost::asio::io_context& io, Handler handler) : io_(io), handler_(std::move(handler)) {}

RingSet::~RingSet()
{
    stop();
    *alive_ = false;
    if (watch_)
        watch_->release(); // the epoll fd belongs to the ring_buffer
    if (rb_)
        ring_buffer__free(rb_);
}

namespace {
// What on_record returns to stop ring_buffer__consume once a drain has used its budget; libbpf
// has already moved past the record just handled.
constexpr int budget_spent = -EAGAIN;
} // namespace

int RingSet::on_record(void* ctx, void* data, size_t len)
{
    auto* c = static_cast<RingCtx*>(ctx);
    RingSet* self = c->self;
    self->records_++;
    self->handler_(c->ring_id, data, len);
    return ++self->slice_ >= max_records_per_drain ? budget_spent : 0;
}

Result<void> RingSet::add(int map_fd, uint32_t ring_id)
{
    int fd = ::fcntl(map_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return fail_errno(Errc::io, errno, "dup of ring buffer fd {}", map_fd);
    Fd owned(fd);
    RingCtx& ctx = ctxs_.emplace_back(RingCtx{this, ring_id});
    if (!rb_) {
        rb_ = ring_buffer__new(fd, &RingSet::on_record, &ctx, nullptr);
        if (!rb_) {
            int err = errno;
            ctxs_.pop_back();
            return fail_errno(Errc::kernel, err, "ring buffer {}", ring_id);
        }
        watch_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, ring_buffer__epoll_fd(rb_));
        arm_wait();
    } else if (int err = ring_buffer__add(rb_, fd, &RingSet::on_record, &ctx); err) {
        ctxs_.pop_back();
        return fail_errno(Errc::kernel, -err, "ring buffer {}", ring_id);
    }
    map_fds_.push_back(std::move(owned));
    return {};
}

void RingSet::arm_wait()
{
    watch_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [this, alive = alive_](const boost::system::error_code& ec) {
                           if (ec || !*alive || stopped_)
                               return;
                           drain();
                           arm_wait();
                       });
}

uint64_t RingSet::drain()
{
    if (!rb_ || draining_)
        return 0;
    draining_ = true;
    slice_ = 0;
    int rc = ring_buffer__consume(rb_);
    draining_ = false;
    if (rc == budget_spent && !stopped_ && !continuation_posted_) {
        continuation_posted_ = true;
        boost::asio::post(io_, [this, alive = alive_] {
            if (!*alive)
                return;
            continuation_posted_ = false;
            if (!stopped_)
                drain();
        });
    }
    return slice_;
}

void RingSet::stop()
{
    if (stopped_)
        return;
    stopped_ = true;
    while (drain() >= max_records_per_drain) // everything left, a budget at a time
        ;
    boost::system::error_code ec;
    if (watch_)
        watch_->cancel(ec);
}

} // namespace vigil
