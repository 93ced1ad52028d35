// A private containerd for the container tests: its own root, state, sockets and runc root in
// a temporary directory, started by the test and stopped by its PID. Nothing of the machine's
// own containerd (if any) is used or touched; what the runtime leaves on the machine (cgroup
// parents, /run/containerd/{s,fifo}) is removed when this instance created it.
//
//   auto ctrd = vigil::containers::Containerd::start();
//   auto r = ctrd->run_rootfs(id, {"/bin/sh", "-c", "..."});    // ctr run --rm --rootfs
#pragma once

#include "support/vigild.hpp"

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace vigil::containers {

// A root file system made of Debian's busybox-static (/bin/busybox and its applets), built once
// in the build tree and reused.
std::filesystem::path busybox_rootfs();

// 64 random hex digits: a container id as runtimes make them.
std::string random_container_id();

// What is missing on this machine for the container tests ("" when nothing): root, containerd,
// ctr, runc, busybox-static.
std::string missing_prerequisite();

struct ContainerdOptions {
    // The CRI plugin on (runc, cgroupfs driver, host network only: no CNI), with the sandbox
    // image localhost/pause:vigil (see import_test_images()).
    bool cri = false;
};

class Containerd {
public:
    // Starts containerd and waits until ctr reaches it. Throws std::runtime_error with its log
    // when it does not come up.
    static std::unique_ptr<Containerd> start(ContainerdOptions opts = {});
    ~Containerd();
    Containerd(const Containerd&) = delete;
    Containerd& operator=(const Containerd&) = delete;

    // Deletes what is left of our containers, stops containerd (SIGTERM, then SIGKILL, by its
    // PID), unmounts what is left under our directory and removes the directories the runtime
    // created outside it. Idempotent.
    void stop();

    // SIGKILL to containerd alone, as a crash would: shims and containers keep running.
    void kill_daemon();
    // Starts containerd again on the same root, state and socket (after kill_daemon(), or
    // killing it first), and waits until ctr reaches it.
    void restart();

    const std::filesystem::path& socket() const { return socket_; }
    std::string log() const;

    // `ctr run --rm --rootfs <busybox rootfs> <id> argv...` in containerd namespace "default";
    // returns when the container has exited.
    e2e::RunResult run_rootfs(const std::string& id, const std::vector<std::string>& argv);
    // The same, detached: returns the ctr process, which exits with the container.
    pid_t spawn_rootfs(const std::string& id, const std::vector<std::string>& argv);

    // `ctr args...` against this instance; the wait status.
    int ctr(const std::vector<std::string>& args, const std::string& ns = "default");

    // Builds localhost/pause:vigil and localhost/app:vigil from the busybox root file system
    // (once, in the build tree) and imports them for CRI (namespace k8s.io). Throws on failure.
    void import_test_images();
    // A cgroup directory (relative to each hierarchy's root) the runtime will create for us,
    // e.g. "kubepods/besteffort/pod<uid>": removed at stop when it did not exist before.
    void track_cgroup(const std::filesystem::path& rel);
    const std::filesystem::path& dir() const { return dir_.path(); }

private:
    Containerd() = default;
    void launch();
    std::vector<std::string> run_args(const std::string& id, const std::vector<std::string>& argv) const;

    e2e::TempDir dir_;
    std::filesystem::path socket_;
    pid_t pid_ = -1;
    std::vector<std::filesystem::path> created_; // outside dir_, made by the runtime, deepest last
};

// Why the CRI tests cannot run here ("" when they can): a missing prerequisite, or the
// container plugin not built.
std::string cri_tests_unavailable();

// The hierarchy the process sensor names containers by: /sys/fs/cgroup on a cgroup v2 host,
// the memory controller's on a hybrid one.
std::filesystem::path naming_cgroup_root();

// vigild's counters (`vigil status -o json`), null when it did not answer.
nlohmann::json vigil_counters(const e2e::Vigild& v);

// A pod UID as the API server makes them (a random v4 UUID).
std::string random_uuid();

// A whole file ("" when unreadable).
std::string slurp(const std::filesystem::path& p);

bool exited_ok(int status);

// tests/containers/cri/cri_pod.py against `c` (run / stop, see the script), with the vendored CRI
// definition and stubs generated in the build tree; its output, its wait status in `status`.
std::string cri_pod(const Containerd& c, const std::vector<std::string>& args, int& status);

struct PodIds {
    std::string pod_id, container_id;
};

// A pod as the kubelet makes one (see cri_pod.py run) with one container "app" of image
// localhost/app:vigil running `/bin/sh -c script`. Throws std::runtime_error with the client's
// output when it fails.
PodIds run_shell_pod(Containerd& c, const std::string& name, const std::string& ns, const nlohmann::json& labels,
                     const std::string& script);

} // namespace vigil::containers
