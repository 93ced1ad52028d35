// Fan-out of formatted events to the API's subscribers. The hub is registered with the
// EventPipeline as a JSON sink; each event's text is shared (not copied) by every subscriber
// whose filter it passes. Subscribers queue without blocking: a slow one drops and counts.
#pragma once

#include "api/event_filter.hpp"
#include "export/sink.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::api {

// Per-subscriber bound on queued events: whichever limit is hit first. The count is
// [api] subscriber_queue; this is its default.
inline constexpr size_t default_queued_events = 4096;
inline constexpr size_t max_queued_event_bytes = 8u << 20;

struct SubscriberStats {
    uint64_t id = 0;  // connection id
    int32_t pid = 0;  // peer process
    std::string filter;
    uint64_t delivered = 0; // events queued for sending
    uint64_t dropped = 0;   // events dropped because the queue was full
    uint64_t queued = 0;    // events waiting now
    uint64_t jq_errors = 0;
};

class EventSubscriber {
public:
    virtual ~EventSubscriber() = default;
    virtual EventFilter& filter() = 0;
    // Queues one event that passed the filter. Never blocks; drops and counts when full.
    virtual void deliver(const std::shared_ptr<const std::string>& event) = 0;
    virtual SubscriberStats stats() const = 0;
};

class SubscriberHub {
public:
    void add(EventSubscriber* s);
    // Forgets `s`; its drops stay in dropped_closed().
    void remove(EventSubscriber* s);
    void publish(std::string_view json);

    size_t size() const { return subs_.size(); }
    std::vector<SubscriberStats> stats() const;
    // Events dropped by subscribers that have gone.
    uint64_t dropped_closed() const { return dropped_closed_; }
    uint64_t dropped_total() const;

    // A Sink forwarding to this hub, for EventPipeline::add_sink(…, Format::json). The hub
    // must outlive the pipeline.
    std::unique_ptr<Sink> make_sink();

private:
    std::vector<EventSubscriber*> subs_;
    uint64_t dropped_closed_ = 0;
};

} // namespace vigil::api
