#include "container/cgroup_identity.hpp"

#include <algorithm>
#include <vector>

namespace vigil {

namespace {

constexpr size_t full_id_len = 64;
constexpr size_t docker_field_len = 31; // what Tetragon keeps of the id in "docker"

bool is_hex_id(std::string_view s)
{
    return s.size() == full_id_len &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// containerd's identifier rule: alphanumerics with '.', '_', '-' inside, at most 76 bytes.
bool is_containerd_id(std::string_view s)
{
    if (s.empty() || s.size() > 76)
        return false;
    auto alnum = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (!alnum(s.front()) || !alnum(s.back()))
        return false;
    return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool is_uuid(std::string_view s)
{
    if (s.size() != 36)
        return false;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

// "<prefix><64 hex><suffix>" -> the id, or "".
std::string_view strip(std::string_view name, std::string_view prefix, std::string_view suffix)
{
    if (!name.starts_with(prefix) || !name.ends_with(suffix))
        return {};
    name.remove_prefix(prefix.size());
    name.remove_suffix(suffix.size());
    return is_hex_id(name) ? name : std::string_view{};
}

// The pod UID a kubepods parent names: "pod<uid>" (cgroupfs) or
// "kubepods[-<qos>]-pod<uid with '_'>.slice" (systemd).
std::string pod_uid(std::string_view parent)
{
    std::string uid;
    if (parent.starts_with("pod")) {
        uid = parent.substr(3);
    } else if (parent.starts_with("kubepods") && parent.ends_with(".slice")) {
        size_t p = parent.rfind("-pod");
        if (p == std::string_view::npos)
            return {};
        uid = parent.substr(p + 4, parent.size() - p - 4 - 6);
        std::replace(uid.begin(), uid.end(), '_', '-');
    }
    return is_uuid(uid) ? uid : std::string{};
}

std::vector<std::string_view> components(std::string_view path)
{
    std::vector<std::string_view> out;
    size_t pos = 0;
    while (pos < path.size()) {
        size_t slash = path.find('/', pos);
        std::string_view c = path.substr(pos, slash == std::string_view::npos ? slash : slash - pos);
        if (!c.empty())
            out.push_back(c);
        if (slash == std::string_view::npos)
            break;
        pos = slash + 1;
    }
    return out;
}

} // namespace

std::string_view runtime_name(ContainerRuntime r)
{
    switch (r) {
    case ContainerRuntime::docker:
        return "docker";
    case ContainerRuntime::containerd:
        return "containerd";
    case ContainerRuntime::crio:
        return "cri-o";
    case ContainerRuntime::podman:
        return "podman";
    case ContainerRuntime::none:
        break;
    }
    return "";
}

ContainerIdentity parse_container_cgroup(std::string_view path)
{
    std::vector<std::string_view> parts = components(path);
    bool whole = !path.starts_with("...");
    if (parts.empty())
        return {};
    std::string_view leaf = parts.back();
    std::string_view parent = parts.size() >= 2 ? parts[parts.size() - 2] : std::string_view{};

    auto make = [&](ContainerRuntime r, std::string_view id, bool in_pod) {
        ContainerIdentity c;
        c.runtime = r;
        c.id = id;
        if (in_pod)
            c.pod_uid = pod_uid(parent);
        return c;
    };

    // podman puts a container's processes one level down when the container manages its own
    // cgroups (--cgroups=split, systemd inside): libpod-<id>.scope/container
    if (leaf == "container" && !parent.empty()) {
        if (auto id = strip(parent, "libpod-", ".scope"); !id.empty())
            return make(ContainerRuntime::podman, id, false);
        return {};
    }
    // systemd driver
    if (auto id = strip(leaf, "cri-containerd-", ".scope"); !id.empty())
        return make(ContainerRuntime::containerd, id, true);
    if (auto id = strip(leaf, "crio-", ".scope"); !id.empty())
        return make(ContainerRuntime::crio, id, true);
    if (auto id = strip(leaf, "docker-", ".scope"); !id.empty())
        return make(ContainerRuntime::docker, id, true);
    if (auto id = strip(leaf, "libpod-", ".scope"); !id.empty())
        return make(ContainerRuntime::podman, id, false);
    // cgroupfs driver
    if (auto id = strip(leaf, "crio-", ""); !id.empty())
        return make(ContainerRuntime::crio, id, true);
    if (auto id = strip(leaf, "libpod-", ""); !id.empty())
        return make(ContainerRuntime::podman, id, false);
    if (is_hex_id(leaf)) {
        if (parent == "docker")
            return make(ContainerRuntime::docker, leaf, false);
        if (!pod_uid(parent).empty())
            return make(ContainerRuntime::containerd, leaf, true);
    }
    // plain containerd: /<namespace>/<id>
    if (whole && parts.size() == 2 && parent != "kubepods" && parent != "docker" &&
        (is_hex_id(leaf) || (parent == "default" && is_containerd_id(leaf))))
        return make(ContainerRuntime::containerd, leaf, false);
    return {};
}

std::string_view docker_field(const ContainerIdentity& c)
{
    std::string_view id = c.id;
    return id.substr(0, std::min(id.size(), docker_field_len));
}

} // namespace vigil
