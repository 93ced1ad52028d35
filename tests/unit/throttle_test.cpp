// process_throttle events from the kernel's count of shed events: one START when shedding
// begins, one STOP with the count and the span once it has been quiet for a while.
#include "export/throttle.hpp"

#include <catch2/catch.hpp>

using namespace vigil;
using namespace std::chrono_literals;

TEST_CASE("throttle: start on the first shed event, stop after a quiet second with the count", "[unit][throttle]")
{
    ThrottleTracker t(1s);
    ThrottleTracker::Clock::time_point now{};
    CHECK(!t.update(0, now));
    now += 100ms;
    auto start = t.update(5, now);
    REQUIRE(start);
    CHECK(start->start);
    CHECK(start->body_json().find("THROTTLE_START") != std::string::npos);
    now += 100ms;
    CHECK(!t.update(40, now)); // still shedding: no second START
    now += 500ms;
    CHECK(!t.update(40, now)); // quiet, but not for a second yet
    now += 500ms;
    auto stop = t.update(40, now);
    REQUIRE(stop);
    CHECK(!stop->start);
    CHECK(stop->shed == 40);
    CHECK(stop->duration == 100ms);
    CHECK(stop->body_json() == R"("type":"THROTTLE_STOP","shed":40,"duration_ms":100)");
    CHECK(!t.throttling());
    // A later episode counts only its own events.
    now += 5s;
    REQUIRE(t.update(43, now)->start);
    now += 2s;
    CHECK(t.update(43, now)->shed == 3);
}
