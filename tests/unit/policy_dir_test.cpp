#include "policy_host/dir_watcher.hpp"
#include "policy/policy.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace fs = std::filesystem;

namespace {

std::string policy_yaml(const std::string& name, const std::string& event = "sys_enter_openat")
{
    return "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: " + name +
           "\nspec:\n  tracepoints:\n  - subsystem: syscalls\n    event: " + event + "\n";
}

void write(const fs::path& p, const std::string& text)
{
    std::ofstream(p) << text;
    ::chmod(p.c_str(), 0644);
}

// The watcher with the real policy parser in front of a set standing for the loaded policies.
struct Fixture {
    fs::path dir = fs::temp_directory_path() / ("vigil-policy-dir-test-" + std::to_string(::getpid()));
    boost::asio::io_context io;
    std::set<std::string> loaded;
    std::map<std::string, std::string> events; // policy name -> its tracepoint event
    std::unique_ptr<vigil::PolicyDirWatcher> watcher;

    Fixture()
    {
        fs::remove_all(dir);
        fs::create_directories(dir);
        ::chmod(dir.c_str(), 0755);
        vigil::PolicyDirActions actions{
            .add = [this](const fs::path& file, std::string_view text) -> vigil::Result<std::string> {
                auto p = vigil::policy::parse_policy(text, file.string());
                if (!p)
                    return std::unexpected(p.error());
                if (!loaded.insert(p->name).second)
                    return vigil::fail(vigil::Errc::conflict, "{} already loaded", p->name);
                events[p->name] = p->spec.tracepoints.at(0).event;
                return p->name;
            },
            .check = [](const fs::path& file, std::string_view text) -> vigil::Result<void> {
                auto p = vigil::policy::parse_policy(text, file.string());
                if (!p)
                    return std::unexpected(p.error());
                return {};
            },
            .remove = [this](const std::string& name) -> vigil::Result<void> {
                loaded.erase(name);
                events.erase(name);
                return {};
            },
        };
        auto w = vigil::PolicyDirWatcher::make(io, dir, std::move(actions), std::chrono::milliseconds(50));
        REQUIRE(w);
        watcher = std::move(*w);
    }
    ~Fixture() { fs::remove_all(dir); }

    // Runs the io_context until the watcher has rescanned after the change just made.
    void settle()
    {
        uint64_t before = watcher->scans();
        for (int i = 0; i < 40 && watcher->scans() == before; ++i)
            io.run_for(std::chrono::milliseconds(50));
        REQUIRE(watcher->scans() > before);
        io.run_for(std::chrono::milliseconds(100)); // a later event of the same change
    }
};

} // namespace

TEST_CASE("policy_dir: files added, changed and deleted are applied without a restart", "[unit][policy_dir]")
{
    Fixture f;
    write(f.dir / "a.yaml", policy_yaml("alpha"));
    write(f.dir / "notes.txt", "not a policy");
    f.watcher->scan();
    CHECK(f.loaded == std::set<std::string>{"alpha"});

    write(f.dir / "b.yml", policy_yaml("beta"));
    f.settle();
    CHECK(f.loaded == std::set<std::string>{"alpha", "beta"});

    write(f.dir / "a.yaml", policy_yaml("alpha", "sys_enter_openat2"));
    f.settle();
    CHECK(f.loaded == std::set<std::string>{"alpha", "beta"});
    CHECK(f.events["alpha"] == "sys_enter_openat2");

    // a broken change is reported and the running version stays
    write(f.dir / "b.yml", "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata: [\n");
    f.settle();
    CHECK(f.loaded == std::set<std::string>{"alpha", "beta"});

    fs::remove(f.dir / "a.yaml");
    f.settle();
    CHECK(f.loaded == std::set<std::string>{"beta"});

    // fixed again: replaced by the new content
    write(f.dir / "b.yml", policy_yaml("gamma"));
    f.settle();
    CHECK(f.loaded == std::set<std::string>{"gamma"});
}

TEST_CASE("policy_dir: a ConfigMap update (symlinks swapped through ..data) is applied", "[unit][policy_dir]")
{
    Fixture f;
    // The kubelet's layout: the files are symlinks into ..data, a symlink to a timestamped
    // directory; an update writes a new directory and renames a new ..data over the old one.
    fs::create_directories(f.dir / "..v1");
    write(f.dir / "..v1/watch.yaml", policy_yaml("cm-policy"));
    fs::create_directory_symlink("..v1", f.dir / "..data");
    fs::create_symlink("..data/watch.yaml", f.dir / "watch.yaml");
    f.watcher->scan();
    CHECK(f.loaded == std::set<std::string>{"cm-policy"});

    fs::create_directories(f.dir / "..v2");
    write(f.dir / "..v2/watch.yaml", policy_yaml("cm-policy", "sys_enter_execve"));
    fs::create_directory_symlink("..v2", f.dir / "..data_tmp");
    fs::rename(f.dir / "..data_tmp", f.dir / "..data");
    fs::remove_all(f.dir / "..v1");
    f.settle();
    CHECK(f.loaded == std::set<std::string>{"cm-policy"});
    CHECK(f.events["cm-policy"] == "sys_enter_execve");
}
