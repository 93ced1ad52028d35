// vigil-jq-worker: runs one subscription's jq filter for vigild (see api/jq_worker.hpp).
// stdin/stdout is a socket to vigild: frames (u32 big-endian length + bytes) come in, the
// first the jq expression and each later one an event; one verdict byte goes out per event:
// '1' passes, '0' does not, 'e' a jq run-time error, 'p' not JSON. It first answers 'R' once the
// expression is compiled, so that vigild's time budget counts running, not starting up.
// argv[1]: the address-space budget in MiB. Exit status 3: out of memory.
#include "api/jq_program.hpp"

extern "C" {
#include <jq.h>
}

#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <new>
#include <string>

namespace {

bool read_all(char* p, size_t n)
{
    while (n) {
        ssize_t r = ::read(0, p, n);
        if (r <= 0)
            return false;
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

bool read_frame(std::string& out)
{
    unsigned char len[4];
    if (!read_all(reinterpret_cast<char*>(len), sizeof len))
        return false;
    out.resize(size_t{len[0]} << 24 | size_t{len[1]} << 16 | size_t{len[2]} << 8 | len[3]);
    return read_all(out.data(), out.size());
}

[[noreturn]] void out_of_memory() { ::_exit(3); }

} // namespace

int main(int argc, char** argv)
{
    if (argc != 2)
        return 2;
    char* end = nullptr;
    unsigned long mb = std::strtoul(argv[1], &end, 10);
    if (*end || mb == 0)
        return 2;
    std::set_new_handler(out_of_memory);
#ifndef __SANITIZE_ADDRESS__
    rlimit as{mb << 20, mb << 20};
    if (::setrlimit(RLIMIT_AS, &as) != 0)
        return 2;
#else
    // AddressSanitizer has reserved terabytes of address space for its shadow already: an
    // address-space limit would fail every allocation. The time budget still bounds a filter.
    (void)mb;
#endif
    // A filter needs no privilege: run as nobody when started by root.
    if (::geteuid() == 0 &&
        (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0))
        return 2;
    // After the change of user, which clears it: the worker must not outlive vigild.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);

    std::string buf;
    if (!read_frame(buf))
        return 0;
    auto prog = vigil::api::JqProgram::make(buf);
    if (!prog)
        return 4;
    if (::write(1, "R", 1) != 1)
        return 0;
    while (read_frame(buf)) {
        char verdict;
        auto doc = vigil::api::JsonValue::parse(buf);
        if (!doc) {
            verdict = 'p';
        } else {
            uint64_t before = (*prog)->errors();
            bool pass = (*prog)->matches(*doc);
            verdict = pass ? '1' : (*prog)->errors() != before ? 'e' : '0';
        }
        if (::write(1, &verdict, 1) != 1)
            return 0;
    }
    return 0;
}
