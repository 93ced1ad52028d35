// The plain runner every harness is also linked with: runs LLVMFuzzerTestOneInput once per file
// of the directories (or files) given, so the corpus and the crashes the fuzzer found are a
// regression test under the sanitizers without any fuzzing engine.
//   fuzz_<name>_regress DIR|FILE...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv)
{
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        fs::path p(argv[i]);
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            for (const auto& e : fs::recursive_directory_iterator(p))
                if (e.is_regular_file() && e.path().filename().string()[0] != '.')
                    files.push_back(e.path());
        } else if (fs::is_regular_file(p, ec)) {
            files.push_back(p);
        } else {
            std::fprintf(stderr, "%s: no such file or directory\n", argv[i]);
            return 2;
        }
    }
    if (files.empty()) {
        std::fprintf(stderr, "usage: %s DIR|FILE... (found no input)\n", argv[0]);
        return 2;
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        // A copy of exactly the input's size, so reading one byte past it is caught.
        std::vector<uint8_t> input(bytes.begin(), bytes.end());
        auto* data = input.empty() ? nullptr : input.data();
        std::fprintf(stderr, "running %s (%zu bytes)\n", f.c_str(), input.size());
        LLVMFuzzerTestOneInput(data, input.size());
    }
    std::printf("%zu input(s) ran\n", files.size());
    return 0;
}
