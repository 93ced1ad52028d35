// process_throttle events from the kernel's count of shed events: one START when shedding
// begins, one STOP with the count and the span once it has been quiet for a while.
#include "export/throttle.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

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
    stop->processes = 3;
    CHECK(stop->body_json() == R"("type":"THROTTLE_STOP","shed":40,"duration_ms":100,"processes":3)");
    CHECK(!t.throttling());
    // A later episode counts only its own events.
    now += 5s;
    REQUIRE(t.update(43, now)->start);
    now += 2s;
    CHECK(t.update(43, now)->shed == 3);
}

TEST_CASE("cgroup throttle: each cgroup starts and stops on its own, evicted ones stop", "[unit][throttle]")
{
    CgroupThrottleTracker t(1s);
    auto t0 = CgroupThrottleTracker::Clock::time_point{} + 100s;
    auto changes = t.update({{7, 10}, {8, 0}}, t0);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].start);
    CHECK(changes[0].cgroup_id == 7);
    CHECK(t.throttling() == 1);
    // cgroup 8 starts dropping too; 7 keeps dropping
    changes = t.update({{7, 30}, {8, 5}}, t0 + 500ms);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].start);
    CHECK(changes[0].cgroup_id == 8);
    // 7 goes quiet for a second: it stops with all it dropped since the start
    changes = t.update({{7, 30}, {8, 9}}, t0 + 1600ms);
    REQUIRE(changes.size() == 1);
    CHECK_FALSE(changes[0].start);
    CHECK(changes[0].cgroup_id == 7);
    CHECK(changes[0].dropped == 30);
    CHECK(changes[0].duration == 500ms);
    // 8 leaves the kernel's LRU while throttled: it stops with what was seen of it
    changes = t.update({{7, 30}}, t0 + 1700ms);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].cgroup_id == 8);
    CHECK(changes[0].dropped == 9);
    CHECK(t.throttling() == 0);
    // 7 drops again later: a new start, and the stop counts only the new drops
    changes = t.update({{7, 34}}, t0 + 5s);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].start);
    changes = t.update({{7, 34}}, t0 + 7s);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].dropped == 4);
    CHECK(changes[0].body_json("/a\"b", 100) ==
          R"("type":"THROTTLE_STOP","cgroup":"/a\"b","cgroup_id":"7","dropped":4,"duration_ms":0)");
}

TEST_CASE("throttle: a process's own THROTTLE_STOP body is valid JSON with its count", "[unit][throttle]")
{
    auto body = nlohmann::json::parse("{" + vigil::shed_process_body_json(1234, std::chrono::milliseconds(56)) + "}");
    CHECK(body["type"] == "THROTTLE_STOP");
    CHECK(body["shed"] == 1234);
    CHECK(body["duration_ms"] == 56);
    CHECK(body["reason"].get<std::string>().find("shed") != std::string::npos);
}
