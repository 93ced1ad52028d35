// The fleet test binary: Catch2, or a workload when started as `fleet_tests --workload ...`.
#define CATCH_CONFIG_RUNNER
#include "support/workload.hpp"

#include <catch2/catch.hpp>

#include <string_view>

int main(int argc, char** argv)
{
    if (argc >= 2 && std::string_view(argv[1]) == "--workload")
        return vigil::e2e::workload_main(argc - 1, argv + 1);
    return Catch::Session().run(argc, argv);
}
