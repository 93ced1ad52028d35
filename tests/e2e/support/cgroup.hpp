// A cgroup v2 directory of a test's own, removed (once empty) when the test ends.
#pragma once

#include "process/procfs.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace vigil::e2e {

class TempCgroup {
public:
    // `stem`-<pid> under the host's cgroup2 mount (/sys/fs/cgroup/unified on a hybrid host).
    explicit TempCgroup(const std::string& stem)
        : name_(fmt::format("{}-{}", stem, ::getpid())), path_(procfs::host_read_options().cgroup_root / name_)
    {
        REQUIRE(::mkdir(path_.c_str(), 0755) == 0);
    }
    ~TempCgroup() { ::rmdir(path_.c_str()); }
    TempCgroup(const TempCgroup&) = delete;
    TempCgroup& operator=(const TempCgroup&) = delete;

    // The path events name it by: "/" + its name.
    std::string event_path() const { return "/" + name_; }
    const std::filesystem::path& path() const { return path_; }

private:
    std::string name_;
    std::filesystem::path path_;
};

} // namespace vigil::e2e
