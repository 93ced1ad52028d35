#include "plugins/loader.hpp"

#include "core/trusted_file.hpp"

#include <vigil/sdk/descriptor.hpp>
#include <vigil/sdk/plugin.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace {

std::filesystem::path fake(const char* name) { return std::filesystem::path(FAKE_PLUGIN_DIR) / name; }

std::string refusal(const char* name)
{
    auto lib = vigil::load_plugin_library(fake(name));
    REQUIRE_FALSE(lib);
    return lib.error().message();
}

vigil_descriptor valid_descriptor()
{
    static const char* const kinds[] = {"tracepoints"};
    vigil_descriptor d{};
    d.struct_size = sizeof d;
    d.abi_major = VIGIL_ABI_MAJOR;
    d.id = "ok";
    d.name = "OK";
    d.version = "0.1.0";
    d.description = "";
    d.license = "GPL-2.0-only";
    d.hook_kinds = kinds;
    d.hook_kind_count = 1;
    return d;
}

std::string invalid(const vigil_descriptor& d)
{
    auto r = vigil::validate_descriptor(d);
    REQUIRE_FALSE(r);
    return r.error().message();
}

} // namespace

TEST_CASE("a good plugin loads and its descriptor is read", "[unit][loader]")
{
    auto lib = vigil::load_plugin_library(fake("libfake_good.so"));
    REQUIRE(lib);
    CHECK(std::string(lib->descriptor->id) == "fake");
    CHECK(std::string(lib->descriptor->version) == "1.2.3");
    CHECK(lib->descriptor->config_field_count == 3);
    std::string text = vigil::describe_descriptor(*lib->descriptor);
    CHECK(text.find("hook kinds:  fakehooks") != std::string::npos);
    CHECK(text.find("vigil_procs (layout 1)") != std::string::npos);
}

TEST_CASE("the loader refuses each broken plugin with the reason", "[unit][loader]")
{
    CHECK(refusal("libfake_no_entry.so") ==
          fake("libfake_no_entry.so").string() +
              ": no entry point \"vigil_plugin_get_api\" (was it built with VIGIL_PLUGIN()?)");
    CHECK(refusal("libfake_abi_major.so") ==
          fake("libfake_abi_major.so").string() +
              fmt::format(": plugin ABI major 99 does not match the host's ABI 1.{}; rebuild the plugin against SDK 1.x",
                          VIGIL_ABI_MINOR));
    CHECK(refusal("libfake_min_minor.so") ==
          fake("libfake_min_minor.so").string() +
              fmt::format(": plugin needs host ABI 1.999 or newer, this host has ABI 1.{}; upgrade vigild",
                          VIGIL_ABI_MINOR));
    CHECK(refusal("libfake_bad_id.so") ==
          fake("libfake_bad_id.so").string() +
              ": descriptor: id \"Bad Id\" must be 1-32 characters of a-z, 0-9, _ and -");
    CHECK(refusal("libfake_layout.so") ==
          fake("libfake_layout.so").string() +
              ": shared map \"vigil_procs\" layout 99 does not match the host's layout 1; rebuild the plugin "
              "against this SDK");
}

TEST_CASE("the entry point is a C function; the Boost.DLL alias of ABI < 1.2 still loads", "[unit][loader]")
{
    auto c = vigil::load_plugin_library(fake("libfake_c.so"));
    REQUIRE(c);
    CHECK(std::string(c->descriptor->id) == "cplug");
    CHECK_FALSE(c->legacy_entry);
    // the same from sensor.bpf.c with an author-named skeleton (a plugin-prefixed BPF target)
    auto renamed = vigil::load_plugin_library(fake("libfake_c_sensor.so"));
    REQUIRE(renamed);
    CHECK(std::string(renamed->descriptor->id) == "cplug");
    auto cxx = vigil::load_plugin_library(fake("libfake_good.so"));
    REQUIRE(cxx);
    CHECK_FALSE(cxx->legacy_entry);
    auto old = vigil::load_plugin_library(fake("libfake_abi10.so"));
    REQUIRE(old);
    CHECK(old->legacy_entry);
    CHECK(std::string(old->descriptor->id) == "old");
}

TEST_CASE("an API table with some hook callbacks but not all is refused with the missing ones named", "[unit][loader]")
{
    CHECK(refusal("libfake_c_partial_hooks.so") ==
          fake("libfake_c_partial_hooks.so").string() +
              ": its API table sets add_hook, hook_stats but not remove_hook, set_hook_mode; the hook callbacks "
              "come all four or none");
}

