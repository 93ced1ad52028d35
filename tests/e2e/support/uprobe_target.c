/* The user-space program the uprobe and USDT tests hook: `uprobe_target N TEXT` calls
 * vigil_target_call(N, TEXT), fires the USDT probe vigil_test:probe_hit with (N, TEXT), fires
 * vigil_test:guarded with N and prints "guarded" when that probe's semaphore is raised, and
 * prints the call's result. `uprobe_target --offset` / `--semaphore` print the file offset of
 * the function / of that semaphore in this binary, from where they are mapped. Built with
 * symbols; the function is kept out of line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* Probes with semaphores: the probe `guarded` fires only while something (libbpf for a USDT
 * hook, the kernel for a uprobe with refCtrOffsets) has raised its semaphore. */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

__extension__ unsigned short vigil_test_probe_hit_semaphore __attribute__((unused, section(".probes")));
__extension__ unsigned short vigil_test_guarded_semaphore __attribute__((unused, section(".probes")));

__attribute__((noinline, noipa, used)) int vigil_target_call(int n, const char *text)
{
    return n + (int)strlen(text);
}

/* The file offset of `addr` in this binary: where it is in the mapping that holds it. */
static int print_offset(unsigned long addr)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
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
        return print_offset((unsigned long)&vigil_target_call);
    if (argc == 2 && strcmp(argv[1], "--semaphore") == 0)
        return print_offset((unsigned long)&vigil_test_guarded_semaphore);
    if (argc != 3) {
        fprintf(stderr, "usage: %s N TEXT\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[1]);
    int r = vigil_target_call(n, argv[2]);
    DTRACE_PROBE2(vigil_test, probe_hit, n, argv[2]);
    if (vigil_test_guarded_semaphore) {
        DTRACE_PROBE1(vigil_test, guarded, n);
        printf("guarded\n");
    }
    printf("%d\n", r);
    return 0;
}
