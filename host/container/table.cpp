#include "container/table.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace vigil {

namespace {

std::string str(const char* p, size_t n) { return p && n ? std::string(p, n) : std::string(); }

Labels pairs(const vigil_key_value* kv, uint32_t n)
{
    Labels out;
    if (!kv)
        return out;
    out.reserve(n);
    for (uint32_t i = 0; i < n; ++i)
        out.emplace_back(str(kv[i].key, kv[i].key_len), str(kv[i].value, kv[i].value_len));
    std::sort(out.begin(), out.end());
    return out;
}

constexpr size_t max_wanted_entries = 4096; // hint bookkeeping, pruned when full

} // namespace

ContainerMeta container_meta_from(const vigil_container_info& i)
{
    ContainerMeta m;
    m.id = str(i.id, i.id_len);
    m.runtime = str(i.runtime, i.runtime_len);
    m.name = str(i.name, i.name_len);
    m.image_name = str(i.image_name, i.image_name_len);
    m.image_id = str(i.image_id, i.image_id_len);
    m.start_time_ns = i.start_time_ns;
    m.pod_name = str(i.pod_name, i.pod_name_len);
    m.pod_namespace = str(i.pod_namespace, i.pod_namespace_len);
    m.pod_uid = str(i.pod_uid, i.pod_uid_len);
    m.pod_labels = pairs(i.pod_labels, i.pod_label_count);
    m.pod_annotations = pairs(i.pod_annotations, i.pod_annotation_count);
    if (!m.pod_name.empty())
        m.workload = derive_workload(m.pod_name, m.pod_labels);
    return m;
}

void ContainerTable::post(const vigil_container_info& info)
{
    if (info.struct_size < offsetof(vigil_container_info, pad1) || !info.id || !info.id_len)
        return;
    boost::asio::post(io_, [this, op = info.op, meta = container_meta_from(info)]() mutable {
        apply(op, std::move(meta));
    });
}

void ContainerTable::apply(uint32_t op, ContainerMeta meta)
{
    stats_.updates++;
    generation_++;
    asked_.erase(meta.id);
    std::string id = meta.id;
    if (op == VIGIL_CONTAINER_DELETE)
        by_id_.erase(id);
    else
        by_id_[id] = std::make_shared<const ContainerMeta>(std::move(meta));
    if (on_change_)
        on_change_(op, id);
}

const ContainerMeta* ContainerTable::find(std::string_view id) const
{
    auto it = by_id_.find(std::string(id));
    return it == by_id_.end() ? nullptr : it->second.get();
}

const ContainerMeta* ContainerTable::lookup(const ContainerIdentity& c)
{
    if (c.empty())
        return nullptr;
    if (const ContainerMeta* m = find(c.id))
        return m;
    if (!wanted_)
        return nullptr;
    auto now = std::chrono::steady_clock::now();
    auto [it, fresh] = asked_.try_emplace(c.id, now);
    if (!fresh) {
        if (now - it->second < wanted_retry)
            return nullptr;
        it->second = now;
    }
    if (asked_.size() > max_wanted_entries)
        std::erase_if(asked_, [&](const auto& kv) { return now - kv.second >= wanted_retry; });
    stats_.wanted++;
    wanted_(c.id);
    return nullptr;
}

} // namespace vigil
