/* Inputs of the selector test harness (selectors.bpf.c), shared with the C++ test. */
#ifndef VIGIL_TEST_SELECTORS_H
#define VIGIL_TEST_SELECTORS_H

#include "vigil/wire/selectors.h"

struct test_arg {
    vigil_s64 ival;
    vigil_u32 kind;
    vigil_u32 pad;
    char str[VSEL_STR_MAX + 16];
};

#endif
