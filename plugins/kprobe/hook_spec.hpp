// Reading the hook spec the host sends with a policy hook (host/policy/policy_json.cpp): the
// parts every function hook (kernel functions, syscalls, user-space functions, USDT) reads alike.
#pragma once

#include "arg_types.hpp"

#include <vigil/plugin_abi.h>
#include <vigil/sdk/plugin.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace vigil::kprobe {

// The hook's spec, parsed.
inline nlohmann::json spec_of(const vigil_hook_request& req)
{
    try {
        return nlohmann::json::parse(std::string_view(req.spec_json, req.spec_json_len));
    } catch (const std::exception& e) {
        throw sdk::Error(VIGIL_ERR_INVALID, std::string("hook spec is not JSON: ") + e.what());
    }
}

// Whether any selector of the hook has `action` in its matchActions or matchReturnActions.
inline bool has_action(const nlohmann::json& spec, std::string_view action)
{
    for (const auto& s : spec.value("selectors", nlohmann::json::array()))
        for (const char* key : {"matchActions", "matchReturnActions"})
            for (const auto& a : s.value(key, nlohmann::json::array()))
                if (a.value("action", "") == action)
                    return true;
    return false;
}

// Whether any selector of the hook filters on the return value.
inline bool has_return_filters(const nlohmann::json& spec)
{
    for (const auto& s : spec.value("selectors", nlohmann::json::array()))
        if (!s.value("matchReturnArgs", nlohmann::json::array()).empty())
            return true;
    return false;
}

// One entry of the hook's args.
inline ArgSpec arg_spec_of(const nlohmann::json& arg)
{
    ArgSpec a;
    a.index = arg.value("index", 0u);
    a.type = arg.value("type", "auto");
    a.label = arg.value("label", "");
    a.size_arg_index = arg.value("sizeArgIndex", 0u);
    a.max_data = arg.value("maxData", false);
    a.return_copy = arg.value("returnCopy", false);
    a.resolve = arg.value("resolve", "");
    return a;
}

inline std::vector<std::string> tags_of(const nlohmann::json& spec)
{
    std::vector<std::string> out;
    for (const auto& t : spec.value("tags", nlohmann::json::array()))
        out.push_back(t.get<std::string>());
    return out;
}

} // namespace vigil::kprobe
