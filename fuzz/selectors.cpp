// Compiled selectors as a plugin receives them across the ABI (vigil_hook_request.compiled):
// CompiledSelectors::parse must refuse anything malformed and give back exactly what it read.
#include "fuzz_util.hpp"

#include <vigil/sdk/selectors.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto c = vigil::sdk::CompiledSelectors::parse(data, size);
    if (!c) {
        vigil::fuzz::check(!c.error().empty(), "parse: error without a message");
        return 0;
    }
    vigil::fuzz::check(c->hook.nselectors <= VSEL_MAX_SELECTORS, "parse accepted too many selectors");
    std::string again = c->serialize();
    vigil::fuzz::check(again.size() == size && std::memcmp(again.data(), data, size) == 0,
                       "serialize(parse(x)) != x");
    return 0;
}
