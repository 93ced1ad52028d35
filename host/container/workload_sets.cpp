#include "container/workload_sets.hpp"

#include "core/log.hpp"

#include <vigil/wire/workloads.h>

#include <bpf/bpf.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace vigil {

namespace {

// podSelector keys may name the pod's namespace as the kubelet's label does.
constexpr std::string_view namespace_label = "k8s:io.kubernetes.pod.namespace";

const std::string* label_value(const Labels& labels, std::string_view key)
{
    auto it = std::lower_bound(labels.begin(), labels.end(), key,
                               [](const auto& kv, std::string_view k) { return kv.first < k; });
    return it != labels.end() && it->first == key ? &it->second : nullptr;
}

} // namespace

bool label_selector_matches(const policy::LabelSelector& sel, const Labels& labels)
{
    using policy::LabelOperator;
    for (const auto& r : sel.requirements) {
        const std::string* v = label_value(labels, r.key);
        bool listed = v && std::binary_search(r.values.begin(), r.values.end(), *v);
        bool ok = false;
        switch (r.op) {
        case LabelOperator::in: ok = listed; break;
        case LabelOperator::not_in: ok = !listed; break;
        case LabelOperator::exists: ok = v != nullptr; break;
        case LabelOperator::does_not_exist: ok = v == nullptr; break;
        case LabelOperator::count_: break;
        }
        if (!ok)
            return false;
    }
    return true;
}

namespace {

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// Label keys and values as Kubernetes spells them: letters, digits, '-', '_', '.', and in keys
// one '/' after a DNS prefix.
bool label_text(std::string_view s, bool key)
{
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
            !(key && (c == '/' || c == ':')))
            return false;
    return true;
}

} // namespace

Result<policy::LabelSelector> parse_label_selector(std::string_view text)
{
    using policy::LabelOperator;
    policy::LabelSelector sel;
    // split on commas outside parentheses
    std::vector<std::string_view> parts;
    size_t start = 0;
    int depth = 0;
    for (size_t i = 0; i <= text.size(); ++i) {
        if (i < text.size() && text[i] == '(')
            depth++;
        else if (i < text.size() && text[i] == ')')
            depth--;
        else if (i == text.size() || (text[i] == ',' && depth == 0)) {
            parts.push_back(trim(text.substr(start, i - start)));
            start = i + 1;
        }
    }
    for (std::string_view part : parts) {
        auto bad = [&](std::string_view why) {
            return fail(Errc::invalid_input, "label selector \"{}\": \"{}\": {}", text, part, why);
        };
        if (part.empty())
            return bad("empty requirement");
        policy::LabelRequirement r;
        size_t op_at = part.find_first_of("=!( ");
        if (part.front() == '!') {
            r.key = std::string(trim(part.substr(1)));
            r.op = LabelOperator::does_not_exist;
        } else if (op_at == std::string_view::npos) {
            r.key = std::string(part);
            r.op = LabelOperator::exists;
        } else if (part.substr(op_at).starts_with("!=") || part[op_at] == '=') {
            bool neq = part[op_at] == '!';
            size_t vstart = op_at + (neq || part.substr(op_at).starts_with("==") ? 2 : 1);
            r.key = std::string(trim(part.substr(0, op_at)));
            r.op = neq ? LabelOperator::not_in : LabelOperator::in;
            r.values = {std::string(trim(part.substr(vstart)))};
        } else {
            r.key = std::string(trim(part.substr(0, op_at)));
            std::string_view rest = trim(part.substr(op_at));
            bool notin = rest.starts_with("notin");
            if (!notin && !rest.starts_with("in"))
                return bad("expected =, ==, !=, in (...) or notin (...) after the key");
            r.op = notin ? LabelOperator::not_in : LabelOperator::in;
            rest = trim(rest.substr(notin ? 5 : 2));
            if (!rest.starts_with('(') || !rest.ends_with(')'))
                return bad("the values of in / notin go in parentheses: key in (a,b)");
            rest = rest.substr(1, rest.size() - 2);
            for (size_t p = 0; p <= rest.size();) {
                size_t c = rest.find(',', p);
                r.values.emplace_back(trim(rest.substr(p, c == std::string_view::npos ? c : c - p)));
                p = c == std::string_view::npos ? rest.size() + 1 : c + 1;
            }
        }
        if (r.key.empty() || !label_text(r.key, true))
            return bad("not a valid label key");
        for (const auto& v : r.values)
            if (!label_text(v, false))
                return bad(fmt::format("\"{}\" is not a valid label value", v));
        std::sort(r.values.begin(), r.values.end());
        sel.requirements.push_back(std::move(r));
    }
    return sel;
}

