// The workload a pod belongs to, derived from what the runtime knows of the pod (its name and
// labels; no API server): the names the controllers give their pods and the labels they set.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

struct Workload {
    std::string name;
    std::string kind; // "Deployment", "DaemonSet", "StatefulSet", "Job", "CronJob", "Pod"
    bool operator==(const Workload&) const = default;
};

using Labels = std::vector<std::pair<std::string, std::string>>;

//   pod-template-hash=H, name <d>-H-<suffix>                      -> Deployment <d>
//   controller-revision-hash + pod-template-generation, <ds>-<x>  -> DaemonSet <ds>
//   controller-revision-hash + statefulset.kubernetes.io/pod-name -> StatefulSet (name less -<ordinal>)
//   [batch.kubernetes.io/]job-name=J                              -> Job J, or CronJob <c> when
//                                                                    J is <c>-<scheduled minute>
//   anything else (static pods, bare pods)                        -> Pod <name>
Workload derive_workload(std::string_view pod_name, const Labels& labels);

} // namespace vigil
