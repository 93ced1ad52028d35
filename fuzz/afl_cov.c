/* g++'s -fsanitize-coverage=trace-pc calls __sanitizer_cov_trace_pc() at the start of every
 * basic block; AFL++ wants hit counts of edges in __afl_area_ptr. An edge is (previous block,
 * this block), each block named by a hash of its address, as in AFL's classic instrumentation.
 * The trace-cmp callbacks (cmplog) come with AFL++'s runtime, afl-compiler-rt.o. This file must
 * not be compiled with coverage itself. */
#include <stdint.h>

#define VIGIL_AFL_MAP_SIZE 65536 /* AFL++'s default map size; the runtime maps at least this */

extern uint8_t *__afl_area_ptr;

static __thread uint32_t vigil_afl_prev;

void __sanitizer_cov_trace_pc(void)
{
    uintptr_t pc = (uintptr_t)__builtin_return_address(0);
    uint32_t cur = (uint32_t)((pc ^ (pc >> 17)) * 0x9E3779B1u) >> 16;
    __afl_area_ptr[(cur ^ vigil_afl_prev) & (VIGIL_AFL_MAP_SIZE - 1)]++;
    vigil_afl_prev = cur >> 1;
}

/* g++'s trace-cmp also reports float and double comparisons, which AFL++ has no use for. */
void __sanitizer_cov_trace_cmpf(float a, float b)
{
    (void)a;
    (void)b;
}

void __sanitizer_cov_trace_cmpd(double a, double b)
{
    (void)a;
    (void)b;
}
