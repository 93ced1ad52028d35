// The in-kernel selector evaluator (vigil/bpf/selectors.h), run with BPF_PROG_TEST_RUN against
// hand-built compiled selectors: every operator with a value that must match and one that must
// not, pid and binary following through a fake ancestry in the shared process map.
#include "bpf/shared_maps.hpp"
#include "selectors_test.h"
#include "selectors.skel.h"

#include <vigil/sdk/selectors.hpp>
#include <vigil/wire/process.h>
#include <vigil/wire/sock.h>

#include <catch2/catch.hpp>

#include <bpf/bpf.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <span>
#include <optional>
#include <string>
#include <sys/stat.h>

namespace {

using vigil::sdk::CompiledSelectors;

class Harness {
public:
    Harness()
    {
        auto m = vigil::SharedMaps::create();
        REQUIRE(m);
        maps_.emplace(std::move(*m));
        skel_ = selectors__open();
        REQUIRE(skel_);
        REQUIRE(bpf_map__reuse_fd(skel_->maps.vigil_procs, maps_->procs_fd()) == 0);
        REQUIRE(bpf_map__reuse_fd(skel_->maps.vigil_errors, maps_->errors_fd()) == 0);
        REQUIRE(selectors__load(skel_) == 0);
    }
    ~Harness() { selectors__destroy(skel_); }

    void install(const CompiledSelectors& c)
    {
        // A fresh round-trip through the ABI encoding, as a plugin receives it.
        auto parsed = CompiledSelectors::parse(c.serialize().data(), c.serialize().size());
        REQUIRE(parsed);
        std::string what;
        REQUIRE(parsed->install(skel_->obj, what) == 0);
    }

    void set_int(int i, int64_t v)
    {
        skel_->bss->test_args[i].kind = VSEL_ARG_INT;
        skel_->bss->test_args[i].ival = v;
    }
    void set_str(int i, const std::string& s)
    {
        auto& a = skel_->bss->test_args[i];
        a.kind = VSEL_ARG_STR;
        std::memset(a.str, 0, sizeof a.str);
        std::memcpy(a.str, s.data(), std::min(s.size(), sizeof a.str - 1));
    }

    void set_sock(int i, const vsock_arg& s)
    {
        auto& a = skel_->bss->test_args[i];
        a.kind = VSEL_ARG_SOCK;
        std::memset(a.str, 0, sizeof a.str);
        std::memcpy(a.str, &s, sizeof s);
    }

    vsel_decision run(bool ret = false)
    {
        skel_->bss->test_ret = ret;
        LIBBPF_OPTS(bpf_test_run_opts, opts);
        REQUIRE(bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.evaluate), &opts) == 0);
        REQUIRE(opts.retval == 0);
        return skel_->bss->result;
    }
    bool matches(bool ret = false) { return run(ret).selector >= 0; }

    void put_proc(uint32_t pid, uint32_t ppid, uint64_t ktime, uint64_t pktime, const std::string& binary,
                  uint32_t nspid = 0, uint32_t pidns = 0)
    {
        vigil_proc p{};
        p.pid = pid;
        p.ppid = ppid;
        p.ktime = ktime;
        p.parent_ktime = pktime;
        p.nspid = nspid ? nspid : pid;
        p.pidns = pidns ? pidns : host_pidns();
        p.binary_len = static_cast<uint32_t>(binary.size());
        std::memcpy(p.binary, binary.data(), binary.size());
        REQUIRE(bpf_map_update_elem(maps_->procs_fd(), &pid, &p, BPF_ANY) == 0);
    }

    static uint32_t host_pidns()
    {
        struct stat st {};
        REQUIRE(::stat("/proc/self/ns/pid", &st) == 0);
        return static_cast<uint32_t>(st.st_ino);
    }

    uint64_t stat(uint32_t slot)
    {
        int ncpu = libbpf_num_possible_cpus();
        std::vector<uint64_t> v(ncpu);
        REQUIRE(bpf_map_lookup_elem(bpf_map__fd(skel_->maps.vsel_stats), &slot, v.data()) == 0);
        uint64_t sum = 0;
        for (auto x : v)
            sum += x;
        return sum;
    }

