#include "support/containerd.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace vigil::containers {

namespace {

constexpr const char* busybox = "/bin/busybox";
constexpr const char* ctr_bin = "/usr/bin/ctr";
constexpr const char* containerd_bin = "/usr/bin/containerd";
constexpr const char* runc_bin = "/usr/sbin/runc";
constexpr const char* ns = "default"; // containerd namespace of plain ctr containers

// The roots of the cgroup hierarchies: /sys/fs/cgroup on a pure v2 host, each controller's and
// the unified one on a hybrid host.
std::vector<fs::path> cgroup_roots()
{
    std::vector<fs::path> out;
    std::error_code ec;
    if (fs::exists("/sys/fs/cgroup/cgroup.procs", ec))
        return {"/sys/fs/cgroup"};
    for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec))
        if (h.is_directory(ec) && fs::exists(h.path() / "cgroup.procs", ec))
            out.push_back(h.path());
    return out;
}

// Directories the runtime may create outside our own: the cgroup parent of namespace "default"
// in every hierarchy, the shim socket and fifo directories.
std::vector<fs::path> runtime_dirs()
{
    std::vector<fs::path> out;
    for (const fs::path& root : cgroup_roots())
        out.push_back(root / ns);
    out.push_back("/run/containerd");
    out.push_back("/run/containerd/s");
    out.push_back("/run/containerd/fifo");
    return out;
}

std::string read_all(const fs::path& p)
{
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool alive(pid_t pid) { return ::waitpid(pid, nullptr, WNOHANG) == 0; }

// The CRI plugin as a kubelet node would have it, every path inside `run`. This host keeps
// CAP_SYS_RESOURCE out of the bounding set: runc cannot give the sandbox the oom_score_adj CRI
// asks for (-998), so containerd clamps it to its own (restrict_oom_score_adj).
std::string cri_config(const fs::path& run)
{
    fs::create_directories(run / "cni" / "net.d");
    fs::create_directories(run / "cni" / "bin");
    return fmt::format(R"(
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "localhost/pause:vigil"
    disable_tcp_service = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_selinux = false
    disable_apparmor = true
    restrict_oom_score_adj = true
    tolerate_missing_hugetlb_controller = true
    disable_hugetlb_controller = true
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      disable_snapshot_annotations = true
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          BinaryName = "{1}"
          Root = "{0}/runc"
          SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "{0}/cni/bin"
      conf_dir = "{0}/cni/net.d"
      max_conf_num = 1
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "{0}/certs.d"
)",
                       run.string(), runc_bin);
}

} // namespace

fs::path busybox_rootfs()
{
    fs::path root = fs::path(VIGIL_CONTAINERS_BUILD_DIR) / "busybox-rootfs";
    if (fs::exists(root / "bin" / "sh"))
        return root;
    fs::path tmp = root.string() + ".tmp";
    fs::remove_all(tmp);
    fs::create_directories(tmp / "bin");
    for (const char* d : {"proc", "sys", "dev", "tmp", "etc"})
        fs::create_directories(tmp / d);
    fs::copy_file(busybox, tmp / "bin" / "busybox");
    for (const char* applet : {"sh", "true", "sleep", "cat", "echo", "ls"})
        fs::create_symlink("busybox", tmp / "bin" / applet);
    fs::rename(tmp, root);
    return root;
}

std::string random_container_id()
{
    std::random_device rd;
    std::string id;
    for (int i = 0; i < 64; ++i)
        id += "0123456789abcdef"[rd() % 16];
    return id;
}

std::string missing_prerequisite()
{
    if (::geteuid() != 0)
        return "root";
    for (const char* p : {containerd_bin, ctr_bin, runc_bin, busybox})
        if (::access(p, X_OK) != 0)
            return p;
    return "";
}

std::unique_ptr<Containerd> Containerd::start(ContainerdOptions opts)
{
    std::unique_ptr<Containerd> c(new Containerd());
    fs::path run = c->dir_.path();
    c->socket_ = run / "containerd.sock";
    for (const fs::path& d : runtime_dirs()) {
        std::error_code ec;
        if (!fs::exists(d, ec))
            c->created_.push_back(d);
    }
    {
        std::ofstream cfg(run / "config.toml");
        cfg << fmt::format(R"(version = 2
root = "{0}/root"
state = "{0}/state"
plugin_dir = ""
disabled_plugins = [{2}
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]
[grpc]
  address = "{1}"
[ttrpc]
  address = "{1}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "{0}/opt"
{3})",
                           run.string(), c->socket_.string(), opts.cri ? "" : "\n  \"io.containerd.grpc.v1.cri\",",
                           opts.cri ? cri_config(run) : std::string());
    }
    c->launch();
    return c;
}

