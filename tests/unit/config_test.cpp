#include "core/config.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>
#include <fstream>

using vigil::parse_config;

namespace {

std::string error_of(std::string_view toml)
{
    auto cfg = parse_config(toml, "test.toml");
    REQUIRE_FALSE(cfg);
    return cfg.error().message();
}

} // namespace

TEST_CASE("embedded default config parses and lists the four plugins", "[unit][config]")
{
    auto cfg = parse_config(vigil::embedded_default_config(), "<default>");
    REQUIRE(cfg);
    REQUIRE(cfg->plugins.size() == 4);
    CHECK(cfg->plugins[0].id == "tracepoint");
    CHECK(cfg->plugins[1].id == "kprobe");
    CHECK(cfg->plugins[2].id == "socket");
    CHECK(cfg->plugins[3].id == "uprobe");
    CHECK(cfg->stdout_format == vigil::StdoutFormat::compact);
    for (const auto& p : cfg->plugins) {
        CHECK(p.enabled);
        CHECK(p.on_error == vigil::OnError::fail);
    }
}

TEST_CASE("a full config is read into typed fields", "[unit][config]")
{
    auto cfg = parse_config(R"(
[agent]
node_name = "n1"
log_level = "debug"
plugin_dir = "/opt/vigil/plugins"
[process]
ancestors = true
cache_size = 1000
[output]
stdout = "json"
[export.file]
path = "/var/log/vigil/events.json"
max_size_mb = 10
max_files = 3
[export.deny]
event_types = ["process_exit"]
binary_regex = "^/usr/bin/(ls|cat)$"
pids = [1, 2]
[plugins.tracepoint]
library = "libvigil_tracepoint.so"
on_error = "skip"
[plugins.tracepoint.config]
flag = true
count = 3
name = "x"
list = ["a", "b"]
[plugins.kprobe]
enabled = false
library = "libvigil_kprobe.so"
)",
                            "full.toml");
    REQUIRE(cfg);
    CHECK(cfg->node_name == "n1");
    CHECK(cfg->log_level == "debug");
    CHECK(cfg->process_ancestors);
    CHECK(cfg->process_cache_size == 1000);
    CHECK(cfg->stdout_format == vigil::StdoutFormat::json);
    CHECK(cfg->export_file.path == "/var/log/vigil/events.json");
    CHECK(cfg->export_file.max_size_bytes == 10ull << 20);
    CHECK(cfg->export_file.max_files == 3);
    CHECK(cfg->export_deny.event_types == std::vector<std::string>{"process_exit"});
    CHECK(cfg->export_deny.pids == std::vector<uint32_t>{1, 2});
    REQUIRE(cfg->plugins.size() == 2);
    const auto& tp = cfg->plugins[0];
    CHECK(tp.on_error == vigil::OnError::skip);
    REQUIRE(tp.config.size() == 4);
    CHECK(tp.config.at("flag").bool_value);
    CHECK(tp.config.at("count").int_value == 3);
    CHECK(tp.config.at("name").str_value == "x");
    CHECK(tp.config.at("list").list_value == std::vector<std::string>{"a", "b"});
    CHECK_FALSE(cfg->plugins[1].enabled);
}

TEST_CASE("unknown keys are errors with line and column", "[unit][config]")
{
    CHECK(error_of("[agent]\nlog_levle = \"info\"\n") == "test.toml:2:1: unknown key agent.log_levle");
    CHECK(error_of("[agnet]\n") == "test.toml:1:2: unknown key agnet");
    CHECK(error_of("[plugins.x]\nlibrary = \"a.so\"\nenable = true\n") ==
          "test.toml:3:1: unknown key plugins.x.enable");
    CHECK(error_of("[export.file]\npath = \"/x\"\nsize = 3\n") == "test.toml:3:1: unknown key export.file.size");
}

