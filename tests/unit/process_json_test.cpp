// Tetragon-compatible JSON (and compact lines) for process_exec / process_exit built from
// synthetic lifecycle updates, and the export filters.
#include "export/pipeline.hpp"
#include "export/process_json.hpp"
#include "process/cache.hpp"
#include "process_fixtures.hpp"

#include <vigil/sdk/event.hpp>
#include <vigil/wire/process.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <ctime>
#include <string>
#include <vector>

using namespace vigil;
using nlohmann::json;

namespace {

struct CaptureSink : Sink {
    std::vector<std::string>* lines;
    explicit CaptureSink(std::vector<std::string>* l) : lines(l) {}
    void write(std::string_view line) override { lines->emplace_back(line); }
    void flush() override {}
};

struct Fixture {
    ProcessCache cache{"node1", 128};
    std::vector<std::string> json_lines, compact_lines;
    std::unique_ptr<EventPipeline> pipeline;

    explicit Fixture(PipelineOptions opts = {})
    {
        auto p = EventPipeline::make("node1", cache, std::move(opts));
        REQUIRE(p);
        pipeline = std::move(*p);
        pipeline->add_sink(std::make_unique<CaptureSink>(&json_lines), Format::json);
        pipeline->add_sink(std::make_unique<CaptureSink>(&compact_lines), Format::compact);
    }

    void emit(const char* kind, const vigil_process_update& u, uint64_t ktime)
    {
        vigil_event ev{};
        ev.struct_size = sizeof ev;
        ev.pid = u.pid;
        ev.tid = u.tid;
        ev.ktime = ktime;
        ev.proc_ktime = u.ktime;
        ev.kind = kind;
        ev.process = &u;
        pipeline->on_event("tracepoint", ev);
    }
    void exec(uint32_t pid, uint64_t ktime, uint32_t ppid, uint64_t pktime, const std::string& binary,
              const std::string& args, const std::string& cwd, uint32_t flags = VIGIL_PROC_F_EXECVE)
    {
        vigil_process_update u = test::exec_update(pid, ktime, ppid, pktime, binary);
        u.uid = 1000;
        u.euid = 0;
        u.auid = 1000;
        u.flags = flags;
        u.args = args.data();
        u.args_len = args.size();
        u.cwd = cwd.data();
        u.cwd_len = cwd.size();
        std::string cg = "/system.slice/docker-551e161c47d8ff0eb665438a7bcd5b4e3ef5a297282b40a92b7c77d6bd168eb3.scope";
        u.cgroup_name = cg.data() + cg.rfind('/') + 1;
        u.cgroup_name_len = cg.size() - cg.rfind('/') - 1;
        u.cgroup_path = cg.data();
        u.cgroup_path_len = cg.size();
        u.cap_effective = (1ull << 0) | (1ull << 21); // CAP_CHOWN, CAP_SYS_ADMIN
        for (int i = 0; i < 10; ++i)
            u.ns[i] = 4026531830 + i;
        emit("process_exec", u, ktime);
    }
    void exit(uint32_t pid, uint64_t ktime, uint32_t code, uint64_t when)
    {
        vigil_process_update u = test::process_update(VIGIL_PROC_EXIT, pid, ktime);
        u.exit_code = code;
        emit("process_exit", u, when);
    }
    json last() const { return json::parse(json_lines.back()); }
};

} // namespace

