// Process identity and the process cache: exec_id, parent links and reference counts, the
// grace-period collection and the size bound.
#include "process/cache.hpp"
#include "process/exec_id.hpp"
#include "process_fixtures.hpp"

#include <vigil/wire/process.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using namespace vigil;
using namespace std::chrono_literals;

namespace {

struct FakeClock {
    std::chrono::steady_clock::time_point t{};
    ProcessCache::Clock fn()
    {
        return [this] { return t; };
    }
};

// Binary names that outlive the updates pointing at them.
const std::string sh = "/bin/sh", ls = "/bin/ls", true_bin = "/bin/true", init = "/sbin/init";

vigil_process_update exec_update(uint32_t pid, uint64_t ktime, uint32_t ppid, uint64_t parent_ktime,
                                 const std::string& binary = true_bin)
{
    return test::exec_update(pid, ktime, ppid, parent_ktime, binary);
}

vigil_process_update clone_update(uint32_t pid, uint64_t ktime, uint32_t ppid, uint64_t parent_ktime)
{
    return test::process_update(VIGIL_PROC_CLONE, pid, ktime, ppid, parent_ktime);
}

vigil_process_update exit_update(uint32_t pid, uint64_t ktime, uint32_t code = 0)
{
    vigil_process_update u = test::process_update(VIGIL_PROC_EXIT, pid, ktime);
    u.exit_code = code;
    return u;
}

} // namespace

TEST_CASE("exec_id is base64 of node:ktime:pid", "[unit][process]")
{
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foob") == "Zm9vYg==");
    // Tetragon's documented example decodes to this node:ktime:pid
    CHECK(make_exec_id("gke-john-632-default-pool-7041cac0-9s95", 13548674321373, 52699) ==
          "Z2tlLWpvaG4tNjMyLWRlZmF1bHQtcG9vbC03MDQxY2FjMC05czk1OjEzNTQ4Njc0MzIxMzczOjUyNjk5");
    ProcessCache cache("node", 16);
    CHECK(cache.exec_id(7, 42) == make_exec_id("node", 42, 7));
}

TEST_CASE("cache links children to parents and counts references", "[unit][process]")
{
    FakeClock clock;
    ProcessCache cache("n", 64, 1000ms, clock.fn());
    const ProcessEntry* parent = cache.apply(exec_update(100, 1000, 1, 0, sh));
    REQUIRE(parent);
    CHECK(parent->refcnt == 1);
    CHECK(parent->parent_exec_id.empty()); // unknown parent

    const ProcessEntry* child = cache.apply(clone_update(101, 2000, 100, 1000));
    REQUIRE(child);
    CHECK(child->binary == "/bin/sh"); // runs its parent's program until it execs
    CHECK((child->flags & VIGIL_PROC_F_CLONE));
    CHECK((child->flags & VIGIL_PROC_F_EXECVE)); // parent's flags + clone, as Tetragon shows
    CHECK(child->parent_exec_id == parent->exec_id);
    CHECK(cache.find({100, 1000})->refcnt == 2);

    // exec in the child: a new incarnation, the clone entry is retired
    const ProcessEntry* exec = cache.apply(exec_update(101, 3000, 100, 1000, ls));
    REQUIRE(exec);
    CHECK(exec->binary == "/bin/ls");
    CHECK(cache.find_pid(101) == exec);
    CHECK(cache.find({101, 2000})->exited);
    CHECK(cache.find({101, 2000})->refcnt == 0);
    CHECK(cache.find({100, 1000})->refcnt == 3); // itself, the clone entry (until collected), the exec
    CHECK(cache.parent_of(*exec) == cache.find({100, 1000}));

    // the parent exits first: it stays while its children reference it
    const ProcessEntry* gone = cache.apply(exit_update(100, 1000));
    REQUIRE(gone);
    CHECK(gone->exited);
    CHECK(gone->refcnt == 2);
    clock.t += 5s;
    CHECK(cache.collect() == 1); // the clone entry; that drops its reference on the parent
    CHECK(cache.find({100, 1000})->refcnt == 1);
    cache.apply(exit_update(101, 3000));
    clock.t += 5s;
    CHECK(cache.collect() == 1); // the exec'd child
    clock.t += 5s;
    CHECK(cache.collect() == 1); // then the parent, a grace period after its last child
    CHECK(cache.size() == 0);
    CHECK(cache.stats().evicted == 0);
}

TEST_CASE("collection waits for the grace period and for holders", "[unit][process]")
{
    FakeClock clock;
    ProcessCache cache("n", 64, 1000ms, clock.fn());
    cache.apply(exec_update(10, 1, 1, 0));
    cache.acquire({10, 1}); // an event still on its way
    cache.apply(exit_update(10, 1));
    clock.t += 2s;
    CHECK(cache.collect() == 0);
    CHECK(cache.find({10, 1}));
    cache.release({10, 1});
    clock.t += 500ms;
    CHECK(cache.collect() == 0); // grace period not over yet
    clock.t += 600ms;
    CHECK(cache.collect() == 1);
    CHECK(!cache.find({10, 1}));
    CHECK(!cache.find_pid(10));
}

