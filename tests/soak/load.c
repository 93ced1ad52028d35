/* The soak's workload: many execs or many opens, as fast as one process makes them.
 *   vigil_soak_load exec N PATH   posix_spawn PATH N times, one after the other, each waited for
 *   vigil_soak_load open N PATH   open and close PATH N times
 * Exits non-zero on the first failure. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s exec|open N PATH\n", argv[0]);
        return 2;
    }
    unsigned long n = strtoul(argv[2], NULL, 10);
    const char *path = argv[3];
    if (strcmp(argv[1], "exec") == 0) {
        char *child_argv[] = {(char *)path, NULL};
        for (unsigned long i = 0; i < n; i++) {
            pid_t pid;
            int err = posix_spawn(&pid, path, NULL, NULL, child_argv, environ);
            if (err) {
                fprintf(stderr, "spawn %s: %s\n", path, strerror(err));
                return 1;
            }
            int status;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        }
        return 0;
    }
    if (strcmp(argv[1], "open") == 0) {
        for (unsigned long i = 0; i < n; i++) {
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                fprintf(stderr, "open %s: %s\n", path, strerror(errno));
                return 1;
            }
            close(fd);
        }
        return 0;
    }
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}
