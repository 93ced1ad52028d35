#include "api/jq_worker.hpp"

#include "api/protocol.hpp"
#include "core/fd.hpp"

#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

extern char** environ;

namespace vigil::api {

namespace asio = boost::asio;

namespace {

constexpr size_t write_batch = 64;
// How long a worker may take to start and compile its program (a slow, loaded host or an
// emulated one); the time budget applies from then on.
constexpr auto startup_limit = std::chrono::seconds(10);

} // namespace

std::filesystem::path default_jq_worker_path()
{
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto beside = self.parent_path() / "vigil-jq-worker";
        if (std::filesystem::exists(beside, ec))
            return beside;
    }
    return VIGIL_JQ_WORKER_INSTALLED;
}

JqWorker::JqWorker(asio::io_context& io, JqBudget budget, Pass pass, Failed failed)
    : sock_(io), deadline_(io), budget_(budget), pass_(std::move(pass)), failed_(std::move(failed))
{
}

Result<std::shared_ptr<JqWorker>> JqWorker::start(asio::io_context& io, const std::filesystem::path& exe,
                                                  const std::string& expression, JqBudget budget, Pass pass,
                                                  Failed failed)
{
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return fail_errno(Errc::io, errno, "socketpair for the jq worker");
    Fd ours(sv[0]), theirs(sv[1]);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, theirs.get(), 0);
    posix_spawn_file_actions_adddup2(&fa, theirs.get(), 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    // The worker starts with default signal dispositions whatever vigild ignores or blocks.
    posix_spawnattr_t sa;
    posix_spawnattr_init(&sa);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&sa, &none);
    posix_spawnattr_setsigdefault(&sa, &all);
    posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::string mem = std::to_string(budget.memory_mb);
    std::string path = exe.string();
    char* argv[] = {path.data(), mem.data(), nullptr};
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, path.c_str(), &fa, &sa, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&sa);
    if (rc != 0)
        return fail_errno(Errc::io, rc, "starting the jq worker {}", path);

    std::shared_ptr<JqWorker> w(new JqWorker(io, budget, std::move(pass), std::move(failed)));
    w->pid_ = pid;
    boost::system::error_code ec;
    w->sock_.assign(asio::local::stream_protocol(), ours.release(), ec);
    if (ec) {
        w->stop();
        return vigil::fail(Errc::io, "jq worker socket: {}", ec.message());
    }
    auto expr = std::make_shared<const std::string>(expression);
    w->out_.push_back(Out{encode_length(static_cast<uint32_t>(expr->size())), expr});
    w->write_more();
    w->read_more();
    w->arm_deadline();
    return w;
}

JqWorker::~JqWorker() { stop(); }

void JqWorker::submit(std::shared_ptr<const std::string> event)
{
    if (stopped_)
        return;
    if (pending_.empty() && ready_)
        head_since_ = std::chrono::steady_clock::now();
    pending_.push_back(event);
    out_.push_back(Out{encode_length(static_cast<uint32_t>(event->size())), std::move(event)});
    write_more();
    arm_deadline();
}

void JqWorker::write_more()
{
    if (in_flight_ || out_.empty() || stopped_)
        return;
    batch_.clear();
    for (auto& o : out_) {
        if (in_flight_ == write_batch)
            break;
        batch_.emplace_back(asio::buffer(o.len));
        batch_.emplace_back(asio::buffer(*o.body));
        in_flight_++;
    }
    asio::async_write(sock_, batch_, [self = shared_from_this()](boost::system::error_code ec, size_t) {
        if (self->stopped_)
            return;
        for (size_t i = 0; i < self->in_flight_; ++i)
            self->out_.pop_front();
        self->in_flight_ = 0;
        if (ec)
            return; // the read side sees the worker go and says why
        self->write_more();
    });
}

void JqWorker::read_more()
{
    if (reading_ || stopped_)
        return;
    reading_ = true;
    sock_.async_read_some(asio::buffer(in_), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
        self->reading_ = false;
        if (self->stopped_)
            return;
        if (ec) {
            self->fail(self->exit_reason());
            return;
        }
        self->on_verdicts(self->in_.data(), n);
        self->read_more();
    });
}

void JqWorker::on_verdicts(const char* p, size_t n)
{
    for (size_t i = 0; i < n && !stopped_; ++i) {
        if (!ready_) {
            if (p[i] != 'R') {
                fail("the jq worker did not start properly");
                return;
            }
            ready_ = true;
            head_since_ = std::chrono::steady_clock::now();
            continue;
        }
        if (pending_.empty()) {
            fail("the jq worker answered an event it was not sent");
            return;
        }
        auto ev = std::move(pending_.front());
        pending_.pop_front();
        head_since_ = std::chrono::steady_clock::now();
        if (p[i] == '1')
            pass_(ev);
        else if (p[i] != '0')
            errors_++;
    }
    arm_deadline();
}

void JqWorker::arm_deadline()
{
    if (stopped_)
        return;
    if (!ready_) {
        deadline_.expires_at(started_ + startup_limit);
        deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec && !self->stopped_ && !self->ready_)
                self->fail(fmt::format("the jq worker did not start within {} s",
                                       std::chrono::duration_cast<std::chrono::seconds>(startup_limit).count()));
        });
        return;
    }
    if (pending_.empty()) {
        deadline_.cancel();
        return;
    }
    deadline_.expires_at(head_since_ + budget_.time);
    deadline_.async_wait([self = shared_from_this(), head = pending_.front().get()](boost::system::error_code ec) {
        if (ec || self->stopped_ || self->pending_.empty() || self->pending_.front().get() != head)
            return;
        self->fail(fmt::format("the jq filter exceeded its time budget of {} ms on one event",
                               self->budget_.time.count()));
    });
}

std::string JqWorker::exit_reason()
{
    int status = 0;
    pid_t pid = std::exchange(pid_, -1);
    if (pid <= 0 || ::waitpid(pid, &status, 0) != pid)
        return "the jq worker exited";
    if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
        return fmt::format("the jq filter exceeded its memory budget of {} MiB", budget_.memory_mb);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT)
        return fmt::format("the jq filter exceeded its memory budget of {} MiB (the worker aborted)",
                           budget_.memory_mb);
    if (WIFSIGNALED(status))
        return fmt::format("the jq worker was killed by signal {}", WTERMSIG(status));
    return fmt::format("the jq worker exited with status {}", WEXITSTATUS(status));
}

void JqWorker::fail(std::string reason)
{
    if (stopped_)
        return;
    Failed cb = std::move(failed_);
    stop();
    if (cb)
        cb(reason);
}

void JqWorker::stop()
{
    if (stopped_)
        return;
    stopped_ = true;
    pass_ = nullptr;
    failed_ = nullptr;
    deadline_.cancel();
    boost::system::error_code ec;
    sock_.close(ec);
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    pending_.clear();
}

} // namespace vigil::api
