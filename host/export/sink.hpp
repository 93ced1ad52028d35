// Where formatted events go: stdout (compact or JSON lines) and JSON files with size-based
// rotation. The io_context thread only appends lines to a bounded queue; each output has a writer
// thread of its own, so a reader that stops reading or a disk that fills costs that output's
// events (counted, by reason), never the agent's loop.
#pragma once

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/trusted_file.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace vigil {

// What happened to the lines given to one output.
struct SinkStats {
    std::string name;                     // "stdout", or the file's path
    uint64_t written = 0;                 // lines written whole
    std::map<std::string, uint64_t> lost; // lines lost, by reason (queue_full, write_error, closed, no_file, stop)
    uint64_t write_errors = 0;            // failed write, open or rotation calls
    std::string last_error;               // the last of them, with its errno
    uint64_t rotations = 0;
    uint64_t rotated_away = 0; // lines in rotated files that rotation deleted
    uint64_t reopens = 0;      // SIGHUP, or the file found renamed or deleted
    bool closed = false;       // its reader went away; the output is off
    // Exporter plugins: confirmed by the destination, and taken but not confirmed yet.
    std::optional<uint64_t> delivered, pending;
};

class Sink {
public:
    virtual ~Sink() = default;
    virtual void write(std::string_view line) = 0; // one event, without newline
    virtual void flush() = 0;
    // False while the sink would discard what it is given (API subscribers: none connected;
    // stdout after its reader closed it); the pipeline then does not format events for it.
    virtual bool active() const { return true; }
    // False for event kinds this sink does not take.
    virtual bool wants(std::string_view kind) const
    {
        (void)kind;
        return true;
    }
    // SIGHUP: files are opened again by path (after an outside tool renamed them).
    virtual void reopen() {}
    // Orderly stop: what is queued is written, for at most `budget`; the rest is counted lost.
    virtual void close(std::chrono::milliseconds budget) { (void)budget; }
    virtual std::optional<SinkStats> stats() const { return std::nullopt; }
};

// Lines batched on the io thread, written by a thread of the sink's own. A thread, not
// non-blocking writes on the loop: regular files have no non-blocking mode (O_NONBLOCK is
// ignored, epoll refuses them), and a full or hung filesystem must stall only its own output.
class QueuedSink : public Sink {
public:
    ~QueuedSink() override;
    void write(std::string_view line) override;
    void flush() override;
    bool active() const override { return !closed_.load(std::memory_order_relaxed); }
    void reopen() override;
    void close(std::chrono::milliseconds budget) override;
    std::optional<SinkStats> stats() const override;

    static constexpr size_t default_queue_bytes = 8u << 20;

protected:
    QueuedSink(std::string name, size_t queue_bytes);
    // Starts the writer thread; the last thing a derived make() does.
    void start();
    // Writer thread: writes `text` (`lines` whole lines) and counts what came out.
    virtual void write_batch(std::string_view text, uint64_t lines) = 0;
    // Writer thread: SIGHUP asked for the output to be opened again.
    virtual void do_reopen() {}
    // Writer thread, at least once a second: notice an output that went away.
    virtual void check() {}

    // Counters, for the writer thread's use.
    void count_written(uint64_t lines);
    void count_lost(const char* reason, uint64_t lines);
    void count_error(std::string message);
    void count_rotation(uint64_t rotated_away);
    void count_reopen();
    void mark_closed() { closed_.store(true, std::memory_order_relaxed); }
    bool giving_up() const; // stopping and past the budget
    const std::string& name() const { return name_; }

private:
    struct Batch {
        std::string text;
        uint64_t lines = 0;
    };
    void run();

    std::string name_;
    size_t queue_bytes_;
    Batch batch_; // io thread only
    std::atomic<size_t> queued_bytes_{0};
    std::atomic<bool> closed_{false};

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Batch> queue_;
    bool stop_ = false;
    bool reopen_ = false;
    std::chrono::steady_clock::time_point deadline_{};
    SinkStats stats_;
    std::thread thread_;
};

// Lines to a stream vigild was given (stdout): a pipe, a terminal, a socket or a file. A pipe
// or terminal is opened again through /proc/self/fd as a description of our own, made
// non-blocking, so a stopped reader cannot hold the writer past the stop budget and the
// description shared with the parent shell keeps its flags.
class StreamSink : public QueuedSink {
public:
    [[nodiscard]] static Result<std::unique_ptr<StreamSink>> make(int fd, std::string name,
                                                                  size_t queue_bytes = default_queue_bytes);
    ~StreamSink() override;

private:
    StreamSink(std::string name, size_t queue_bytes) : QueuedSink(std::move(name), queue_bytes) {}
    void write_batch(std::string_view text, uint64_t lines) override;

    Fd fd_;
    bool socket_ = false;
};

struct FileSinkOptions {
    std::string path;
    uint64_t max_bytes = 100ull << 20;
    uint32_t max_files = 5;
    OutputFileMode mode;
    std::set<std::string, std::less<>> kinds; // empty: every kind
    size_t queue_bytes = QueuedSink::default_queue_bytes;
};

// JSON lines into `path`; when it would grow past max_bytes it becomes path.1, path.1 becomes
// path.2, ... and at most max_files rotated files are kept. A line is written whole or not at
// all: a short write (full disk) is cut back to the last whole line. The file is opened again on
// SIGHUP, and when it is found renamed or deleted.
class RotatingFileSink : public QueuedSink {
public:
    [[nodiscard]] static Result<std::unique_ptr<RotatingFileSink>> make(FileSinkOptions opts);
    ~RotatingFileSink() override;
    bool wants(std::string_view kind) const override { return opts_.kinds.empty() || opts_.kinds.contains(kind); }

private:
    explicit RotatingFileSink(FileSinkOptions opts);
    [[nodiscard]] Result<void> open();
    void rotate();
    void write_batch(std::string_view text, uint64_t lines) override;
    void do_reopen() override;
    void check() override;
    // Writes text[0, len) whole lines at the end of the file; returns the lines written.
    uint64_t append(std::string_view text, uint64_t lines);

    FileSinkOptions opts_;
    std::filesystem::path dir_;
    std::string base_;
    Fd dir_fd_;
    Fd fd_;
    uint64_t size_ = 0;
    // Lines in the open file and in path.1 .. path.N (index 0 unused), so rotation counts what it
    // deletes without reading it; nullopt where a file was truncated or renamed by someone else.
    std::optional<uint64_t> lines_;
    std::vector<std::optional<uint64_t>> rotated_lines_;
    bool failing_ = false; // the last write or open failed: log again only after a success
    std::chrono::steady_clock::time_point next_check_{};
};

} // namespace vigil
