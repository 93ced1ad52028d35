/* The user-space program the uprobe and USDT tests hook: `uprobe_target N TEXT` calls
 * vigil_target_call(N, TEXT), then fires the USDT probe vigil_test:probe_hit with (N, TEXT), and
 * prints the call's result. Built with symbols; the function is kept out of line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>

__attribute__((noinline, noipa, used)) int vigil_target_call(int n, const char *text)
{
    return n + (int)strlen(text);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s N TEXT\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[1]);
    int r = vigil_target_call(n, argv[2]);
    DTRACE_PROBE2(vigil_test, probe_hit, n, argv[2]);
    printf("%d\n", r);
    return 0;
}
