// The project's convention for a test that needs a kernel feature the running kernel lacks:
// Catch2 v2 has no SKIP, so the test prints one line the kernel-matrix report collects, then
// passes. The line format is parsed by tests/kernels/lib/report.py.
#pragma once
#include <catch2/catch.hpp>
#include <iostream>
#include <string>

#define VIGIL_SKIP_MISSING_FEATURE(feature)                                                                            \
    do {                                                                                                               \
        std::cout << "VIGIL-SKIP: " << Catch::getResultCapture().getCurrentTestName() << ": missing kernel feature "   \
                  << (feature) << std::endl;                                                                           \
        SUCCEED("skipped: missing kernel feature " << (feature));                                                      \
        return;                                                                                                        \
    } while (0)
