// The host's container table and what it adds to events: workload derivation from pod names
// and labels, metadata providers' updates queued onto the event loop, hints for unknown
// containers (rate-limited), and the "pod" object of process JSON.
#include "container/table.hpp"
#include "container/workload.hpp"
#include "export/filter.hpp"
#include "export/process_json.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <thread>
#include <vector>

using namespace vigil;

namespace {

const std::string id = "551e161c47d8ff0eb665438a7bcd5b4e3ef5a297282b40a92b7c77d6bd168eb3";
const std::string uid = "2bd9b0a5-74e2-4c4f-a5b8-1f5a3c2e9d01";

struct Info {
    std::string pod_name = "cart-7d9f8b6c5d-x2x4z", ns = "shop", name = "app", image = "localhost/cart:1.4";
    std::vector<std::pair<std::string, std::string>> labels = {{"app", "cart"}, {"pod-template-hash", "7d9f8b6c5d"}};
    std::vector<vigil_key_value> kv;
    vigil_container_info get(uint32_t op = VIGIL_CONTAINER_UPSERT)
    {
        kv.clear();
        for (auto& [k, v] : labels)
            kv.push_back({k.data(), k.size(), v.data(), v.size()});
        vigil_container_info i{};
        i.struct_size = sizeof i;
        i.op = op;
        i.id = id.data();
        i.id_len = id.size();
        i.runtime = "containerd";
        i.runtime_len = 10;
        i.name = name.data();
        i.name_len = name.size();
        i.image_name = image.data();
        i.image_name_len = image.size();
        i.start_time_ns = 1'700'000'000'000'000'000;
        i.pod_name = pod_name.data();
        i.pod_name_len = pod_name.size();
        i.pod_namespace = ns.data();
        i.pod_namespace_len = ns.size();
        i.pod_uid = uid.data();
        i.pod_uid_len = uid.size();
        i.pod_labels = kv.data();
        i.pod_label_count = static_cast<uint32_t>(kv.size());
        return i;
    }
};

} // namespace

TEST_CASE("workloads from pod names and labels", "[unit][containers]")
{
    CHECK(derive_workload("cart-7d9f8b6c5d-x2x4z", {{"pod-template-hash", "7d9f8b6c5d"}}) ==
          Workload{"cart", "Deployment"});
    CHECK(derive_workload("my-web-app-6c7f9d8b4-abcde", {{"app", "w"}, {"pod-template-hash", "6c7f9d8b4"}}) ==
          Workload{"my-web-app", "Deployment"});
    CHECK(derive_workload("odd-x2x4z", {{"pod-template-hash", "zzz"}}) == Workload{"odd", "ReplicaSet"});
    CHECK(derive_workload("node-exporter-7xk2p",
                          {{"controller-revision-hash", "5b9f"}, {"pod-template-generation", "3"}}) ==
          Workload{"node-exporter", "DaemonSet"});
    CHECK(derive_workload("db-2", {{"controller-revision-hash", "db-5b9f"},
                                   {"statefulset.kubernetes.io/pod-name", "db-2"}}) ==
          Workload{"db", "StatefulSet"});
    CHECK(derive_workload("migrate-abcde", {{"job-name", "migrate"}}) == Workload{"migrate", "Job"});
    CHECK(derive_workload("backup-28391040-q2w3e", {{"batch.kubernetes.io/job-name", "backup-28391040"}}) ==
          Workload{"backup", "CronJob"});
    CHECK(derive_workload("job-v2-12-abc", {{"job-name", "job-v2-12"}}) == Workload{"job-v2-12", "Job"});
    CHECK(derive_workload("kube-apiserver-node1", {{"component", "kube-apiserver"}}) ==
          Workload{"kube-apiserver-node1", "Pod"});
    CHECK(derive_workload("bare", {}) == Workload{"bare", "Pod"});
}

