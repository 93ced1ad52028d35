// A real BPF object built by vigil_add_bpf_object(), loaded with the host's shared maps, attached
// to a tracepoint, and drained by the host's ring pump.
#include "bpf/ring_pump.hpp"
#include "bpf/shared_maps.hpp"
#include "counter.skel.h"

#include <vigil/wire/errors.h>

#include <catch2/catch.hpp>

#include <bpf/libbpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace {

struct CounterSkel {
    counter* skel = counter__open();
    ~CounterSkel() { counter__destroy(skel); }
};

void reuse(bpf_map* map, int fd)
{
    REQUIRE(bpf_map__reuse_fd(map, fd) == 0);
}

// The counter program loaded with the host's shared maps, attached, counting this process's
// getpid() calls; ring_bytes, when given, resizes its ring.
void load_counter(CounterSkel& c, const vigil::SharedMaps& maps, uint32_t ring_bytes = 0)
{
    REQUIRE(c.skel);
    c.skel->rodata->target_tgid = static_cast<uint32_t>(::getpid());
    reuse(c.skel->maps.vigil_procs, maps.procs_fd());
    reuse(c.skel->maps.vigil_errors, maps.errors_fd());
    if (ring_bytes)
        REQUIRE(bpf_map__set_max_entries(c.skel->maps.counter_events, ring_bytes) == 0);
    REQUIRE(counter__load(c.skel) == 0);
    REQUIRE(counter__attach(c.skel) == 0);
}

// Records leave the ring only on drain(): what the ring holds is under the test's control.
const vigil::RingReaderOptions no_reader{.thread = false};

} // namespace

TEST_CASE("a tracepoint program built by the pipeline fires and its records reach the ring pump", "[bpf]")
{
    auto maps = vigil::SharedMaps::create();
    REQUIRE(maps);
    CounterSkel c;
    load_counter(c, *maps);

    boost::asio::io_context io;
    std::vector<uint64_t> seqs;
    vigil::RingSet rings(io, [&](uint32_t ring_id, const void* data, size_t len) {
        CHECK(ring_id == 7);
        REQUIRE(len >= 16);
        uint64_t seq;
        std::memcpy(&seq, data, sizeof seq);
        seqs.push_back(seq);
    });
    REQUIRE(rings.add(bpf_map__fd(c.skel->maps.counter_events), 7));

    constexpr int calls = 50;
    for (int i = 0; i < calls; ++i)
        ::syscall(SYS_getpid);
    rings.drain();

    CHECK(c.skel->bss->hits == calls);
    REQUIRE(seqs.size() == calls);
    for (int i = 0; i < calls; ++i)
        CHECK(seqs[i] == static_cast<uint64_t>(i));
    CHECK(maps->error_count(VIGIL_ERR_RINGBUF_RESERVE) == 0);
}

TEST_CASE("a full ring buffer is counted in the shared error map, and the pump recovers", "[bpf]")
{
    auto maps = vigil::SharedMaps::create();
    REQUIRE(maps);
    CounterSkel c;
    load_counter(c, *maps);

    boost::asio::io_context io;
    uint64_t received = 0;
    vigil::RingSet rings(io, [&](uint32_t, const void*, size_t) { received++; }, no_reader);
    REQUIRE(rings.add(bpf_map__fd(c.skel->maps.counter_events), 0));

    // 4 KiB ring, 24-byte records (16 + 8 header): far fewer than 1000 fit while nobody drains.
    constexpr int calls = 1000;
    for (int i = 0; i < calls; ++i)
        ::syscall(SYS_getpid);
    rings.drain();
    uint64_t lost = maps->error_count(VIGIL_ERR_RINGBUF_RESERVE);
    CHECK(lost > 0);
    CHECK(received + lost == calls);

    for (int i = 0; i < 10; ++i)
        ::syscall(SYS_getpid);
    rings.drain();
    CHECK(received + lost == calls + 10);
    CHECK(maps->error_count(VIGIL_ERR_RINGBUF_RESERVE) == lost);
}