TEST_CASE("wrong types and values are errors with line and column", "[unit][config]")
{
    CHECK(error_of("[process]\nancestors = \"yes\"\n") ==
          "test.toml:2:13: process.ancestors must be a boolean, not a string");
    CHECK(error_of("[process]\ncache_size = 3\n") == "test.toml:2:14: process.cache_size must be between 64 and 4000000, not 3");
    CHECK(error_of("[output]\nstdout = \"xml\"\n") ==
          "test.toml:2:10: output.stdout must be one of \"none\", \"compact\", \"json\", not \"xml\"");
    CHECK(error_of("[plugins.x]\nlibrary = 5\n") == "test.toml:2:11: plugins.x.library must be a string, not an integer");
    CHECK(error_of("[plugins.x]\nlibrary = \"a.so\"\non_error = \"ignore\"\n") ==
          "test.toml:3:12: plugins.x.on_error must be one of \"fail\", \"skip\", not \"ignore\"");
    CHECK(error_of("[plugins.x]\nenabled = true\n") == "test.toml:1:1: plugins.x.library is required");
    CHECK(error_of("[plugins.Bad]\nlibrary = \"a.so\"\n") ==
          "test.toml:1:10: plugin id \"Bad\" must be 1-32 characters of a-z, 0-9, _ and -");
    CHECK(error_of("agent = 3\n") == "test.toml:1:9: agent must be a table");
    CHECK(error_of("[export.allow]\nbinary_regex = \"(\"\n").starts_with(
        "test.toml:2:16: binary_regex is not a valid regular expression"));
}

TEST_CASE("TOML syntax errors name the place", "[unit][config]")
{
    std::string e = error_of("[agent\nlog_level = 1\n");
    CHECK(e.starts_with("test.toml:1:"));
}

TEST_CASE("a missing config file is a clear error", "[unit][config]")
{
    auto cfg = vigil::load_config_file("/nonexistent/vigil.toml");
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().message() == "cannot read config /nonexistent/vigil.toml: No such file or directory");
}

TEST_CASE("a config file others can write is refused", "[unit][config]")
{
    auto path = std::filesystem::temp_directory_path() / "vigil-config-writable.toml";
    std::filesystem::remove(path); // a file left by an earlier run would keep its owner
    { std::ofstream(path) << vigil::embedded_default_config(); }
    ::chmod(path.c_str(), 0664);
    auto cfg = vigil::load_config_file(path);
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().message() == "config " + path.string() +
                                       ": writable by group or others (mode 664); refusing to read it (chmod go-w, "
                                       "and chown root, fix that)");
    ::chmod(path.c_str(), 0644);
    CHECK(vigil::load_config_file(path));
    if (::geteuid() == 0) {
        REQUIRE(::chown(path.c_str(), 65534, 65534) == 0);
        cfg = vigil::load_config_file(path);
        REQUIRE_FALSE(cfg);
        CHECK(cfg.error().message().find("owned by uid 65534, not by root") != std::string::npos);
    }
}

TEST_CASE("a plugin's sha256 pin is 64 hex digits, kept in lower case", "[unit][config]")
{
    std::string upper(64, 'A');
    auto cfg = parse_config("[plugins.x]\nlibrary = \"x.so\"\nsha256 = \"" + upper + "\"\n", "test.toml");
    REQUIRE(cfg);
    CHECK(cfg->plugins[0].sha256 == std::string(64, 'a'));
    CHECK(error_of("[plugins.x]\nlibrary = \"x.so\"\nsha256 = \"abc\"\n") ==
          "test.toml:3:10: plugins.x.sha256 must be 64 hexadecimal digits (as sha256sum prints them)");
    CHECK(error_of("[plugins.x]\nlibrary = \"x.so\"\nsha256 = \"" + std::string(64, 'g') + "\"\n").starts_with(
        "test.toml:3:10: plugins.x.sha256 must be"));
}

