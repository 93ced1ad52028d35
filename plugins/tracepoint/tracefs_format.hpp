// The field list of a tracepoint, from tracefs's events/<subsystem>/<event>/format. Policy args
// of a tracepoint hook are indices into this list (common_* fields included).
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::tracepoint {

struct FormatField {
    std::string type;   // as declared: "const char *", "__data_loc char[]", "int", "char comm[16]"...
    std::string name;
    uint32_t offset = 0;
    uint32_t size = 0;
    bool is_signed = false;

    bool is_data_loc() const { return type.starts_with("__data_loc"); }
    bool is_pointer() const { return type.find('*') != std::string::npos; }
    bool is_char_array() const { return type.find('[') != std::string::npos && type.starts_with("char"); }
};

struct Format {
    std::string name;
    uint32_t id = 0;
    std::vector<FormatField> fields;
};

// Parses the text of a format file; the error says which line is wrong.
std::expected<Format, std::string> parse_format(std::string_view text);

// Reads and parses the format of subsystem/event under the tracefs mount; the error names the
// tracepoint and says whether it does not exist.
std::expected<Format, std::string> read_format(const std::string& subsystem, const std::string& event);

} // namespace vigil::tracepoint
