// decode() of the signal sensor against the SDK's mock host: no vigild, no kernel.
#define CATCH_CONFIG_MAIN
#include "signal_record.h"

#include <vigil/sdk/testing.hpp>

#include <catch2/catch.hpp>

#include <csignal>

TEST_CASE("a signal record becomes signal_send with the target as a second process")
{
    vigil::sdk::MockHost host(vigil_plugin_get_api());
    host.config_int("signal", SIGUSR1).init();
    signal_record r{.ktime = 30, .proc_ktime = 10, .target_proc_ktime = 20, .pid = 100, .tid = 101,
                    .target_pid = 200, .sig = SIGUSR1, .result = 0, .pad = 0};
    auto events = host.decode(0, r);
    REQUIRE(events.size() == 1);
    CHECK(events[0].kind == "signal_send");
    CHECK((events[0].pid == 100 && events[0].tid == 101 && events[0].proc_ktime == 10));
    CHECK((events[0].other_key == "target" && events[0].other_pid == 200 && events[0].other_proc_ktime == 20));
    CHECK(events[0].body == R"("signal":"SIGUSR1","result":0)");
    CHECK(events[0].summary == "USR1 to 200");
    CHECK_THROWS_WITH(host.decode(0, &r, 8), "short signal record");
}