private:
    std::optional<vigil::SharedMaps> maps_;
    selectors* skel_ = nullptr;
};

CompiledSelectors one_selector()
{
    CompiledSelectors c;
    c.hook.nselectors = 1;
    return c;
}

vsel_arg_filter arg_filter(uint8_t arg, uint8_t op, uint8_t kind, std::initializer_list<int64_t> values = {})
{
    vsel_arg_filter f{};
    f.arg = arg;
    f.op = op;
    f.kind = kind;
    f.filter_id = VSEL_FILTER_ID(0, VSEL_GROUP_ARGS, 0);
    for (int64_t v : values)
        f.values[f.nvalues++] = v;
    return f;
}

} // namespace

TEST_CASE("no selectors: everything matches and is posted", "[bpf][selectors]")
{
    Harness h;
    CompiledSelectors c;
    h.install(c);
    auto d = h.run();
    CHECK(d.selector == 0);
    CHECK(d.post == 1);
    CHECK(h.stat(VSEL_STAT_POSTED) == 1);
}

TEST_CASE("integer operators", "[bpf][selectors]")
{
    struct Case {
        uint8_t op;
        std::initializer_list<int64_t> values;
        int64_t match, nomatch;
    };
    const Case cases[] = {
        {VSEL_OP_EQUAL, {5, 7}, 7, 6},
        {VSEL_OP_NOT_EQUAL, {5, 7}, 6, 5},
        {VSEL_OP_GT, {100}, 101, 100},
        {VSEL_OP_LT, {-3}, -4, -3},
        {VSEL_OP_MASK, {0x40}, 0x41, 0x81},
    };
    for (const auto& k : cases) {
        Harness h;
        auto c = one_selector();
        c.hook.sel[0].args[0] = arg_filter(1, k.op, VSEL_ARG_INT, k.values);
        c.hook.sel[0].nargs = 1;
        h.install(c);
        INFO("op " << int(k.op));
        h.set_int(1, k.match);
        CHECK(h.matches());
        h.set_int(1, k.nomatch);
        CHECK_FALSE(h.matches());
    }
}

TEST_CASE("InMap and NotInMap integer sets", "[bpf][selectors]")
{
    for (uint8_t op : {uint8_t(VSEL_OP_IN_MAP), uint8_t(VSEL_OP_NOT_IN_MAP)}) {
        Harness h;
        auto c = one_selector();
        c.hook.sel[0].args[0] = arg_filter(0, op, VSEL_ARG_INT);
        c.hook.sel[0].nargs = 1;
        for (int64_t v : {10, 20, 30})
            c.add_int(c.hook.sel[0].args[0].filter_id, v);
        h.install(c);
        h.set_int(0, 20);
        CHECK(h.matches() == (op == VSEL_OP_IN_MAP));
        h.set_int(0, 25);
        CHECK(h.matches() == (op == VSEL_OP_NOT_IN_MAP));
    }
}