TEST_CASE("an exporter (ABI 1.3) loads; half an exporter group is refused; a 1.2 table is no exporter",
          "[unit][loader]")
{
    auto exp = vigil::load_plugin_library(fake("libfake_exporter.so"));
    REQUIRE(exp);
    CHECK(vigil::is_exporter(*exp->api));
    CHECK(exp->api->decode == nullptr); // an exporter without rings needs none
    CHECK(refusal("libfake_half_exporter.so") ==
          fake("libfake_half_exporter.so").string() +
              ": its API table sets export_events but not export_status; the exporter callbacks come both or none");
    auto older = vigil::load_plugin_library(fake("libfake_abi12.so"));
    REQUIRE(older);
    CHECK(older->api->struct_size == offsetof(vigil_plugin_api, export_events));
    CHECK_FALSE(vigil::is_exporter(*older->api));
    auto good = vigil::load_plugin_library(fake("libfake_good.so"));
    REQUIRE(good);
    CHECK_FALSE(vigil::is_exporter(*good->api));
}

TEST_CASE("a missing or non-library file is refused", "[unit][loader]")
{
    auto lib = vigil::load_plugin_library("/nonexistent/libx.so");
    REQUIRE_FALSE(lib);
    CHECK(lib.error().message() == "/nonexistent/libx.so: No such file or directory");

    auto path = std::filesystem::temp_directory_path() / "vigil-not-a-plugin.so";
    { std::ofstream(path) << "not an ELF file"; }
    ::chmod(path.c_str(), 0644);
    lib = vigil::load_plugin_library(path);
    REQUIRE_FALSE(lib);
    CHECK(lib.error().message().starts_with(path.string() + ": cannot load: "));
}

TEST_CASE("a plugin file writable by others is refused", "[unit][loader]")
{
    auto path = std::filesystem::temp_directory_path() / "vigil-writable.so";
    std::filesystem::copy_file(fake("libfake_good.so"), path, std::filesystem::copy_options::overwrite_existing);
    ::chmod(path.c_str(), 0666);
    auto lib = vigil::load_plugin_library(path);
    REQUIRE_FALSE(lib);
    CHECK(lib.error().message() ==
          path.string() + ": writable by group or others (mode 666); refusing to load it");
}

TEST_CASE("a plugin file owned by another user is refused", "[unit][loader]")
{
    auto path = std::filesystem::temp_directory_path() / "vigil-foreign.so";
    std::filesystem::remove(path); // a copy over a file left by an earlier run would keep its owner
    std::filesystem::copy_file(fake("libfake_good.so"), path);
    ::chmod(path.c_str(), 0755);
    CHECK(vigil::load_plugin_library(path)); // owned by the user running the test
    // Handing the file to another user needs root (the suite runs as root, as vigild does).
    REQUIRE(::geteuid() == 0);
    REQUIRE(::chown(path.c_str(), 65534, 65534) == 0);
    auto lib = vigil::load_plugin_library(path);
    REQUIRE_FALSE(lib);
    CHECK(lib.error().message() ==
          path.string() + ": owned by uid 65534, not by root or the user running vigild; refusing to load it");
}

