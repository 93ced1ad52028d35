// A JSON writer that formats straight into one growing buffer: no DOM, no allocation per value
// once the buffer has grown. Used by plugins for event bodies and by the host for whole events.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::sdk {

class JsonWriter {
public:
    void clear() { buf_.clear(); first_ = true; }
    const std::string& str() const { return buf_; }
    std::string& buffer() { return buf_; }

    JsonWriter& begin_object() { sep(); buf_ += '{'; first_ = true; return *this; }
    JsonWriter& end_object() { buf_ += '}'; first_ = false; return *this; }
    JsonWriter& begin_array() { sep(); buf_ += '['; first_ = true; return *this; }
    JsonWriter& end_array() { buf_ += ']'; first_ = false; return *this; }

    // A member name; the next value call writes its value.
    JsonWriter& key(std::string_view k)
    {
        sep();
        quoted(k);
        buf_ += ':';
        first_ = true;
        return *this;
    }
    JsonWriter& value(std::string_view s) { sep(); quoted(s); return *this; }
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(bool b) { sep(); buf_ += b ? "true" : "false"; return *this; }
    JsonWriter& value(int64_t v) { sep(); number(v); return *this; }
    JsonWriter& value(uint64_t v) { sep(); number(v); return *this; }
    JsonWriter& value(int32_t v) { return value(static_cast<int64_t>(v)); }
    JsonWriter& value(uint32_t v) { return value(static_cast<uint64_t>(v)); }
    JsonWriter& null() { sep(); buf_ += "null"; return *this; }
    // Already-serialised JSON members or value, inserted as is.
    JsonWriter& raw(std::string_view json) { sep(); buf_ += json; return *this; }
    JsonWriter& raw_members(std::string_view members)
    {
        if (members.empty())
            return *this;
        sep();
        buf_ += members;
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
        static constexpr char hex[] = "0123456789abcdef";
        size_t i = 0;
        while (i < s.size()) {
            unsigned char c = static_cast<unsigned char>(s[i]);
            if (c == '"' || c == '\\') {
                out += '\\';
                out += static_cast<char>(c);
                ++i;
            } else if (c < 0x20) {
                switch (c) {
                case '\n': out += "\\n"; break;
                case '\t': out += "\\t"; break;
                case '\r': out += "\\r"; break;
                default:
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                }
                ++i;
            } else if (c < 0x80) {
                out += static_cast<char>(c);
                ++i;
            } else {
                size_t n = utf8_sequence_length(s, i);
                if (n == 0) {
                    out += "\xEF\xBF\xBD";
                    ++i;
                } else {
                    out.append(s.data() + i, n);
                    i += n;
                }
            }
        }
    }

private:
    void sep()
    {
        if (!first_)
            buf_ += ',';
        first_ = false;
    }
    void quoted(std::string_view s)
    {
        buf_ += '"';
        escape_into(buf_, s);
        buf_ += '"';
    }
    template <class N>
    void number(N v)
    {
        char tmp[24];
        auto [p, ec] = std::to_chars(tmp, tmp + sizeof tmp, v);
        buf_.append(tmp, p);
    }
    std::string buf_;
    bool first_ = true;
};

} // namespace vigil::sdk
