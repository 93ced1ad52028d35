// Strict reading of YAML into typed values, with errors that say where (source:line:column),
// what (the field path, e.g. spec.kprobes[0].selectors[1].matchArgs[0]) and why.
// Internal to the policy library: the parser is its only user.
#pragma once

#include "core/error.hpp"
#include "policy/enums.hpp"
#include "policy/model.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::policy::detail {

[[nodiscard]] SourceLoc loc_of(const YAML::Mark& mark);
[[nodiscard]] SourceLoc loc_of(const YAML::Node& node);

// Collects every problem found in one policy, then turns them into one Error.
class Diagnostics {
public:
    explicit Diagnostics(std::string_view source) : source_(source) {}

    void error(SourceLoc loc, std::string_view path, std::string message)
    {
        add(Errc::invalid_input, loc, path, std::move(message));
    }
    // Valid in the format, but something vigil does not do.
    void unsupported(SourceLoc loc, std::string_view path, std::string_view what)
    {
        add(Errc::unsupported, loc, path, fmt::format("not supported by vigil: {}", what));
    }
    void add(Errc code, SourceLoc loc, std::string_view path, std::string message);
    // Accepted (Tetragon accepts it), but ignored or changed: said once when the policy loads.
    void warning(SourceLoc loc, std::string_view path, std::string message);
    [[nodiscard]] std::vector<std::string> take_warnings() { return std::move(warnings_); }

    [[nodiscard]] bool empty() const { return entries_.empty(); }
    [[nodiscard]] size_t size() const { return entries_.size(); }
    // Errors sorted by position, one per line. Errc::unsupported when every error is an
    // unsupported feature, Errc::invalid_input otherwise.
    [[nodiscard]] Error to_error() const;

    [[nodiscard]] const std::string& source() const { return source_; }

private:
    struct Entry {
        Errc code;
        SourceLoc loc;
        std::string text;
    };
    std::string located(SourceLoc loc, std::string_view path, std::string_view message) const;

    std::string source_;
    std::vector<Entry> entries_;
    std::vector<std::string> warnings_;
};

// A value in the document and the path that names it.
struct Field {
    YAML::Node node;
    std::string path;
    SourceLoc loc;  // of the value (of the key when the value is empty)
};

// Reads one mapping. Every key must be asked for with take()/take_required()/reject(); finish()
// reports the rest as unknown fields, with a suggestion when a known name is close.
class MapReader {
public:
    MapReader(Diagnostics& diag, const Field& field);

    [[nodiscard]] bool valid() const { return valid_; }
    [[nodiscard]] const Field& field() const { return field_; }

    // The value of `key`; nullopt when absent or null.
    [[nodiscard]] std::optional<Field> take(std::string_view key);
    // As take(), reporting `missing required field` when absent or null.
    [[nodiscard]] std::optional<Field> take_required(std::string_view key);
    // Whether the key is present (with any value, null included), without consuming it.
    [[nodiscard]] bool has(std::string_view key) const;
    // A field of the format that vigil does not implement: an Errc::unsupported error when present.
    void reject_unsupported(std::string_view key, std::string_view why);
    // Accepted and deliberately ignored (server-set metadata and the like).
    void ignore(std::string_view key);

    void finish();

private:
    struct Entry {
        std::string key;
        YAML::Node key_node;
        YAML::Node value;
        bool taken = false;
    };
    Entry* find(std::string_view key);
    const Entry* find(std::string_view key) const;

    Diagnostics& diag_;
    Field field_;
    bool valid_ = false;
    std::vector<Entry> entries_;
    std::vector<std::string> known_;
};

// What a node is, for "got ..." in messages: a quoted scalar (shortened), "a list", "a mapping".
[[nodiscard]] std::string describe(const YAML::Node& node);

[[nodiscard]] std::optional<std::string> read_string(Diagnostics& d, const Field& f);
[[nodiscard]] std::optional<bool> read_bool(Diagnostics& d, const Field& f);
[[nodiscard]] std::optional<uint32_t> read_u32(Diagnostics& d, const Field& f, uint32_t min,
                                               uint32_t max);
[[nodiscard]] std::optional<int32_t> read_i32(Diagnostics& d, const Field& f);
// Elements of a list, each with its own path ("values[2]").
[[nodiscard]] std::optional<std::vector<Field>> read_list(Diagnostics& d, const Field& f);
[[nodiscard]] std::optional<std::vector<std::string>> read_string_list(Diagnostics& d,
                                                                       const Field& f);
[[nodiscard]] std::optional<std::vector<uint32_t>> read_u32_list(Diagnostics& d, const Field& f,
                                                                 uint32_t max);
[[nodiscard]] std::optional<std::map<std::string, std::string>>
read_string_map(Diagnostics& d, const Field& f);

template <class E>
[[nodiscard]] std::optional<E> read_enum(Diagnostics& d, const Field& f)
{
    auto s = read_string(d, f);
    if (!s)
        return std::nullopt;
    if (auto e = enum_from_string<E>(*s))
        return e;
    d.error(f.loc, f.path,
            fmt::format("invalid value \"{}\" (allowed: {})", *s, allowed_names<E>()));
    return std::nullopt;
}

// A list's length against a limit: "has 6 entries, more than the limit of 5 <what>".
bool check_count(Diagnostics& d, const Field& f, size_t count, size_t limit,
                 std::string_view what);

} // namespace vigil::policy::detail
