// The plugin registry with real plugin libraries and real shared maps (needs CAP_BPF: root).
#include "registry_fixture.hpp"

#include <fmt/format.h>

#include <string>
#include <unistd.h>
#include <vector>

namespace {

using Fixture = test::RegistryFixture;

std::string lib(const char* name) { return std::string(FAKE_PLUGIN_DIR) + "/" + name; }

} // namespace

TEST_CASE("a plugin gets its validated config and starts", "[bpf][registry]")
{
    Fixture f;
    REQUIRE(f.load(R"(
[plugins.fake]
library = "libfake_good.so"
[plugins.fake.config]
greeting = "hi"
repeat = 2
)"));
    vigil::Plugin* p = f.registry.find("fake");
    REQUIRE(p);
    CHECK(p->state() == vigil::PluginState::running);
    REQUIRE(f.registry.disable("fake"));
    CHECK(p->state() == vigil::PluginState::disabled);
    REQUIRE(f.registry.enable("fake"));
    CHECK(p->state() == vigil::PluginState::running);
    CHECK(f.registry.server_of("fakehooks") == p);
    CHECK(f.registry.server_of("kprobes") == nullptr);
}

TEST_CASE("plugin config is checked against the plugin's schema", "[bpf][registry]")
{
    Fixture f;
    auto r = f.load("[plugins.fake]\nlibrary = \"libfake_good.so\"\n[plugins.fake.config]\ngreting = \"x\"\n");
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == "plugin fake: t.toml:4:11: plugins.fake.config: unknown key \"greting\" (the plugin "
                                 "accepts: greeting, repeat, fail_start)");

    Fixture g;
    r = g.load("[plugins.fake]\nlibrary = \"libfake_good.so\"\n[plugins.fake.config]\nrepeat = \"3\"\n");
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == "plugin fake: t.toml:4:10: plugins.fake.config.repeat must be an integer");
}

TEST_CASE("init and start failures are reported and isolated", "[bpf][registry]")
{
    SECTION("init throws")
    {
        Fixture f;
        auto r = f.load("[plugins.fake]\nlibrary = \"libfake_init_throws.so\"\n");
        REQUIRE_FALSE(r);
        CHECK(r.error().message() ==
              fmt::format("plugin fake: {}: init failed (internal): constructor exploded", lib("libfake_init_throws.so")));
    }
    SECTION("init fails")
    {
        Fixture f;
        auto r = f.load("[plugins.fake]\nlibrary = \"libfake_init_fails.so\"\n");
        REQUIRE_FALSE(r);
        CHECK(r.error().message() ==
              fmt::format("plugin fake: {}: init failed (invalid): config rejected by plugin",
                          lib("libfake_init_fails.so")));
    }
    SECTION("start fails")
    {
        Fixture f;
        auto r = f.load("[plugins.fake]\nlibrary = \"libfake_good.so\"\n[plugins.fake.config]\nfail_start = true\n");
        REQUIRE_FALSE(r);
        CHECK(r.error().message() ==
              fmt::format("plugin fake: {}: start failed (kernel): start failed on purpose", lib("libfake_good.so")));
        CHECK(f.registry.find("fake")->state() == vigil::PluginState::failed);
    }
    SECTION("on_error = skip keeps the rest running")
    {
        Fixture f;
        REQUIRE(f.load(R"(
[plugins.fake]
library = "libfake_init_throws.so"
on_error = "skip"
[plugins.other]
library = "libfake_other.so"
)"));
        REQUIRE(f.registry.find("other"));
        CHECK(f.registry.find("other")->state() == vigil::PluginState::running);
    }
}

TEST_CASE("duplicate ids and mismatched config keys are refused", "[bpf][registry]")
{
    Fixture f;
    auto r = f.load("[plugins.fake]\nlibrary = \"libfake_good.so\"\n[plugins.fake2]\nlibrary = \"libfake_dup.so\"\n");
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == fmt::format("plugin fake2: {}: duplicate plugin id \"fake\" (already loaded from {})",
                                             lib("libfake_dup.so"), lib("libfake_good.so")));

    Fixture g;
    r = g.load("[plugins.renamed]\nlibrary = \"libfake_good.so\"\n");
    REQUIRE_FALSE(r);
    CHECK(r.error().message() ==
          fmt::format("plugin renamed: {}: descriptor id \"fake\" does not match the config key plugins.renamed",
                      lib("libfake_good.so")));
}

TEST_CASE("reload enables and disables plugins without a restart", "[bpf][registry]")
{
    Fixture f;
    REQUIRE(f.load("[plugins.fake]\nlibrary = \"libfake_good.so\"\n[plugins.other]\nlibrary = \"libfake_other.so\"\n"));
    auto cfg = vigil::parse_config(
        "[plugins.fake]\nlibrary = \"libfake_good.so\"\nenabled = false\n[plugins.other]\nlibrary = \"libfake_other.so\"\n",
        "t.toml");
    REQUIRE(cfg);
    REQUIRE(f.registry.reload(*cfg, [](const std::string&) { return false; }));
    CHECK(f.registry.find("fake")->state() == vigil::PluginState::disabled);
    CHECK(f.registry.find("other")->state() == vigil::PluginState::running);

    cfg = vigil::parse_config("[plugins.fake]\nlibrary = \"libfake_good.so\"\n", "t.toml");
    REQUIRE(cfg);
    REQUIRE(f.registry.reload(*cfg, [](const std::string&) { return false; }));
    CHECK(f.registry.find("fake")->state() == vigil::PluginState::running);
    CHECK(f.registry.find("other")->state() == vigil::PluginState::disabled);
}

