// A JSON writer that formats straight into one growing buffer: no DOM, no allocation per value
// once the buffer has grown. Used by plugins for event bodies and by the host for whole events.
//
// Every write is an inline bounds check and a copy into the buffer; only growing it is a call.
// Plain text (printable ASCII without '"' and '\') is copied a run at a time.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace vigil::sdk {

class JsonWriter {
public:
    void clear() { buf_.clear(); first_ = true; }
    // What was written so far; valid until the next write.
    std::string_view str() const { return buf_.view(); }
    // Hands the text over as a string; the writer starts again empty.
    std::string take()
    {
        std::string s(buf_.view());
        clear();
        return s;
    }

    JsonWriter& begin_object() { sep(); buf_.put('{'); first_ = true; return *this; }
    JsonWriter& end_object() { buf_.put('}'); first_ = false; return *this; }
    JsonWriter& begin_array() { sep(); buf_.put('['); first_ = true; return *this; }
    JsonWriter& end_array() { buf_.put(']'); first_ = false; return *this; }

    // A member name; the next value call writes its value.
    JsonWriter& key(std::string_view k)
    {
        sep();
        quoted(k);
        buf_.put(':');
        first_ = true;
        return *this;
    }
    JsonWriter& value(std::string_view s) { sep(); quoted(s); return *this; }
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(bool b) { sep(); buf_.put(b ? std::string_view("true") : std::string_view("false")); return *this; }
    JsonWriter& value(int64_t v) { sep(); number(v); return *this; }
    JsonWriter& value(uint64_t v) { sep(); number(v); return *this; }
    JsonWriter& value(int32_t v) { return value(static_cast<int64_t>(v)); }
    JsonWriter& value(uint32_t v) { return value(static_cast<uint64_t>(v)); }
    JsonWriter& null() { sep(); buf_.put("null"); return *this; }
    // Already-serialised JSON members or value, inserted as is.
    JsonWriter& raw(std::string_view json) { sep(); buf_.put(json); return *this; }
    JsonWriter& raw_members(std::string_view members)
    {
        if (members.empty())
            return *this;
        sep();
        buf_.put(members);
        return *this;
    }

    template <class V>
    JsonWriter& member(std::string_view k, const V& v) { key(k); return value(v); }

    // Length of the well-formed UTF-8 sequence that starts at s[i] (RFC 3629: no overlong forms,
    // no surrogates, nothing past U+10FFFF), or 0 when there is none.
    static size_t utf8_sequence_length(std::string_view s, size_t i)
    {
        auto at = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
        unsigned char c = at(0);
        if (c < 0x80)
            return 1;
        size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (n == 0 || i + n > s.size())
            return 0;
        // The second byte's range depends on the lead byte; the others are 80..BF.
        unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
        unsigned char hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
        if (at(1) < lo || at(1) > hi)
            return 0;
        for (size_t k = 2; k < n; ++k)
            if ((at(k) & 0xC0) != 0x80)
                return 0;
        return n;
    }

    // Escapes s as a JSON string body (no quotes). Invalid UTF-8 bytes become U+FFFD so the
    // output is always valid JSON whatever a process put in its arguments.
    static void escape_into(std::string& out, std::string_view s)
    {
        struct StringOut {
            std::string& s;
            void put(char c) { s += c; }
            void put(std::string_view v) { s.append(v); }
        } o{out};
        escape(o, s);
    }

private:
    // A growable byte buffer whose appends inline to a check and a copy.
    class Buffer {
    public:
        Buffer() = default;
        Buffer(const Buffer& o) { put(o.view()); }
        Buffer& operator=(const Buffer& o)
        {
            if (this != &o) {
                clear();
                put(o.view());
            }
            return *this;
        }
        Buffer(Buffer&& o) noexcept
            : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), cap_(std::exchange(o.cap_, 0))
        {
        }
        Buffer& operator=(Buffer&& o) noexcept
        {
            std::swap(data_, o.data_);
            std::swap(size_, o.size_);
            std::swap(cap_, o.cap_);
            return *this;
        }
        ~Buffer() { delete[] data_; }