TEST_CASE("providers' updates reach the table on the event loop; hints are rate-limited", "[unit][containers]")
{
    boost::asio::io_context io;
    ContainerTable table(io);
    std::vector<std::string> asked;
    table.set_wanted([&](const std::string& i) { asked.push_back(i); });
    ContainerIdentity c{ContainerRuntime::containerd, id, uid};

    CHECK(table.lookup(c) == nullptr);
    CHECK(table.lookup(c) == nullptr); // asked once within the retry interval
    REQUIRE(asked.size() == 1);
    CHECK(asked[0] == id);

    Info info;
    std::thread provider([&] { table.post(info.get()); }); // from a provider's own thread
    provider.join();
    CHECK(table.find(id) == nullptr); // queued, not applied yet
    io.run();
    io.restart();
    const ContainerMeta* m = table.lookup(c);
    REQUIRE(m);
    CHECK(m->pod_name == "cart-7d9f8b6c5d-x2x4z");
    CHECK(m->pod_namespace == "shop");
    CHECK(m->workload == Workload{"cart", "Deployment"});
    CHECK(m->pod_labels.front().first == "app"); // sorted
    CHECK(table.stats().known == 1);

    table.post(info.get(VIGIL_CONTAINER_DELETE));
    io.run();
    CHECK(table.find(id) == nullptr);
    CHECK(table.stats().updates == 2);

    // a record of an older, shorter layout or without an id is ignored
    vigil_container_info bad = info.get();
    bad.id_len = 0;
    table.post(bad);
    io.restart();
    io.run();
    CHECK(table.stats().updates == 2);
}

TEST_CASE("process JSON: pod from the runtime's metadata, or what the cgroup tells", "[unit][containers][json]")
{
    ProcessEntry e;
    e.key = {4711, 1};
    e.nspid = 7;
    e.container = {ContainerRuntime::containerd, id, uid};
    e.exec_id = "x";

    auto render = [&](const ContainerMeta* m, bool annotations) {
        sdk::JsonWriter w;
        w.begin_object();
        write_pod_json(w, e, m, annotations);
        w.end_object();
        return nlohmann::json::parse(w.take());
    };
    nlohmann::json bare = render(nullptr, false);
    CHECK(bare["pod"]["uid"] == uid);
    CHECK(bare["pod"]["container"]["id"] == "containerd://" + id);
    CHECK(bare["pod"]["container"]["pid"] == 7);
    CHECK_FALSE(bare["pod"].contains("name"));

    Info info;
    ContainerMeta m = container_meta_from(info.get());
    m.pod_annotations = {{"kubernetes.io/config.source", "api"}};
    nlohmann::json full = render(&m, false);
    const auto& pod = full["pod"];
    CHECK(pod["namespace"] == "shop");
    CHECK(pod["name"] == "cart-7d9f8b6c5d-x2x4z");
    CHECK(pod["uid"] == uid);
    CHECK(pod["container"]["name"] == "app");
    CHECK(pod["container"]["image"]["name"] == "localhost/cart:1.4");
    CHECK(pod["container"]["start_time"] == "2023-11-14T22:13:20.000000000Z");
    CHECK(pod["container"]["maybe_exec_probe"] == false);
    CHECK(pod["pod_labels"]["app"] == "cart");
    CHECK(pod["workload"] == "cart");
    CHECK(pod["workload_kind"] == "Deployment");
    CHECK_FALSE(pod.contains("pod_annotations"));
    CHECK(render(&m, true)["pod"]["pod_annotations"]["kubernetes.io/config.source"] == "api");

    // a container outside any pod: no "pod" at all
    e.container.pod_uid.clear();
    CHECK_FALSE(render(nullptr, false).contains("pod"));
    ContainerMeta plain = m;
    plain.pod_name.clear();
    CHECK_FALSE(render(&plain, false).contains("pod"));
}

