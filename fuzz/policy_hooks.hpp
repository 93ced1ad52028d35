// The hook of a parsed policy a HookSummary points at (analyse_policy gives kind and index).
#pragma once

#include "policy/policy.hpp"

namespace vigil::fuzz {

inline const policy::HookCommon& hook_of(const policy::Policy& p, const policy::HookSummary& h)
{
    switch (h.kind) {
    case policy::HookKind::kprobes: return p.spec.kprobes.at(h.index);
    case policy::HookKind::tracepoints: return p.spec.tracepoints.at(h.index);
    case policy::HookKind::uprobes: return p.spec.uprobes.at(h.index);
    case policy::HookKind::connects: return p.spec.connects.at(h.index);
    default: return p.spec.lsmhooks.at(h.index);
    }
}

} // namespace vigil::fuzz
