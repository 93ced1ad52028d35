// The argument types of kprobe and LSM hooks: how the hook object reads each policy type
// (plan_arg) and how its value is written into the event (write_arg), with Tetragon's keys.
#pragma once

#include "kprobe_hook.h"

#include <vigil/sdk/hook_event.hpp>
#include <vigil/sdk/json.hpp>

#include <cstdint>
#include <cstring>
#include <string_view>
#include <expected>
#include <string>
#include <vector>

namespace vigil::kprobe {

// One argument of a hook record (sdk::parse_hook_record), as the decoder asks about it.
struct ArgValue {
    const sdk::HookArg& arg;

    bool failed() const { return (arg.hdr.flags & VHOOK_ARG_ERROR) || arg.hdr.enc == VHOOK_ENC_NONE; }
    bool truncated() const { return (arg.hdr.flags & VHOOK_ARG_TRUNCATED) != 0; }
    bool is_int() const { return arg.hdr.enc == VHOOK_ENC_S64 || arg.hdr.enc == VHOOK_ENC_U64; }
    uint32_t orig_len() const { return arg.hdr.orig_len; }
    int64_t as_int() const
    {
        int64_t v = 0;
        if (arg.value.size() >= sizeof v)
            std::memcpy(&v, arg.value.data(), sizeof v);
        return v;
    }
    std::string_view text() const { return {reinterpret_cast<const char*>(arg.value.data()), arg.value.size()}; }
};

// Where the hooked function's arguments come from decides which types make sense: a syscall
// and a user-space function (uprobes, USDT) pass user pointers and plain integers, a kernel
// function kernel objects.
enum class ArgContext { syscall, kernel, user };

// One policy argument: what the policy said and how the object reads it.
struct ArgSpec {
    std::string type;  // canonical policy type name ("int", "char_buf", ...)
    std::string label;
    uint32_t index = 0;          // function argument number
    uint32_t size_arg_index = 0; // char_buf: 1-based function argument number holding the length
    bool max_data = false;
    bool return_copy = false;
    std::string resolve;
};

// The object's reading of the argument, or why the type cannot be read in this context.
std::expected<kp_arg, std::string> plan_arg(const ArgSpec& a, ArgContext ctx);

// returnArg: integers only (the return value is a register).
std::expected<kp_arg, std::string> plan_return_arg(const std::string& type);

// Writes one argument object ({"int_arg": 3, "label": ...}) for a value of `type`.
void write_arg(sdk::JsonWriter& out, const std::string& type, const std::string& label, const ArgValue& v);

// The value of an integer argument of `type` as its Tetragon key and JSON value, e.g. the
// return value: {"int_arg": -2}.
void write_int_value(sdk::JsonWriter& out, const std::string& type, int64_t v);

// Tetragon's KprobeAction name of what a selector decided.
const char* action_name(uint32_t signal, bool override_);

// The members every policy-hook event ends with: policy_name, enforced (when an action was
// decided), message and tags.
void write_policy_members(sdk::JsonWriter& out, const std::string& policy, bool acted, bool enforced,
                          const std::string& message, const std::vector<std::string>& tags);

// RFC 4648 base64, as Tetragon's JSON carries bytes.
std::string base64(std::string_view bytes);

} // namespace vigil::kprobe
