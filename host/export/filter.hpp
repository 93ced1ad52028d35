// Export filters ([export.allow] / [export.deny]): which events reach the sinks. A filter
// matches an event when every criterion it sets matches (an unset one matches anything);
// with an allow filter set only matching events go out, and the deny filter wins over it.
#pragma once

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/regex.hpp"
#include "policy/model.hpp"
#include "process/entry.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

class ExportFilter {
public:
    [[nodiscard]] static Result<ExportFilter> make(const ExportFilterConfig& cfg, std::string_view where);

    bool empty() const { return empty_; }
    // kind: the event kind; process: the cache entry of the process the event is about, if known.
    bool matches(std::string_view kind, uint32_t pid, const ProcessEntry* process) const;

private:
    bool empty_ = true;
    std::vector<std::string> event_types_; // lower case; Tetragon's PROCESS_EXEC == process_exec
    std::optional<Regex> binary_;
    std::vector<uint32_t> pids_;
    std::vector<std::string> namespaces_;
    std::vector<Regex> pod_regex_;
    std::vector<policy::LabelSelector> labels_;
    std::vector<Regex> container_id_;
    const class ContainerTable* containers_ = nullptr; // pod namespaces, for namespaces_
    friend class ExportFilters;
    uint32_t flags_ = 0; // VIGIL_PROC_F_* bits that must all be set
};

class ExportFilters {
public:
    [[nodiscard]] static Result<ExportFilters> make(const ExportFilterConfig& allow, const ExportFilterConfig& deny);
    bool pass(std::string_view kind, uint32_t pid, const ProcessEntry* process) const;
    // Where the pod criteria (namespaces, pod_regex, labels) find pods; none: no pod is known.
    void set_containers(const class ContainerTable* containers);

private:
    ExportFilter allow_, deny_;
};

} // namespace vigil
