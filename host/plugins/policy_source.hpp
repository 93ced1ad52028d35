// Applies the documents of policy source plugins (ABI 1.3: the nats plugin's fleet bucket) to
// the agent's policies, as `vigil policy add` / `delete` would, and answers each with a
// verdict. A key's new document replaces the policy its old one added; a refused document
// leaves every other policy as it was. Runs on the event loop.
#pragma once

#include "api/services.hpp"
#include "plugins/registry.hpp"

#include <map>
#include <string>

namespace vigil {

class PolicySources {
public:
    PolicySources(PluginRegistry& plugins, api::PolicyService& policies) : plugins_(plugins), policies_(policies) {}

    void apply(const PolicyDoc& doc);

private:
    void answer(const PolicyDoc& doc, const char* state, const std::string& policy, const std::string& mode,
                const std::string& error);

    PluginRegistry& plugins_;
    api::PolicyService& policies_;
    std::map<std::pair<std::string, std::string>, std::string> applied_; // (plugin, key) -> policy name
};

} // namespace vigil
