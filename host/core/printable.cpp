#include "core/printable.hpp"

namespace vigil {

namespace {

// The length of the bidi control (or U+2028/U+2029, line and paragraph separators) starting at
// s[i], or 0.
size_t bidi_control_at(std::string_view s, size_t i)
{
    auto at = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
    if (at(0) == 0xd8 && at(1) == 0x9c) // U+061C arabic letter mark
        return 2;
    if (at(0) != 0xe2)
        return 0;
    unsigned b1 = at(1), b2 = at(2);
    if (b1 == 0x80 && (b2 == 0x8e || b2 == 0x8f || (b2 >= 0xa8 && b2 <= 0xae))) // U+200E-F, U+2028-E
        return 3;
    if (b1 == 0x81 && b2 >= 0xa6 && b2 <= 0xa9) // U+2066-U+2069
        return 3;
    return 0;
}

} // namespace

void append_printable(std::string& out, std::string_view s)
{
    static constexpr char hex[] = "0123456789abcdef";
    auto escape = [&](unsigned char c) {
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 15];
    };
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\r')
            out += "\\r";
        else if (c < 0x20 || c == 0x7f)
            escape(c);
        else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                 static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
            escape(c);
            escape(static_cast<unsigned char>(s[++i]));
        } else if (size_t n = bidi_control_at(s, i)) {
            for (size_t k = 0; k < n; ++k)
                escape(static_cast<unsigned char>(s[i + k]));
            i += n - 1;
        } else
            out += static_cast<char>(c);
    }
}

} // namespace vigil