TEST_CASE("process_exec JSON has Tetragon's fields", "[unit][json]")
{
    PipelineOptions opts;
    opts.ancestors = true;
    Fixture f(opts);
    f.exec(1, 1000, 0, 0, "/sbin/init", "", "/", VIGIL_PROC_F_PROCFS | VIGIL_PROC_F_ROOTCWD);
    f.exec(100, 2000, 1, 1000, "/bin/bash", std::string("-c\0ls -la", 9), "/root");
    f.exec(200, 3000, 100, 2000, "/bin/ls", std::string("-la\0/tmp/a b", 12), "/tmp");
    REQUIRE(f.json_lines.size() == 3);
    json j = f.last();
    REQUIRE(j.contains("process_exec"));
    CHECK(j["node_name"] == "node1");
    CHECK(j["time"].get<std::string>().ends_with("Z"));
    const json& p = j["process_exec"]["process"];
    CHECK(p["exec_id"] == f.cache.exec_id(200, 3000));
    CHECK(p["pid"] == 200);
    CHECK(p["tid"] == 200);
    CHECK(p["uid"] == 0); // the effective uid, as Tetragon reports it
    CHECK(p["auid"] == 1000);
    CHECK(p["cwd"] == "/tmp");
    CHECK(p["binary"] == "/bin/ls");
    CHECK(p["arguments"] == "-la \"/tmp/a b\"");
    CHECK(p["flags"] == "execve");
    CHECK(p["start_time"].get<std::string>().size() == 30);
    CHECK(p["docker"] == "551e161c47d8ff0eb665438a7bcd5b4");
    CHECK(p["parent_exec_id"] == f.cache.exec_id(100, 2000));
    CHECK(p["refcnt"] == 1);
    CHECK(p["in_init_tree"] == false);
    CHECK(!p.contains("ns"));
    CHECK(!p.contains("cap"));
    const json& parent = j["process_exec"]["parent"];
    CHECK(parent["pid"] == 100);
    CHECK(parent["binary"] == "/bin/bash");
    CHECK(parent["arguments"] == "-c \"ls -la\"");
    CHECK(parent["refcnt"] == 2);
    const json& anc = j["process_exec"]["ancestors"];
    REQUIRE(anc.size() == 1);
    CHECK(anc[0]["pid"] == 1);
    CHECK(anc[0]["flags"] == "procFS rootcwd");

    CHECK(f.compact_lines.back().find("process_exec") != std::string::npos);
    CHECK(f.compact_lines.back().find("/bin/ls -la \"/tmp/a b\"") != std::string::npos);
}

TEST_CASE("process_exit JSON carries status, signal and time", "[unit][json]")
{
    Fixture f;
    f.exec(100, 2000, 1, 0, "/bin/sh", "", "/");
    f.exec(200, 3000, 100, 2000, "/bin/sleep", "100", "/");
    f.exit(200, 3000, SIGKILL, 5000);
    json j = f.last();
    REQUIRE(j.contains("process_exit"));
    const json& e = j["process_exit"];
    CHECK(e["signal"] == "SIGKILL");
    CHECK(e["status"] == 0);
    CHECK(e["time"] == j["time"]);
    CHECK(e["process"]["binary"] == "/bin/sleep");
    CHECK(e["process"]["refcnt"] == 0);
    CHECK(e["parent"]["pid"] == 100);
    CHECK(f.compact_lines.back().find("SIGKILL") != std::string::npos);

    f.exit(100, 2000, 3 << 8, 6000);
    j = f.last();
    CHECK(j["process_exit"]["status"] == 3);
    CHECK(!j["process_exit"].contains("signal"));
    CHECK(!j["process_exit"].contains("parent")); // unknown parent: no member
}

TEST_CASE("clone events feed the cache but are not exported", "[unit][json]")
{
    Fixture f;
    f.exec(100, 2000, 1, 0, "/bin/sh", "", "/");
    f.emit("process_clone", test::process_update(VIGIL_PROC_CLONE, 101, 2500, 100, 2000), 2500);
    CHECK(f.json_lines.size() == 1);
    CHECK(f.pipeline->stats().internal == 1);
    f.exit(101, 2500, 7 << 8, 2600);
    json e = f.last()["process_exit"];
    CHECK(e["process"]["binary"] == "/bin/sh");
    CHECK(e["process"]["flags"] == "execve clone");
    CHECK(e["status"] == 7);
}

TEST_CASE("namespaces and capabilities when enabled", "[unit][json]")
{
    PipelineOptions opts;
    opts.process.namespaces = true;
    opts.process.capabilities = true;
    for (size_t i = 0; i < ns_slot_count; ++i)
        opts.process.host_ns[i] = 4026531830 + i;
    opts.process.host_ns[ns_pid_slot] = 1;
    Fixture f(opts);
    f.exec(100, 2000, 1, 0, "/bin/sh", "", "/");
    json p = f.last()["process_exec"]["process"];
    CHECK(p["cap"]["effective"] == json::array({"CAP_CHOWN", "CAP_SYS_ADMIN"}));
    CHECK(p["cap"]["permitted"].empty());
    CHECK(p["ns"]["uts"]["inum"] == 4026531830u);
    CHECK(p["ns"]["uts"]["is_host"] == true);
    CHECK(p["ns"]["pid"]["is_host"] == false);
    CHECK(p["ns"].size() == ns_slot_count);
}

