#include "api/jq_program.hpp"

extern "C" {
#include <jq.h>
}

namespace vigil::api {

void JqProgram::on_error(void* self, jv msg)
{
    auto* p = static_cast<JqProgram*>(self);
    if (jv_get_kind(msg) == JV_KIND_STRING) {
        if (!p->messages_.empty())
            p->messages_ += "; ";
        p->messages_ += jv_string_value(msg);
    }
    jv_free(msg);
}

Result<std::unique_ptr<JqProgram>> JqProgram::make(std::string_view expr)
{
    std::unique_ptr<JqProgram> p(new JqProgram());
    p->expr_ = std::string(expr);
    p->jq_ = jq_init();
    if (!p->jq_)
        return fail(Errc::internal, "jq_init failed");
    // Without our callback libjq prints errors to vigild's stderr.
    jq_set_error_cb(p->jq_, &JqProgram::on_error, p.get());
    if (!jq_compile(p->jq_, p->expr_.c_str()))
        return fail(Errc::invalid_input, "jq filter \"{}\" does not compile: {}", p->expr_,
                    p->messages_.empty() ? std::string("syntax error") : p->messages_);
    p->messages_.clear();
    return p;
}

JqProgram::~JqProgram()
{
    if (jq_)
        jq_teardown(&jq_);
}

bool JqProgram::matches(const JsonValue& input)
{
    jq_start(jq_, input.copy(), 0);
    jv out = jq_next(jq_);
    jv_kind kind = jv_get_kind(out);
    if (kind == JV_KIND_INVALID && jv_invalid_has_msg(jv_copy(out)))
        errors_++;
    jv_free(out);
    messages_.clear();
    return kind == JV_KIND_TRUE;
}

} // namespace vigil::api