TEST_CASE("export filter namespaces: the pod's namespace, \"\" on the host", "[unit][containers]")
{
    boost::asio::io_context io;
    ContainerTable table(io);
    Info info; // namespace "shop"
    table.apply(VIGIL_CONTAINER_UPSERT, container_meta_from(info.get()));

    ProcessEntry host, in_pod, unknown_pod, plain;
    in_pod.container = {ContainerRuntime::containerd, id, uid};
    unknown_pod.container = {ContainerRuntime::containerd, std::string(64, 'a'), uid};
    plain.container = {ContainerRuntime::docker, std::string(64, 'b'), ""};

    auto filters = [&](std::vector<std::string> allow_ns, std::vector<std::string> deny_ns) {
        ExportFilterConfig allow, deny;
        allow.namespaces = std::move(allow_ns);
        deny.namespaces = std::move(deny_ns);
        auto f = ExportFilters::make(allow, deny);
        REQUIRE(f);
        f->set_containers(&table);
        return std::move(*f);
    };
    auto shop = filters({"shop"}, {});
    CHECK(shop.pass("process_exec", 1, &in_pod));
    CHECK_FALSE(shop.pass("process_exec", 1, &host));
    CHECK_FALSE(shop.pass("process_exec", 1, &unknown_pod));
    auto hosts = filters({""}, {});
    CHECK(hosts.pass("process_exec", 1, &host));
    CHECK(hosts.pass("process_exec", 1, &plain)); // a container outside Kubernetes
    CHECK_FALSE(hosts.pass("process_exec", 1, &in_pod));
    CHECK_FALSE(hosts.pass("process_exec", 1, &unknown_pod)); // in a pod, which one is not known yet
    auto not_shop = filters({}, {"shop"});
    CHECK_FALSE(not_shop.pass("process_exec", 1, &in_pod));
    CHECK(not_shop.pass("process_exec", 1, &host));
}

TEST_CASE("export filters pod_regex, labels, container_id: only described pods match", "[unit][containers]")
{
    boost::asio::io_context io;
    ContainerTable table(io);
    Info info; // pod cart-7d9f8b6c5d-x2x4z, labels app=cart, pod-template-hash
    table.apply(VIGIL_CONTAINER_UPSERT, container_meta_from(info.get()));

    ProcessEntry host, in_pod, unknown_pod, plain;
    in_pod.container = {ContainerRuntime::containerd, id, uid};
    unknown_pod.container = {ContainerRuntime::containerd, std::string(64, 'a'), uid};
    plain.container = {ContainerRuntime::docker, std::string(64, 'b'), ""};

    auto allow = [&](ExportFilterConfig cfg) {
        auto f = ExportFilters::make(cfg, {});
        REQUIRE(f);
        f->set_containers(&table);
        return std::move(*f);
    };
    auto pods = allow({.pod_regex = {"^web-", "^cart-"}});
    CHECK(pods.pass("process_exec", 1, &in_pod));
    CHECK_FALSE(pods.pass("process_exec", 1, &host));
    CHECK_FALSE(pods.pass("process_exec", 1, &unknown_pod));
    CHECK_FALSE(allow({.pod_regex = {"^web-"}}).pass("process_exec", 1, &in_pod));

    CHECK(allow({.labels = {"app=cart"}}).pass("process_exec", 1, &in_pod));
    CHECK(allow({.labels = {"app in (web, cart),pod-template-hash"}}).pass("process_exec", 1, &in_pod));
    CHECK_FALSE(allow({.labels = {"app=cart,!pod-template-hash"}}).pass("process_exec", 1, &in_pod));
    CHECK(allow({.labels = {"app=web", "tier!=db"}}).pass("process_exec", 1, &in_pod)); // any selector
    CHECK_FALSE(allow({.labels = {"tier!=db"}}).pass("process_exec", 1, &host));       // no pod, no labels

    auto ids = allow({.container_id = {"^551e16"}});
    CHECK(ids.pass("process_exec", 1, &in_pod));
    CHECK_FALSE(ids.pass("process_exec", 1, &plain));
    CHECK_FALSE(ids.pass("process_exec", 1, &host));
    CHECK(allow({.container_id = {"^b{64}$"}}).pass("process_exec", 1, &plain)); // outside Kubernetes too

    // deny wins, with the same criteria
    auto f = ExportFilters::make({}, {.labels = {"app=cart"}});
    REQUIRE(f);
    f->set_containers(&table);
    CHECK_FALSE(f->pass("process_exec", 1, &in_pod));
    CHECK(f->pass("process_exec", 1, &host));

    auto bad = ExportFilters::make({.labels = {"app in web"}}, {});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message() == "export.allow.labels: label selector \"app in web\": \"app in web\": the values of "
                                   "in / notin go in parentheses: key in (a,b)");
    auto bad_re = ExportFilters::make({}, {.pod_regex = {"(x"}});
    REQUIRE_FALSE(bad_re);
    CHECK(bad_re.error().message().starts_with("export.deny.pod_regex: "));
}