TEST_CASE("metadata providers answer the host's questions; a plugin of ABI 1.0 still loads", "[bpf][registry]")
{
    Fixture f;
    std::vector<std::string> got; // "id name" per container_update
    f.registry.set_container_sink([&](const vigil_container_info& i) {
        got.push_back(std::string(i.id, i.id_len) + " " + std::string(i.name, i.name_len));
    });
    REQUIRE(f.load(R"(
[plugins.prov]
library = "libfake_provider.so"
[plugins.old]
library = "libfake_abi10.so"
)"));
    REQUIRE(f.registry.find("prov"));
    REQUIRE(f.registry.find("old"));
    CHECK(f.registry.find("old")->state() == vigil::PluginState::running);
    CHECK(f.registry.find("old")->api().struct_size < sizeof(vigil_plugin_api));
    f.registry.container_wanted("c0ffee");
    // only the provider of ABI 1.1 is asked: the old plugin's struct ends before the callback
    REQUIRE(got.size() == 1);
    CHECK(got[0] == "c0ffee prov-knows");
}

TEST_CASE("a plugin written in C against plugin_abi.h alone loads, attaches and emits", "[bpf][registry]")
{
    std::vector<std::string> events; // "plugin kind body" per event; outlives the registry
    Fixture f;
    f.on_event = [&](const std::string& id, const vigil_event& ev) {
        events.push_back(id + " " + ev.kind + " " + std::string(ev.body_json, ev.body_json_len));
    };
    REQUIRE(f.load(fmt::format("[plugins.cplug]\nlibrary = \"libfake_c.so\"\n[plugins.cplug.config]\ntarget_pid = {}\n",
                               ::getpid())));
    vigil::Plugin* p = f.registry.find("cplug");
    REQUIRE(p);
    CHECK(p->state() == vigil::PluginState::running);
    CHECK(p->link_count() == 1);
    for (int i = 0; i < 3; ++i)
        (void)::getppid();
    f.registry.drain_rings();
    CHECK(events == std::vector<std::string>{"cplug c_getppid \"seq\":0", "cplug c_getppid \"seq\":1",
                                             "cplug c_getppid \"seq\":2"});
    REQUIRE(f.registry.disable("cplug"));
    CHECK(p->link_count() == 0);
}

TEST_CASE("an event's second process needs a plain key the host does not write itself", "[bpf][registry]")
{
    auto run = [](const char* key) {
        std::vector<std::string> keys; // other_key per event passed on
        Fixture f;
        f.on_event = [&](const std::string&, const vigil_event& ev) { keys.emplace_back(ev.other_key); };
        REQUIRE(f.load(fmt::format("[plugins.cplug]\nlibrary = \"libfake_c.so\"\n[plugins.cplug.config]\n"
                                   "target_pid = {}\nother_key = \"{}\"\n",
                                   ::getpid(), key)));
        for (int i = 0; i < 2; ++i)
            (void)::getppid();
        f.registry.drain_rings();
        return std::pair{keys, f.registry.find("cplug")->decode_errors()};
    };
    CHECK(run("target") == std::pair{std::vector<std::string>{"target", "target"}, uint64_t{0}});
    CHECK(run("Target Process") == std::pair{std::vector<std::string>{}, uint64_t{2}});
    CHECK(run("parent") == std::pair{std::vector<std::string>{}, uint64_t{2}});
}

TEST_CASE("a plugin needing the process lifecycle events runs only beside a plugin emitting them", "[bpf][registry]")
{
    Fixture alone;
    auto r = alone.load("[plugins.cneeds]\nlibrary = \"libfake_c_needs.so\"\n");
    REQUIRE_FALSE(r);
    CHECK(r.error().message() ==
          "plugin cneeds: needs events process_exec, process_exit from another plugin, and no running plugin emits "
          "them (the shared process cache is kept current by the plugin emitting "
          "process_exec/process_clone/process_exit: enable [plugins.tracepoint])");

    Fixture f; // the dependent first: the order in the file does not matter
    REQUIRE(f.load("[plugins.cneeds]\nlibrary = \"libfake_c_needs.so\"\n"
                   "[plugins.lifecycle]\nlibrary = \"libfake_lifecycle.so\"\n"));
    CHECK(f.registry.find("cneeds")->state() == vigil::PluginState::running);
    r = f.registry.disable("lifecycle");
    REQUIRE_FALSE(r);
    CHECK(r.error().message().starts_with("plugin lifecycle is needed by the running plugin cneeds ("));
    CHECK(f.registry.find("lifecycle")->state() == vigil::PluginState::running);
    REQUIRE(f.registry.disable("cneeds"));
    REQUIRE(f.registry.disable("lifecycle"));
    r = f.registry.enable("cneeds");
    REQUIRE_FALSE(r);
    CHECK(r.error().message().starts_with("plugin cneeds: needs events process_exec, process_exit"));
    REQUIRE(f.registry.enable("lifecycle"));
    REQUIRE(f.registry.enable("cneeds"));
}
