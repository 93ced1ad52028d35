// Writes the binary seed files of fuzz/corpus from the real wire structs, so no seed is laid out
// by hand: process ring records, hook records, and compiled selectors of the example policies.
//   fuzz_make_seeds SOURCE_DIR   (writes SOURCE_DIR/fuzz/corpus/{process_records,hook_records,selectors})
// Run it again after a wire format changes; the files are small and checked in.
#include "policy/compiler.hpp"
#include "policy_hooks.hpp"
#include "records.h"

#include <vigil/wire/hook_event.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

void put(Bytes& out, const void* p, size_t n)
{
    auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
}

Bytes exec_record(uint32_t pid, uint64_t ktime, uint32_t ppid, uint64_t pktime, const std::string& binary,
                  const std::string& cwd, const std::string& cg, const std::string& args)
{
    tp_exec_record r{};
    r.hdr.kind = TP_REC_EXEC;
    r.ktime = ktime;
    r.parent_ktime = pktime;
    r.pid = r.tid = pid;
    r.ppid = ppid;
    r.nspid = pid;
    r.uid = r.euid = 1000;
    r.auid = 0xffffffff;
    r.flags = VIGIL_PROC_F_EXECVE | (pktime ? 0 : VIGIL_PROC_F_MISS);
    r.cap_effective = r.cap_permitted = 0x1ffffffffffull;
    for (uint32_t i = 0; i < 10; ++i)
        r.ns[i] = 4026531835u + i;
    r.binary_len = binary.size();
    r.cwd_len = cwd.size();
    r.cgroup_name_len = cg.size();
    r.args_len = args.size();
    r.hdr.size = sizeof r + binary.size() + cwd.size() + cg.size() + args.size();
    Bytes out;
    put(out, &r, sizeof r);
    for (const auto* s : {&binary, &cwd, &cg, &args})
        put(out, s->data(), s->size());
    return out;
}

Bytes clone_record(uint32_t pid, uint64_t ktime, uint32_t ppid, uint64_t pktime)
{
    tp_clone_record r{};
    r.hdr.kind = TP_REC_CLONE;
    r.hdr.size = sizeof r;
    r.ktime = ktime;
    r.parent_ktime = pktime;
    r.pid = r.nspid = pid;
    r.tid = r.ppid = ppid;
    r.flags = VIGIL_PROC_F_CLONE;
    Bytes out;
    put(out, &r, sizeof r);
    return out;
}

Bytes exit_record(uint32_t pid, uint64_t ktime, uint64_t proc_ktime, uint32_t code)
{
    tp_exit_record r{};
    r.hdr.kind = TP_REC_EXIT;
    r.hdr.size = sizeof r;
    r.ktime = ktime;
    r.proc_ktime = proc_ktime;
    r.pid = r.tid = pid;
    r.exit_code = code;
    Bytes out;
    put(out, &r, sizeof r);
    return out;
}

// process_records.cpp's input: [u8 ring][u16 length][record]...
void frame(Bytes& out, uint8_t ring, const Bytes& rec)
{
    out.push_back(ring);
    uint16_t n = static_cast<uint16_t>(rec.size());
    put(out, &n, sizeof n);
    put(out, rec.data(), rec.size());
}

struct HookArg {
    uint16_t enc, flags;
    std::string value; // 8 bytes for integers
};

Bytes hook_record(uint32_t hook_id, uint32_t signal, uint32_t flags, const std::vector<HookArg>& args)
{
    vhook_record r{};
    r.kind = VHOOK_RECORD_KIND;
    r.ktime = 123456789;
    r.pid = r.tid = 4242;
    r.hook_id = hook_id;
    r.signal = signal;
    r.flags = flags;
    r.nargs = args.size();
    Bytes body;
    for (const auto& a : args) {
        vhook_arg h{};
        h.enc = a.enc;
        h.flags = a.flags;
        h.len = h.orig_len = a.value.size();
        put(body, &h, sizeof h);
        put(body, a.value.data(), a.value.size());
        body.resize((body.size() + 7) & ~size_t(7), 0);
    }
    r.size = sizeof r + body.size();
    Bytes out;
    put(out, &r, sizeof r);
    put(out, body.data(), body.size());
    return out;
}