TEST_CASE("plugin library paths stay inside the plugin directory", "[unit][config]")
{
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / "vigil-config-test";
    fs::create_directories(dir / "sub");
    fs::create_directories(dir.parent_path() / "vigil-config-outside");
    std::error_code ec;
    fs::remove(dir / "escape", ec);
    fs::create_directory_symlink(dir.parent_path() / "vigil-config-outside", dir / "escape");

    vigil::PluginConfig p;
    p.id = "x";
    p.where = "t.toml:1:1";

    p.library = "libx.so";
    auto r = vigil::resolve_plugin_library(p, dir);
    REQUIRE(r);
    CHECK(*r == dir / "libx.so");

    p.library = "sub/libx.so";
    REQUIRE(vigil::resolve_plugin_library(p, dir));

    p.library = "../libx.so";
    r = vigil::resolve_plugin_library(p, dir);
    REQUIRE_FALSE(r);
    CHECK(r.error().message() ==
          "t.toml:1:1: plugins.x.library \"../libx.so\" leaves the plugin directory (\"..\" is refused)");

    p.library = "escape/libx.so";
    r = vigil::resolve_plugin_library(p, dir);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("outside the plugin directory") != std::string::npos);

    p.library = "/opt/libx.so";
    r = vigil::resolve_plugin_library(p, dir);
    REQUIRE(r);
    CHECK(*r == "/opt/libx.so");
}

TEST_CASE("output queue, export file mode and group, and the security file", "[unit][config]")
{
    auto cfg = parse_config("[output]\nqueue_kb = 256\n"
                            "[export.file]\npath = \"/var/log/vigil/events.json\"\nmode = \"0640\"\ngroup = \"adm\"\n"
                            "[export.security_file]\npath = \"/var/log/vigil/security.json\"\nmax_files = 20\n",
                            "test.toml");
    REQUIRE(cfg);
    CHECK(cfg->output_queue_kb == 256);
    CHECK(cfg->export_file.mode == 0640);
    CHECK(cfg->export_file.group == "adm");
    CHECK(cfg->export_security_file.path == "/var/log/vigil/security.json");
    CHECK(cfg->export_security_file.max_files == 20);
    CHECK(cfg->export_security_file.mode == 0600);
    CHECK(cfg->export_security_file.kinds == vigil::security_event_kinds());

    auto defaults = parse_config("", "test.toml");
    REQUIRE(defaults);
    CHECK(defaults->export_security_file.path.empty());
    CHECK(defaults->export_security_file.kinds == vigil::security_event_kinds());

    CHECK(error_of("[export.file]\nmode = \"0644\"\n") ==
          "test.toml:2:8: export.file.mode must be one of \"0600\", \"0640\", not \"0644\"");
    CHECK(error_of("[export.file]\ngroup = \"adm\"\n") ==
          "test.toml:2:9: export.file.group gives read access only with mode = \"0640\"");
    CHECK(error_of("[export.file]\nkinds = [\"process_exec\"]\n") == "test.toml:2:1: unknown key export.file.kinds");
    CHECK(error_of("[output]\nqueue_kb = 1\n") == "test.toml:2:12: output.queue_kb must be between 64 and 1048576, not 1");
}

TEST_CASE("[agent.node_labels]: the labels nodeSelector is matched against", "[unit][config][workloads]")
{
    auto cfg = parse_config("[agent.node_labels]\nzone = \"a\"\n\"kubernetes.io/arch\" = \"amd64\"\n", "test.toml");
    REQUIRE(cfg);
    using L = std::vector<std::pair<std::string, std::string>>;
    CHECK(cfg->node_labels == L{{"kubernetes.io/arch", "amd64"}, {"zone", "a"}});
    CHECK(error_of("[agent.node_labels]\nzone = 1\n") == "test.toml:2:8: agent.node_labels.zone must be a string, not an integer");
    CHECK(error_of("[agent]\nnode_labels = [\"a\"]\n") == "test.toml:2:15: agent.node_labels must be a table");
}

TEST_CASE("export filters by workload: pod_regex, labels, container_id", "[unit][config][workloads]")
{
    auto cfg = parse_config("[export.allow]\npod_regex = [\"^cart-\"]\nlabels = [\"app=cart,tier in (a,b)\"]\n"
                            "[export.deny]\ncontainer_id = [\"^551e\"]\n",
                            "test.toml");
    REQUIRE(cfg);
    CHECK(cfg->export_allow.pod_regex == std::vector<std::string>{"^cart-"});
    CHECK(cfg->export_allow.labels == std::vector<std::string>{"app=cart,tier in (a,b)"});
    CHECK(cfg->export_deny.container_id == std::vector<std::string>{"^551e"});
    CHECK(error_of("[export.allow]\nlabels = [\"app in a\"]\n") ==
          "test.toml:2:10: labels: label selector \"app in a\": \"app in a\": the values of in / notin go in "
          "parentheses: key in (a,b)");
    CHECK(error_of("[export.deny]\npod_regex = [\"(x\"]\n")
              .starts_with("test.toml:2:13: pod_regex \"(x\" is not a valid regular expression"));
}

