// tracefs events/<subsystem>/<event>/format files, as the tracepoint plugin reads them to plan
// how a policy's args are fetched: parse_format, then plan_fetch for every field and type.
#include "fuzz_util.hpp"

#include "tracefs_format.hpp"
#include "tracepoint_hooks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace vigil::tracepoint;
    if (size > 64 * 1024)
        return 0;
    auto f = parse_format(vigil::fuzz::as_text(data, size));
    if (!f) {
        vigil::fuzz::check(!f.error().empty(), "parse_format: error without a message");
        return 0;
    }
    vigil::fuzz::check(!f->fields.empty(), "a format without fields was accepted");
    static const std::string types[] = {"auto", "int", "uint64", "string", "filename", "data_loc", "sock"};
    for (const auto& field : f->fields)
        for (const auto& t : types)
            for (bool user : {false, true}) {
                auto plan = plan_fetch(field, t, user);
                if (!plan)
                    continue;
                // A fetch must stay inside the record the kernel hands the program.
                vigil::fuzz::check(plan->arg.offset == field.offset && plan->arg.size == field.size,
                                   "plan_fetch: offset or size does not fit the field", field.name);
            }
    return 0;
}
