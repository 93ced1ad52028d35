#include "api/json_value.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

namespace vigil::api {

namespace {

// libjq frees nested values recursively; bound the depth so a hostile request cannot overflow
// the stack. Counts brackets outside strings.
bool too_deep(std::string_view text, int max)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"')
            in_string = true;
        else if (c == '[' || c == '{') {
            if (++depth > max)
                return true;
        } else if (c == ']' || c == '}')
            --depth;
    }
    return false;
}

// A strict JSON syntax check that builds nothing. libjq 1.6 leaks a string on some malformed
// input (a key without its ':', a value followed by junk; found by fuzz/api_frames) and takes
// "[1\0]" for [1], so only text without NUL bytes that passes this check reaches jv_parse_sized.
class SyntaxCheck : public nlohmann::json_sax<nlohmann::json> {
public:
    std::string error;

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception& e) override
    {
        // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 7: ...".
        std::string_view w = e.what();
        auto at = w.find("] ");
        error = at == std::string_view::npos ? fmt::format("invalid JSON at byte {}", pos)
                                             : std::string(w.substr(at + 2));
        return false;
    }
};

} // namespace

Result<JsonValue> JsonValue::parse(std::string_view text)
{
    if (text.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
        return fail(Errc::invalid_input, "JSON text of {} bytes is too long", text.size());
    if (too_deep(text, max_depth))
        return fail(Errc::invalid_input, "JSON nested deeper than {} levels", max_depth);
    // JSON has no place for a raw NUL byte, and the check below stops reading at one.
    if (auto nul = text.find('\0'); nul != std::string_view::npos)
        return fail(Errc::invalid_input, "a NUL byte at byte {} (JSON has none outside escapes)", nul);
    SyntaxCheck check;
    if (!nlohmann::json::sax_parse(text.begin(), text.end(), &check))
        return fail(Errc::invalid_input, "{}", check.error.empty() ? std::string("not JSON") : check.error);
    jv v = jv_parse_sized(text.data(), static_cast<int>(text.size()));
    if (jv_is_valid(v))
        return JsonValue(v);
    jv msg = jv_invalid_get_msg(v);
    std::string m = jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "not JSON";
    jv_free(msg);
    return fail(Errc::invalid_input, "{}", m);
}

std::string_view JsonValue::kind_name() const
{
    if (!present())
        return "absent";
    switch (jv_get_kind(v_)) {
    case JV_KIND_TRUE:
    case JV_KIND_FALSE: return "a boolean";
    case JV_KIND_NULL: return "null";
    case JV_KIND_NUMBER: return "a number";
    case JV_KIND_STRING: return "a string";
    case JV_KIND_ARRAY: return "an array";
    case JV_KIND_OBJECT: return "an object";
    default: return "absent";
    }
}

JsonValue JsonValue::get(std::string_view key) const
{
    if (!is_object())
        return {};
    jv r = jv_object_get(jv_copy(v_), jv_string_sized(key.data(), static_cast<int>(key.size())));
    return JsonValue(r);
}

JsonValue JsonValue::at(size_t i) const
{
    if (!is_array() || i >= size())
        return {};
    return JsonValue(jv_array_get(jv_copy(v_), static_cast<int>(i)));
}

size_t JsonValue::size() const
{
    if (is_array())
        return static_cast<size_t>(jv_array_length(jv_copy(v_)));
    if (is_object())
        return static_cast<size_t>(jv_object_length(jv_copy(v_)));
    return 0;
}

std::optional<std::string_view> JsonValue::string() const
{
    if (!is_string())
        return std::nullopt;
    return std::string_view(jv_string_value(v_), static_cast<size_t>(jv_string_length_bytes(jv_copy(v_))));
}

std::optional<double> JsonValue::number() const
{
    if (!is_number())
        return std::nullopt;
    return jv_number_value(v_);
}

std::optional<int64_t> JsonValue::integer(int64_t min, int64_t max) const
{
    auto n = number();
    if (!n || std::trunc(*n) != *n || *n < static_cast<double>(min) || *n > static_cast<double>(max))
        return std::nullopt;
    return static_cast<int64_t>(*n);
}

std::optional<bool> JsonValue::boolean() const
{
    if (!is_bool())
        return std::nullopt;
    return is_true();
}

std::vector<std::pair<std::string, JsonValue>> JsonValue::members() const
{
    std::vector<std::pair<std::string, JsonValue>> out;
    if (!is_object())
        return out;
    for (int i = jv_object_iter(v_); jv_object_iter_valid(v_, i); i = jv_object_iter_next(v_, i)) {
        jv k = jv_object_iter_key(v_, i);
        out.emplace_back(jv_string_value(k), JsonValue(jv_object_iter_value(v_, i)));
        jv_free(k);
    }
    return out;
}

std::string JsonValue::dump() const
{
    if (!present())
        return "null";
    jv s = jv_dump_string(jv_copy(v_), 0);
    std::string out(jv_string_value(s), static_cast<size_t>(jv_string_length_bytes(jv_copy(s))));
    jv_free(s);
    return out;
}

} // namespace vigil::api
