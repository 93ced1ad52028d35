// The container test binary: Catch2 with the e2e support (vigild harness) and a private
// containerd (support/containerd.hpp).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
