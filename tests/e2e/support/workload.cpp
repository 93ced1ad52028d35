// Workloads for the e2e tests, run as `e2e_tests --workload MODE ...` (see workload.hpp).
#include "support/workload.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

[[noreturn]] void usage()
{
    std::fprintf(stderr, "usage: --workload exit|fork-exit|threads-exec|threads-exit|leader-exit|storm|cgroup-opens ...\n");
    std::exit(2);
}

void start_sleepers(int n, std::chrono::milliseconds how_long)
{
    for (int i = 0; i < n; ++i)
        std::thread([how_long] { std::this_thread::sleep_for(how_long); }).detach();
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // let them all run
}

} // namespace

namespace vigil::e2e {

int workload_main(int argc, char** argv)
{
    if (argc < 2)
        usage();
    std::string mode = argv[1];
    if (mode == "exit" && argc == 3)
        return std::atoi(argv[2]);
    if (mode == "fork-exit" && argc == 3) {
        pid_t pid = ::fork();
        if (pid == 0)
            ::_exit(std::atoi(argv[2]));
        int status = 0;
        ::waitpid(pid, &status, 0);
        std::printf("%d\n", pid);
        return 0;
    }
    if (mode == "threads-exec" && argc >= 4) {
        start_sleepers(std::atoi(argv[2]), std::chrono::seconds(30));
        std::thread([&] {
            ::execv(argv[3], argv + 3);
            std::perror("execv");
            std::_Exit(127);
        }).join();
        return 127;
    }
    if (mode == "threads-exit" && argc == 4) {
        start_sleepers(std::atoi(argv[2]), std::chrono::seconds(30));
        std::exit(std::atoi(argv[3]));
    }
    if (mode == "leader-exit" && argc == 3) {
        start_sleepers(std::atoi(argv[2]), std::chrono::milliseconds(200));
        ::pthread_exit(nullptr);
    }
    if (mode == "cgroup-opens" && argc == 5) {
        // cgroup-opens CGROUP_DIR N PATH: moves itself into the cgroup, then opens PATH N times.
        if (FILE* procs = std::fopen((std::string(argv[2]) + "/cgroup.procs").c_str(), "w")) {
            std::fprintf(procs, "%d\n", ::getpid());
            if (std::fclose(procs) != 0)
                return 3;
        } else {
            return 3;
        }
        long n = std::atol(argv[3]);
        for (long i = 0; i < n; ++i)
            ::close(::open(argv[4], O_RDONLY));
        return 0;
    }
    if (mode == "storm" && argc == 4) {
        long n = std::atol(argv[2]);
        char* child_argv[] = {argv[3], nullptr};
        for (long i = 0; i < n; ++i) {
            pid_t pid;
            if (int err = ::posix_spawn(&pid, argv[3], nullptr, nullptr, child_argv, environ)) {
                std::fprintf(stderr, "posix_spawn: %s\n", std::strerror(err));
                return 1;
            }
            int status = 0;
            ::waitpid(pid, &status, 0);
        }
        return 0;
    }
    usage();
}

} // namespace vigil::e2e
