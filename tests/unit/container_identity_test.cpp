// Container and pod identity from cgroup paths: the names docker, containerd (CRI and ctr),
// CRI-O and podman give their cgroups under the systemd and cgroupfs drivers, as found in
// /proc/PID/cgroup on real hosts, and paths that must not be taken for containers.
#include "container/cgroup_identity.hpp"

#include <vigil/sdk/cgroups.hpp>

#include "process/procfs.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace vigil;

namespace {

const std::string id = "551e161c47d8ff0eb665438a7bcd5b4e3ef5a297282b40a92b7c77d6bd168eb3";
const std::string uid = "2bd9b0a5-74e2-4c4f-a5b8-1f5a3c2e9d01";
const std::string uid_ = "2bd9b0a5_74e2_4c4f_a5b8_1f5a3c2e9d01";

struct Row {
    std::string path;
    ContainerRuntime runtime;
    std::string id;
    std::string pod_uid;
};

} // namespace

TEST_CASE("container identity from real-world cgroup paths", "[unit][containers]")
{
    using R = ContainerRuntime;
    const Row rows[] = {
        // Kubernetes, systemd driver (cgroup v2 or any v1 controller)
        {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uid_ + ".slice/cri-containerd-" + id +
             ".scope",
         R::containerd, id, uid},
        {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uid_ + ".slice/cri-containerd-" + id +
             ".scope",
         R::containerd, id, uid},
        {"/kubepods.slice/kubepods-pod" + uid_ + ".slice/cri-containerd-" + id + ".scope", R::containerd, id, uid},
        {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uid_ + ".slice/crio-" + id + ".scope",
         R::crio, id, uid},
        {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uid_ + ".slice/docker-" + id +
             ".scope",
         R::docker, id, uid},
        // Kubernetes, cgroupfs driver
        {"/kubepods/besteffort/pod" + uid + "/" + id, R::containerd, id, uid},
        {"/kubepods/burstable/pod" + uid + "/" + id, R::containerd, id, uid},
        {"/kubepods/pod" + uid + "/" + id, R::containerd, id, uid},
        {"/kubepods/burstable/pod" + uid + "/crio-" + id, R::crio, id, uid},
        // as the process sensor gives them: only the last two components past depth 2
        {".../pod" + uid + "/" + id, R::containerd, id, uid},
        {".../kubepods-besteffort-pod" + uid_ + ".slice/cri-containerd-" + id + ".scope", R::containerd, id, uid},
        // docker, podman, plain containerd
        {"/system.slice/docker-" + id + ".scope", R::docker, id, ""},
        {"/docker/" + id, R::docker, id, ""},
        {"/machine.slice/libpod-" + id + ".scope", R::podman, id, ""},
        {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id + ".scope", R::podman, id, ""},
        {"/machine.slice/libpod-" + id + ".scope/container", R::podman, id, ""},
        {"/libpod_parent/libpod-" + id, R::podman, id, ""},
        {"/default/" + id, R::containerd, id, ""},
        {"/default/web-1", R::containerd, "web-1", ""},
        {"/buildkit/" + id, R::containerd, id, ""},
        // not containers
        {"/", R::none, "", ""},
        {"", R::none, "", ""},
        {"/user.slice/user-1000.slice/session-3.scope", R::none, "", ""},
        {"/system.slice/containerd.service", R::none, "", ""},
        {"/system.slice/docker.service", R::none, "", ""},
        {"/machine.slice/libpod-conmon-" + id + ".scope", R::none, "", ""},
        {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uid_ + ".slice/crio-conmon-" + id +
             ".scope",
         R::none, "", ""},
        {"/kubepods/besteffort/pod" + uid, R::none, "", ""},
        {"/kubepods.slice/kubepods-besteffort.slice", R::none, "", ""},
        {"/process_api/6a9464656edfe0a758447cfa4fcdbe9d", R::none, "", ""}, // 32 hex: a sandbox, not a container
        {"/default/" + id + "/sub", R::none, "", ""},
        {".../default/web-1", R::none, "", ""},                            // depth unknown: not /<ns>/<id>
        {"/system.slice/docker-" + id.substr(0, 63) + ".scope", R::none, "", ""},
        {"/docker/" + id + "x", R::none, "", ""},
        {"/default/-bad", R::none, "", ""},
    };
    for (const Row& r : rows) {
        INFO(r.path);
        ContainerIdentity c = parse_container_cgroup(r.path);
        CHECK(c.runtime == r.runtime);
        CHECK(c.id == r.id);
        CHECK(c.pod_uid == r.pod_uid);
    }
}

TEST_CASE("the docker field is the id cut to 31 characters, as Tetragon's", "[unit][containers]")
{
    ContainerIdentity c = parse_container_cgroup("/docker/" + id);
    CHECK(docker_field(c) == id.substr(0, 31));
    CHECK(docker_field(parse_container_cgroup("/default/web-1")) == "web-1");
    CHECK(runtime_name(ContainerRuntime::crio) == "cri-o");
    CHECK(runtime_name(ContainerRuntime::none).empty());
}

TEST_CASE("the v1 controller of a hybrid host, none on a pure cgroup v2 host", "[unit][containers]")
{
    const char* hybrid = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                         "cpuset\t3\t1\t1\ncpu\t1\t1\t1\ncpuacct\t2\t1\t1\nblkio\t7\t1\t1\nmemory\t4\t13\t1\n"
                         "devices\t5\t1\t1\nfreezer\t6\t1\t1\nnet_cls\t0\t1\t1\nperf_event\t0\t1\t1\n"
                         "net_prio\t0\t1\t1\nhugetlb\t0\t1\t1\npids\t8\t1\t1\n";
    auto c = sdk::pick_cgroup1_controller(hybrid);
    REQUIRE(c);
    CHECK(c->name == "memory");
    CHECK(c->subsys_id == 4);
    auto p = sdk::pick_cgroup1_controller(hybrid, "hugetlb,pids");
    REQUIRE(p);
    CHECK(p->name == "pids");
    CHECK(p->subsys_id == 11);
    const char* unified = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                          "cpuset\t0\t80\t1\ncpu\t0\t80\t1\nmemory\t0\t80\t1\npids\t0\t80\t1\n";
    CHECK_FALSE(sdk::pick_cgroup1_controller(unified));
    const char* disabled = "#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t4\t1\t0\npids\t0\t1\t1\n";
    CHECK_FALSE(sdk::pick_cgroup1_controller(disabled));
    CHECK_FALSE(sdk::pick_cgroup1_controller(""));
}

TEST_CASE("a v1 controller's path in /proc/PID/cgroup", "[unit][containers]")
{
    std::string text = "9:name=systemd:/\n4:memory:/docker/" + id + "\n2:cpu,cpuacct:/a\n0::/\n";
    CHECK(procfs::parse_cgroup_v1(text, "memory") == "/docker/" + id);
    CHECK(procfs::parse_cgroup_v1(text, "cpuacct") == "/a");
    CHECK(procfs::parse_cgroup_v1(text, "pids").empty());
    CHECK(procfs::parse_cgroup_v1(text, "systemd").empty());
}
