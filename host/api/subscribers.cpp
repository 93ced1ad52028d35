#include "api/subscribers.hpp"

#include <algorithm>

namespace vigil::api {

namespace {

class HubSink : public Sink {
public:
    explicit HubSink(SubscriberHub& hub) : hub_(hub) {}
    void write(std::string_view line) override { hub_.publish(line); }
    void flush() override {}
    bool active() const override { return hub_.size() > 0; }

private:
    SubscriberHub& hub_;
};

} // namespace

void SubscriberHub::add(EventSubscriber* s)
{
    if (std::find(subs_.begin(), subs_.end(), s) == subs_.end())
        subs_.push_back(s);
}

void SubscriberHub::remove(EventSubscriber* s)
{
    auto it = std::find(subs_.begin(), subs_.end(), s);
    if (it == subs_.end())
        return;
    dropped_closed_ += s->stats().dropped;
    subs_.erase(it);
}

void SubscriberHub::publish(std::string_view json)
{
    if (subs_.empty())
        return;
    std::shared_ptr<const std::string> text;
    EventView view(json);
    // deliver() only queues, so subs_ cannot change while this loop runs.
    for (EventSubscriber* s : subs_) {
        if (!s->filter().matches(view))
            continue;
        if (!text)
            text = std::make_shared<const std::string>(json);
        s->deliver(text);
    }
}

std::vector<SubscriberStats> SubscriberHub::stats() const
{
    std::vector<SubscriberStats> out;
    out.reserve(subs_.size());
    for (const EventSubscriber* s : subs_)
        out.push_back(s->stats());
    return out;
}

uint64_t SubscriberHub::dropped_total() const
{
    uint64_t n = dropped_closed_;
    for (const EventSubscriber* s : subs_)
        n += s->stats().dropped;
    return n;
}

std::unique_ptr<Sink> SubscriberHub::make_sink() { return std::make_unique<HubSink>(*this); }

} // namespace vigil::api
