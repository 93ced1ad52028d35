// The output sinks without vigild: a pipe nobody reads, a pipe whose reader left, rotation that
// deletes the oldest file, kinds kept apart, and the files a local user could plant.
#include "export/sink.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace vigil;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct TmpDir {
    fs::path path;
    TmpDir()
    {
        char tmpl[] = "/tmp/vigil-sink-XXXXXX";
        REQUIRE(::mkdtemp(tmpl));
        path = tmpl;
        ::chmod(tmpl, 0700);
    }
    ~TmpDir() { fs::remove_all(path); }
};

size_t lines_in(const fs::path& p)
{
    std::ifstream in(p);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

uint64_t lost(const SinkStats& s, const char* reason)
{
    auto it = s.lost.find(reason);
    return it == s.lost.end() ? 0 : it->second;
}

} // namespace

TEST_CASE("a stream sink on a pipe nobody reads never blocks its caller and counts what it drops", "[unit][sink]")
{
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    auto sink = StreamSink::make(p[1], "stdout", 64 << 10);
    REQUIRE(sink);
    std::string line(200, 'x');
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 5000; ++i) { // 1 MB: the pipe and the queue hold 128 KiB
        (*sink)->write(line);
        if (i % 100 == 0)
            (*sink)->flush();
    }
    (*sink)->flush();
    CHECK(std::chrono::steady_clock::now() - t0 < 1s);
    (*sink)->close(300ms);
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);
    SinkStats s = *(*sink)->stats();
    CHECK(lost(s, "queue_full") > 0);
    CHECK(s.written + lost(s, "queue_full") + lost(s, "stop") == 5000);
    CHECK((*sink)->active());
    ::close(p[0]);
    ::close(p[1]);
}

TEST_CASE("a stream sink whose reader closed the pipe turns itself off", "[unit][sink]")
{
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    ::close(p[0]);
    auto sink = StreamSink::make(p[1], "stdout");
    REQUIRE(sink);
    (*sink)->write("one");
    (*sink)->write("two");
    (*sink)->flush();
    for (int i = 0; i < 100 && (*sink)->active(); ++i)
        std::this_thread::sleep_for(10ms);
    CHECK_FALSE((*sink)->active());
    (*sink)->close(100ms);
    SinkStats s = *(*sink)->stats();
    CHECK(s.closed);
    CHECK(lost(s, "closed") == 2);
    ::close(p[1]);
}

TEST_CASE("rotation counts the lines of the file it deletes", "[unit][sink]")
{
    TmpDir dir;
    FileSinkOptions o;
    o.path = (dir.path / "events.json").string();
    o.max_bytes = 1000;
    o.max_files = 2;
    auto sink = RotatingFileSink::make(o);
    REQUIRE(sink);
    std::string line(99, 'y'); // 100 bytes with the newline: 10 per file
    for (int i = 0; i < 95; ++i)
        (*sink)->write(line);
    (*sink)->close(2s);
    SinkStats s = *(*sink)->stats();
    CHECK(s.written == 95);
    size_t kept = lines_in(o.path) + lines_in(o.path + ".1") + lines_in(o.path + ".2");
    CHECK(kept == 25);
    CHECK(s.rotations == 9);
    CHECK(s.rotated_away == 70);
    CHECK(kept + s.rotated_away == 95);
}

TEST_CASE("rotation counts the lines of files that were there before it", "[unit][sink]")
{
    TmpDir dir;
    FileSinkOptions o;
    o.path = (dir.path / "events.json").string();
    o.max_bytes = 1000;
    o.max_files = 2;
    std::string line(99, 'y'); // 100 bytes with the newline: 10 per file
    auto put = [&](const std::string& path, int n) {
        std::ofstream f(path);
        for (int i = 0; i < n; ++i)
            f << line << '\n';
    };
    put(o.path, 3);
    put(o.path + ".1", 5);
    put(o.path + ".2", 7);
    ::chmod(o.path.c_str(), 0600);
    auto sink = RotatingFileSink::make(o);
    REQUIRE(sink);
    // 7 fill the first file; then three rotations delete the 7, the 5 and the first file's 10.
    for (int i = 0; i < 37; ++i)
        (*sink)->write(line);
    (*sink)->close(2s);
    SinkStats s = *(*sink)->stats();
    CHECK(s.written == 37);
    CHECK(s.rotations == 3);
    CHECK(s.rotated_away == 7 + 5 + 10);
    size_t kept = lines_in(o.path) + lines_in(o.path + ".1") + lines_in(o.path + ".2");
    CHECK(kept + s.rotated_away == 3 + 5 + 7 + 37);
}

TEST_CASE("a file sink takes only the kinds it is given", "[unit][sink]")
{
    TmpDir dir;
    FileSinkOptions o;
    o.path = (dir.path / "security.json").string();
    o.kinds = {"process_exec", "process_kprobe"};
    auto sink = RotatingFileSink::make(o);
    REQUIRE(sink);
    CHECK((*sink)->wants("process_exec"));
    CHECK((*sink)->wants("process_kprobe"));
    CHECK_FALSE((*sink)->wants("process_socket"));
}

TEST_CASE("export files a local user could plant are refused, naming the file and the reason", "[unit][sink]")
{
    TmpDir dir;
    FileSinkOptions o;
    o.path = (dir.path / "events.json").string();
    SECTION("a hard link to another file")
    {
        fs::path other = dir.path / "other";
        { std::ofstream(other) << "x\n"; }
        ::chmod(other.c_str(), 0600);
        fs::create_hard_link(other, o.path);
        auto sink = RotatingFileSink::make(o);
        REQUIRE_FALSE(sink);
        CHECK(sink.error().message() == o.path + ": has 2 hard links; refusing to write events into it");
    }
    SECTION("a file group members can write")
    {
        { std::ofstream(o.path) << ""; }
        ::chmod(o.path.c_str(), 0660);
        auto sink = RotatingFileSink::make(o);
        REQUIRE_FALSE(sink);
        CHECK(sink.error().message() ==
              o.path + ": writable by group or others (mode 660); refusing to write events into it");
    }
    SECTION("a directory that is a symlink")
    {
        fs::path real = dir.path / "real";
        fs::create_directory(real);
        fs::create_directory_symlink(real, dir.path / "link");
        o.path = (dir.path / "link" / "events.json").string();
        auto sink = RotatingFileSink::make(o);
        REQUIRE_FALSE(sink);
        CHECK(sink.error().message().find("not a directory (or a symbolic link)") != std::string::npos);
    }
    SECTION("mode 0640 and a group")
    {
        if (::geteuid() != 0) {
            WARN("skipped: giving the file to another group needs root");
            return;
        }
        o.mode.mode = 0640;
        o.mode.gid = 4; // adm on Debian; any existing gid does
        auto sink = RotatingFileSink::make(o);
        REQUIRE(sink);
        struct stat st {};
        REQUIRE(::stat(o.path.c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0640);
        CHECK(st.st_gid == 4);
    }
}
