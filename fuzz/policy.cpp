// TracingPolicy YAML: parse_policy, then for a policy that parses, what the policy manager does
// with it before any plugin sees it: analysis, per-hook JSON and the selector compiler, whose
// output must survive the plugin side's CompiledSelectors::parse unchanged.
#include "fuzz_util.hpp"

#include "policy/compiler.hpp"
#include "policy_hooks.hpp"

#include <vigil/sdk/selectors.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace vigil;
    if (size > 64 * 1024) // policies are small; the API refuses bigger requests anyway
        return 0;
    auto p = policy::parse_policy(fuzz::as_text(data, size), "fuzz.yaml");
    if (!p) {
        fuzz::check_error_message(p.error().message(), "parse_policy");
        return 0;
    }
    policy::PolicyInfo info = policy::analyse_policy(*p);
    for (const auto& h : info.hooks) {
        if (auto json = policy::hook_to_json(*p, h.kind, h.index))
            fuzz::check_json(*json, "hook_to_json");
        else
            fuzz::check_error_message(json.error().message(), "hook_to_json");
        for (bool enforce : {true, false}) {
            auto compiled = policy::compile_selectors(*p, fuzz::hook_of(*p, h), {"spec.fuzz[0]", enforce});
            if (!compiled) {
                fuzz::check_error_message(compiled.error().message(), "compile_selectors");
                continue;
            }
            std::string blob = compiled->serialize();
            auto back = sdk::CompiledSelectors::parse(blob.data(), blob.size());
            fuzz::check(back.has_value(), "CompiledSelectors::parse refused what the compiler wrote",
                        back ? "" : back.error());
            fuzz::check(back->serialize() == blob, "compiled selectors changed through serialize/parse");
        }
    }
    return 0;
}
