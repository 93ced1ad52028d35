// The exporter contract of the SDK (ABI 1.3) with vigild for real and a fake exporter plugin:
// it gets every exported event with its kind and node; one that stalls or fails costs its own
// events (counted by reason), never the JSON file's.
#include "support/vigild.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

using namespace vigil::e2e;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<Vigild> start_with_exporter(const fs::path& out, const std::string& more, uint32_t queue_kb = 0)
{
    VigildOptions o;
    o.agent_toml = "node_name = \"node-x\"\n";
    o.output_queue_kb = queue_kb;
    o.extra_toml = fmt::format("[plugins.fexp]\nlibrary = \"{}\"\n[plugins.fexp.config]\npath = \"{}\"\n{}",
                               (fs::path(VIGIL_FAKE_PLUGIN_DIR) / "libfake_exporter.so").string(), out.string(), more);
    return Vigild::start(o);
}

std::vector<std::string> lines_of(const fs::path& p)
{
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);)
        out.push_back(l);
    return out;
}

} // namespace

TEST_CASE("exporter: a plugin output gets every exported event with its kind and node", "[fleet][exporter]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir dir;
    auto out = dir.path() / "exported";
    auto v = start_with_exporter(out, "");
    CHECK(v->wait_log("exporting JSON events to plugin fexp", 5s));
    pid_t last = 0;
    for (int i = 0; i < 50; ++i)
        last = run({"/bin/true"}).pid;
    REQUIRE(v->wait_event(is("process_exit", last), 10s));
    v->stop();
    std::multiset<std::string> exported;
    size_t bad = 0;
    for (const auto& l : lines_of(out)) {
        std::istringstream words(l);
        std::string node, kind;
        words >> node >> kind;
        std::string rest = l.substr(node.size() + kind.size() + 2);
        json ev = json::parse(rest, nullptr, false);
        bad += node != "node-x" || ev.is_discarded() || kind != kind_of(ev);
        if (!ev.is_discarded())
            exported.insert(ev.dump());
    }
    CHECK(bad == 0);
    size_t missing = 0;
    for (const auto& ev : v->events())
        missing += !exported.contains(ev.dump());
    CHECK(v->events().size() >= 100); // an exec and an exit of each
    CHECK(missing == 0);
}

TEST_CASE("exporter: one that stalls or fails loses its own events, counted, and the file gets all", "[fleet][exporter]")
{
    VIGIL_E2E_NEEDS_ROOT();
    TempDir dir;
    for (const char* mode : {"stall", "fail"}) {
        SECTION(mode)
        {
            auto v = start_with_exporter(dir.path() / "exported", fmt::format("{} = true\n", mode), 64);
            pid_t last = 0;
            for (int i = 0; i < 200; ++i)
                last = run({"/bin/true"}).pid;
            // the JSON file is not held up by the exporter
            CHECK(v->wait_event(is("process_exit", last), 5s));
            auto stats = v->stats();
            if (std::string(mode) == "stall") {
                CHECK(stats["output_lost_queue_full"] > 0);
            } else {
                CHECK(stats["output_lost_export_error"] > 0);
                CHECK(v->wait_log("told to fail", 5s));
            }
            CHECK(v->stop() == 0);
        }
    }
}
