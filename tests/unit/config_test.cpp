#include "core/config.hpp"

#include <catch2/catch.hpp>

TEST_CASE("embedded default config parses", "[unit][config]")
{
    auto cfg = vigil::parse_config(vigil::embedded_default_config(), "<default>");
    REQUIRE(cfg);
    CHECK(cfg->plugins.size() == 3);
}
