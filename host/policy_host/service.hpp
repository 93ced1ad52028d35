// The policy manager as the API sees it (api::PolicyService): policy.add / delete / list /
// enable / disable / set-mode from `vigil policy ...`.
#pragma once

#include "api/services.hpp"
#include "policy_host/manager.hpp"

namespace vigil {

class ManagedPolicyService : public api::PolicyService {
public:
    explicit ManagedPolicyService(PolicyManager& policies) : policies_(policies) {}

    Result<api::PolicyStatus> add(std::string_view yaml, std::optional<policy::PolicyMode> mode,
                                std::string_view source) override;
    Result<void> remove(const std::string& name) override { return policies_.remove(name); }
    std::vector<api::PolicyStatus> list() const override;
    Result<void> enable(const std::string& name) override { return policies_.enable(name); }
    Result<void> disable(const std::string& name) override { return policies_.disable(name); }
    Result<void> set_mode(const std::string& name, policy::PolicyMode mode) override;

private:
    api::PolicyStatus status(const PolicyEntry& e) const;

    PolicyManager& policies_;
};

} // namespace vigil
