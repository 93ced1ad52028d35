#include "export/throttle.hpp"

#include <fmt/format.h>

namespace vigil {

std::string ThrottleChange::body_json() const
{
    if (start)
        return R"("type":"THROTTLE_START","reason":"ring buffer over three quarters full: reporting-only events shed")";
    return fmt::format(R"("type":"THROTTLE_STOP","shed":{},"duration_ms":{})", shed, duration.count());
}

std::optional<ThrottleChange> ThrottleTracker::update(uint64_t shed_total, Clock::time_point now)
{
    bool grew = shed_total > last_;
    if (grew)
        last_change_ = now;
    if (grew && !throttling_) {
        throttling_ = true;
        at_start_ = last_;
        since_ = now;
        last_ = shed_total;
        return ThrottleChange{.start = true};
    }
    last_ = shed_total;
    if (throttling_ && !grew && now - last_change_ >= quiet_) {
        throttling_ = false;
        return ThrottleChange{.start = false,
                              .shed = shed_total - at_start_,
                              .duration = std::chrono::duration_cast<std::chrono::milliseconds>(last_change_ - since_)};
    }
    return std::nullopt;
}

} // namespace vigil
