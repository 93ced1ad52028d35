// Selector compiler: a validated hook's selectors -> the fixed encoding the SDK's BPF library
// evaluates in-kernel (vigil/wire/selectors.h). Everything the in-kernel evaluator cannot do is
// refused here, with the place in the policy and the reason; nothing is silently dropped.
#pragma once

#include "core/error.hpp"
#include "policy/model.hpp"

#include <vigil/sdk/selectors.hpp>

#include <span>
#include <string>

namespace vigil::policy {

struct CompileContext {
    std::string where;   // "spec.tracepoints[0]", for messages
    bool enforce = true; // the policy's mode when the hook is attached
};

// Whether the evaluator compares an argument of this type as a string (paths, buffers), an
// integer, or a socket (struct vsock_arg: network operators); none when it cannot compare it.
enum class ArgClass { integer, string, socket, none };
[[nodiscard]] ArgClass arg_class(ArgType t);

[[nodiscard]] Result<sdk::CompiledSelectors> compile_selectors(const Policy& policy, const HookCommon& hook,
                                                               const CompileContext& ctx);

// The inode of the host's namespace of a type (from /proc/1/ns), for `host_ns` values.
[[nodiscard]] Result<uint32_t> host_namespace_inode(NamespaceType type);

} // namespace vigil::policy
