#include "container/workload.hpp"

#include <algorithm>

namespace vigil {

namespace {

const std::string* label(const Labels& labels, std::string_view key)
{
    for (const auto& [k, v] : labels)
        if (k == key)
            return &v;
    return nullptr;
}

bool all_digits(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "<base>-<suffix>" -> base; the name itself when it has no '-'.
std::string_view without_last_part(std::string_view name)
{
    size_t dash = name.rfind('-');
    return dash == std::string_view::npos || dash == 0 ? name : name.substr(0, dash);
}

} // namespace

Workload derive_workload(std::string_view pod_name, const Labels& labels)
{
    if (const std::string* hash = label(labels, "pod-template-hash"); hash && !hash->empty()) {
        // <deployment>-<hash>-<random>
        std::string_view rs = without_last_part(pod_name);
        std::string suffix = "-" + *hash;
        if (rs.ends_with(suffix) && rs.size() > suffix.size())
            return {std::string(rs.substr(0, rs.size() - suffix.size())), "Deployment"};
        return {std::string(rs), "ReplicaSet"};
    }
    if (label(labels, "controller-revision-hash")) {
        if (label(labels, "statefulset.kubernetes.io/pod-name")) {
            std::string_view n = without_last_part(pod_name);
            return {std::string(n), "StatefulSet"};
        }
        if (label(labels, "pod-template-generation"))
            return {std::string(without_last_part(pod_name)), "DaemonSet"};
    }
    const std::string* job = label(labels, "batch.kubernetes.io/job-name");
    if (!job)
        job = label(labels, "job-name");
    if (job && !job->empty()) {
        // a CronJob names its Jobs <cronjob>-<scheduled time in minutes since the epoch>
        size_t dash = job->rfind('-');
        if (dash != std::string::npos && dash > 0 && all_digits(std::string_view(*job).substr(dash + 1)) &&
            job->size() - dash - 1 >= 8)
            return {job->substr(0, dash), "CronJob"};
        return {*job, "Job"};
    }
    return {std::string(pod_name), "Pod"};
}

} // namespace vigil
