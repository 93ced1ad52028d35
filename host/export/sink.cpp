#include "export/sink.hpp"

#include "core/log.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

namespace vigil {

namespace {

constexpr size_t batch_bytes = 64u << 10;
constexpr auto check_interval = std::chrono::seconds(1);

uint64_t count_lines(std::string_view text) { return static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')); }

// Lines in `name` (in dir_fd), read before rotation deletes it; 0 when it is not there.
uint64_t count_file_lines(int dir_fd, const std::string& name)
{
    Fd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid())
        return 0;
    uint64_t n = 0;
    char buf[1 << 16];
    for (;;) {
        ssize_t r = ::read(fd.get(), buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return n;
        n += count_lines(std::string_view(buf, static_cast<size_t>(r)));
    }
}

sigset_t sigpipe_set()
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    return s;
}

} // namespace

// ---- QueuedSink ---------------------------------------------------------------------------

QueuedSink::QueuedSink(std::string name, size_t queue_bytes) : name_(std::move(name)), queue_bytes_(queue_bytes)
{
    stats_.name = name_;
}

QueuedSink::~QueuedSink() { close(std::chrono::seconds(2)); }

void QueuedSink::start()
{
    thread_ = std::thread([this] {
        // A write to a pipe without a reader raises SIGPIPE in the writing thread: blocked here it
        // stays pending (taken back on EPIPE), so the sink works whatever the process does with it.
        sigset_t pipe = sigpipe_set();
        pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
        run();
    });
}

void QueuedSink::write(std::string_view line)
{
    if (closed_.load(std::memory_order_relaxed))
        return;
    size_t need = line.size() + 1;
    if (queued_bytes_.load(std::memory_order_relaxed) + batch_.text.size() + need > queue_bytes_) {
        std::lock_guard lock(mu_);
        stats_.lost["queue_full"]++;
        return;
    }
    batch_.text.append(line);
    batch_.text += '\n';
    batch_.lines++;
    if (batch_.text.size() >= batch_bytes)
        flush();
}

void QueuedSink::flush()
{
    if (batch_.text.empty())
        return;
    {
        std::lock_guard lock(mu_);
        if (!thread_.joinable() || stop_) {
            stats_.lost["stop"] += batch_.lines;
            batch_ = {};
            return;
        }
        queued_bytes_.fetch_add(batch_.text.size(), std::memory_order_relaxed);
        queue_.push_back(std::move(batch_));
    }
    batch_ = {};
    cv_.notify_one();
}

void QueuedSink::reopen()
{
    {
        std::lock_guard lock(mu_);
        reopen_ = true;
    }
    cv_.notify_one();
}

void QueuedSink::close(std::chrono::milliseconds budget)
{
    flush();
    if (!thread_.joinable())
        return;
    {
        std::lock_guard lock(mu_);
        stop_ = true;
        deadline_ = std::chrono::steady_clock::now() + budget;
    }
    cv_.notify_one();
    thread_.join();
}

std::optional<SinkStats> QueuedSink::stats() const
{
    std::lock_guard lock(mu_);
    SinkStats s = stats_;
    s.closed = closed_.load(std::memory_order_relaxed);
    return s;
}

void QueuedSink::run()
{
    auto next_check = std::chrono::steady_clock::now() + check_interval;
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait_until(lock, next_check, [&] { return !queue_.empty() || stop_ || reopen_; });
        if (reopen_) {
            reopen_ = false;
            lock.unlock();
            do_reopen();
            lock.lock();
        }
        if (auto now = std::chrono::steady_clock::now(); now >= next_check) {
            next_check = now + check_interval;
            lock.unlock();
            check();
            lock.lock();
        }
        if (queue_.empty()) {
            if (stop_)
                return;
            continue;
        }
        Batch b = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        if (closed_.load(std::memory_order_relaxed))
            count_lost("closed", b.lines);
        else if (giving_up())
            count_lost("stop", b.lines);
        else
            write_batch(b.text, b.lines);
        queued_bytes_.fetch_sub(b.text.size(), std::memory_order_relaxed);
        lock.lock();
    }
}

bool QueuedSink::giving_up() const
{
    std::lock_guard lock(mu_);
    return stop_ && std::chrono::steady_clock::now() >= deadline_;
}

void QueuedSink::count_written(uint64_t lines)
{
    std::lock_guard lock(mu_);
    stats_.written += lines;
}

void QueuedSink::count_lost(const char* reason, uint64_t lines)
{
    if (!lines)
        return;
    std::lock_guard lock(mu_);
    stats_.lost[reason] += lines;
}

void QueuedSink::count_error(std::string message)
{
    std::lock_guard lock(mu_);
    stats_.write_errors++;
    stats_.last_error = std::move(message);
}

void QueuedSink::count_rotation(uint64_t rotated_away)
{
    std::lock_guard lock(mu_);
    stats_.rotations++;
    stats_.rotated_away += rotated_away;
}