std::string i64(int64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); }

void write(const fs::path& dir, const std::string& name, const Bytes& b)
{
    fs::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s SOURCE_DIR\n", argv[0]);
        return 2;
    }
    fs::path src = argv[1];
    fs::path corpus = src / "fuzz" / "corpus";

    // A parent, a fork, an exec in the child with args, a thread-group exit, an exec whose parent
    // is unknown, a record of each kind alone.
    Bytes seq;
    frame(seq, 0, exec_record(100, 1000, 1, 10, "/usr/bin/bash", "/root", "session-1.scope", ""));
    frame(seq, 0, clone_record(101, 2000, 100, 1000));
    frame(seq, 0, exec_record(101, 3000, 100, 1000, "/usr/bin/../bin/./ls", "/tmp/a b",
                              "user.slice", std::string("-l\0/tmp\0", 8)));
    frame(seq, 0, exit_record(101, 4000, 3000, 0));
    frame(seq, 0, exit_record(100, 5000, 1000, 9));
    write(corpus / "process_records", "lifecycle", seq);
    Bytes one;
    frame(one, 0, exec_record(7, 70, 0, 0, "relative/bin", "", "", std::string("\xff\xfe\0x", 4)));
    write(corpus / "process_records", "exec-unknown-parent", one);
    Bytes bad;
    frame(bad, 0, clone_record(5, 50, 1, 0));
    frame(bad, 1, hook_record(1, 0, 0, {}));
    frame(bad, 2, exit_record(5, 60, 50, 0));
    write(corpus / "process_records", "mixed-rings", bad);

    write(corpus / "hook_records", "no-args", hook_record(1, 0, 0, {}));
    write(corpus / "hook_records", "int-and-string",
          hook_record(2, 0, 0, {{VHOOK_ENC_S64, 0, i64(-100)}, {VHOOK_ENC_STRING, 0, "/etc/passwd"}}));
    write(corpus / "hook_records", "all-kinds-sigkill",
          hook_record(3, 9, VHOOK_F_ENFORCED,
                      {{VHOOK_ENC_U64, 0, i64(-1)},
                       {VHOOK_ENC_U64, 0, i64(4096)},
                       {VHOOK_ENC_STRING, VHOOK_ARG_TRUNCATED, std::string(200, 'a')},
                       {VHOOK_ENC_NONE, VHOOK_ARG_ERROR, ""},
                       {VHOOK_ENC_STRING, 0, "q\"\\\n\x01\xc3\xa9\xff"}}));
    write(corpus / "hook_records", "monitor-signal", hook_record(4, 10, VHOOK_F_MONITORED, {{VHOOK_ENC_U64, 0, i64(7)}}));
    write(corpus / "hook_records", "removed-hook", hook_record(99, 0, 0, {{VHOOK_ENC_S64, 0, i64(1)}}));

    // Compiled selectors of every example policy hook that compiles.
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(src / "examples" / "policies")) {
        auto p = vigil::policy::load_policy_file(e.path());
        if (!p)
            continue;
        auto info = vigil::policy::analyse_policy(*p);
        for (const auto& h : info.hooks) {
            auto c = vigil::policy::compile_selectors(*p, vigil::fuzz::hook_of(*p, h), {"seed", true});
            if (!c)
                continue;
            std::string blob = c->serialize();
            write(corpus / "selectors", e.path().stem().string() + "-" + std::to_string(h.index),
                  Bytes(blob.begin(), blob.end()));
            ++n;
        }
    }
    std::printf("wrote process_records, hook_records and %zu selectors seeds under %s\n", n, corpus.c_str());
    return 0;
}