TEST_CASE("SHA-256 of a trusted file", "[unit][loader]")
{
    auto path = std::filesystem::temp_directory_path() / "vigil-sha256.txt";
    { std::ofstream(path) << "abc"; }
    ::chmod(path.c_str(), 0644);
    auto f = vigil::open_trusted_file(path, "refusing it");
    REQUIRE(f);
    auto h = vigil::sha256_hex(*f, path);
    REQUIRE(h);
    CHECK(*h == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("a pinned plugin loads only with the pinned SHA-256", "[unit][loader]")
{
    auto path = fake("libfake_good.so");
    auto f = vigil::open_trusted_file(path, "");
    REQUIRE(f);
    auto have = vigil::sha256_hex(*f, path);
    REQUIRE(have);
    CHECK(vigil::load_plugin_library(path, *have));

    std::string wrong(64, '0');
    auto lib = vigil::load_plugin_library(path, wrong);
    REQUIRE_FALSE(lib);
    CHECK(lib.error().message() == path.string() + ": SHA-256 is " + *have + ", but the configuration pins " +
                                       wrong + "; refusing to load it");
}

TEST_CASE("descriptor validation", "[unit][loader]")
{
    vigil_descriptor d = valid_descriptor();
    REQUIRE(vigil::validate_descriptor(d));

    SECTION("too small")
    {
        d.struct_size = 8;
        CHECK(invalid(d).starts_with("descriptor: struct_size 8 is smaller than"));
    }
    SECTION("version not semver")
    {
        d.version = "1.0";
        CHECK(invalid(d) == "descriptor: version \"1.0\" is not semver (MAJOR.MINOR.PATCH)");
    }
    SECTION("no license")
    {
        d.license = "";
        CHECK(invalid(d) == "descriptor: license is empty");
    }
    SECTION("duplicate hook kind")
    {
        static const char* const kinds[] = {"kprobes", "kprobes"};
        d.hook_kinds = kinds;
        d.hook_kind_count = 2;
        CHECK(invalid(d) == "descriptor: hook_kinds lists \"kprobes\" twice");
    }
    SECTION("count without list")
    {
        d.event_kind_count = 2;
        CHECK(invalid(d) == "descriptor: event_kinds has count 2 but no list");
    }
    SECTION("bad event kind name")
    {
        static const char* const kinds[] = {"Process Exec"};
        d.event_kinds = kinds;
        d.event_kind_count = 1;
        CHECK(invalid(d) == "descriptor: event_kinds[0] \"Process Exec\" is not a valid name");
    }
    SECTION("unknown shared map")
    {
        static const vigil_map_use maps[] = {{sizeof(vigil_map_use), "other_map", 1}};
        d.shared_maps = maps;
        d.shared_map_count = 1;
        CHECK(invalid(d) == "descriptor: shared map \"other_map\" is not provided by this host");
    }
    SECTION("config field of unknown type")
    {
        static const vigil_config_field f[] = {{sizeof(vigil_config_field), "x", 42, "", nullptr}};
        d.config_fields = f;
        d.config_field_count = 1;
        CHECK(invalid(d) == "descriptor: config field \"x\" has unknown type 42");
    }
    SECTION("config field declared twice")
    {
        static const vigil_config_field f[] = {{sizeof(vigil_config_field), "x", VIGIL_CONFIG_INT, "", nullptr},
                                               {sizeof(vigil_config_field), "x", VIGIL_CONFIG_INT, "", nullptr}};
        d.config_fields = f;
        d.config_field_count = 2;
        CHECK(invalid(d) == "descriptor: config field \"x\" is declared twice");
    }
}

TEST_CASE("the SDK's descriptor builder gives a descriptor the host accepts", "[unit][loader]")
{
    // copied out of the chain, as `static const Descriptor d = Descriptor(...)...;` does
    const vigil::sdk::Descriptor b = vigil::sdk::Descriptor("signal", "Signal sensor", "1.0.0")
                                         .license("GPL-2.0-only")
                                         .min_host_minor(2)
                                         .events({"signal_send"})
                                         .shared_maps()
                                         .needs_process_cache()
                                         .config_int("ring_mb", "ring size", "0")
                                         .config_bool("verbose", "more", "false");
    const vigil_descriptor& d = b.get();
    REQUIRE(vigil::validate_descriptor(d));
    CHECK(d.event_kind_count == 1);
    CHECK(std::string(d.event_kinds[0]) == "signal_send");
    CHECK(d.shared_map_count == std::size(vigil::sdk::shared_maps));
    CHECK(d.config_field_count == 2);
    CHECK(std::string(d.config_fields[1].key) == "verbose");
    CHECK(d.config_fields[1].type == VIGIL_CONFIG_BOOL);
    CHECK(vigil::describe_descriptor(d).find("needs:       events process_exec, process_clone, process_exit from "
                                              "another plugin") != std::string::npos);
}

namespace {
// A plugin class of this SDK that fills every counter it knows.
struct CountingHooks {
    void hook_stats(uint64_t, vigil_hook_stats& s)
    {
        s.matched = 1;
        s.posted = 2;
        s.rate_limited = 3;
        s.enforced = 4;
        s.monitored = 5;
        s.shed = 6;
        s.ring_full = 7;
    }
};
} // namespace

TEST_CASE("hook_stats: a plugin writes only what fits in the caller's struct_size", "[unit][loader]")
{
    using T = vigil::sdk::detail::trampolines<CountingHooks>;
    vigil::sdk::detail::instance<CountingHooks> inst{vigil::sdk::Host(nullptr), std::make_unique<CountingHooks>()};
    char err[64] = {};

    // A host built before shed and ring_full: its struct ends at monitored, and what follows it
    // in its memory stays untouched.
    struct {
        vigil_hook_stats head;
        uint64_t after[2];
    } old{};
    uint32_t old_size = offsetof(vigil_hook_stats, shed);
    std::memset(&old, 0xab, sizeof old);
    old.head.struct_size = old_size;
    REQUIRE(T::hook_stats(&inst, 1, &old.head, err, sizeof err) == VIGIL_OK);
    CHECK(old.head.struct_size == old_size);
    CHECK(old.head.matched == 1);
    CHECK(old.head.monitored == 5);
    CHECK(old.head.shed == 0xababababababababull);
    CHECK(old.head.ring_full == 0xababababababababull);

    vigil_hook_stats now{};
    now.struct_size = sizeof now;
    REQUIRE(T::hook_stats(&inst, 1, &now, err, sizeof err) == VIGIL_OK);
    CHECK(now.shed == 6);
    CHECK(now.ring_full == 7);
}
