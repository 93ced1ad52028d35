// The workload sets in the kernel map (host/container/workload_sets): what the host writes into
// vigil_workloads as containers appear, get described, go away, and as policies come and go.
#include "bpf/shared_maps.hpp"
#include "container/workload_sets.hpp"

#include <vigil/wire/workloads.h>

#include <catch2/catch.hpp>

#include <bpf/bpf.h>
#include <boost/asio/io_context.hpp>

using namespace vigil;

namespace {

bool in_set(int fd, uint32_t set, uint64_t cgroup)
{
    vigil_workload_key k{set, 0, cgroup};
    uint8_t v = 0;
    return bpf_map_lookup_elem(fd, &k, &v) == 0 && v == 1;
}

ContainerMeta pod(const std::string& id, const std::string& ns, Labels labels)
{
    ContainerMeta m;
    m.id = id;
    m.name = "app";
    m.pod_name = "p-" + id;
    m.pod_namespace = ns;
    m.pod_labels = std::move(labels);
    return m;
}

} // namespace

TEST_CASE("workload sets follow containers and policies", "[bpf][workloads]")
{
    auto maps = SharedMaps::create();
    REQUIRE(maps);
    int fd = maps->workloads_fd();
    boost::asio::io_context io;
    ContainerTable table(io);
    WorkloadSets sets(table, fd, uint32_t(-1));
    table.set_on_change([&](uint32_t op, const std::string& id) { sets.on_container(op, id); });

    // a policy for namespace shop, before any container exists
    REQUIRE(sets.add(7, WorkloadPolicy{"shop", {}}));
    // a container seen by its processes before the runtime described it: a container (set 0),
    // in no policy's set yet
    sets.on_cgroup("a", 100);
    CHECK(in_set(fd, VIGIL_WORKLOAD_CONTAINERS, 100));
    CHECK_FALSE(in_set(fd, 7, 100));
    // described: in namespace shop
    table.apply(VIGIL_CONTAINER_UPSERT, pod("a", "shop", {{"app", "web"}}));
    CHECK(in_set(fd, 7, 100));
    // a second cgroup of the same container (a v1 controller's, a sub-cgroup) joins at once
    sets.on_cgroup("a", 101);
    CHECK(in_set(fd, 7, 101));
    // another namespace: never in set 7
    table.apply(VIGIL_CONTAINER_UPSERT, pod("b", "other", {{"app", "web"}}));
    sets.on_cgroup("b", 200);
    CHECK(in_set(fd, VIGIL_WORKLOAD_CONTAINERS, 200));
    CHECK_FALSE(in_set(fd, 7, 200));

    // a podSelector policy added later finds what is known now
    policy::LabelSelector web{{{{}, "app", policy::LabelOperator::in, {"web"}}}};
    REQUIRE(sets.add(8, WorkloadPolicy{"", {web, std::nullopt, false}}));
    CHECK(in_set(fd, 8, 100));
    CHECK(in_set(fd, 8, 200));
    // re-described with other labels: leaves set 8, stays in set 7
    table.apply(VIGIL_CONTAINER_UPSERT, pod("a", "shop", {{"app", "db"}}));
    CHECK_FALSE(in_set(fd, 8, 100));
    CHECK(in_set(fd, 7, 100));

    // a container gone leaves every set
    table.apply(VIGIL_CONTAINER_DELETE, pod("a", "shop", {}));
    CHECK_FALSE(in_set(fd, VIGIL_WORKLOAD_CONTAINERS, 100));
    CHECK_FALSE(in_set(fd, 7, 100));
    CHECK_FALSE(in_set(fd, 7, 101));
    CHECK(sets.containers_known() == 1);

    // a policy removed: its entries go, the others stay
    sets.remove(8);
    CHECK_FALSE(in_set(fd, 8, 200));
    CHECK(in_set(fd, VIGIL_WORKLOAD_CONTAINERS, 200));
    CHECK(sets.update_errors() == 0);
    CHECK_FALSE(sets.add(VIGIL_WORKLOAD_CONTAINERS, WorkloadPolicy{"shop", {}}));
}