TEST_CASE("string operators", "[bpf][selectors]")
{
    struct Case {
        uint8_t op;
        const char* value;
        const char* match;
        const char* nomatch;
    };
    const Case cases[] = {
        {VSEL_OP_EQUAL, "/etc/passwd", "/etc/passwd", "/etc/passwd2"},
        {VSEL_OP_NOT_EQUAL, "/etc/passwd", "/etc/shadow", "/etc/passwd"},
        {VSEL_OP_PREFIX, "/etc/", "/etc/hosts", "/tmp/etc/hosts"},
        {VSEL_OP_NOT_PREFIX, "/etc/", "/tmp/x", "/etc/x"},
        {VSEL_OP_POSTFIX, ".conf", "/etc/a.conf", "/etc/a.conf.bak"},
        {VSEL_OP_NOT_POSTFIX, ".conf", "/etc/a.txt", "/etc/b.conf"},
    };
    for (const auto& k : cases) {
        Harness h;
        auto c = one_selector();
        c.hook.sel[0].args[0] = arg_filter(2, k.op, VSEL_ARG_STR);
        c.hook.sel[0].nargs = 1;
        uint32_t id = c.hook.sel[0].args[0].filter_id;
        if (k.op == VSEL_OP_PREFIX || k.op == VSEL_OP_NOT_PREFIX)
            REQUIRE(c.add_prefix(id, k.value));
        else if (k.op == VSEL_OP_POSTFIX || k.op == VSEL_OP_NOT_POSTFIX) {
            REQUIRE(c.add_postfix(id, k.value));
            c.hook.postfix_args = 1u << 2;
        } else
            REQUIRE(c.add_string(id, k.value));
        h.install(c);
        INFO("op " << int(k.op) << " value " << k.value);
        h.set_str(2, k.match);
        CHECK(h.matches());
        h.set_str(2, k.nomatch);
        CHECK_FALSE(h.matches());
    }
}

TEST_CASE("a string longer than the in-kernel buffer never equals a value", "[bpf][selectors]")
{
    Harness h;
    auto c = one_selector();
    c.hook.sel[0].args[0] = arg_filter(0, VSEL_OP_EQUAL, VSEL_ARG_STR);
    c.hook.sel[0].nargs = 1;
    std::string value(CompiledSelectors::max_value_len, 'a');
    REQUIRE(c.add_string(c.hook.sel[0].args[0].filter_id, value));
    REQUIRE_FALSE(c.add_string(1, std::string(CompiledSelectors::max_value_len + 1, 'a')));
    h.install(c);
    h.set_str(0, value);
    CHECK(h.matches());
    h.set_str(0, value + "a"); // fills the buffer: cut, so never equal
    CHECK_FALSE(h.matches());
    h.set_str(0, value + "aaaa");
    CHECK_FALSE(h.matches());
}

TEST_CASE("an argument of the wrong kind or not read never matches", "[bpf][selectors]")
{
    Harness h;
    auto c = one_selector();
    c.hook.sel[0].args[0] = arg_filter(0, VSEL_OP_NOT_EQUAL, VSEL_ARG_INT, {1});
    c.hook.sel[0].nargs = 1;
    h.install(c);
    h.set_str(0, "x");
    CHECK_FALSE(h.matches());
}

TEST_CASE("matchPIDs In/NotIn, with and without followForks", "[bpf][selectors]")
{
    const uint32_t me = static_cast<uint32_t>(::getpid());
    // me <- parent 900001 <- grandparent 900002 (fake entries in the shared process map)
    auto setup = [&](Harness& h) {
        h.put_proc(me, 900001, 30, 20, "/usr/bin/worker");
        h.put_proc(900001, 900002, 20, 10, "/usr/sbin/nginx");
        h.put_proc(900002, 1, 10, 0, "/usr/bin/containerd-shim");
    };
    auto pids = [](uint8_t op, uint8_t flags, std::initializer_list<uint32_t> v) {
        auto c = one_selector();
        auto& f = c.hook.sel[0].pids[0];
        f.op = op;
        f.flags = flags;
        for (uint32_t x : v)
            f.values[f.nvalues++] = x;
        c.hook.sel[0].npids = 1;
        return c;
    };
    Harness h;
    setup(h);
    h.install(pids(VSEL_OP_IN, 0, {me}));
    CHECK(h.matches());
    h.install(pids(VSEL_OP_IN, 0, {900001}));
    CHECK_FALSE(h.matches());
    h.install(pids(VSEL_OP_IN, VSEL_PID_FOLLOW_FORKS, {900002}));
    CHECK(h.matches());
    h.install(pids(VSEL_OP_NOT_IN, 0, {900002}));
    CHECK(h.matches());
    h.install(pids(VSEL_OP_NOT_IN, VSEL_PID_FOLLOW_FORKS, {900002}));
    CHECK_FALSE(h.matches());
    // A stale parent link (pid reused by a newer process) ends the walk.
    h.put_proc(900001, 900002, 99, 10, "/usr/sbin/nginx");
    h.install(pids(VSEL_OP_IN, VSEL_PID_FOLLOW_FORKS, {900002}));
    CHECK_FALSE(h.matches());
}

