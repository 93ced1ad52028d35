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

} // namespace vigil