        void clear() { size_ = 0; }
        std::string_view view() const { return {data_ ? data_ : "", size_}; }
        // Room for n more bytes at the end; commit() what was written there.
        char* room(size_t n)
        {
            if (cap_ - size_ < n)
                grow(n);
            return data_ + size_;
        }
        void commit(size_t n) { size_ += n; }
        void put(char c)
        {
            *room(1) = c;
            ++size_;
        }
        void put(std::string_view s)
        {
            if (s.empty())
                return;
            std::memcpy(room(s.size()), s.data(), s.size());
            size_ += s.size();
        }

    private:
        [[gnu::noinline]] void grow(size_t n)
        {
            size_t cap = cap_ ? cap_ : 256;
            while (cap - size_ < n)
                cap *= 2;
            char* d = new char[cap];
            if (size_)
                std::memcpy(d, data_, size_);
            delete[] data_;
            data_ = d;
            cap_ = cap;
        }
        char* data_ = nullptr;
        size_t size_ = 0;
        size_t cap_ = 0;
    };

    // Printable ASCII other than the two characters JSON escapes.
    static bool plain(char ch)
    {
        auto c = static_cast<unsigned char>(ch);
        return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
    }

    // How many of the n bytes at p are plain, eight at a time: a byte is not plain when its top
    // bit is set, when it is below 0x20, or when it equals '"' or '\\' (bit tricks on a word:
    // (x - 0x01..) & ~x & 0x80.. flags the zero bytes of x, exactly when x has no byte >= 0x80).
    static size_t plain_prefix(const char* p, size_t n)
    {
        constexpr uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            uint64_t x;
            std::memcpy(&x, p + i, 8);
            uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
            uint64_t special = (x & highs) | ((x - ones * 0x20) & ~x & highs) | ((q - ones) & ~q & highs) |
                               ((b - ones) & ~b & highs);
            if (special)
                break;
        }
        while (i < n && plain(p[i]))
            ++i;
        return i;
    }

    template <class Out>
    static void escape(Out& out, std::string_view s)
    {
        static constexpr char hex[] = "0123456789abcdef";
        size_t i = 0;
        while (i < s.size()) {
            // Most text needs no escaping: copy each run of plain ASCII at once.
            size_t run = i + plain_prefix(s.data() + i, s.size() - i);
            if (run > i) {
                out.put(s.substr(i, run - i));
                i = run;
                if (i == s.size())
                    break;
            }
            auto c = static_cast<unsigned char>(s[i]);
            if (c == '"' || c == '\\') {
                const char esc[2] = {'\\', static_cast<char>(c)};
                out.put(std::string_view(esc, 2));
                ++i;
            } else if (c < 0x20) {
                switch (c) {
                case '\n': out.put("\\n"); break;
                case '\t': out.put("\\t"); break;
                case '\r': out.put("\\r"); break;
                default: {
                    const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                    out.put(std::string_view(esc, 6));
                }
                }
                ++i;
            } else {
                size_t n = utf8_sequence_length(s, i);
                if (n == 0) {
                    out.put("\xEF\xBF\xBD");
                    ++i;
                } else {
                    out.put(s.substr(i, n));
                    i += n;
                }
            }
        }
    }

    void sep()
    {
        if (!first_)
            buf_.put(',');
        first_ = false;
    }
    void quoted(std::string_view s)
    {
        buf_.put('"');
        escape(buf_, s);
        buf_.put('"');
    }
    template <class N>
    void number(N v)
    {
        char* p = buf_.room(24);
        auto [end, ec] = std::to_chars(p, p + 24, v);
        buf_.commit(static_cast<size_t>(end - p));
    }
    Buffer buf_;
    bool first_ = true;
};

} // namespace vigil::sdk