TEST_CASE("matchPIDs isNamespacePID walks only inside the process's PID namespace", "[bpf][selectors]")
{
    // The test runs in the host PID namespace, so its namespace pid equals its pid. Ancestors in
    // another (fake) namespace stop the walk.
    const uint32_t me = static_cast<uint32_t>(::getpid());
    Harness h;
    uint32_t ns = Harness::host_pidns();
    h.put_proc(me, 900011, 30, 20, "/w", me, ns);
    h.put_proc(900011, 900012, 20, 10, "/m", 1, ns);         // nspid 1 in the same namespace
    h.put_proc(900012, 0, 10, 0, "/shim", 1, ns + 1);        // "1" too, but another namespace

    auto c = one_selector();
    auto& f = c.hook.sel[0].pids[0];
    f.op = VSEL_OP_NOT_IN;
    f.flags = VSEL_PID_NAMESPACE;
    f.values[0] = 0;
    f.values[1] = 1;
    f.nvalues = 2;
    c.hook.sel[0].npids = 1;
    h.install(c);
    CHECK(h.matches()); // without followForks only the process's own nspid counts

    c.hook.sel[0].pids[0].flags = VSEL_PID_NAMESPACE | VSEL_PID_FOLLOW_FORKS;
    h.install(c);
    CHECK_FALSE(h.matches()); // its parent is nspid 1 in the same namespace
}

TEST_CASE("matchBinaries operators and followChildren", "[bpf][selectors]")
{
    const uint32_t me = static_cast<uint32_t>(::getpid());
    auto bin = [](uint8_t op, bool follow, const char* v) {
        auto c = one_selector();
        auto& b = c.hook.sel[0].binary;
        b.op = op;
        b.follow_children = follow;
        b.filter_id = VSEL_FILTER_ID(0, VSEL_GROUP_BINARY, 0);
        c.hook.sel[0].has_binary = 1;
        if (op == VSEL_OP_PREFIX || op == VSEL_OP_NOT_PREFIX)
            c.add_prefix(b.filter_id, v);
        else if (op == VSEL_OP_POSTFIX || op == VSEL_OP_NOT_POSTFIX)
            c.add_postfix(b.filter_id, v);
        else
            c.add_string(b.filter_id, v);
        return c;
    };
    struct Case {
        uint8_t op;
        bool follow;
        const char* value;
        bool expect;
    };
    const Case cases[] = {
        {VSEL_OP_IN, false, "/usr/bin/worker", true},   {VSEL_OP_IN, false, "/usr/sbin/nginx", false},
        {VSEL_OP_IN, true, "/usr/sbin/nginx", true},    {VSEL_OP_NOT_IN, false, "/usr/sbin/nginx", true},
        {VSEL_OP_NOT_IN, true, "/usr/sbin/nginx", false}, {VSEL_OP_PREFIX, false, "/usr/bin/", true},
        {VSEL_OP_PREFIX, false, "/usr/sbin/", false},   {VSEL_OP_NOT_PREFIX, false, "/usr/sbin/", true},
        {VSEL_OP_POSTFIX, false, "/worker", true},      {VSEL_OP_POSTFIX, false, "nginx", false},
        {VSEL_OP_POSTFIX, true, "nginx", true},         {VSEL_OP_NOT_POSTFIX, false, "worker", false},
    };
    for (const auto& k : cases) {
        INFO("op " << int(k.op) << " follow " << k.follow << " value " << k.value);
        Harness h; // fresh value maps for each case
        h.put_proc(me, 900021, 30, 20, "/usr/bin/worker");
        h.put_proc(900021, 0, 20, 0, "/usr/sbin/nginx");
        h.install(bin(k.op, k.follow, k.value));
        CHECK(h.matches() == k.expect);
    }
}

