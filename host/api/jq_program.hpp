// A jq filter expression compiled once (libjq) and run on each event of a subscription.
// Only a first output of literal `true` lets an event through.
#pragma once

#include "api/json_value.hpp"
#include "core/error.hpp"

#include <memory>
#include <string>
#include <string_view>

struct jq_state;

namespace vigil::api {

class JqProgram {
public:
    // Compiles `expr`; the error carries jq's own messages.
    [[nodiscard]] static Result<std::unique_ptr<JqProgram>> make(std::string_view expr);
    ~JqProgram();
    JqProgram(const JqProgram&) = delete;
    JqProgram& operator=(const JqProgram&) = delete;

    // True when the program's first output for `input` is `true`. A run-time error (e.g.
    // indexing a string) is false and counted in errors().
    bool matches(const JsonValue& input);
    uint64_t errors() const { return errors_; }
    const std::string& expression() const { return expr_; }

private:
    JqProgram() = default;
    static void on_error(void* self, jv msg);

    jq_state* jq_ = nullptr;
    std::string expr_;
    std::string messages_; // compile errors collected by on_error
    uint64_t errors_ = 0;
};

} // namespace vigil::api
