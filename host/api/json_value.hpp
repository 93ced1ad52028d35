// A read-only JSON value for API requests, responses and subscription filters: an owning wrapper
// around libjq's `jv`, so requests, event filters and jq programs share one parser and one value
// type. Writing JSON stays with sdk::JsonWriter.
#pragma once

#include "core/error.hpp"

// jq 1.6 headers have no extern "C" of their own.
extern "C" {
#include <jv.h>
}

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::api {

class JsonValue {
public:
    JsonValue() : v_(jv_invalid()) {}
    explicit JsonValue(jv owned) : v_(owned) {}
    JsonValue(const JsonValue& o) : v_(jv_copy(o.v_)) {}
    JsonValue(JsonValue&& o) noexcept : v_(std::exchange(o.v_, jv_invalid())) {}
    JsonValue& operator=(JsonValue o) noexcept
    {
        std::swap(v_, o.v_);
        return *this;
    }
    ~JsonValue() { jv_free(v_); }

    // One JSON text; nesting deeper than max_depth is refused before libjq sees it.
    [[nodiscard]] static Result<JsonValue> parse(std::string_view text);
    static constexpr int max_depth = 64;

    // Absent: a missing member, an index out of range, or a failed parse.
    bool present() const { return jv_get_kind(v_) != JV_KIND_INVALID; }
    bool is_object() const { return jv_get_kind(v_) == JV_KIND_OBJECT; }
    bool is_array() const { return jv_get_kind(v_) == JV_KIND_ARRAY; }
    bool is_string() const { return jv_get_kind(v_) == JV_KIND_STRING; }
    bool is_number() const { return jv_get_kind(v_) == JV_KIND_NUMBER; }
    bool is_null() const { return jv_get_kind(v_) == JV_KIND_NULL; }
    bool is_true() const { return jv_get_kind(v_) == JV_KIND_TRUE; }
    bool is_bool() const { return is_true() || jv_get_kind(v_) == JV_KIND_FALSE; }
    // "object", "string", ... for error messages; "absent" when not present.
    std::string_view kind_name() const;

    // A member of an object (absent when this is not an object or has no such member).
    JsonValue get(std::string_view key) const;
    // Element `i` of an array.
    JsonValue at(size_t i) const;
    size_t size() const; // array length or object member count; 0 otherwise

    std::optional<std::string_view> string() const;
    std::optional<double> number() const;
    // A number with an integral value in [min, max].
    std::optional<int64_t> integer(int64_t min, int64_t max) const;
    std::optional<bool> boolean() const;
    std::vector<std::pair<std::string, JsonValue>> members() const;

    // Compact JSON text (ordered as parsed).
    std::string dump() const;

    const jv& raw() const { return v_; }
    jv copy() const { return jv_copy(v_); }

private:
    jv v_;
};

} // namespace vigil::api