TEST_CASE("matchNamespaces and matchCapabilities", "[bpf][selectors]")
{
    Harness h;
    struct stat st {};
    REQUIRE(::stat("/proc/self/ns/net", &st) == 0);
    auto c = one_selector();
    auto& n = c.hook.sel[0].ns[0];
    n.ns = VSEL_NS_NET;
    n.op = VSEL_OP_IN;
    n.values[0] = static_cast<uint32_t>(st.st_ino);
    n.nvalues = 1;
    c.hook.sel[0].nns = 1;
    h.install(c);
    CHECK(h.matches());
    n.op = VSEL_OP_NOT_IN;
    h.install(c);
    CHECK_FALSE(h.matches());

    // The test runs as root: CAP_SYS_ADMIN (21) is effective.
    auto k = one_selector();
    auto& f = k.hook.sel[0].caps[0];
    f.type = VSEL_CAP_EFFECTIVE;
    f.op = VSEL_OP_IN;
    f.mask = 1ull << 21;
    k.hook.sel[0].ncaps = 1;
    h.install(k);
    CHECK(h.matches());
    f.op = VSEL_OP_NOT_IN;
    h.install(k);
    CHECK_FALSE(h.matches());
}

TEST_CASE("first matching selector wins; actions decide post, signal and override", "[bpf][selectors]")
{
    Harness h;
    CompiledSelectors c;
    c.hook.nselectors = 3;
    // 0: arg0 == 1 -> NoPost ; 1: arg0 == 2 -> Override(EPERM) ; 2: anything -> Post
    c.hook.sel[0].args[0] = arg_filter(0, VSEL_OP_EQUAL, VSEL_ARG_INT, {1});
    c.hook.sel[0].nargs = 1;
    c.hook.sel[0].actions[0].kind = VSEL_ACT_NOPOST;
    c.hook.sel[0].nactions = 1;
    c.hook.sel[1].args[0] = arg_filter(0, VSEL_OP_EQUAL, VSEL_ARG_INT, {2});
    c.hook.sel[1].nargs = 1;
    c.hook.sel[1].actions[0].kind = VSEL_ACT_OVERRIDE;
    c.hook.sel[1].actions[0].arg = 1;
    c.hook.sel[1].nactions = 1;
    c.hook.enforce = 0;
    h.install(c);

    h.set_int(0, 1);
    auto d = h.run();
    CHECK(d.selector == 0);
    CHECK(d.post == 0);
    h.set_int(0, 2);
    d = h.run();
    CHECK(d.selector == 1);
    CHECK(d.override == 1);
    CHECK(d.enforced == 0); // monitor mode: counted, not done
    CHECK(h.stat(VSEL_STAT_MONITORED) == 1);
    h.set_int(0, 3);
    d = h.run();
    CHECK(d.selector == 2);
    CHECK(d.post == 1);
}

TEST_CASE("return selectors use matchReturnArgs and matchReturnActions", "[bpf][selectors]")
{
    Harness h;
    auto c = one_selector();
    c.hook.sel[0].ret_args[0] = arg_filter(0, VSEL_OP_LT, VSEL_ARG_INT, {0});
    c.hook.sel[0].nret_args = 1;
    c.hook.sel[0].ret_actions[0].kind = VSEL_ACT_POST;
    c.hook.sel[0].nret_actions = 1;
    h.install(c);
    h.set_int(0, -2);
    CHECK(h.matches(true));
    h.set_int(0, 3);
    CHECK_FALSE(h.matches(true));
}

