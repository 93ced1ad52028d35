// Shared by the fuzz harnesses: oracles (a failed check aborts, so the fuzzer records the input
// as a crash) and a reader that cuts one fuzz input into structured pieces.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace vigil::fuzz {

[[noreturn]] inline void die(std::string_view what, std::string_view detail = {})
{
    std::fprintf(stderr, "fuzz oracle failed: %.*s\n%.*s\n", static_cast<int>(what.size()), what.data(),
                 static_cast<int>(detail.size()), detail.data());
    std::abort();
}

inline void check(bool ok, std::string_view what, std::string_view detail = {})
{
    if (!ok)
        die(what, detail);
}

// Everything vigil writes as JSON must parse as JSON (nlohmann also rejects invalid UTF-8).
inline nlohmann::json check_json(std::string_view text, std::string_view what)
{
    try {
        return nlohmann::json::parse(text);
    } catch (const std::exception& e) {
        die(std::string(what) + ": not valid JSON: " + e.what(), text.substr(0, 2000));
    }
}

// An error must say something, and must not be one of the "internal error" catch-alls that
// stand for a bug that was caught rather than for bad input.
inline void check_error_message(std::string_view msg, std::string_view what)
{
    check(!msg.empty(), std::string(what) + ": error without a message");
    check(msg.find("internal error") == std::string_view::npos, std::string(what) + ": internal error", msg);
}

// Cuts an input into pieces: fixed-width integers, then length-prefixed chunks. Reading past
// the end gives zeros and empty chunks, so every input is usable.
class Reader {
public:
    Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    bool empty() const { return pos_ >= size_; }
    size_t left() const { return size_ - pos_; }

    template <class T>
    T take()
    {
        T v{};
        size_t n = left() < sizeof v ? left() : sizeof v;
        std::memcpy(&v, data_ + pos_, n);
        pos_ += n;
        return v;
    }

    // A chunk of at most max bytes whose length is the next u16.
    std::span<const std::byte> chunk(size_t max)
    {
        size_t n = take<uint16_t>();
        if (n > max)
            n = max;
        if (n > left())
            n = left();
        auto out = std::span(reinterpret_cast<const std::byte*>(data_ + pos_), n);
        pos_ += n;
        return out;
    }

    std::span<const std::byte> rest()
    {
        auto out = std::span(reinterpret_cast<const std::byte*>(data_ + pos_), left());
        pos_ = size_;
        return out;
    }

private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

inline std::string_view as_text(const uint8_t* data, size_t size)
{
    return {reinterpret_cast<const char*>(data), size};
}

} // namespace vigil::fuzz
