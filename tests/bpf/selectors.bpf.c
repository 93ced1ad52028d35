// SPDX-License-Identifier: GPL-2.0
/* Test harness for the selector evaluator: run with BPF_PROG_TEST_RUN; the arguments come from
 * test_args (set by the test before each run), the decision goes to `result`. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "vigil/bpf/selectors.h"
#include "selectors_test.h"

char LICENSE[] SEC("license") = "GPL";


struct test_arg test_args[VSEL_MAX_ARGS] = {};
int test_ret = 0;
struct vsel_decision result = {};
__u32 runs = 0;

SEC("raw_tp")
int evaluate(void *ctx)
{
    struct vsel_input *in = sel__input();
    struct vsel_hook *cfg = sel__config();
    if (!in || !cfg)
        return 1;
    for (int i = 0; i < VSEL_MAX_ARGS; i++) {
        sel__clear_arg(in, i);
        if (test_args[i].kind == VSEL_ARG_INT)
            sel__set_int(in, i, test_args[i].ival);
        else if (test_args[i].kind == VSEL_ARG_STR)
            sel__read_str(in, i, test_args[i].str, 0);
        else if (test_args[i].kind == VSEL_ARG_SOCK && i < VSEL_MAX_ARGS) {
            __builtin_memcpy(in->str[i].data, test_args[i].str, sizeof(struct vsock_arg));
            sel__set_sock(in, i);
        }
    }
    result = sel__evaluate(cfg, in, test_ret);
    runs++;
    return 0;
}
