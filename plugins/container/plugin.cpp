// The container plugin: a metadata provider (SDK contract of ABI 1.1). It asks the CRI
// runtimes of the node (containerd, CRI-O) for their pods and containers and tells the host's
// container table. It runs on a thread of its own: a missing, slow or restarting runtime
// delays names, never events. It lists everything when it starts, when the host asks about a
// container it does not know (the first process of a new container), at most once per
// min_interval, and every resync seconds to learn of containers that are gone.
#include "cri_client.hpp"

#include <vigil/sdk/plugin.hpp>

#include <fmt/format.h>

#include <chrono>
#include <expected>
#include <condition_variable>
#include <iterator>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

using vigil::sdk::Error;
using namespace std::chrono_literals;
namespace vc = vigil::container;

const vigil_config_field config_fields[] = {
    {sizeof(vigil_config_field), "cri_sockets", VIGIL_CONFIG_STRING_LIST,
     "CRI runtime sockets to ask (absent ones are retried later)",
     "[\"/run/containerd/containerd.sock\", \"/var/run/crio/crio.sock\"]"},
    {sizeof(vigil_config_field), "timeout_ms", VIGIL_CONFIG_INT, "deadline of one CRI call", "2000"},
    {sizeof(vigil_config_field), "resync_seconds", VIGIL_CONFIG_INT,
     "full listing interval, to learn of containers that are gone", "60"},
};

class ContainerPlugin {
public:
    static const vigil_descriptor& descriptor()
    {
        static const vigil_descriptor d = [] {
            vigil_descriptor x{};
            x.struct_size = sizeof x;
            x.abi_major = VIGIL_ABI_MAJOR;
            x.min_host_minor = 1; // container_update / container_wanted
            x.id = "container";
            x.name = "Container metadata";
            x.version = "0.1.0";
            x.description = "Pod and container metadata from CRI runtimes (containerd, CRI-O) for the host's "
                            "container table";
            x.license = "Apache-2.0";
            x.config_fields = config_fields;
            x.config_field_count = std::size(config_fields);
            return x;
        }();
        return d;
    }