TEST_CASE("exit of an unknown process is counted, by-pid lookup falls back", "[unit][process]")
{
    ProcessCache cache("n", 64);
    CHECK(cache.apply(exit_update(5, 99)) == nullptr);
    CHECK(cache.stats().exit_misses == 1);
    cache.apply(exec_update(6, 50, 1, 0));
    CHECK(cache.lookup(6, 0) == cache.find({6, 50}));
    CHECK(cache.lookup(6, 0, 70) == cache.find({6, 50})); // no key: the pid's image if it started by then
    CHECK(cache.lookup(6, 51) == nullptr);                // a key names one image, never another
    const ProcessEntry* e = cache.apply(exit_update(6, 0)); // exit without a key
    REQUIRE(e);
    CHECK(e->exited);
}

TEST_CASE("exec falls back to the cached parent when the kernel lookup missed", "[unit][process]")
{
    ProcessCache cache("n", 64);
    cache.apply(exec_update(20, 100, 1, 0));
    auto u = exec_update(21, 200, 20, 0);
    u.flags |= VIGIL_PROC_F_MISS;
    const ProcessEntry* e = cache.apply(u);
    REQUIRE(e);
    CHECK(e->parent == ProcessKey{20, 100});
    CHECK(cache.find({20, 100})->refcnt == 2);
}

TEST_CASE("ancestors start at the grandparent and stop at the first unknown", "[unit][process]")
{
    ProcessCache cache("n", 64);
    cache.apply(exec_update(1, 1, 0, 0, init));
    cache.apply(exec_update(2, 2, 1, 1, sh));
    cache.apply(exec_update(3, 3, 2, 2, sh));
    const ProcessEntry* leaf = cache.apply(exec_update(4, 4, 3, 3, true_bin));
    auto a = cache.ancestors(*leaf);
    REQUIRE(a.size() == 2);
    CHECK(a[0]->key.pid == 2);
    CHECK(a[1]->key.pid == 1);
    CHECK(cache.ancestors(*leaf, 1).size() == 1);
}

TEST_CASE("an exec storm keeps the cache within its capacity", "[unit][process]")
{
    FakeClock clock;
    const size_t capacity = 256;
    ProcessCache cache("n", capacity, 1000ms, clock.fn());
    cache.apply(exec_update(1, 1, 0, 0, sh));
    uint64_t t = 10;
    for (uint32_t i = 0; i < 20000; ++i) {
        uint32_t pid = 1000 + i % 30000;
        cache.apply(clone_update(pid, t, 1, 1));
        cache.apply(exec_update(pid, t + 1, 1, 1));
        cache.apply(exit_update(pid, t + 1));
        t += 2;
        REQUIRE(cache.size() <= capacity);
        if (i % 1000 == 0)
            clock.t += 10ms; // far less than the grace period: collection alone cannot keep up
    }
    auto st = cache.stats();
    CHECK(st.evicted > 0);
    CHECK(cache.find({1, 1})); // the shell still runs: only dead entries were pushed out
    clock.t += 5s;
    cache.collect();
    clock.t += 5s;
    cache.collect();
    CHECK(cache.size() == 1);
}

TEST_CASE("a full cache of live processes evicts the oldest", "[unit][process]")
{
    ProcessCache cache("n", 4);
    for (uint32_t pid = 1; pid <= 6; ++pid)
        cache.apply(exec_update(pid, pid, 0, 0));
    CHECK(cache.size() == 4);
    CHECK(cache.stats().evicted == 2);
    CHECK(!cache.find({1, 1}));
    CHECK(!cache.find({2, 2}));
    CHECK(cache.find({6, 6}));
}

TEST_CASE("an event is pinned on the image that made the call, not the program it exec'd next",
          "[unit][process]")
{
    ProcessCache cache("n", 64);
    cache.apply(exec_update(1, 10, 0, 0, init));
    cache.apply(clone_update(7, 100, 1, 10)); // runuser forks ...
    cache.apply(exec_update(7, 200, 1, 10, sh)); // ... and the child execs right after its setuid
    const ProcessEntry* before = cache.lookup(7, 100, 150);
    REQUIRE(before);
    CHECK(before->key.ktime == 100);
    CHECK(before->binary == init); // the fork child still runs its parent's program
    CHECK(cache.lookup(7, 200, 250)->binary == sh);
    // Without a key, an event older than the pid's newest image belongs to none of the cached
    // ones rather than to the newer program; with one gone from the cache, nothing is borrowed.
    CHECK(cache.lookup(7, 0, 150) == nullptr);
    CHECK(cache.lookup(7, 0, 250)->binary == sh);
    CHECK(cache.lookup(7, 99) == nullptr);
}