void QueuedSink::count_reopen()
{
    std::lock_guard lock(mu_);
    stats_.reopens++;
}

// ---- StreamSink ---------------------------------------------------------------------------

Result<std::unique_ptr<StreamSink>> StreamSink::make(int fd, std::string name, size_t queue_bytes)
{
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return fail_errno(Errc::io, errno, "{} (fd {})", name, fd);
    std::unique_ptr<StreamSink> s(new StreamSink(std::move(name), queue_bytes));
    s->socket_ = S_ISSOCK(st.st_mode);
    if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
        s->fd_.reset(::open(fmt::format("/proc/self/fd/{}", fd).c_str(),
                            O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    // A socket is written with MSG_DONTWAIT; a regular file blocks only on its disk. A pipe
    // without a reader cannot be opened again: its first write says EPIPE.
    if (!s->fd_.valid())
        s->fd_.reset(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!s->fd_.valid())
        return fail_errno(Errc::io, errno, "{}: dup", s->name());
    s->start();
    return s;
}

StreamSink::~StreamSink() { close(std::chrono::seconds(2)); }

void StreamSink::write_batch(std::string_view text, uint64_t lines)
{
    size_t off = 0;
    int err = 0;
    while (off < text.size()) {
        ssize_t n = socket_ ? ::send(fd_.get(), text.data() + off, text.size() - off, MSG_DONTWAIT | MSG_NOSIGNAL)
                            : ::write(fd_.get(), text.data() + off, text.size() - off);
        if (n >= 0) {
            off += static_cast<size_t>(n);
            continue;
        }
        err = errno;
        if (err == EINTR)
            continue;
        if (err != EAGAIN)
            break;
        err = 0;
        if (giving_up())
            break;
        pollfd p{fd_.get(), POLLOUT, 0};
        ::poll(&p, 1, 200);
    }
    uint64_t done = count_lines(text.substr(0, off));
    count_written(done);
    if (done == lines)
        return;
    if (err == EPIPE || err == ECONNRESET) {
        sigset_t pipe = sigpipe_set();
        timespec now{};
        ::sigtimedwait(&pipe, nullptr, &now);
        mark_closed();
        count_lost("closed", lines - done);
        log::get("export")->warn("{}: its reader closed it; events are no longer written there", name());
    } else if (err) {
        count_lost("write_error", lines - done);
        count_error(fmt::format("writing {}: {}", name(), std::strerror(err)));
    } else
        count_lost("stop", lines - done);
}

// ---- RotatingFileSink ---------------------------------------------------------------------

RotatingFileSink::RotatingFileSink(FileSinkOptions opts) : QueuedSink(opts.path, opts.queue_bytes), opts_(std::move(opts))
{
    std::filesystem::path p(opts_.path);
    dir_ = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
    base_ = p.filename().string();
    rotated_lines_.resize(size_t{opts_.max_files} + 1);
}

Result<std::unique_ptr<RotatingFileSink>> RotatingFileSink::make(FileSinkOptions opts)
{
    std::unique_ptr<RotatingFileSink> s(new RotatingFileSink(std::move(opts)));
    if (s->base_.empty() || s->base_ == "." || s->base_ == "..")
        return fail(Errc::invalid_input, "export file {}: names a directory, not a file", s->opts_.path);
    std::error_code ec;
    std::filesystem::create_directories(s->dir_, ec);
    if (auto r = s->open(); !r)
        return std::unexpected(r.error());
    s->start();
    return s;
}

RotatingFileSink::~RotatingFileSink() { close(std::chrono::seconds(2)); }

Result<void> RotatingFileSink::open()
{
    fd_.reset();
    auto dir = open_trusted_dir(dir_, "refusing to write events in it");
    if (!dir)
        return std::unexpected(dir.error());
    dir_fd_ = std::move(*dir);
    auto f = open_trusted_output(dir_fd_.get(), dir_, base_, opts_.mode);
    if (!f)
        return std::unexpected(f.error());
    fd_ = std::move(f->fd);
    size_ = static_cast<uint64_t>(f->st.st_size);
    lines_ = size_ == 0 ? std::optional<uint64_t>(0) : std::nullopt;
    return {};
}

void RotatingFileSink::do_reopen()
{
    // Whoever renamed the file may have shifted the rotated ones too: count them when deleted.
    std::fill(rotated_lines_.begin(), rotated_lines_.end(), std::nullopt);
    if (auto r = open(); !r) {
        count_error(r.error().message());
        log::get("export")->error("{}; events for it are lost until it can be opened", r.error().message());
        failing_ = true;
        return;
    }
    count_reopen();
    failing_ = false;
    log::get("export")->info("opened {} again", opts_.path);
}

void RotatingFileSink::check()
{
    if (!fd_.valid()) {
        if (auto r = open(); r) {
            count_reopen();
            failing_ = false;
            log::get("export")->info("{} can be written again", opts_.path);
        }
        return;
    }
    struct stat dir_st {}, file_st {}, by_name {};
    if (::fstat(dir_fd_.get(), &dir_st) == 0 && dir_st.st_nlink == 0) {
        fd_.reset();
        dir_fd_.reset();
        count_error(fmt::format("{}: directory deleted", dir_.string()));
        log::get("export")->error("the directory of {} was deleted; events for it are lost until it is back",
                                  opts_.path);
        failing_ = true;
        return;
    }
    if (::fstat(fd_.get(), &file_st) != 0)
        return;
    if (static_cast<uint64_t>(file_st.st_size) != size_)
        lines_.reset(); // someone truncated it (copytruncate) or wrote to it
    size_ = static_cast<uint64_t>(file_st.st_size);
    if (file_st.st_nlink == 0 || ::fstatat(dir_fd_.get(), base_.c_str(), &by_name, AT_SYMLINK_NOFOLLOW) != 0 ||
        by_name.st_ino != file_st.st_ino || by_name.st_dev != file_st.st_dev) {
        log::get("export")->warn("{} was renamed or deleted; opening it again", opts_.path);
        do_reopen();
    }
}

void RotatingFileSink::rotate()
{
    fd_.reset();
    auto rotated = [&](uint32_t i) { return fmt::format("{}.{}", base_, i); };
    std::string oldest = rotated(opts_.max_files);
    // Read the file only when its lines are not known (it predates this sink, or was touched).
    auto& known = rotated_lines_[opts_.max_files];
    uint64_t away = known ? *known : count_file_lines(dir_fd_.get(), oldest);
    ::unlinkat(dir_fd_.get(), oldest.c_str(), 0);
    for (uint32_t i = opts_.max_files; i > 1; --i) {
        ::renameat(dir_fd_.get(), rotated(i - 1).c_str(), dir_fd_.get(), rotated(i).c_str());
        rotated_lines_[i] = rotated_lines_[i - 1];
    }
    rotated_lines_[1] = lines_;
    if (::renameat(dir_fd_.get(), base_.c_str(), dir_fd_.get(), rotated(1).c_str()) != 0) {
        // Gone (renamed by someone else): path.1 is now nothing; otherwise it is not known.
        if (errno == ENOENT)
            rotated_lines_[1] = 0;
        else {
            count_error(fmt::format("rotating {}: {}", opts_.path, std::strerror(errno)));
            rotated_lines_[1].reset();
        }
    }
    count_rotation(away);
    if (auto r = open(); !r) {
        count_error(r.error().message());
        log::get("export")->error("{}; events for it are lost until it can be opened", r.error().message());
        failing_ = true;
    }
}

uint64_t RotatingFileSink::append(std::string_view text, uint64_t lines)
{
    size_t off = 0;
    int err = 0;
    while (off < text.size()) {
        ssize_t n = ::write(fd_.get(), text.data() + off, text.size() - off);
        if (n > 0) {
            off += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        err = n < 0 ? errno : EIO;
        break;
    }
    if (off == text.size()) {
        size_ += off;
        if (lines_)
            *lines_ += lines;
        count_written(lines);
        if (failing_) {
            failing_ = false;
            log::get("export")->info("writing {} again", opts_.path);
        }
        return lines;
    }
    // A line is whole or absent: cut the file back to the end of the last whole line.
    size_t whole = off == 0 ? 0 : text.rfind('\n', off - 1) + 1;
    struct stat st {};
    if (off > whole && ::fstat(fd_.get(), &st) == 0)
        (void)::ftruncate(fd_.get(), st.st_size - static_cast<off_t>(off - whole));
    size_ = ::fstat(fd_.get(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : size_ + whole;
    uint64_t done = count_lines(text.substr(0, whole));
    if (lines_)
        *lines_ += done;
    count_written(done);
    count_lost("write_error", lines - done);
    std::string message = fmt::format("writing {}: {}", opts_.path, std::strerror(err));
    if (!failing_) {
        failing_ = true;
        log::get("export")->error("{}; events for it are lost (counted) until writes succeed again", message);
    }
    count_error(std::move(message));
    return done;
}

void RotatingFileSink::write_batch(std::string_view text, uint64_t lines)
{
    if (std::chrono::steady_clock::now() >= next_check_) {
        next_check_ = std::chrono::steady_clock::now() + check_interval;
        check();
    }
    size_t start = 0, pos = 0;
    uint64_t run = 0, done = 0;
    while (pos < text.size() && fd_.valid()) {
        size_t len = text.find('\n', pos) + 1 - pos;
        uint64_t pending = size_ + (pos - start);
        if (pending + len > opts_.max_bytes && pending > 0) {
            if (pos > start)
                append(text.substr(start, pos - start), run);
            done += run;
            start = pos;
            run = 0;
            rotate();
            continue;
        }
        pos += len;
        run++;
    }
    if (!fd_.valid()) {
        count_lost("no_file", lines - done);
        return;
    }
    append(text.substr(start), run);
}

} // namespace vigil
