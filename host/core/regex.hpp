// User-supplied regular expressions (API process filters, export binary_regex): RE2, whose
// matching time is linear in the input, so no pattern can stall the event loop.
#pragma once

#include "core/error.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace re2 {
class RE2;
}

namespace vigil {

class Regex {
public:
    // Compiles `pattern` (RE2 syntax: no backreferences or lookaround); the error is RE2's.
    [[nodiscard]] static Result<Regex> make(std::string_view pattern);

    // True when the pattern matches anywhere in `text`.
    bool search(std::string_view text) const;
    // Number of capture groups in the pattern.
    int groups() const;
    // Appends [begin, end) of every non-empty capture group of every non-overlapping match in
    // `text`.
    void capture_spans(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;
    const std::string& pattern() const { return pattern_; }

private:
    std::shared_ptr<const re2::RE2> re_;
    std::string pattern_;
};

} // namespace vigil