TEST_CASE("flags, arguments", "[unit][json]")
{
    CHECK(process_flags_string(VIGIL_PROC_F_CLONE | VIGIL_PROC_F_EXECVE | VIGIL_PROC_F_ROOTCWD) ==
          "execve rootcwd clone");
    CHECK(process_flags_string(VIGIL_PROC_F_TRUNC_ARGS | VIGIL_PROC_F_TRUNC_FILENAME | VIGIL_PROC_F_TRUNC_CWD) ==
          "truncFilename truncArgs truncCwd");
    CHECK(process_flags_string(0).empty());
    CHECK(join_arguments("") == "");
    CHECK(join_arguments(std::string("a\0b c\0\0d", 8)) == "a \"b c\"  d");
}

TEST_CASE("export filters: allow, deny, event types, binary, pids", "[unit][json]")
{
    SECTION("allow by event type (Tetragon spelling too)")
    {
        PipelineOptions opts;
        opts.allow.event_types = {"PROCESS_EXIT"};
        Fixture f(opts);
        f.exec(100, 2000, 1, 0, "/bin/sh", "", "/");
        f.exit(100, 2000, 0, 3000);
        REQUIRE(f.json_lines.size() == 1);
        CHECK(f.last().contains("process_exit"));
        CHECK(f.pipeline->stats().filtered == 1);
    }
    SECTION("deny by binary wins over allow")
    {
        PipelineOptions opts;
        opts.allow.pids = {100, 101};
        opts.deny.binary_regex = "^/usr/bin/";
        Fixture f(opts);
        f.exec(100, 2000, 1, 0, "/bin/sh", "", "/");
        f.exec(101, 2100, 1, 0, "/usr/bin/ls", "", "/");
        f.exec(102, 2200, 1, 0, "/bin/cat", "", "/");
        REQUIRE(f.json_lines.size() == 1);
        CHECK(f.last()["process_exec"]["process"]["pid"] == 100);
    }
    SECTION("namespaces: host processes are in the \"\" namespace")
    {
        PipelineOptions opts;
        opts.allow.namespaces = {"kube-system"};
        Fixture f(opts);
        f.exec(100, 2000, 1, 0, "/bin/sh", "", "/");
        CHECK(f.json_lines.empty());
    }
    SECTION("an invalid regex is an error")
    {
        PipelineOptions opts;
        opts.deny.binary_regex = "([";
        ProcessCache cache("n", 8);
        auto p = EventPipeline::make("n", cache, opts);
        REQUIRE(!p);
        CHECK(p.error().message().find("export.deny.binary_regex") != std::string::npos);
    }
}

