// /proc parsers and the bootstrap, on fixture text and on a fake proc tree.
#include "process/bootstrap.hpp"
#include "process/procfs.hpp"

#include <vigil/wire/process.h>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace vigil;
namespace fs = std::filesystem;

namespace {

std::string stat_line(uint32_t pid, const std::string& comm, uint32_t ppid, uint64_t start, uint32_t flags = 0x400100)
{
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    // cutime cstime priority nice threads itrealvalue starttime vsize rss ...
    return std::to_string(pid) + " (" + comm + ") S " + std::to_string(ppid) + " 1 1 0 -1 " +
           std::to_string(flags) + " 10 0 0 0 1 2 0 0 20 0 1 0 " + std::to_string(start) +
           " 1000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
}

std::string status_text(uint32_t tgid, const std::string& nspid, uint32_t uid = 0)
{
    std::string u = std::to_string(uid);
    return "Name:\tx\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t" + std::to_string(tgid) +
           "\nNgid:\t0\nPid:\t" + std::to_string(tgid) + "\nPPid:\t1\nUid:\t" + u + "\t" + u + "\t" + u + "\t" + u +
           "\nGid:\t5\t6\t7\t8\nNSpid:\t" + nspid +
           "\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n";
}

// A fake /proc/PID directory.
struct FakeProc {
    fs::path root;
    FakeProc()
    {
        char tmpl[] = "/tmp/vigil-procfs-XXXXXX";
        root = ::mkdtemp(tmpl);
    }
    ~FakeProc()
    {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
    void write(const fs::path& p, const std::string& text)
    {
        fs::create_directories(p.parent_path());
        std::ofstream(p) << text;
    }
    void add(uint32_t pid, uint32_t ppid, uint64_t start, const std::string& exe, uint32_t pidns,
             const std::string& nspid, const std::string& cwd = "/")
    {
        fs::path d = root / std::to_string(pid);
        write(d / "stat", stat_line(pid, "c o)m(m", ppid, start));
        write(d / "status", status_text(pid, nspid));
        write(d / "cmdline", exe + std::string("\0-a\0b c\0", 8));
        write(d / "cgroup", "0::/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope\n");
        write(d / "loginuid", "1000");
        fs::create_symlink(exe, d / "exe");
        fs::create_symlink(cwd, d / "cwd");
        fs::create_directories(d / "ns");
        for (size_t i = 0; i < ns_slot_count; ++i)
            fs::create_symlink(std::string(ns_names[i]) + ":[" +
                                   std::to_string(i == ns_pid_slot ? pidns : 4026531830 + i) + "]",
                               d / "ns" / ns_names[i]);
    }
};

} // namespace

TEST_CASE("stat: comm with spaces and parentheses", "[unit][procfs]")
{
    auto st = procfs::parse_stat(stat_line(42, "a (b) c) d", 7, 123456));
    REQUIRE(st);
    CHECK(st->pid == 42);
    CHECK(st->comm == "a (b) c) d");
    CHECK(st->state == 'S');
    CHECK(st->ppid == 7);
    CHECK(st->starttime == 123456);
    CHECK(st->flags == 0x400100);

    CHECK(!procfs::parse_stat("42 no-parens S 1"));
    CHECK(!procfs::parse_stat("42 (x) S 1 2 3"));            // too few fields
    CHECK(!procfs::parse_stat("x (y) S 1" + std::string(60, ' '))); // bad pid
    std::string bad_ppid = stat_line(1, "x", 0, 1);
    bad_ppid.replace(bad_ppid.find("S 0 "), 4, "S z ");
    CHECK(!procfs::parse_stat(bad_ppid));
}

TEST_CASE("status: ids, NSpid, capabilities", "[unit][procfs]")
{
    auto st = procfs::parse_status(status_text(900, "900\t12\t1", 1000));
    REQUIRE(st);
    CHECK(st->tgid == 900);
    CHECK(st->uid[0] == 1000);
    CHECK(st->gid[1] == 6);
    REQUIRE(st->nspid.size() == 3);
    CHECK(st->nspid.back() == 1);
    CHECK(st->cap_permitted == 0x1ffffffffffull);
    CHECK(st->cap_inheritable == 0);

    CHECK(!procfs::parse_status("Name:\tx\nUid:\t0\t0\t0\t0\n"));      // no Tgid
    CHECK(!procfs::parse_status(status_text(1, "1\tx")));                // bad NSpid
    CHECK(!procfs::parse_status("Tgid:\t1\nUid:\t0 0\nGid:\t0\t0\t0\t0\n")); // short Uid
}

TEST_CASE("cgroup, ns links, cmdline", "[unit][procfs]")
{
    CHECK(procfs::parse_cgroup_v2("12:cpu:/x\n0::/user.slice/session-1.scope\n") == "/user.slice/session-1.scope");
    CHECK(procfs::parse_cgroup_v2("1:name=systemd:/\n").empty());
    CHECK(procfs::parse_ns_link("pid:[4026531836]") == 4026531836u);
    CHECK(!procfs::parse_ns_link("pid:[x]"));
    CHECK(!procfs::parse_ns_link("garbage"));
    auto c = procfs::split_cmdline(std::string("/bin/sh\0-c\0echo hi\0", 19));
    CHECK(c.argv0 == "/bin/sh");
    CHECK(c.args == std::string("-c\0echo hi", 10));
    CHECK(procfs::split_cmdline(std::string("init\0", 5)).args.empty());
}

TEST_CASE("read_process tells a vanished process from a bad file", "[unit][procfs]")
{
    FakeProc proc;
    procfs::ReadOptions opts{proc.root, proc.root / "cgroup", 10'000'000};
    auto gone = procfs::read_process(4242, opts);
    REQUIRE(!gone);
    CHECK(gone.error().code == Errc::not_found);

    proc.add(50, 1, 300, "/usr/bin/x", 4026531836, "50", "/srv");
    auto s = procfs::read_process(50, opts);
    REQUIRE(s);
    CHECK(s->ktime == 300ull * 10'000'000);
    CHECK(s->binary == "/usr/bin/x");
    CHECK(s->args == std::string("-a\0b c", 6));
    CHECK(s->cwd == "/srv");
    CHECK(s->auid == 1000);
    CHECK(s->ns[ns_pid_slot] == 4026531836u);
    CHECK(s->cgroup_path.ends_with(".scope"));

    proc.write(proc.root / "51" / "stat", "garbage");
    auto bad = procfs::read_process(51, opts);
    REQUIRE(!bad);
    CHECK(bad.error().code == Errc::invalid_input);
}

TEST_CASE("bootstrap links parents and computes in_init_tree", "[unit][procfs]")
{
    FakeProc proc;
    const uint32_t host = 4026531836, container = 4026532000;
    proc.add(1, 0, 1, "/sbin/init", host, "1");
    proc.add(300, 1, 50, "/usr/bin/containerd-shim", host, "300");
    proc.add(301, 300, 60, "/bin/app", container, "301\t1");    // the container's init
    proc.add(302, 301, 70, "/bin/worker", container, "302\t2"); // forked by it
    proc.add(303, 300, 80, "/bin/sh", container, "303\t3");     // joined from outside (exec)
    proc.add(200, 1, 40, "/usr/bin/sleep", host, "200");
    // a kernel thread is left out
    proc.write(proc.root / "2" / "stat", stat_line(2, "kthreadd", 0, 0, 0x00208040));
    proc.write(proc.root / "2" / "status", status_text(2, "2"));

    ProcessCache cache("node", 64);
    ProcBootstrap boot(cache, -1, procfs::ReadOptions{proc.root, proc.root / "cg", 10'000'000}, host);
    BootstrapStats st = boot.scan();
    CHECK(st.inserted == 6);
    CHECK(st.kernel_threads == 1);
    CHECK(st.errors == 0);

    const ProcessEntry* worker = cache.find_pid(302);
    REQUIRE(worker);
    CHECK(worker->flags & VIGIL_PROC_F_PROCFS);
    CHECK(worker->parent == ProcessKey{301, 60ull * 10'000'000});
    CHECK(worker->parent_exec_id == cache.exec_id(301, 60ull * 10'000'000));
    CHECK(worker->cgroup_name.starts_with("docker-"));
    CHECK((worker->flags & VIGIL_PROC_F_IN_INIT_TREE));
    CHECK((cache.find_pid(301)->flags & VIGIL_PROC_F_IN_INIT_TREE));
    CHECK(!(cache.find_pid(303)->flags & VIGIL_PROC_F_IN_INIT_TREE));
    CHECK(!(cache.find_pid(300)->flags & VIGIL_PROC_F_IN_INIT_TREE));
    CHECK(!(cache.find_pid(1)->flags & VIGIL_PROC_F_IN_INIT_TREE));
    CHECK((cache.find_pid(1)->flags & VIGIL_PROC_F_ROOTCWD));
    CHECK(cache.find_pid(1)->refcnt == 3); // itself, 300 and 200
    CHECK(!cache.find_pid(2));

    // a second scan adds only what is new; prune drops what vanished
    proc.add(400, 200, 90, "/bin/new", host, "400");
    fs::remove_all(proc.root / "303");
    st = boot.scan();
    CHECK(st.inserted == 1);
    CHECK(st.known == 5);
    CHECK(boot.prune() == 1);
    CHECK(!cache.find_pid(303));
    CHECK(cache.find_pid(400)->parent.pid == 200);
}
