// Never returns: the runner must kill the guest at its timeout and report it.
#include <catch2/catch.hpp>
#include <unistd.h>

TEST_CASE("hangs forever")
{
    for (;;)
        pause();
}
