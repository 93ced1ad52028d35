// Redaction of secrets in process arguments ([[redaction]] in the config): every capture group of
// a rule's regexes that matches a process's arguments is replaced by "*****" when the process
// enters the cache, so no output, API client or exporter ever sees the secret. A rule may be
// limited to binaries matching its binary_regex.
#pragma once

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/regex.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

class Redactor {
public:
    static constexpr std::string_view mask = "*****";

    [[nodiscard]] static Result<Redactor> make(const std::vector<RedactionRuleConfig>& rules);

    bool empty() const { return rules_.empty(); }
    // Redacts `args` (NUL-separated, as the cache keeps them) of a process running `binary`. The
    // regexes see the arguments joined by spaces, as events show them.
    void apply(std::string& args, std::string_view binary) const;

private:
    struct Rule {
        std::vector<Regex> redact;
        std::optional<Regex> binary;
    };
    std::vector<Rule> rules_;
};

} // namespace vigil