    ContainerPlugin(vigil::sdk::Host& host, const vigil::sdk::Config& cfg) : host_(host)
    {
        sockets_ = cfg.get_list("cri_sockets", {"/run/containerd/containerd.sock", "/var/run/crio/crio.sock"});
        for (const auto& s : sockets_)
            if (s.empty() || s[0] != '/')
                throw Error(VIGIL_ERR_INVALID, fmt::format("cri_sockets: \"{}\" is not an absolute path", s));
        int64_t t = cfg.get_int("timeout_ms", 2000);
        int64_t r = cfg.get_int("resync_seconds", 60);
        if (t < 10 || t > 60'000)
            throw Error(VIGIL_ERR_INVALID, fmt::format("timeout_ms: {} is outside 10..60000", t));
        if (r < 1 || r > 86'400)
            throw Error(VIGIL_ERR_INVALID, fmt::format("resync_seconds: {} is outside 1..86400", r));
        timeout_ = std::chrono::milliseconds(t);
        resync_ = std::chrono::seconds(r);
        if (!host_.takes_containers())
            throw Error(VIGIL_ERR_UNSUPPORTED, "the host takes no container metadata (ABI 1.1 needed)");
    }
    ~ContainerPlugin() { stop(); }

    void start()
    {
        stop();
        stopping_ = false;
        wanted_ = true; // list once at start
        worker_ = std::thread([this] { run(); });
    }

    void stop()
    {
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
        }
        cv_.notify_all();
        if (worker_.joinable())
            worker_.join();
    }

    void decode(uint32_t, std::span<const std::byte>, vigil::sdk::Emitter&)
    {
        throw Error(VIGIL_ERR_INVALID, "the container plugin has no ring");
    }

    void container_wanted(std::string_view)
    {
        {
            std::lock_guard lock(mu_);
            wanted_ = true;
        }
        cv_.notify_all();
    }

private:
    static constexpr auto min_interval = 500ms;

    void run()
    {
        std::vector<std::unique_ptr<vc::CriClient>> clients;
        for (const auto& s : sockets_)
            clients.push_back(std::make_unique<vc::CriClient>(s, timeout_));
        std::vector<bool> failing(clients.size(), false);
        std::unordered_map<std::string, std::string> known; // id -> fingerprint of what was sent
        auto next_resync = std::chrono::steady_clock::now();
        for (;;) {
            {
                std::unique_lock lock(mu_);
                cv_.wait_until(lock, next_resync, [this] { return stopping_ || wanted_; });
                if (stopping_)
                    return;
                wanted_ = false;
            }
            std::set<std::string> seen;
            bool complete = true;
            for (size_t i = 0; i < clients.size(); ++i) {
                if (!sync(*clients[i], known, seen)) {
                    complete = false;
                    failing[i] = true;
                } else if (failing[i]) {
                    failing[i] = false;
                    host_.info(fmt::format("CRI runtime at {} answers again", clients[i]->socket()));
                }
            }
            // gone: only when every runtime answered, else a silent one's containers would vanish
            if (complete) {
                for (auto it = known.begin(); it != known.end();) {
                    if (seen.count(it->first)) {
                        ++it;
                        continue;
                    }
                    vigil_container_info info{};
                    info.struct_size = sizeof info;
                    info.op = VIGIL_CONTAINER_DELETE;
                    info.id = it->first.data();
                    info.id_len = it->first.size();
                    host_.container_update(info);
                    it = known.erase(it);
                }
            }
            next_resync = std::chrono::steady_clock::now() + resync_;
            std::this_thread::sleep_for(min_interval); // rate limit: hints during it wait
        }
    }

    // One runtime's listing into the host; false when it did not answer.
    bool sync(vc::CriClient& c, std::unordered_map<std::string, std::string>& known, std::set<std::string>& seen)
    {
        auto runtime = c.runtime_name();
        std::expected<std::vector<vc::CriContainer>, std::string> list =
            runtime ? c.list() : std::unexpected(runtime.error());
        if (!list) {
            if (!warned_.count(c.socket())) {
                warned_.insert(c.socket());
                host_.warn(fmt::format("CRI runtime at {}: {} (events keep their container id; names come when it "
                                       "answers)",
                                       c.socket(), list.error()));
            }
            return false;
        }
        warned_.erase(c.socket());
        for (const vc::CriContainer& k : *list) {
            seen.insert(k.id);
            std::string print = fingerprint(k);
            auto it = known.find(k.id);
            if (it != known.end() && it->second == print)
                continue;
            send(*runtime, k);
            known[k.id] = std::move(print);
        }
        return true;
    }

    static std::string fingerprint(const vc::CriContainer& k)
    {
        std::string s = fmt::format("{}\n{}\n{}\n{}\n{}\n{}\n{}\n", k.name, k.image_name, k.image_id, k.created_ns,
                                    k.pod_name, k.pod_namespace, k.pod_uid);
        for (const auto& [a, b] : k.pod_labels)
            s += a + '=' + b + '\n';
        for (const auto& [a, b] : k.pod_annotations)
            s += a + '=' + b + '\n';
        return s;
    }

    void send(const std::string& runtime, const vc::CriContainer& k)
    {
        auto kv = [](const vc::Pairs& p) {
            std::vector<vigil_key_value> out;
            out.reserve(p.size());
            for (const auto& [a, b] : p)
                out.push_back({a.data(), a.size(), b.data(), b.size()});
            return out;
        };
        std::vector<vigil_key_value> labels = kv(k.pod_labels), annotations = kv(k.pod_annotations);
        vigil_container_info info{};
        info.struct_size = sizeof info;
        info.op = VIGIL_CONTAINER_UPSERT;
        info.id = k.id.data();
        info.id_len = k.id.size();
        info.runtime = runtime.data();
        info.runtime_len = runtime.size();
        info.name = k.name.data();
        info.name_len = k.name.size();
        info.image_name = k.image_name.data();
        info.image_name_len = k.image_name.size();
        info.image_id = k.image_id.data();
        info.image_id_len = k.image_id.size();
        info.start_time_ns = k.created_ns;
        info.pod_name = k.pod_name.data();
        info.pod_name_len = k.pod_name.size();
        info.pod_namespace = k.pod_namespace.data();
        info.pod_namespace_len = k.pod_namespace.size();
        info.pod_uid = k.pod_uid.data();
        info.pod_uid_len = k.pod_uid.size();
        info.pod_labels = labels.data();
        info.pod_label_count = static_cast<uint32_t>(labels.size());
        info.pod_annotations = annotations.data();
        info.pod_annotation_count = static_cast<uint32_t>(annotations.size());
        host_.container_update(info);
    }

    vigil::sdk::Host& host_;
    std::vector<std::string> sockets_;
    std::chrono::milliseconds timeout_{2000};
    std::chrono::seconds resync_{60};
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    bool wanted_ = false;
    std::thread worker_;
    std::set<std::string> warned_; // sockets whose failure was logged (worker thread only)
};

} // namespace

VIGIL_PLUGIN(ContainerPlugin)
