#include "tracefs_format.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vigil::tracepoint {

namespace {

bool parse_uint(std::string_view s, uint32_t& out)
{
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

// "key:value;" starting at pos; returns the value.
bool take_attr(std::string_view line, std::string_view key, size_t& pos, std::string_view& value)
{
    size_t k = line.find(key, pos);
    if (k == std::string_view::npos)
        return false;
    size_t start = k + key.size();
    size_t end = line.find(';', start);
    if (end == std::string_view::npos)
        return false;
    value = line.substr(start, end - start);
    pos = end + 1;
    return true;
}

} // namespace

std::expected<Format, std::string> parse_format(std::string_view text)
{
    Format f;
    size_t line_no = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++line_no;
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
            line.remove_prefix(1);
        if (line.starts_with("name: ")) {
            f.name = std::string(line.substr(6));
        } else if (line.starts_with("ID: ")) {
            if (!parse_uint(line.substr(4), f.id))
                return std::unexpected("line " + std::to_string(line_no) + ": bad ID");
        } else if (line.starts_with("field:")) {
            size_t p = 0;
            std::string_view decl, off, size, sign;
            if (!take_attr(line, "field:", p, decl) || !take_attr(line, "offset:", p, off) ||
                !take_attr(line, "size:", p, size))
                return std::unexpected("line " + std::to_string(line_no) + ": malformed field");
            FormatField ff;
            // The declaration is "<type> <name>" or "<type> <name>[N]"; the name is the last word.
            size_t sp = decl.find_last_of(" *");
            if (sp == std::string_view::npos)
                return std::unexpected("line " + std::to_string(line_no) + ": field without a type");
            std::string_view name = decl.substr(sp + 1);
            std::string type(decl.substr(0, sp + 1));
            while (!type.empty() && type.back() == ' ')
                type.pop_back();
            if (size_t br = name.find('['); br != std::string_view::npos) {
                type += std::string(name.substr(br)); // keep "[16]" with the type
                name = name.substr(0, br);
            }
            ff.name = std::string(name);
            ff.type = type;
            if (!parse_uint(off, ff.offset) || !parse_uint(size, ff.size))
                return std::unexpected("line " + std::to_string(line_no) + ": bad offset or size");
            if (take_attr(line, "signed:", p, sign))
                ff.is_signed = sign == "1";
            f.fields.push_back(std::move(ff));
        }
    }
    if (f.fields.empty())
        return std::unexpected(std::string("no fields"));
    return f;
}

std::expected<Format, std::string> read_format(const std::string& subsystem, const std::string& event)
{
    for (const char* root : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
        std::string path = std::string(root) + "/events/" + subsystem + "/" + event + "/format";
        std::ifstream in(path);
        if (!in)
            continue;
        std::ostringstream ss;
        ss << in.rdbuf();
        auto f = parse_format(ss.str());
        if (!f)
            return std::unexpected(path + ": " + f.error());
        return f;
    }
    return std::unexpected("tracepoint " + subsystem + "/" + event +
                           " does not exist on this kernel (no format file in tracefs)");
}

} // namespace vigil::tracepoint