std::string image_repo(std::string_view image)
{
    image = image.substr(0, image.find('@'));
    size_t colon = image.rfind(':');
    size_t slash = image.rfind('/');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash))
        image = image.substr(0, colon);
    return std::string(image);
}

bool workload_selects(const WorkloadPolicy& p, const ContainerMeta* meta)
{
    if (!meta)
        return false;
    bool in_pod = !meta->pod_name.empty();
    if (!p.namespace_.empty() && (!in_pod || meta->pod_namespace != p.namespace_))
        return false;
    const auto& s = p.scope;
    if (!s.pods && !s.containers)
        return !p.namespace_.empty(); // hostSelector alone: containers are out
    if (s.pods) {
        if (!in_pod)
            return false;
        Labels labels = meta->pod_labels;
        labels.emplace_back(namespace_label, meta->pod_namespace);
        std::sort(labels.begin(), labels.end());
        if (!label_selector_matches(*s.pods, labels))
            return false;
    }
    if (s.containers) {
        Labels fields{{"name", meta->name}, {"repo", image_repo(meta->image_name)}};
        if (!label_selector_matches(*s.containers, fields))
            return false;
    }
    return true;
}

bool node_selected(const std::optional<policy::LabelSelector>& sel, const Labels& node_labels)
{
    return !sel || label_selector_matches(*sel, node_labels);
}

void WorkloadSets::put(uint32_t set, uint64_t cgroup)
{
    vigil_workload_key k{set, 0, cgroup};
    uint8_t one = 1;
    if (bpf_map_update_elem(map_fd_, &k, &one, BPF_ANY) != 0) {
        if (update_errors_++ == 0)
            log::get("policy")->error("adding cgroup {} to workload set {} in {}: {}", cgroup, set,
                                      VIGIL_WORKLOADS_MAP, std::strerror(errno));
        return;
    }
    if (set != VIGIL_WORKLOAD_CONTAINERS)
        members_[set].insert(cgroup);
}

void WorkloadSets::del(uint32_t set, uint64_t cgroup)
{
    vigil_workload_key k{set, 0, cgroup};
    bpf_map_delete_elem(map_fd_, &k); // ENOENT is fine: never added
    if (auto it = members_.find(set); it != members_.end())
        it->second.erase(cgroup);
}

Result<void> WorkloadSets::add(uint32_t set, WorkloadPolicy p)
{
    if (set == VIGIL_WORKLOAD_CONTAINERS)
        return fail(Errc::invalid_input, "workload set {} is reserved", set);
    uint64_t errors = update_errors_;
    members_[set];
    for (const auto& [id, keys] : cgroups_)
        if (workload_selects(p, containers_.find(id)))
            for (uint64_t k : keys)
                put(set, k);
    policies_[set] = std::move(p);
    if (update_errors_ != errors) {
        remove(set);
        return fail(Errc::kernel, "{} is full or refused an update: the policy's workloads cannot be kept",
                    VIGIL_WORKLOADS_MAP);
    }
    return {};
}

void WorkloadSets::remove(uint32_t set)
{
    if (auto it = members_.find(set); it != members_.end()) {
        for (uint64_t k : it->second) {
            vigil_workload_key key{set, 0, k};
            bpf_map_delete_elem(map_fd_, &key);
        }
        members_.erase(it);
    }
    policies_.erase(set);
}

void WorkloadSets::refresh(const std::string& id)
{
    auto it = cgroups_.find(id);
    if (it == cgroups_.end())
        return;
    const ContainerMeta* meta = containers_.find(id);
    for (const auto& [set, p] : policies_) {
        bool in = workload_selects(p, meta);
        for (uint64_t k : it->second)
            in ? put(set, k) : del(set, k);
    }
}

void WorkloadSets::on_cgroup(const std::string& id, uint64_t key)
{
    if (!key)
        return;
    auto& keys = cgroups_[id];
    if (std::find(keys.begin(), keys.end(), key) != keys.end())
        return;
    keys.push_back(key);
    put(VIGIL_WORKLOAD_CONTAINERS, key);
    const ContainerMeta* meta = containers_.find(id);
    for (const auto& [set, p] : policies_)
        if (workload_selects(p, meta))
            put(set, key);
}

void WorkloadSets::on_container(uint32_t op, const std::string& id)
{
    if (op != VIGIL_CONTAINER_DELETE) {
        refresh(id);
        return;
    }
    auto it = cgroups_.find(id);
    if (it == cgroups_.end())
        return;
    for (uint64_t k : it->second) {
        del(VIGIL_WORKLOAD_CONTAINERS, k);
        for (const auto& [set, p] : policies_)
            del(set, k);
    }
    cgroups_.erase(it);
}

} // namespace vigil
