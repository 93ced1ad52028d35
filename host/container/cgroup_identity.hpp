// Which container and pod a cgroup belongs to, from the names container runtimes give their
// cgroups. Pure string work: the process sensor hands over the cgroup's path (or its last two
// components), so nothing here touches the file system or a runtime.
#pragma once

#include <string>
#include <string_view>

namespace vigil {

enum class ContainerRuntime { none, docker, containerd, crio, podman };

// "docker", "containerd", "cri-o", "podman"; "" for none. Also the scheme of a CRI container id
// ("containerd://<id>").
std::string_view runtime_name(ContainerRuntime r);

struct ContainerIdentity {
    ContainerRuntime runtime = ContainerRuntime::none; // none: not in a container we recognise
    std::string id;      // the full container id, as the runtime names it
    std::string pod_uid; // the Kubernetes pod UID with dashes, "" outside a kubepods cgroup

    bool empty() const { return runtime == ContainerRuntime::none; }
    bool operator==(const ContainerIdentity&) const = default;
};

// Recognises (systemd driver, cgroup v1 or v2):
//   .../kubepods-<qos>-pod<uid_>.slice/cri-containerd-<id>.scope   containerd (CRI)
//   .../kubepods-<qos>-pod<uid_>.slice/crio-<id>.scope             CRI-O
//   .../docker-<id>.scope   docker        .../libpod-<id>.scope[/container]   podman
// and (cgroupfs driver):
//   /kubepods[/<qos>]/pod<uid>/<id>   containerd (CRI)   /kubepods[/<qos>]/pod<uid>/crio-<id>   CRI-O
//   /docker/<id>   docker   /libpod_parent/libpod-<id>   podman
//   /<namespace>/<id>   plain containerd (ctr): any id under a top-level cgroup when the id is
//                       64 hex digits, any valid containerd id under "default"
// A path may start with "..." for components not given; only the last two are looked at,
// and the plain containerd form needs the whole path. Runtime helpers (conmon) and a
// container's own sub-cgroups other than podman's "container" are not containers.
ContainerIdentity parse_container_cgroup(std::string_view path);

// Tetragon's "docker" field: the container id cut to 31 characters.
std::string_view docker_field(const ContainerIdentity& c);

} // namespace vigil