TEST_CASE("Post rateLimit suppresses repeats within the interval", "[bpf][selectors]")
{
    Harness h;
    auto c = one_selector();
    c.hook.sel[0].actions[0].kind = VSEL_ACT_POST;
    c.hook.sel[0].actions[0].rate_limit_ns = 60ull * 1000 * 1000 * 1000;
    c.hook.sel[0].actions[0].rate_scope = VSEL_RATE_PROCESS;
    c.hook.sel[0].nactions = 1;
    h.install(c);
    CHECK(h.run().post == 1);
    CHECK(h.run().post == 0);
    CHECK(h.run().post == 0);
    CHECK(h.stat(VSEL_STAT_RATE_LIMITED) == 2);
}

TEST_CASE("compiled selectors refuse bad encodings", "[bpf][selectors]")
{
    CompiledSelectors c;
    std::string s = c.serialize();
    CHECK(CompiledSelectors::parse(s.data(), 4).error() == "compiled selectors: 4 bytes is too short");
    s[0] ^= 1;
    CHECK(CompiledSelectors::parse(s.data(), s.size()).error() == "compiled selectors: bad magic");
    s = c.serialize();
    s.push_back('x');
    CHECK(CompiledSelectors::parse(s.data(), s.size()).error().find("header says") != std::string::npos);
}

// ---- network operators on socket arguments (struct vsock_arg) ---------------------------------

namespace {

vsock_arg inet_sock(const char* saddr, uint16_t sport, const char* daddr, uint16_t dport, uint16_t protocol = 6,
                    uint8_t state = 1)
{
    vsock_arg s{};
    s.magic = VSOCK_MAGIC;
    s.kind = VSOCK_KIND_SOCK;
    bool v6 = std::strchr(saddr, ':') != nullptr;
    s.family = v6 ? VSOCK_AF_INET6 : VSOCK_AF_INET;
    s.type = protocol == 17 ? 2 : 1;
    s.protocol = protocol;
    s.state = state;
    s.sport = sport;
    s.dport = dport;
    REQUIRE(::inet_pton(v6 ? AF_INET6 : AF_INET, saddr, s.saddr) == 1);
    REQUIRE(::inet_pton(v6 ? AF_INET6 : AF_INET, daddr, s.daddr) == 1);
    return s;
}

vsock_arg unix_sock(const char* path)
{
    vsock_arg s{};
    s.magic = VSOCK_MAGIC;
    s.kind = VSOCK_KIND_SOCK;
    s.family = VSOCK_AF_UNIX;
    s.type = 1;
    s.path_len = static_cast<uint16_t>(std::strlen(path));
    std::memcpy(s.path, path, s.path_len);
    return s;
}

// One selector with one socket filter on args[1].
CompiledSelectors net_selector(uint8_t op)
{
    auto c = one_selector();
    c.hook.sel[0].args[0] = arg_filter(1, op, VSEL_ARG_SOCK);
    c.hook.sel[0].nargs = 1;
    return c;
}

void add_cidr(CompiledSelectors& c, const char* text)
{
    std::string s(text);
    auto slash = s.find('/');
    std::string addr = s.substr(0, slash);
    bool v6 = addr.find(':') != std::string::npos;
    uint8_t bytes[16] = {};
    REQUIRE(::inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), bytes) == 1);
    uint32_t len = slash == std::string::npos ? (v6 ? 128 : 32) : std::stoul(s.substr(slash + 1));
    REQUIRE(c.add_net_prefix(c.hook.sel[0].args[0].filter_id, std::span(bytes, v6 ? 16 : 4), len));
}

} // namespace

