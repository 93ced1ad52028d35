// Syscall storms for vigil's overhead benchmark. Each mode runs a fixed number of operations (or
// stops after STORM_MAX_SECONDS), then prints one line:
//   mode=<m> pid=<pid> ops=<n> seconds=<s> ops_per_s=<rate>
// The process renames itself "storm_<mode>" so its events are easy to pick out.
// STORM_RATE=<ops/s> paces a storm to that rate (open and connect).
// `storm burst N` issues N getppid calls from one thread per CPU at once, as fast as they go: the
// densest burst of hook events this machine can make (seconds = from the first call to the last).
// `storm sleepers N` forks N children that sleep, prints "sleepers=N ready" and waits for its
// standard input to close, then ends them all: a process table of a given size.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double rate; /* ops/s, 0: as fast as possible */
static double t_start;

/* Every 256 ops: past the deadline? With a rate, sleeps until op i is due. */
static int keep_going(long i, double deadline)
{
    if (i & 255)
        return 1;
    double t = now();
    if (rate > 0) {
        double due = t_start + i / rate;
        if (due > t) {
            struct timespec ts = {.tv_sec = (time_t)(due - t), .tv_nsec = (long)((due - t - (time_t)(due - t)) * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    return t < deadline;
}

static long open_storm(long n, const char *file, double deadline)
{
    long i;
    for (i = 0; i < n && keep_going(i, deadline); i++) {
        int fd = open(file, O_RDONLY);
        if (fd < 0) {
            perror(file);
            exit(1);
        }
        close(fd);
    }
    return i;
}

static long exec_storm(long n, const char *bin, double deadline)
{
    long i;
    for (i = 0; i < n && now() < deadline; i++) {
        pid_t p = fork();
        if (p == 0) {
            execl(bin, bin, (char *)NULL);
            _exit(127);
        }
        int st;
        if (p < 0 || waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "exec of %s failed\n", bin);
            exit(1);
        }
    }
    return i;
}

static long connect_storm(long n, double deadline)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 128) || getsockname(ls, (struct sockaddr *)&a, &len)) {
        perror("listener");
        exit(1);
    }
    long i;
    for (i = 0; i < n && keep_going(i, deadline); i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof(a))) {
            perror("connect");
            exit(1);
        }
        int s = accept(ls, NULL, NULL);
        struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* RST: no TIME_WAIT pile-up */
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(c);
        close(s);
    }
    close(ls);
    return i;
}

struct burst_arg {
    long n;
    pthread_barrier_t *go;
};

static void *burst_thread(void *p)
{
    struct burst_arg *a = p;
    pthread_barrier_wait(a->go);
    for (long i = 0; i < a->n; i++)
        syscall(SYS_getppid);
    return NULL;
}

/* Returns the calls made; *secs is from the barrier to the last thread's end. */
static long burst_storm(long n, double *secs)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    pthread_t t[256];
    struct burst_arg args[256];
    pthread_barrier_t go;
    if (cpus > 256)
        cpus = 256;
    pthread_barrier_init(&go, NULL, (unsigned)cpus + 1);
    for (long i = 0; i < cpus; i++) {
        args[i] = (struct burst_arg){.n = n / cpus + (i < n % cpus), .go = &go};
        if (pthread_create(&t[i], NULL, burst_thread, &args[i])) {
            fprintf(stderr, "storm: pthread_create failed\n");
            exit(1);
        }
    }
    pthread_barrier_wait(&go);
    double t0 = now();
    for (long i = 0; i < cpus; i++)
        pthread_join(t[i], NULL);
    *secs = now() - t0;
    return n;
}

static int sleepers(long n)
{
    for (long i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0) {
            perror("fork");
            kill(0, SIGTERM);
            return 1;
        }
        if (p == 0) {
            prctl(PR_SET_NAME, "storm_sleeper");
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            for (;;)
                pause();
        }
    }
    printf("sleepers=%ld ready\n", n);
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof(buf)) > 0)
        ;
    signal(SIGTERM, SIG_IGN);
    kill(0, SIGTERM); /* the children (the caller runs us in a process group of our own) */
    while (wait(NULL) > 0)
        ;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: storm open N FILE | exec N BIN | connect N | burst N | sleepers N\n");
        return 2;
    }
    const char *mode = argv[1];
    long n = atol(argv[2]);
    char name[16];
    snprintf(name, sizeof(name), "storm_%s", mode);
    prctl(PR_SET_NAME, name);
    if (!strcmp(mode, "sleepers"))
        return sleepers(n);
    const char *env = getenv("STORM_MAX_SECONDS");
    const char *r = getenv("STORM_RATE");
    rate = r ? atof(r) : 0;
    double t0 = now(), deadline = t0 + (env ? atof(env) : 20);
    t_start = t0;
    long done;
    double secs = -1;
    if (!strcmp(mode, "burst"))
        done = burst_storm(n, &secs);
    else if (!strcmp(mode, "open") && argc > 3)
        done = open_storm(n, argv[3], deadline);
    else if (!strcmp(mode, "exec") && argc > 3)
        done = exec_storm(n, argv[3], deadline);
    else if (!strcmp(mode, "connect"))
        done = connect_storm(n, deadline);
    else {
        fprintf(stderr, "storm: unknown mode %s\n", mode);
        return 2;
    }
    if (secs < 0)
        secs = now() - t0;
    printf("mode=%s pid=%d ops=%ld seconds=%.3f ops_per_s=%.0f\n", mode, getpid(), done, secs, done / secs);
    return 0;
}
