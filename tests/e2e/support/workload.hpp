// Workloads for the e2e tests, each a known pattern of forks, threads, execs and exits. They
// live in the test binary itself (e2e_tests --workload MODE ...), so wherever the tests run
// (here or inside the kernel-matrix guest) the workload is there too:
//   exit CODE                 exit(CODE)
//   fork-exit CODE            fork a child that exits with CODE without exec; wait for it
//   threads-exec N PATH ARG.. start N threads; one of them (not main) execs PATH
//   threads-exit N CODE       start N sleeping threads; main calls exit(CODE)
//   leader-exit N             start N threads; main pthread_exit()s; the threads end later
//   storm N PATH              run PATH N times, one after the other (posix_spawn + wait)
#pragma once

namespace vigil::e2e {

// argv[0] is "--workload", argv[1] the mode.
int workload_main(int argc, char** argv);

} // namespace vigil::e2e
