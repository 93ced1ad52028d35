// The export file's state machine: a sequence of writes, flushes, SIGHUP reopens and what outside
// tools do to the file (logrotate's rename, a delete, copytruncate) against a RotatingFileSink
// with a small size limit, driven from the fuzz input. Oracles: every line offered is written or
// counted lost; every line found in a file is whole and one of ours, none twice; and when nothing
// deleted or cut a file behind the sink's back, the lines found plus those counted as rotated
// away are exactly the lines written.
#include "fuzz_util.hpp"

#include "export/sink.hpp"

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace {

namespace fs = std::filesystem;
using vigil::fuzz::check;

// One directory for the whole run, emptied before each input and removed at exit.
const fs::path& work_dir()
{
    // A plain buffer: the exit handler runs after static objects are gone.
    static char name[] = "/tmp/vigil-fuzz-sink-XXXXXX";
    static const fs::path dir = [] {
        if (!::mkdtemp(name))
            vigil::fuzz::die("mkdtemp failed");
        std::atexit([] {
            std::error_code ec;
            fs::remove_all(name, ec);
        });
        return fs::path(name);
    }();
    return dir;
}

std::string line_of(uint64_t seq, size_t filler) { return fmt::format("L{}:{}", seq, std::string(filler, 'x')); }

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace vigil;
    if (size > 4096)
        return 0;
    const fs::path& dir = work_dir();
    for (const auto& e : fs::directory_iterator(dir))
        fs::remove_all(e.path());
    fuzz::Reader in(data, size);

    FileSinkOptions o;
    o.path = (dir / "events.json").string();
    o.max_bytes = 200 + in.take<uint16_t>() % 4000;
    o.max_files = 1 + in.take<uint8_t>() % 3;
    o.queue_bytes = 1024 + in.take<uint16_t>() % 8192;
    auto sink = RotatingFileSink::make(o);
    if (!sink) {
        fuzz::check_error_message(sink.error().message(), "RotatingFileSink::make");
        return 0;
    }
    uint64_t offered = 0;
    bool destructive = false; // a file deleted or cut behind the sink's back
    unsigned moved = 0;
    while (!in.empty() && offered < 2000) {
        uint8_t op = in.take<uint8_t>();
        switch (op % 8) {
        case 0:
        case 1:
        case 2: // the common case: a line of 0..299 bytes of filler
            (*sink)->write(line_of(offered++, in.take<uint8_t>() % 300));
            break;
        case 3:
            (*sink)->flush();
            break;
        case 4:
            (*sink)->reopen();
            break;
        case 5: // logrotate: rename the file away (each to a name of its own)
            (void)::rename(o.path.c_str(), (dir / fmt::format("moved.{}", moved++)).c_str());
            break;
        case 6:
            destructive |= ::unlink(o.path.c_str()) == 0;
            break;
        case 7:
            destructive |= ::truncate(o.path.c_str(), 0) == 0;
            break;
        }
    }
    (*sink)->close(std::chrono::seconds(5));
    SinkStats s = *(*sink)->stats();
    uint64_t lost = 0;
    for (const auto& [reason, n] : s.lost)
        lost += n;
    check(s.written + lost == offered, "a line neither written nor counted lost",
          fmt::format("offered={} written={} lost={}", offered, s.written, lost));

    std::set<uint64_t> seen;
    for (const auto& e : fs::directory_iterator(dir)) {
        std::ifstream f(e.path(), std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        check(text.empty() || text.back() == '\n', "a file ends in half a line", e.path().string());
        size_t pos = 0;
        while (pos < text.size()) {
            size_t end = text.find('\n', pos);
            std::string_view l(text.data() + pos, end - pos);
            pos = end + 1;
            uint64_t seq = 0;
            size_t colon = l.find(':');
            check(l.starts_with('L') && colon != std::string_view::npos, "a line that is not ours", l);
            seq = std::stoull(std::string(l.substr(1, colon - 1)));
            check(l == line_of(seq, l.size() - colon - 1), "a line that is not whole", l);
            check(seen.insert(seq).second, "a line written twice", l);
        }
    }
    check(seen.size() <= s.written, "more lines in the files than written");
    if (!destructive)
        check(seen.size() + s.rotated_away == s.written, "rotation miscounted what it deleted",
              fmt::format("found={} rotated_away={} written={}", seen.size(), s.rotated_away, s.written));
    return 0;
}