TEST_CASE("DAddr and SAddr compare CIDR prefixes, IPv4 and IPv6", "[bpf][selectors][socket]")
{
    Harness h;
    auto c = net_selector(VSEL_OP_DADDR);
    add_cidr(c, "10.0.0.0/8");
    add_cidr(c, "192.168.7.1");
    add_cidr(c, "fd00::/8");
    add_cidr(c, "2001:db8::1/128");
    h.install(c);
    struct {
        const char* daddr;
        bool match;
    } cases[] = {
        {"10.1.2.3", true},      {"11.0.0.1", false},      {"192.168.7.1", true}, {"192.168.7.2", false},
        {"fd12:3456::1", true},  {"fe80::1", false},       {"2001:db8::1", true}, {"2001:db8::2", false},
        {"::ffff:10.9.9.9", true}, // an IPv4-mapped address is compared as IPv4
        {"::ffff:11.9.9.9", false},
    };
    for (const auto& k : cases) {
        INFO(k.daddr);
        bool v6 = std::strchr(k.daddr, ':') != nullptr;
        h.set_sock(1, inet_sock(v6 ? "::1" : "127.0.0.1", 40000, k.daddr, 443));
        CHECK(h.matches() == k.match);
    }
    // the local address is not the one DAddr looks at
    h.set_sock(1, inet_sock("10.1.1.1", 40000, "11.1.1.1", 443));
    CHECK_FALSE(h.matches());

    Harness s;
    auto cs = net_selector(VSEL_OP_SADDR);
    add_cidr(cs, "127.0.0.0/8");
    s.install(cs);
    s.set_sock(1, inet_sock("127.0.0.5", 1, "10.0.0.1", 2));
    CHECK(s.matches());
    s.set_sock(1, inet_sock("10.0.0.1", 1, "127.0.0.5", 2));
    CHECK_FALSE(s.matches());
}

TEST_CASE("NotDAddr and NotSAddr: outside every prefix; never for a socket without an IP address",
          "[bpf][selectors][socket]")
{
    for (uint8_t op : {uint8_t(VSEL_OP_NOT_DADDR), uint8_t(VSEL_OP_NOT_SADDR)}) {
        Harness h;
        auto c = net_selector(op);
        add_cidr(c, "127.0.0.0/8");
        add_cidr(c, "::1");
        h.install(c);
        INFO("op " << int(op));
        bool d = op == VSEL_OP_NOT_DADDR;
        h.set_sock(1, d ? inet_sock("10.0.0.1", 1, "127.0.0.2", 80) : inet_sock("127.0.0.2", 80, "10.0.0.1", 1));
        CHECK_FALSE(h.matches());
        h.set_sock(1, d ? inet_sock("127.0.0.1", 1, "10.0.0.2", 80) : inet_sock("10.0.0.2", 80, "127.0.0.1", 1));
        CHECK(h.matches());
        h.set_sock(1, d ? inet_sock("::2", 1, "::1", 80) : inet_sock("::1", 80, "::2", 1));
        CHECK_FALSE(h.matches());
        h.set_sock(1, unix_sock("/run/x.sock"));
        CHECK_FALSE(h.matches());
    }
}

TEST_CASE("SPort and DPort with single ports and ranges, and their Not forms", "[bpf][selectors][socket]")
{
    struct Case {
        uint8_t op;
        bool dest;
        bool negated;
    };
    for (const Case k : {Case{VSEL_OP_DPORT, true, false}, Case{VSEL_OP_NOT_DPORT, true, true},
                         Case{VSEL_OP_SPORT, false, false}, Case{VSEL_OP_NOT_SPORT, false, true}}) {
        Harness h;
        auto c = net_selector(k.op);
        uint32_t id = c.hook.sel[0].args[0].filter_id;
        c.add_net_range(id, VSEL_NET_PORT, 53, 53);
        c.add_net_range(id, VSEL_NET_PORT, 8000, 8999);
        c.add_net_range(id, VSEL_NET_PORT, 65535, 65535);
        h.install(c);
        for (uint16_t port : {53, 8000, 8500, 8999, 65535, 52, 54, 7999, 9000, 0, 65534}) {
            bool in = port == 53 || (port >= 8000 && port <= 8999) || port == 65535;
            INFO("op " << int(k.op) << " port " << port);
            h.set_sock(1, k.dest ? inet_sock("10.0.0.1", 1234, "10.0.0.2", port)
                                 : inet_sock("10.0.0.1", port, "10.0.0.2", 1234));
            CHECK(h.matches() == (in != k.negated));
        }
        h.set_sock(1, unix_sock("/x"));
        CHECK_FALSE(h.matches());
    }
}

