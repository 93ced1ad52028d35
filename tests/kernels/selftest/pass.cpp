// Passes in any kernel; one test reports a feature no kernel has, to exercise VIGIL-SKIP.
#include "support/vigil_skip.hpp"

#include <fstream>
#include <sys/utsname.h>
#include <unistd.h>

TEST_CASE("arithmetic still works")
{
    REQUIRE(1 + 1 == 2);
}

TEST_CASE("the guest mounts what the tests rely on")
{
    std::ifstream mounts("/proc/self/mounts");
    std::string all((std::istreambuf_iterator<char>(mounts)), {});
    SECTION("bpffs")
    {
        CHECK(all.find(" bpf ") != std::string::npos);
    }
    SECTION("tracefs")
    {
        CHECK(all.find(" tracefs ") != std::string::npos);
    }
}

TEST_CASE("a feature this kernel lacks")
{
    if (access("/sys/kernel/vigil-no-such-feature", F_OK) != 0)
        VIGIL_SKIP_MISSING_FEATURE("vigil-no-such-feature");
    FAIL("unreachable");
}