TEST_CASE("JSON strings are valid UTF-8 whatever bytes a process put in them", "[unit][json]")
{
    // Found by fuzz/process_records: lead bytes F5..FF passed as 3-byte sequences.
    struct Case {
        std::string in, out;
    };
    const std::string bad = "\xEF\xBF\xBD"; // U+FFFD
    const Case cases[] = {
        {"\xff\xb4\xb4", bad + bad + bad},
        {"\xf5\x80\x80\x80", bad + bad + bad + bad},
        {"\xc0\xaf", bad + bad},                  // overlong '/'
        {"\xe0\x80\xaf", bad + bad + bad},        // overlong, 3 bytes
        {"\xed\xa0\x80", bad + bad + bad},        // a UTF-16 surrogate
        {"\xf4\x90\x80\x80", bad + bad + bad + bad}, // past U+10FFFF
        {"\xe2\x82", bad + bad},                  // cut short
        {"a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"}, // é € 😀
        {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"}, // U+10FFFF
    };
    for (const auto& c : cases) {
        std::string out;
        vigil::sdk::JsonWriter::escape_into(out, c.in);
        INFO(c.in);
        CHECK(out == c.out);
        CHECK_NOTHROW(json::parse("\"" + out + "\""));
    }
}

TEST_CASE("times no kernel gives are clamped, not wrapped", "[unit][json]")
{
    // Found by fuzz/hook_records: a ktime past INT64_MAX overflowed the boot-to-wall sum.
    WallClock clock(1'700'000'000'000'000'000); // boot at 2023-11-14T22:13:20Z
    CHECK(clock.rfc3339(0) == "2023-11-14T22:13:20.000000000Z");
    CHECK(clock.rfc3339(1'500'000'001) == "2023-11-14T22:13:21.500000001Z");
    const std::string last = "2262-04-11T23:47:16.854775807Z"; // INT64_MAX ns after the epoch
    CHECK(clock.rfc3339(UINT64_MAX) == last);
    CHECK(clock.rfc3339(static_cast<uint64_t>(INT64_MAX)) == last);
    // Before the epoch (a clock set back far): whole seconds round down, nanoseconds stay positive.
    CHECK(WallClock(-1).rfc3339(0) == "1969-12-31T23:59:59.999999999Z");
}

TEST_CASE("compact lines escape control characters a process put in its name or arguments", "[unit][json]")
{
    // Found by fuzz/process_records: a binary holding "\n" wrote two lines, the second forged.
    Fixture f;
    f.exec(1, 1000, 0, 0, "/sbin/init", "", "/", VIGIL_PROC_F_PROCFS | VIGIL_PROC_F_ROOTCWD);
    f.exec(300, 4000, 1, 1000, "/tmp/x\n12:00:00.000 process_exec 1 /bin/fake",
           std::string("\x1b[2J\0tab\there\0cr\r\0c1\xc2\x9b" "31m\0del\x7f\0ok \xc3\xa9", 36), "/tmp");
    REQUIRE(f.compact_lines.size() == 2);
    const std::string& line = f.compact_lines.back();
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.ends_with(" /tmp/x\\n12:00:00.000 process_exec 1 /bin/fake "
                         "\\x1b[2J tab\\there cr\\r c1\\xc2\\x9b31m del\\x7f \"ok \xc3\xa9\""));
    // The JSON keeps the bytes (escaped by JSON itself).
    CHECK(f.last()["process_exec"]["process"]["binary"] == "/tmp/x\n12:00:00.000 process_exec 1 /bin/fake");
}

TEST_CASE("an event whose process is not cached yet drains the lifecycle records first", "[unit][json]")
{
    Fixture f;
    f.exec(100, 2000, 1, 0, "/bin/sh", "", "/");
    // The fork of 101 is still "queued in another ring": the refresh hands it to the pipeline.
    int refreshes = 0;
    f.pipeline->set_process_refresh([&] {
        ++refreshes;
        f.emit("process_clone", test::process_update(VIGIL_PROC_CLONE, 101, 2500, 100, 2000), 2500);
    });
    vigil_event ev{};
    ev.struct_size = sizeof ev;
    ev.kind = "process_socket";
    ev.pid = ev.tid = 101;
    ev.ktime = 2600;
    ev.proc_ktime = 2500;
    f.pipeline->on_event("socket", ev);
    CHECK(refreshes == 1);
    json e = f.last()["process_socket"];
    CHECK(e["process"]["binary"] == "/bin/sh");
    CHECK(e["parent"]["pid"] == 100);
    CHECK(f.pipeline->stats().process_refreshes == 1);
    CHECK(f.pipeline->stats().process_misses == 0);

    // A process nobody knows: one more refresh, then the event goes out with what it carries.
    f.pipeline->set_process_refresh([&] { ++refreshes; });
    ev.pid = ev.tid = 4242;
    ev.proc_ktime = 3000;
    f.pipeline->on_event("socket", ev);
    CHECK(refreshes == 2);
    e = f.last()["process_socket"];
    CHECK(e["process"]["pid"] == 4242);
    CHECK_FALSE(e["process"].contains("binary"));
    CHECK(f.pipeline->stats().process_misses == 1);
}

namespace {

// The escaping rules one byte at a time, as the writer's word-at-a-time scan must reproduce.
std::string reference_escape(std::string_view s)
{
    std::string out;
    for (size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
            ++i;
        } else if (c == '\n') {
            out += "\\n", ++i;
        } else if (c == '\t') {
            out += "\\t", ++i;
        } else if (c == '\r') {
            out += "\\r", ++i;
        } else if (c < 0x20) {
            out += fmt::format("\\u{:04x}", c);
            ++i;
        } else if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
        } else if (size_t n = sdk::JsonWriter::utf8_sequence_length(s, i)) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

} // namespace

TEST_CASE("the JSON writer escapes exactly as the byte-wise rules say", "[unit][json]")
{
    // Every special byte at every offset of a word, and random text mixing all byte classes.
    const std::string specials = std::string("\"\\\n\t\r\x01\x1f\x7f\x80\xc3\xa9\xff", 14) + '\0';
    for (char sp : specials)
        for (size_t len = 1; len <= 19; ++len)
            for (size_t at = 0; at < len; ++at) {
                std::string s(len, 'a');
                s[at] = sp;
                INFO("len " << len << " at " << at << " byte " << int(static_cast<unsigned char>(sp)));
                std::string out;
                sdk::JsonWriter::escape_into(out, s);
                REQUIRE(out == reference_escape(s));
            }
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    auto next = [&] {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        return seed;
    };
    for (int round = 0; round < 2000; ++round) {
        std::string s(next() % 64, '\0');
        for (char& c : s) {
            uint64_t r = next();
            // mostly plain text, as paths and arguments are
            c = static_cast<char>(r % 8 ? 0x20 + (r >> 8) % 0x5f : (r >> 8) & 0xff);
        }
        std::string out;
        sdk::JsonWriter::escape_into(out, s);
        REQUIRE(out == reference_escape(s));
        sdk::JsonWriter w;
        w.value(s);
        REQUIRE(w.str() == "\"" + out + "\"");
        CHECK_NOTHROW(json::parse(w.str()));
    }
}

TEST_CASE("timestamps match the C library's calendar from 1970 to 2262", "[unit][json]")
{
    uint64_t seed = 12345;
    for (int i = 0; i < 20000; ++i) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        // boot-time ns spread over the whole int64 range of wall times after the epoch
        auto ktime = static_cast<uint64_t>(seed >> 1) % static_cast<uint64_t>(INT64_MAX);
        WallClock clock(0);
        time_t secs = static_cast<time_t>(ktime / 1'000'000'000);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        std::string want = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ktime % 1'000'000'000);
        INFO(ktime);
        REQUIRE(clock.rfc3339(ktime) == want);
    }
    // leap days, century rules and the turn of a year
    WallClock clock(0);
    CHECK(clock.rfc3339(951'782'400'000'000'000) == "2000-02-29T00:00:00.000000000Z");
    CHECK(clock.rfc3339(4'107'542'400'000'000'000) == "2100-03-01T00:00:00.000000000Z");
    CHECK(clock.rfc3339(1'704'067'199'999'999'999) == "2023-12-31T23:59:59.999999999Z");
}

TEST_CASE("a process renders the same JSON on every event, and a fork does not inherit its parent's", "[unit][json]")
{
    Fixture f;
    f.exec(100, 2000, 1, 0, "/bin/sh", "-c\0x", "/");
    f.exec(200, 3000, 100, 2000, "/bin/cat", "a\"b", "/tmp");
    json first = f.last()["process_exec"]["parent"];
    // The same entries again, now from the rendered text kept on each entry.
    f.exec(300, 4000, 100, 2000, "/bin/true", "", "/");
    json again = f.last()["process_exec"]["parent"];
    CHECK(again["refcnt"] == 3); // what changes is written per event
    first.erase("refcnt"), again.erase("refcnt");
    CHECK(first == again);
    f.emit("process_clone", test::process_update(VIGIL_PROC_CLONE, 201, 3500, 200, 3000), 3500);
    f.exit(201, 3500, 0, 3600);
    json child = f.last()["process_exit"]["process"];
    CHECK(child["pid"] == 201);
    CHECK(child["exec_id"] == f.cache.exec_id(201, 3500));
    CHECK(child["flags"] == "execve clone");
    CHECK(child["parent_exec_id"] == f.cache.exec_id(200, 3000));
    CHECK(child["arguments"] == "a\"b");
}

TEST_CASE("an event's second process is written in full under the plugin's key", "[unit][json]")
{
    Fixture f;
    f.exec(100, 2000, 1, 0, "/bin/bash", "", "/root");
    f.exec(200, 3000, 100, 2000, "/usr/bin/sleep", "60", "/tmp");
    sdk::JsonWriter body;
    sdk::Event ev(body, "signal_send");
    ev.process(100, 100, 2000).at(4000).other_process("target", 200, 3000).member("signal", "SIGKILL");
    f.pipeline->on_event("signal", ev.done());
    json j = f.last()["signal_send"];
    CHECK(j["process"]["exec_id"] == f.cache.exec_id(100, 2000));
    CHECK(j["target"]["exec_id"] == f.cache.exec_id(200, 3000));
    CHECK(j["target"]["binary"] == "/usr/bin/sleep");
    CHECK(j["target"]["parent_exec_id"] == f.cache.exec_id(100, 2000));
    CHECK(j["signal"] == "SIGKILL");

    // not in the cache: the pid, and the exec_id from the key the plugin gave
    sdk::Event unknown(body, "signal_send");
    unknown.process(100, 100, 2000).at(5000).other_process("target", 999, 777);
    f.pipeline->on_event("signal", unknown.done());
    j = f.last()["signal_send"];
    CHECK(j["target"] == json{{"pid", 999}, {"exec_id", f.cache.exec_id(999, 777)}});
}