void Containerd::launch()
{
    fs::path run = dir_.path();
    pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) {
        int log = ::open((run / "containerd.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (log < 0 || null < 0 || ::dup2(null, 0) < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0)
            ::_exit(127);
        // its own process group: a test killed midway does not take the terminal's signals to it
        ::setpgid(0, 0);
        std::string config = (run / "config.toml").string();
        ::execl(containerd_bin, containerd_bin, "--config", config.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    pid_ = pid;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!alive(pid)) {
            pid_ = -1;
            throw std::runtime_error("containerd exited at start:\n" + log());
        }
        if (fs::exists(socket_) && ctr({"version"}) == 0)
            return;
        std::this_thread::sleep_for(100ms);
    }
    throw std::runtime_error("containerd did not answer within 20 s:\n" + log());
}

void Containerd::kill_daemon()
{
    if (pid_ <= 0)
        return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

void Containerd::restart()
{
    kill_daemon();
    launch();
}

Containerd::~Containerd()
{
    try {
        stop();
    } catch (...) {
    }
}

std::string Containerd::log() const { return read_all(dir_.path() / "containerd.log"); }

void Containerd::track_cgroup(const fs::path& rel)
{
    for (const fs::path& root : cgroup_roots()) {
        fs::path p = root;
        for (const auto& part : rel) {
            p /= part;
            std::error_code ec;
            if (!fs::exists(p, ec) && std::find(created_.begin(), created_.end(), p) == created_.end())
                created_.push_back(p);
        }
    }
}

void Containerd::import_test_images()
{
    fs::path images = fs::path(VIGIL_CONTAINERS_BUILD_DIR) / "images";
    if (!fs::exists(images / "app.tar")) {
        fs::create_directories(images);
        e2e::RunResult r = e2e::run({"/usr/bin/python3", VIGIL_CRI_POD_PY, "images", images.string(),
                                     busybox_rootfs().string()});
        if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
            throw std::runtime_error("building the test images failed");
    }
    for (const char* t : {"pause.tar", "app.tar"})
        if (int st = ctr({"images", "import", "--snapshotter", "overlayfs", (images / t).string()}, "k8s.io");
            !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            throw std::runtime_error(fmt::format("ctr images import {} failed", t));
}

int Containerd::ctr(const std::vector<std::string>& args, const std::string& ns)
{
    // quiet: its output would only clutter the test report
    std::string cmd = fmt::format("exec {} --address '{}' --namespace {}", ctr_bin, socket_.string(), ns);
    for (const auto& a : args)
        cmd += " '" + a + "'";
    return e2e::run({"/bin/sh", "-c", cmd + " >/dev/null 2>&1"}).status;
}

std::vector<std::string> Containerd::run_args(const std::string& id, const std::vector<std::string>& argv) const
{
    std::vector<std::string> a{ctr_bin,
                               "--address",
                               socket_.string(),
                               "--namespace",
                               ns,
                               "run",
                               "--rm",
                               "--null-io",
                               "--fifo-dir",
                               (dir_.path() / "fifo").string(),
                               "--runc-binary",
                               runc_bin,
                               "--runc-root",
                               (dir_.path() / "runc").string(),
                               "--rootfs",
                               busybox_rootfs().string(),
                               id};
    a.insert(a.end(), argv.begin(), argv.end());
    return a;
}

e2e::RunResult Containerd::run_rootfs(const std::string& id, const std::vector<std::string>& argv)
{
    return e2e::run(run_args(id, argv));
}

pid_t Containerd::spawn_rootfs(const std::string& id, const std::vector<std::string>& argv)
{
    return e2e::spawn(run_args(id, argv));
}

void Containerd::stop()
{
    if (pid_ > 0) {
        // containers a failed test left running: kill and delete them through containerd
        for (std::string space : {ns, "k8s.io"}) {
            std::string list = (dir_.path() / "tasks").string();
            e2e::run({"/bin/sh", "-c",
                      fmt::format("{} --address {} --namespace {} containers ls -q > {} 2>/dev/null", ctr_bin,
                                  socket_.string(), space, list)});
            std::istringstream ids(read_all(list));
            for (std::string id; std::getline(ids, id);) {
                if (id.empty())
                    continue;
                ctr({"tasks", "kill", "--signal", "SIGKILL", id}, space);
                std::this_thread::sleep_for(200ms);
                ctr({"tasks", "delete", "--force", id}, space);
                ctr({"containers", "delete", id}, space);
            }
        }
        ::kill(pid_, SIGTERM);
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (alive(pid_) && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(50ms);
        if (alive(pid_)) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        pid_ = -1;
    }
    // mounts left under our directory, deepest first
    std::vector<std::string> mounts;
    std::istringstream m(read_all("/proc/self/mounts"));
    for (std::string line; std::getline(m, line);) {
        std::istringstream f(line);
        std::string dev, where;
        f >> dev >> where;
        if (where.starts_with(dir_.path().string() + "/"))
            mounts.push_back(where);
    }
    for (auto it = mounts.rbegin(); it != mounts.rend(); ++it)
        if (::umount2(it->c_str(), 0) != 0)
            ::umount2(it->c_str(), MNT_DETACH);
    for (auto it = created_.rbegin(); it != created_.rend(); ++it)
        ::rmdir(it->c_str()); // only when empty: anything still in use stays
    created_.clear();
}

fs::path naming_cgroup_root()
{
    std::error_code ec;
    return fs::exists("/sys/fs/cgroup/cgroup.procs", ec) ? fs::path("/sys/fs/cgroup") : fs::path("/sys/fs/cgroup/memory");
}

nlohmann::json vigil_counters(const e2e::Vigild& v)
{
    fs::path out = v.dir() / "status.json";
    e2e::run({"/bin/sh", "-c",
              fmt::format("{} --socket {} status -o json > {}", VIGIL_CLI_PATH, (v.dir() / "vigil.sock").string(),
                          out.string())});
    auto j = nlohmann::json::parse(slurp(out), nullptr, false);
    return j.is_object() ? j["counters"] : nlohmann::json();
}

std::string cri_tests_unavailable()
{
    if (std::string m = missing_prerequisite(); !m.empty())
        return "the container tests need " + m + " (scripts/setup.sh installs the packages)";
    if (!fs::exists(e2e::plugin_dir() / "libvigil_container.so"))
        return "the container plugin was not built (it needs libgrpc++-dev and protobuf-compiler-grpc)";
    return "";
}

std::string random_uuid()
{
    std::string id = random_container_id();
    return fmt::format("{}-{}-4{}-a{}-{}", id.substr(0, 8), id.substr(8, 4), id.substr(12, 3), id.substr(15, 3),
                       id.substr(18, 12));
}

std::string slurp(const fs::path& p)
{
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool exited_ok(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

std::string cri_pod(const Containerd& c, const std::vector<std::string>& args, int& status)
{
    fs::path out = c.dir() / "cri_pod.out";
    std::string cmd = fmt::format("/usr/bin/python3 {} {} {} {} {}", VIGIL_CRI_POD_PY, args.at(0),
                                  c.socket().string(), VIGIL_CRI_PROTO,
                                  (fs::path(VIGIL_CONTAINERS_BUILD_DIR) / "cri_gen").string());
    for (size_t i = 1; i < args.size(); ++i)
        cmd += " '" + args[i] + "'";
    status = e2e::run({"/bin/sh", "-c", cmd + " > " + out.string() + " 2>&1"}).status;
    return slurp(out);
}

PodIds run_shell_pod(Containerd& c, const std::string& name, const std::string& ns, const nlohmann::json& labels,
                     const std::string& script)
{
    std::string uid = random_uuid();
    c.track_cgroup("kubepods/besteffort/pod" + uid);
    nlohmann::json spec = {{"uid", uid},
                           {"name", name},
                           {"namespace", ns},
                           {"labels", labels},
                           {"annotations", nlohmann::json::object()},
                           {"log_directory", (c.dir() / "pods" / uid).string()},
                           {"container",
                            {{"name", "app"}, {"image", "localhost/app:vigil"}, {"command", {"/bin/sh", "-c", script}}}}};
    fs::path spec_file = c.dir() / (name + ".json");
    std::ofstream(spec_file) << spec.dump();
    int st = 0;
    std::string out = cri_pod(c, {"run", spec_file.string()}, st);
    auto ids = exited_ok(st) ? nlohmann::json::parse(out, nullptr, false) : nlohmann::json();
    if (!ids.is_object())
        throw std::runtime_error("creating pod " + name + " failed:\n" + out);
    return {ids.value("pod_id", ""), ids.value("container_id", "")};
}

} // namespace vigil::containers
