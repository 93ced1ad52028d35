#include "export/filter.hpp"

#include "container/table.hpp"
#include "container/workload_sets.hpp"
#include "export/process_json.hpp"

#include <algorithm>
#include <cctype>

namespace vigil {

namespace {

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

} // namespace

Result<ExportFilter> ExportFilter::make(const ExportFilterConfig& cfg, std::string_view where)
{
    ExportFilter f;
    for (const auto& t : cfg.event_types)
        f.event_types_.push_back(lower(t));
    if (!cfg.binary_regex.empty()) {
        auto re = Regex::make(cfg.binary_regex);
        if (!re)
            return fail(Errc::invalid_input, "{}.binary_regex: {}", where, re.error().message());
        f.binary_ = std::move(*re);
    }
    for (const auto& name : cfg.process_flags) {
        auto bit = process_flag_bit(name);
        if (!bit)
            return fail(Errc::invalid_input, "{}.process_flags: unknown flag \"{}\" (flags: {})", where, name,
                        process_flag_names());
        f.flags_ |= *bit;
    }
    f.pids_ = cfg.pids;
    f.namespaces_ = cfg.namespaces;
    for (const auto* list : {&cfg.pod_regex, &cfg.container_id})
        for (const auto& p : *list) {
            auto re = Regex::make(p);
            if (!re)
                return fail(Errc::invalid_input, "{}.{}: {}", where, list == &cfg.pod_regex ? "pod_regex" : "container_id",
                            re.error().message());
            (list == &cfg.pod_regex ? f.pod_regex_ : f.container_id_).push_back(std::move(*re));
        }
    for (const auto& l : cfg.labels) {
        auto sel = parse_label_selector(l);
        if (!sel)
            return fail(Errc::invalid_input, "{}.labels: {}", where, sel.error().message());
        f.labels_.push_back(std::move(*sel));
    }
    f.empty_ = f.event_types_.empty() && !f.binary_ && f.pids_.empty() && f.namespaces_.empty() && !f.flags_ &&
               f.pod_regex_.empty() && f.labels_.empty() && f.container_id_.empty();
    return f;
}

bool ExportFilter::matches(std::string_view kind, uint32_t pid, const ProcessEntry* process) const
{
    if (!event_types_.empty() &&
        std::find(event_types_.begin(), event_types_.end(), lower(kind)) == event_types_.end())
        return false;
    if (binary_ && !(process && binary_->search(process->binary)))
        return false;
    if (flags_ && !(process && (process->flags & flags_) == flags_))
        return false;
    if (!pids_.empty() && std::find(pids_.begin(), pids_.end(), pid) == pids_.end())
        return false;
    // Kubernetes pod namespaces; "" is the host and containers outside pods, as Tetragon has
    // it. A process in a pod the runtime has not described yet matches no namespace.
    if (!namespaces_.empty()) {
        std::string_view ns;
        if (process && !process->container.empty()) {
            const ContainerMeta* m = containers_ ? containers_->find(process->container.id) : nullptr;
            if (m)
                ns = m->pod_namespace;
            else if (!process->container.pod_uid.empty())
                return false;
        }
        if (std::find(namespaces_.begin(), namespaces_.end(), ns) == namespaces_.end())
            return false;
    }
    if (!container_id_.empty() &&
        !(process && !process->container.empty() &&
          std::any_of(container_id_.begin(), container_id_.end(),
                      [&](const Regex& re) { return re.search(process->container.id); })))
        return false;
    // Pod name and labels: only a pod the runtime has described can match.
    if (!pod_regex_.empty() || !labels_.empty()) {
        const ContainerMeta* m = process && !process->container.empty() && containers_
                                     ? containers_->find(process->container.id)
                                     : nullptr;
        if (!m || m->pod_name.empty())
            return false;
        if (!pod_regex_.empty() && std::none_of(pod_regex_.begin(), pod_regex_.end(),
                                                [&](const Regex& re) { return re.search(m->pod_name); }))
            return false;
        if (!labels_.empty() && std::none_of(labels_.begin(), labels_.end(), [&](const policy::LabelSelector& l) {
                return label_selector_matches(l, m->pod_labels);
            }))
            return false;
    }
    return true;
}

Result<ExportFilters> ExportFilters::make(const ExportFilterConfig& allow, const ExportFilterConfig& deny)
{
    auto a = ExportFilter::make(allow, "export.allow");
    if (!a)
        return std::unexpected(a.error());
    auto d = ExportFilter::make(deny, "export.deny");
    if (!d)
        return std::unexpected(d.error());
    ExportFilters f;
    f.allow_ = std::move(*a);
    f.deny_ = std::move(*d);
    return f;
}

void ExportFilters::set_containers(const ContainerTable* containers)
{
    allow_.containers_ = containers;
    deny_.containers_ = containers;
}

bool ExportFilters::pass(std::string_view kind, uint32_t pid, const ProcessEntry* process) const
{
    if (!deny_.empty() && deny_.matches(kind, pid, process))
        return false;
    return allow_.empty() || allow_.matches(kind, pid, process);
}

} // namespace vigil