namespace {

// A config directory of its own: vigild.toml plus conf.d/, removed at the end.
struct ConfigDir {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("vigil-confd-test-" + std::to_string(::getpid()));
    ConfigDir()
    {
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir / "conf.d");
    }
    ~ConfigDir() { std::filesystem::remove_all(dir); }
    std::filesystem::path write(const std::string& name, std::string_view text) const
    {
        auto path = dir / name;
        std::ofstream(path) << text;
        ::chmod(path.c_str(), 0644);
        return path;
    }
};

constexpr std::string_view main_with_include = R"([agent]
include_dir = "conf.d"

[plugins.tracepoint]
library = "libvigil_tracepoint.so"
)";

} // namespace

TEST_CASE("include_dir files are merged in name order", "[unit][config]")
{
    ConfigDir d;
    auto main = d.write("vigild.toml", main_with_include);
    d.write("conf.d/20-second.toml", "[plugins.second]\nlibrary = \"/opt/second.so\"\n");
    d.write("conf.d/10-first.toml",
            "[plugins.first]\nlibrary = \"first.so\"\n[plugins.tracepoint.config]\nlabel = \"x\"\n");
    d.write("conf.d/README", "not toml, not read");
    auto cfg = vigil::load_config_file(main);
    REQUIRE(cfg);
    CHECK(cfg->include_dir == "conf.d");
    REQUIRE(cfg->plugins.size() == 3);
    CHECK(cfg->plugins[0].id == "tracepoint");
    CHECK(cfg->plugins[0].config.at("label").str_value == "x");
    CHECK(cfg->plugins[1].id == "first");
    CHECK(cfg->plugins[2].id == "second");
    CHECK(cfg->plugins[2].library == "/opt/second.so");
    CHECK(cfg->plugins[2].where == (d.dir / "conf.d/20-second.toml").string() + ":1:1");
}

TEST_CASE("a key set twice across include_dir files is an error naming both", "[unit][config]")
{
    ConfigDir d;
    auto main = d.write("vigild.toml", main_with_include);
    auto a = d.write("conf.d/10-a.toml", "[output]\nstdout = \"none\"\n");
    auto b = d.write("conf.d/20-b.toml", "# b\n[output]\nstdout = \"json\"\n");
    auto cfg = vigil::load_config_file(main);
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().message() == b.string() + ":3:1: output.stdout is already set at " + a.string() + ":2:1");

    std::filesystem::remove(b);
    d.write("conf.d/30-c.toml", "[plugins.tracepoint]\nlibrary = \"other.so\"\n");
    cfg = vigil::load_config_file(main);
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().message() == (d.dir / "conf.d/30-c.toml").string() +
                                       ":2:1: plugins.tracepoint.library is already set at " + main.string() + ":5:1");
}

TEST_CASE("include_dir errors name the file and the directory", "[unit][config]")
{
    ConfigDir d;
    auto main = d.write("vigild.toml", main_with_include);
    auto bad = d.write("conf.d/10-bad.toml", "[agent]\nlog_levle = \"debug\"\n");
    auto cfg = vigil::load_config_file(main);
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().message() == bad.string() + ":2:1: unknown key agent.log_levle");

    std::filesystem::remove(bad);
    auto writable = d.write("conf.d/10-writable.toml", "[output]\nstdout = \"none\"\n");
    ::chmod(writable.c_str(), 0666);
    cfg = vigil::load_config_file(main);
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().message().starts_with("config " + writable.string() + ": writable by group or others"));

    std::filesystem::remove_all(d.dir / "conf.d");
    cfg = vigil::load_config_file(main);
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().message().find((d.dir / "conf.d").string()) != std::string::npos);

    CHECK(error_of("[agent]\ninclude_dir = \"conf.d\"\n") ==
          "test.toml:2:15: agent.include_dir is only read from a config file");
}
