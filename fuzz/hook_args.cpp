// The argument decoders of the kprobe plugin and the socket sensor, as they meet ring bytes:
// a policy hook record cut into arguments (sdk::parse_hook_record), each argument written as
// every policy type the kprobe plugin knows and, when it holds one, as a socket argument
// (sdk::sock); and the socket sensor's own records (socket::parse_record). Whatever the bytes,
// the result is an error with a message or JSON that parses.
//
// Input: one byte that picks the decoder (even: hook record, odd: socket record), then the record.
#include "fuzz_util.hpp"

#include "kprobe/arg_types.hpp"
#include "socket/decode.hpp"

#include <string>

namespace {

using namespace vigil;

const std::string arg_types[] = {"int",  "uint32", "uint64",  "syscall64", "char_buf", "cred",
                                 "fd",   "file",   "path",    "dentry",    "string",   "sock",
                                 "skb",  "sockaddr", "nonsense"};

void hook_record(std::span<const std::byte> rec)
{
    auto r = sdk::parse_hook_record(rec);
    if (!r) {
        fuzz::check(!r.error().empty(), "parse_hook_record: error without a message");
        return;
    }
    fuzz::check(r->args.size() == r->hdr.nargs, "parse_hook_record: argument count");
    for (const auto& a : r->args) {
        fuzz::check(a.value.data() >= rec.data() && a.value.data() + a.value.size() <= rec.data() + rec.size(),
                    "argument value outside the record");
        for (const auto& type : arg_types) {
            sdk::JsonWriter j;
            kprobe::write_arg(j, type, "label \"x\"", kprobe::ArgValue{a});
            fuzz::check_json(j.str(), "kprobe::write_arg");
        }
        sdk::JsonWriter j;
        j.begin_object();
        if (auto ok = sdk::sock::write_arg(j, a.value); !ok) {
            fuzz::check(!ok.error().empty(), "sock::write_arg: error without a message");
            continue;
        }
        j.end_object();
        fuzz::check_json(j.str(), "sock::write_arg");
    }
}

void socket_record(std::span<const std::byte> rec)
{
    auto r = socket::parse_record(rec);
    if (!r) {
        fuzz::check(!r.error().empty(), "socket::parse_record: error without a message");
        return;
    }
    sdk::JsonWriter j;
    j.begin_object();
    socket::write_body(j, *r);
    j.end_object();
    fuzz::check_json(j.str(), "socket::write_body");
    (void)socket::summary(*r);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    // A copy of exactly the record's size, so a read past it is caught.
    std::vector<std::byte> rec(size - 1);
    if (size > 1)
        std::memcpy(rec.data(), data + 1, size - 1);
    if (data[0] % 2 == 0)
        hook_record(rec);
    else
        socket_record(rec);
    return 0;
}
