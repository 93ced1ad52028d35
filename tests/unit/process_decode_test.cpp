// The process sensor's record decoder: well-formed records decode, truncated and oversized
// ones are refused with a reason, never read past their end.
#include "../../plugins/tracepoint/decode.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

using namespace vigil::tracepoint;

namespace {

std::vector<std::byte> exec_record(const std::string& binary, const std::string& cwd, const std::string& cg,
                                   const std::string& args)
{
    tp_exec_record r{};
    r.hdr.kind = TP_REC_EXEC;
    r.pid = 10;
    r.ktime = 99;
    r.binary_len = binary.size();
    r.cwd_len = cwd.size();
    r.cgroup_name_len = cg.size();
    r.args_len = args.size();
    std::string body = binary + cwd + cg + args;
    r.hdr.size = sizeof r + body.size();
    std::vector<std::byte> out(sizeof r + body.size());
    std::memcpy(out.data(), &r, sizeof r);
    std::memcpy(out.data() + sizeof r, body.data(), body.size());
    return out;
}

template <class T>
std::vector<std::byte> fixed_record(uint32_t kind)
{
    T r{};
    r.hdr.kind = kind;
    r.hdr.size = sizeof r;
    std::vector<std::byte> out(sizeof r);
    std::memcpy(out.data(), &r, sizeof r);
    return out;
}

void set_size(std::vector<std::byte>& rec, uint32_t size) { std::memcpy(rec.data() + 4, &size, 4); }

} // namespace

TEST_CASE("exec record decodes into its parts", "[unit][decode]")
{
    auto rec = exec_record("/usr/bin/../bin/./ls", "/tmp/x y", "session-1.scope", std::string("-l\0a b\0", 7));
    auto r = decode_record(rec);
    REQUIRE(r);
    auto* e = std::get_if<ExecView>(&*r);
    REQUIRE(e);
    CHECK(e->binary == "/usr/bin/ls");
    CHECK(e->cwd == "/tmp/x y");
    CHECK(e->cgroup_name == "session-1.scope");
    CHECK(e->args == std::string("-l\0a b", 6)); // trailing NUL dropped
    CHECK(e->rec.pid == 10);
}

TEST_CASE("an exec record's cgroup part becomes a path by its depth", "[unit][decode]")
{
    CHECK(cgroup_path(0, "") == "/");
    CHECK(cgroup_path(1, "init.scope") == "/init.scope");
    CHECK(cgroup_path(2, "docker/abc") == "/docker/abc");
    CHECK(cgroup_path(4, "pod1/abc") == ".../pod1/abc");
}

TEST_CASE("clone and exit records decode", "[unit][decode]")
{
    auto c = decode_record(fixed_record<tp_clone_record>(TP_REC_CLONE));
    REQUIRE(c);
    CHECK(std::holds_alternative<CloneView>(*c));
    auto x = decode_record(fixed_record<tp_exit_record>(TP_REC_EXIT));
    REQUIRE(x);
    CHECK(std::holds_alternative<ExitView>(*x));
}

TEST_CASE("bad records are refused with a reason", "[unit][decode]")
{
    SECTION("shorter than a header")
    {
        std::vector<std::byte> rec(5);
        auto r = decode_record(rec);
        REQUIRE(!r);
        CHECK(r.error().find("shorter than its header") != std::string::npos);
    }
    SECTION("header size differs from what the ring gave")
    {
        auto rec = exec_record("/bin/ls", "/", "", "");
        rec.pop_back();
        auto r = decode_record(rec);
        REQUIRE(!r);
        CHECK(r.error().find("says") != std::string::npos);
    }
    SECTION("truncated fixed part")
    {
        auto rec = exec_record("", "", "", "");
        rec.resize(100);
        set_size(rec, 100);
        auto r = decode_record(rec);
        REQUIRE(!r);
        CHECK(r.error().find("shorter than its fixed part") != std::string::npos);
    }
    SECTION("parts do not add up")
    {
        auto rec = exec_record("/bin/ls", "/", "", "");
        rec.push_back(std::byte{0});
        set_size(rec, rec.size());
        auto r = decode_record(rec);
        REQUIRE(!r);
        CHECK(r.error().find("add up") != std::string::npos);
    }
    SECTION("a part over its bound")
    {
        auto rec = exec_record(std::string(TP_BINARY_MAX + 1, 'a'), "/", "", "");
        auto r = decode_record(rec);
        REQUIRE(!r);
        CHECK(r.error().find("over its bound") != std::string::npos);
    }
    SECTION("oversized fixed record")
    {
        auto rec = fixed_record<tp_exit_record>(TP_REC_EXIT);
        rec.resize(rec.size() + 8);
        set_size(rec, rec.size());
        auto r = decode_record(rec);
        REQUIRE(!r);
        CHECK(r.error().find("exit record of 48 bytes, expected 40") != std::string::npos);
    }
    SECTION("unknown kind")
    {
        auto rec = fixed_record<tp_exit_record>(77);
        auto r = decode_record(rec);
        REQUIRE(!r);
        CHECK(r.error() == "unknown record kind 77");
    }
}

TEST_CASE("path normalisation", "[unit][decode]")
{
    CHECK(normalize_path("/usr/bin/ls") == "/usr/bin/ls");
    CHECK(normalize_path("/a/./b/../c") == "/a/c");
    CHECK(normalize_path("/a//b/") == "/a/b");
    CHECK(normalize_path("/..") == "/");
    CHECK(normalize_path("relative/x") == "relative/x");
}
