// Text from the watched system (binary names, arguments, policy names, error messages that quote
// input) shown to a person: on a terminal it must not forge a line, drive the terminal, or
// display in another order than it is stored.
#pragma once

#include <string>
#include <string_view>

namespace vigil {

// Appends `s` with C0 and C1 controls, DEL, the Unicode line and paragraph separators (U+2028,
// U+2029) and bidirectional controls (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069)
// written as \xNN escapes of their bytes; newline, tab and carriage return as \n, \t, \r.
void append_printable(std::string& out, std::string_view s);

inline std::string printable(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    append_printable(out, s);
    return out;
}

} // namespace vigil