TEST_CASE("privileged ports are the range 0:1023", "[bpf][selectors][socket]")
{
    Harness h;
    auto c = net_selector(VSEL_OP_DPORT);
    CHECK(c.add_net_range(c.hook.sel[0].args[0].filter_id, VSEL_NET_PORT, 0, 1023) == 1);
    h.install(c);
    for (uint16_t port : {0, 1, 443, 1023, 1024, 40000}) {
        INFO(port);
        h.set_sock(1, inet_sock("::1", 5, "::1", port));
        CHECK(h.matches() == (port < 1024));
    }
}

TEST_CASE("Protocol, Family and State", "[bpf][selectors][socket]")
{
    Harness h;
    auto c = one_selector();
    auto& s = c.hook.sel[0];
    s.args[0] = arg_filter(0, VSEL_OP_PROTOCOL, VSEL_ARG_SOCK);
    s.args[1] = arg_filter(0, VSEL_OP_FAMILY, VSEL_ARG_SOCK);
    s.args[1].filter_id = VSEL_FILTER_ID(0, VSEL_GROUP_ARGS, 1);
    s.args[2] = arg_filter(0, VSEL_OP_STATE, VSEL_ARG_SOCK);
    s.args[2].filter_id = VSEL_FILTER_ID(0, VSEL_GROUP_ARGS, 2);
    s.nargs = 3;
    c.add_net_range(s.args[0].filter_id, VSEL_NET_PROTOCOL, 6, 6);
    c.add_net_range(s.args[1].filter_id, VSEL_NET_FAMILY, VSOCK_AF_INET, VSOCK_AF_INET);
    c.add_net_range(s.args[1].filter_id, VSEL_NET_FAMILY, VSOCK_AF_INET6, VSOCK_AF_INET6);
    c.add_net_range(s.args[2].filter_id, VSEL_NET_STATE, 1, 2); // ESTABLISHED, SYN_SENT
    h.install(c);
    h.set_sock(0, inet_sock("10.0.0.1", 1, "10.0.0.2", 2, 6, 1));
    CHECK(h.matches());
    h.set_sock(0, inet_sock("::1", 1, "::2", 2, 6, 2));
    CHECK(h.matches());
    h.set_sock(0, inet_sock("10.0.0.1", 1, "10.0.0.2", 2, 17, 1)); // UDP
    CHECK_FALSE(h.matches());
    h.set_sock(0, inet_sock("10.0.0.1", 1, "10.0.0.2", 2, 6, 10)); // TCP_LISTEN
    CHECK_FALSE(h.matches());
    auto u = unix_sock("/x");
    u.state = 1;
    u.protocol = 6; // whatever the other fields say, the family does not match
    h.set_sock(0, u);
    CHECK_FALSE(h.matches());
}

TEST_CASE("a socket filter on an argument that is not a socket never matches", "[bpf][selectors][socket]")
{
    Harness h;
    auto c = net_selector(VSEL_OP_NOT_DPORT);
    c.add_net_range(c.hook.sel[0].args[0].filter_id, VSEL_NET_PORT, 1, 1);
    h.install(c);
    h.set_int(1, 5);
    CHECK_FALSE(h.matches());
    h.set_str(1, "10.0.0.1");
    CHECK_FALSE(h.matches());
}
