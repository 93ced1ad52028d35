#include "process/redaction.hpp"

#include <algorithm>

namespace vigil {

Result<Redactor> Redactor::make(const std::vector<RedactionRuleConfig>& rules)
{
    Redactor r;
    for (const auto& c : rules) {
        Rule rule;
        for (const auto& pattern : c.redact) {
            auto re = Regex::make(pattern);
            if (!re)
                return fail(Errc::invalid_input, "{}: redact \"{}\" is not a valid regular expression: {}", c.where,
                            pattern, re.error().message());
            if (re->groups() == 0)
                return fail(Errc::invalid_input,
                            "{}: redact \"{}\" has no capture group: put what is to be hidden in (...)", c.where,
                            pattern);
            rule.redact.push_back(std::move(*re));
        }
        if (!c.binary_regex.empty()) {
            auto re = Regex::make(c.binary_regex);
            if (!re)
                return fail(Errc::invalid_input, "{}: binary_regex \"{}\" is not a valid regular expression: {}",
                            c.where, c.binary_regex, re.error().message());
            rule.binary = std::move(*re);
        }
        r.rules_.push_back(std::move(rule));
    }
    return r;
}

void Redactor::apply(std::string& args, std::string_view binary) const
{
    if (args.empty())
        return;
    // Same length as the NUL-separated form, so the spans found apply to it as they are.
    std::string joined = args;
    std::replace(joined.begin(), joined.end(), '\0', ' ');
    std::vector<std::pair<size_t, size_t>> spans;
    for (const Rule& rule : rules_) {
        if (rule.binary && !rule.binary->search(binary))
            continue;
        for (const Regex& re : rule.redact)
            re.capture_spans(joined, spans);
    }
    if (spans.empty())
        return;
    // Overlapping spans (two rules on one secret) become one mask.
    std::sort(spans.begin(), spans.end());
    std::vector<std::pair<size_t, size_t>> merged;
    for (auto s : spans)
        if (!merged.empty() && s.first < merged.back().second)
            merged.back().second = std::max(merged.back().second, s.second);
        else
            merged.push_back(s);
    std::string out;
    size_t at = 0;
    for (auto [begin, end] : merged) {
        out.append(args, at, begin - at);
        out += mask;
        at = end;
    }
    out.append(args, at, std::string::npos);
    args = std::move(out);
}

} // namespace vigil
