// Events to a JetStream stream, at least once. export_events (the host's exporter thread) copies
// events into a bounded buffer; a thread of the publisher's own connects, creates or checks the
// stream, and publishes the buffer's oldest events in batches, asynchronously, each with a message
// id (the stream drops a resent one it already has). An event leaves the buffer only when the
// stream acknowledged it, or when it can never be stored (too large: counted). A full buffer
// takes nothing more: the host then keeps, and counts, what it cannot queue.
#pragma once

#include "connection.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace vigil::nats {

class Publisher {
public:
    // `log` (any thread) gets each new error, and the start of publishing.
    Publisher(Settings settings, std::string name, std::function<void(const std::string&)> log);
    ~Publisher();

    void start();
    // Delivers what is buffered for at most stop_drain_ms, counts the rest lost ("stop").
    void stop();
    // Copies events in order until the buffer is full; returns how many it took.
    size_t offer(std::span<const vigil_export_event> events);
    void status(vigil_export_status& st);

private:
    struct Entry {
        uint64_t seq;
        std::string subject;
        std::string data;
        bool done = false; // acknowledged or dropped; leaves when it reaches the front
    };
    void run();
    bool ensure_connection();
    bool ensure_stream();
    // Publishes the oldest pending events once and waits for their acks; true when all came.
    bool publish_batch();
    static void on_ack(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure);
    void lose(const std::string& reason, uint64_t n);
    void set_detail(std::string text);
    void error(std::string text); // counted, and the detail; logged when it changes
    bool wait_for(std::chrono::milliseconds d); // false when asked to stop meanwhile

    Settings s_;
    std::string name_;
    std::function<void(const std::string&)> warn_;
    std::string id_prefix_; // node-independent and unique per instance: "<random>."
    Connection nc_;
    jsCtx* js_ = nullptr;
    bool stream_ok_ = false;

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Entry> buffer_; // references stay valid while the back grows
    size_t buffer_bytes_ = 0;
    uint64_t next_seq_ = 1;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point drain_deadline_{};
    // counters, under mu_
    uint64_t accepted_ = 0, delivered_ = 0, errors_ = 0;
    std::map<std::string, uint64_t> lost_;
    std::string detail_;

    // acks of the batch in flight (on_ack runs on the library's thread)
    std::mutex ack_mu_;
    uint64_t batch_first_ = 0;
    std::vector<int> ack_state_; // 0 waiting, 1 stored, 2 too large, 3 failed
    std::string ack_error_;

    std::atomic<bool> connected_{false};
    std::thread thread_;
    std::atomic<bool> quit_{false};
};

} // namespace vigil::nats