TEST_CASE("the ring's fullest backlog is sampled when its records are taken", "[bpf]")
{
    auto maps = vigil::SharedMaps::create();
    REQUIRE(maps);
    CounterSkel c;
    load_counter(c, *maps, 1 << 16);

    boost::asio::io_context io;
    vigil::RingSet rings(io, [](uint32_t, const void*, size_t) {}, no_reader);
    REQUIRE(rings.add(bpf_map__fd(c.skel->maps.counter_events), 0));
    CHECK(rings.stats().fill_peak_permille == 0);

    // 24 bytes per record (16 + the 8-byte header): 1365 of them fill 64 KiB to half.
    for (int i = 0; i < 1365; ++i)
        ::syscall(SYS_getpid);
    rings.drain();
    CHECK(rings.stats().fill_peak_permille == 499);
    // A smaller backlog later does not lower the peak.
    for (int i = 0; i < 10; ++i)
        ::syscall(SYS_getpid);
    rings.drain();
    CHECK(rings.stats().fill_peak_permille == 499);
    CHECK(maps->error_count(VIGIL_ERR_RINGBUF_RESERVE) == 0);
}

TEST_CASE("a drain takes a bounded slice of a flood and leaves the rest to the io_context", "[bpf]")
{
    auto maps = vigil::SharedMaps::create();
    REQUIRE(maps);
    CounterSkel c;
    load_counter(c, *maps, 1 << 20); // room for the flood

    boost::asio::io_context io;
    uint64_t received = 0;
    vigil::RingSet rings(io, [&](uint32_t, const void*, size_t) { received++; }, no_reader);
    REQUIRE(rings.add(bpf_map__fd(c.skel->maps.counter_events), 0));

    const uint64_t calls = vigil::RingSet::max_records_per_drain * 2 + 100;
    for (uint64_t i = 0; i < calls; ++i)
        ::syscall(SYS_getpid);
    REQUIRE(maps->error_count(VIGIL_ERR_RINGBUF_RESERVE) == 0);
    CHECK(rings.drain() == vigil::RingSet::max_records_per_drain);
    CHECK(received == vigil::RingSet::max_records_per_drain);
    // The continuation posted to the io_context takes the next slices.
    for (int i = 0; i < 10 && received < calls; ++i)
        io.poll();
    CHECK(received == calls);
}

TEST_CASE("the ring reader moves records out while the agent's thread is busy, in order", "[bpf]")
{
    auto maps = vigil::SharedMaps::create();
    REQUIRE(maps);
    CounterSkel c;
    load_counter(c, *maps); // 4 KiB: about 170 records

    boost::asio::io_context io; // not run until the end: the agent's thread is "busy"
    std::vector<uint64_t> seqs;
    vigil::RingSet rings(io, [&](uint32_t, const void* data, size_t) {
        uint64_t seq;
        std::memcpy(&seq, data, sizeof seq);
        seqs.push_back(seq);
    });
    REQUIRE(rings.add(bpf_map__fd(c.skel->maps.counter_events), 0));

    // 25 bursts of 40 records (960 bytes each, past the eighth of the ring that wakes the
    // reader): 24 KB in all, six times what the ring holds.
    constexpr int bursts = 25, per_burst = 40;
    for (int b = 0; b < bursts; ++b) {
        for (int i = 0; i < per_burst; ++i)
            ::syscall(SYS_getpid);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    CHECK(maps->error_count(VIGIL_ERR_RINGBUF_RESERVE) == 0);
    CHECK(seqs.empty()); // nothing decoded on the reader's thread
    rings.stop();
    io.poll();
    REQUIRE(seqs.size() == bursts * per_burst);
    for (size_t i = 0; i < seqs.size(); ++i)
        CHECK(seqs[i] == i);
    CHECK(rings.stats().queue_peak > 4096); // more than the ring itself held at once
}
