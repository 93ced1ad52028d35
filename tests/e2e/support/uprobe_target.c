/* The user-space program the uprobe and USDT tests hook: `uprobe_target N TEXT` calls
 * vigil_target_call(N, TEXT), then fires the USDT probe vigil_test:probe_hit with (N, TEXT), and
 * prints the call's result; `uprobe_target --offset` prints the function's file offset in this
 * binary, from where it is mapped. Built with symbols; the function is kept out of line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>

__attribute__((noinline, noipa, used)) int vigil_target_call(int n, const char *text)
{
    return n + (int)strlen(text);
}

/* The file offset of vigil_target_call: its address in the mapping of this binary that holds it. */
static int print_offset(void)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    unsigned long addr = (unsigned long)&vigil_target_call;
    while (maps && fgets(line, sizeof line, maps)) {
        unsigned long start, end, off;
        if (sscanf(line, "%lx-%lx %*s %lx", &start, &end, &off) == 3 && addr >= start && addr < end) {
            printf("%lu\n", addr - start + off);
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--offset") == 0)
        return print_offset();
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
