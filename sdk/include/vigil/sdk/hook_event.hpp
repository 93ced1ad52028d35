// Reading a vhook_record (vigil/wire/hook_event.h), the record every policy hook program sends,
// with every length checked against the record: a malformed record is an error, never a read
// past its end. The argument views point into the record and live as long as it does.
#pragma once

#include <vigil/wire/hook_event.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <span>
#include <string>
#include <string_view>

namespace vigil::sdk {

struct HookArgView {
    uint16_t enc = VHOOK_ENC_NONE; // vhook_arg_enc
    uint16_t flags = 0;            // vhook_arg_flags
    uint32_t orig_len = 0;         // length before truncation
    std::span<const std::byte> value;

    bool failed() const { return (flags & VHOOK_ARG_ERROR) != 0 || enc == VHOOK_ENC_NONE; }
    bool truncated() const { return (flags & VHOOK_ARG_TRUNCATED) != 0; }
    bool is_int() const { return enc == VHOOK_ENC_S64 || enc == VHOOK_ENC_U64; }
    int64_t as_int() const
    {
        int64_t v = 0;
        if (value.size() >= sizeof v)
            std::memcpy(&v, value.data(), sizeof v);
        return v;
    }
    std::string_view text() const { return {reinterpret_cast<const char*>(value.data()), value.size()}; }
};

struct HookRecordView {
    vhook_record header{};
    std::array<HookArgView, VSEL_MAX_ARGS> args{};
    uint32_t nargs = 0;
};

inline std::expected<HookRecordView, std::string> parse_hook_record(std::span<const std::byte> rec)
{
    HookRecordView out;
    vhook_record& r = out.header;
    if (rec.size() < sizeof r)
        return std::unexpected("hook record of " + std::to_string(rec.size()) + " bytes is too short");
    std::memcpy(&r, rec.data(), sizeof r);
    if (r.kind != VHOOK_RECORD_KIND)
        return std::unexpected(std::string("not a hook record"));
    if (r.size > rec.size() || r.size < sizeof r)
        return std::unexpected("hook record says " + std::to_string(r.size) + " bytes, " + std::to_string(rec.size()) +
                               " arrived");
    if (r.nargs > VSEL_MAX_ARGS)
        return std::unexpected("hook record has " + std::to_string(r.nargs) + " arguments");
    size_t off = sizeof r;
    for (uint32_t i = 0; i < r.nargs; ++i) {
        vhook_arg a;
        if (off + sizeof a > r.size)
            return std::unexpected("hook record cut in argument " + std::to_string(i));
        std::memcpy(&a, rec.data() + off, sizeof a);
        off += sizeof a;
        size_t padded = (size_t(a.len) + 7) & ~size_t(7);
        if (a.len > VHOOK_ARG_MAX || off + padded > r.size)
            return std::unexpected("hook record argument " + std::to_string(i) + " overruns the record");
        out.args[i] = HookArgView{a.enc, a.flags, a.orig_len, rec.subspan(off, a.len)};
        off += padded;
    }
    out.nargs = r.nargs;
    return out;
}

} // namespace vigil::sdk
