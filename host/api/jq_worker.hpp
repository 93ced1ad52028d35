// A subscription's jq filter runs in a child process (vigil-jq-worker), never on the event
// loop: jq programs can loop forever (`def f: f; f`) or allocate without bound. Each event is
// sent to the child and its verdict read back asynchronously; the child lives under an address
// space limit, and an event that takes longer than the time budget kills it. Either way the
// subscription fails with a message saying which budget was exceeded.
#pragma once

#include "core/error.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vigil::api {

struct JqBudget {
    std::chrono::milliseconds time{200}; // per event, from the moment the worker starts on it
    uint32_t memory_mb = 256;            // the worker's address-space limit
};

// Where vigil-jq-worker is: beside the running executable, else the installed location.
std::filesystem::path default_jq_worker_path();

class JqWorker : public std::enable_shared_from_this<JqWorker> {
public:
    // Called for each event whose verdict is true, in submission order.
    using Pass = std::function<void(const std::shared_ptr<const std::string>&)>;
    // Called once when the worker fails (budget exceeded, exited); nothing is called after it.
    using Failed = std::function<void(const std::string& reason)>;

    [[nodiscard]] static Result<std::shared_ptr<JqWorker>> start(boost::asio::io_context& io,
                                                                 const std::filesystem::path& exe,
                                                                 const std::string& expression, JqBudget budget,
                                                                 Pass pass, Failed failed);
    ~JqWorker();
    JqWorker(const JqWorker&) = delete;
    JqWorker& operator=(const JqWorker&) = delete;

    void submit(std::shared_ptr<const std::string> event);
    size_t pending() const { return pending_.size(); }
    uint64_t errors() const { return errors_; }
    // Kills the child; no callback runs afterwards.
    void stop();

private:
    JqWorker(boost::asio::io_context& io, JqBudget budget, Pass pass, Failed failed);
    void write_more();
    void read_more();
    void on_verdicts(const char* p, size_t n);
    void arm_deadline();
    void fail(std::string reason);
    std::string exit_reason();

    struct Out {
        std::array<char, 4> len;
        std::shared_ptr<const std::string> body;
    };

    boost::asio::local::stream_protocol::socket sock_;
    boost::asio::steady_timer deadline_;
    JqBudget budget_;
    Pass pass_;
    Failed failed_;
    pid_t pid_ = -1;
    std::deque<std::shared_ptr<const std::string>> pending_; // sent, verdict not yet read
    std::deque<Out> out_;
    std::vector<boost::asio::const_buffer> batch_;
    size_t in_flight_ = 0;
    std::array<char, 4096> in_{};
    bool reading_ = false;
    bool stopped_ = false;
    bool ready_ = false; // the worker said its program is compiled
    std::chrono::steady_clock::time_point head_since_; // when the worker could start on the oldest pending event
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    uint64_t errors_ = 0;
};

} // namespace vigil::api
