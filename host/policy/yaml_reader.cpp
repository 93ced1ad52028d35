#include "policy/yaml_reader.hpp"

#include "policy/values.hpp"

#include <vigil/sdk/json.hpp>

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>

namespace vigil::policy::detail {

namespace {

// Past this many, the rest is counted rather than listed: a file that is not a policy at all
// should not produce a wall of text.
constexpr size_t max_listed_errors = 20;

// Edit distance, for "did you mean" on unknown fields. Case differences count as half.
size_t distance(std::string_view a, std::string_view b)
{
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        prev[j] = j * 2;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i * 2;
        for (size_t j = 1; j <= b.size(); ++j) {
            char x = a[i - 1], y = b[j - 1];
            size_t sub = 0;
            if (x != y)
                sub = (std::tolower(static_cast<unsigned char>(x)) ==
                       std::tolower(static_cast<unsigned char>(y)))
                          ? 1
                          : 2;
            cur[j] = std::min({prev[j] + 2, cur[j - 1] + 2, prev[j - 1] + sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string shorten(std::string_view s)
{
    constexpr size_t max = 40;
    if (s.size() <= max)
        return std::string(s);
    return std::string(s.substr(0, max)) + "...";
}

bool is_scalar(const YAML::Node& n)
{
    return n.IsScalar();
}

// yaml-cpp passes bytes through; policy strings end up in JSON and in the kernel's comparisons,
// so they must be text.
bool valid_utf8(std::string_view s)
{
    for (size_t i = 0, n; i < s.size(); i += n)
        if ((n = sdk::JsonWriter::utf8_sequence_length(s, i)) == 0)
            return false;
    return true;
}

} // namespace

SourceLoc loc_of(const YAML::Mark& mark)
{
    if (mark.line < 0 || mark.column < 0)
        return {};
    return {static_cast<uint32_t>(mark.line + 1), static_cast<uint32_t>(mark.column + 1)};
}

SourceLoc loc_of(const YAML::Node& node)
{
    if (!node.IsDefined())
        return {};
    return loc_of(node.Mark());
}

std::string Diagnostics::located(SourceLoc loc, std::string_view path, std::string_view message) const
{
    std::string text = source_;
    if (loc.line)
        text += fmt::format(":{}:{}", loc.line, loc.column);
    text += ": ";
    if (!path.empty()) {
        text += path;
        text += ": ";
    }
    text += message;
    return text;
}

void Diagnostics::add(Errc code, SourceLoc loc, std::string_view path, std::string message)
{
    entries_.push_back({code, loc, located(loc, path, message)});
}

void Diagnostics::warning(SourceLoc loc, std::string_view path, std::string message)
{
    warnings_.push_back(located(loc, path, message));
}

Error Diagnostics::to_error() const
{
    std::vector<const Entry*> sorted;
    sorted.reserve(entries_.size());
    for (const auto& e : entries_)
        sorted.push_back(&e);
    std::stable_sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
        if (a->loc.line != b->loc.line)
            return a->loc.line < b->loc.line;
        return a->loc.column < b->loc.column;
    });

    bool all_unsupported = !sorted.empty();
    std::string text;
    for (size_t i = 0; i < sorted.size(); ++i) {
        if (sorted[i]->code != Errc::unsupported)
            all_unsupported = false;
        if (i < max_listed_errors) {
            if (i)
                text += '\n';
            text += sorted[i]->text;
        }
    }
    if (sorted.size() > max_listed_errors)
        text += fmt::format("\n{}: {} more errors not shown", source_,
                            sorted.size() - max_listed_errors);
    return Error{all_unsupported ? Errc::unsupported : Errc::invalid_input, 0, std::move(text)};
}

std::string describe(const YAML::Node& node)
{
    switch (node.Type()) {
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Scalar: return fmt::format("\"{}\"", shorten(node.Scalar()));
    case YAML::NodeType::Null: return "nothing";
    default: return "nothing";
    }
}

MapReader::MapReader(Diagnostics& diag, const Field& field) : diag_(diag), field_(field)
{
    if (!field.node.IsMap()) {
        diag_.error(field.loc, field.path,
                    fmt::format("must be a mapping, got {}", describe(field.node)));
        return;
    }
    valid_ = true;
    // Copies: yaml-cpp's iterator hands out a temporary pair.
    for (const auto& kv : field.node) {
        YAML::Node k = kv.first;
        if (!is_scalar(k)) {
            diag_.error(loc_of(k), field.path, "field names must be strings");
            continue;
        }
        std::string key = k.Scalar();
        if (find(key)) {
            diag_.error(loc_of(k), field.path, fmt::format("duplicate field \"{}\"", key));
            continue;
        }
        entries_.push_back({std::move(key), k, kv.second, false});
    }
}

MapReader::Entry* MapReader::find(std::string_view key)
{
    for (auto& e : entries_)
        if (e.key == key)
            return &e;
    return nullptr;
}

const MapReader::Entry* MapReader::find(std::string_view key) const
{
    for (const auto& e : entries_)
        if (e.key == key)
            return &e;
    return nullptr;
}

std::optional<Field> MapReader::take(std::string_view key)
{
    known_.emplace_back(key);
    Entry* e = find(key);
    if (!e)
        return std::nullopt;
    e->taken = true;
    if (e->value.IsNull() || !e->value.IsDefined())
        return std::nullopt;
    std::string path = field_.path.empty() ? std::string(key) : field_.path + "." + e->key;
    return Field{e->value, std::move(path), loc_of(e->value)};
}

std::optional<Field> MapReader::take_required(std::string_view key)
{
    auto f = take(key);
    if (!f && valid_) {
        const Entry* e = find(key);
        SourceLoc loc = e ? loc_of(e->key_node) : field_.loc;
        diag_.error(loc, field_.path, fmt::format("missing required field \"{}\"", key));
    }
    return f;
}

bool MapReader::has(std::string_view key) const
{
    return find(key) != nullptr;
}

void MapReader::reject_unsupported(std::string_view key, std::string_view why)
{
    known_.emplace_back(key);
    Entry* e = find(key);
    if (!e)
        return;
    e->taken = true;
    std::string path = field_.path.empty() ? std::string(key) : field_.path + "." + e->key;
    diag_.unsupported(loc_of(e->key_node), path, why);
}

void MapReader::ignore(std::string_view key)
{
    known_.emplace_back(key);
    if (Entry* e = find(key))
        e->taken = true;
}

void MapReader::finish()
{
    for (const auto& e : entries_) {
        if (e.taken)
            continue;
        std::string msg = fmt::format("unknown field \"{}\"", e.key);
        // Suggest the closest known name when it is plausibly a typo.
        const std::string* best = nullptr;
        size_t best_d = std::numeric_limits<size_t>::max();
        for (const auto& k : known_) {
            size_t d = distance(e.key, k);
            if (d < best_d) {
                best_d = d;
                best = &k;
            }
        }
        if (best && best_d <= std::max<size_t>(4, e.key.size() / 2))
            msg += fmt::format(" (did you mean \"{}\"?)", *best);
        diag_.error(loc_of(e.key_node), field_.path, std::move(msg));
    }
}

std::optional<std::string> read_string(Diagnostics& d, const Field& f)
{
    if (!is_scalar(f.node)) {
        d.error(f.loc, f.path, fmt::format("must be a string, got {}", describe(f.node)));
        return std::nullopt;
    }
    if (!valid_utf8(f.node.Scalar())) {
        d.error(f.loc, f.path, "is not valid UTF-8");
        return std::nullopt;
    }
    return f.node.Scalar();
}

std::optional<bool> read_bool(Diagnostics& d, const Field& f)
{
    if (is_scalar(f.node)) {
        const std::string& s = f.node.Scalar();
        if (s == "true" || s == "True" || s == "TRUE")
            return true;
        if (s == "false" || s == "False" || s == "FALSE")
            return false;
    }
    d.error(f.loc, f.path, fmt::format("must be true or false, got {}", describe(f.node)));
    return std::nullopt;
}

std::optional<uint32_t> read_u32(Diagnostics& d, const Field& f, uint32_t min, uint32_t max)
{
    if (is_scalar(f.node)) {
        auto v = parse_integer(f.node.Scalar());
        if (v && !v->negative && v->magnitude >= min && v->magnitude <= max)
            return static_cast<uint32_t>(v->magnitude);
    }
    d.error(f.loc, f.path,
            fmt::format("must be an integer from {} to {}, got {}", min, max, describe(f.node)));
    return std::nullopt;
}

std::optional<int32_t> read_i32(Diagnostics& d, const Field& f)
{
    if (is_scalar(f.node)) {
        auto v = parse_integer(f.node.Scalar());
        if (v && integer_fits(ArgType::int32, *v))
            return static_cast<int32_t>(v->as_signed());
    }
    d.error(f.loc, f.path,
            fmt::format("must be a 32-bit signed integer, got {}", describe(f.node)));
    return std::nullopt;
}

std::optional<std::vector<Field>> read_list(Diagnostics& d, const Field& f)
{
    if (!f.node.IsSequence()) {
        d.error(f.loc, f.path, fmt::format("must be a list, got {}", describe(f.node)));
        return std::nullopt;
    }
    std::vector<Field> out;
    out.reserve(f.node.size());
    for (size_t i = 0; i < f.node.size(); ++i) {
        YAML::Node n = f.node[i];
        SourceLoc loc = loc_of(n);
        if (!loc.line)
            loc = f.loc;
        out.push_back({n, fmt::format("{}[{}]", f.path, i), loc});
    }
    return out;
}

std::optional<std::vector<std::string>> read_string_list(Diagnostics& d, const Field& f)
{
    if (!f.node.IsSequence()) {
        d.error(f.loc, f.path, fmt::format("must be a list of strings, got {}", describe(f.node)));
        return std::nullopt;
    }
    auto items = read_list(d, f);
    std::vector<std::string> out;
    bool ok = true;
    for (const auto& item : *items) {
        if (auto s = read_string(d, item))
            out.push_back(std::move(*s));
        else
            ok = false;
    }
    if (!ok)
        return std::nullopt;
    return out;
}

std::optional<std::vector<uint32_t>> read_u32_list(Diagnostics& d, const Field& f, uint32_t max)
{
    if (!f.node.IsSequence()) {
        d.error(f.loc, f.path,
                fmt::format("must be a list of integers, got {}", describe(f.node)));
        return std::nullopt;
    }
    auto items = read_list(d, f);
    std::vector<uint32_t> out;
    bool ok = true;
    for (const auto& item : *items) {
        if (auto v = read_u32(d, item, 0, max))
            out.push_back(*v);
        else
            ok = false;
    }
    if (!ok)
        return std::nullopt;
    return out;
}

std::optional<std::map<std::string, std::string>> read_string_map(Diagnostics& d,
                                                                  const Field& f)
{
    if (!f.node.IsMap()) {
        d.error(f.loc, f.path,
                fmt::format("must be a mapping of strings, got {}", describe(f.node)));
        return std::nullopt;
    }
    std::map<std::string, std::string> out;
    bool ok = true;
    for (const auto& kv : f.node) {
        YAML::Node k = kv.first;
        YAML::Node val = kv.second;
        if (!is_scalar(k)) {
            d.error(loc_of(k), f.path, "field names must be strings");
            ok = false;
            continue;
        }
        std::string key = k.Scalar();
        Field value{val, f.path + "." + key, loc_of(val)};
        std::string v;
        if (!val.IsNull()) {
            auto s = read_string(d, value);
            if (!s) {
                ok = false;
                continue;
            }
            v = std::move(*s);
        }
        if (!out.emplace(key, std::move(v)).second) {
            d.error(loc_of(k), f.path, fmt::format("duplicate field \"{}\"", key));
            ok = false;
        }
    }
    if (!ok)
        return std::nullopt;
    return out;
}

bool check_count(Diagnostics& d, const Field& f, size_t count, size_t limit,
                 std::string_view what)
{
    if (count <= limit)
        return true;
    d.error(f.loc, f.path,
            fmt::format("has {} entries; the limit is {} {}", count, limit, what));
    return false;
}

} // namespace vigil::policy::detail
