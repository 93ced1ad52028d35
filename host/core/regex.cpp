#include "core/regex.hpp"

#include <re2/re2.h>

namespace vigil {

Result<Regex> Regex::make(std::string_view pattern)
{
    RE2::Options opts;
    opts.set_log_errors(false);
    // Bounds the compiled program, so a pattern like (a{1000}){1000} is refused, not built.
    opts.set_max_mem(8 << 20);
    auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), opts);
    if (!re->ok())
        return fail(Errc::invalid_input, "{}", re->error());
    Regex r;
    r.re_ = std::move(re);
    r.pattern_ = std::string(pattern);
    return r;
}

bool Regex::search(std::string_view text) const
{
    return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

int Regex::groups() const { return re_->NumberOfCapturingGroups(); }

void Regex::capture_spans(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const
{
    const int n = groups() + 1;
    std::vector<re2::StringPiece> m(static_cast<size_t>(n));
    re2::StringPiece all(text.data(), text.size());
    size_t pos = 0;
    while (pos <= text.size() && re_->Match(all, pos, text.size(), RE2::UNANCHORED, m.data(), n)) {
        for (int g = 1; g < n; ++g)
            if (m[g].data() && !m[g].empty()) {
                size_t b = static_cast<size_t>(m[g].data() - text.data());
                out.emplace_back(b, b + m[g].size());
            }
        size_t end = static_cast<size_t>(m[0].data() - text.data()) + m[0].size();
        pos = m[0].empty() ? end + 1 : end; // an empty match moves on by one
    }
}

} // namespace vigil
