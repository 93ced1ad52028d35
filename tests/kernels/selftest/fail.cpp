// Fails on purpose: the runner must report it and exit non-zero.
#include <catch2/catch.hpp>

TEST_CASE("this one passes")
{
    REQUIRE(true);
}
TEST_CASE("this one fails on purpose")
{
    REQUIRE(2 + 2 == 5);
}
