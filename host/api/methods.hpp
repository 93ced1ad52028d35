// The API's request methods other than events.subscribe (which needs the connection): each
// takes validated request params and gives a result as JSON text or an error. No sockets here.
#pragma once

#include "api/json_value.hpp"
#include "api/protocol.hpp"
#include "api/services.hpp"

#include <chrono>
#include <expected>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::api {

struct MethodError {
    ErrorCode code;
    std::string message;
};
using MethodResult = std::expected<std::string, MethodError>;

inline constexpr const char* policy_unavailable = "policy engine not available in this build";

class Methods {
public:
    explicit Methods(AgentServices& services);

    // Runs `method`; unknown_method when there is no such method.
    MethodResult call(const std::string& method, const JsonValue& params);
    // Every method name, events.subscribe included (for the unknown_method message).
    static const std::set<std::string>& names();
    // Event types the loaded plugins declare.
    std::set<std::string> known_event_kinds() const;

private:
    MethodResult status(const JsonValue& params);
    MethodResult plugins_list(const std::string& method, const JsonValue& params);
    MethodResult plugins_set(const std::string& method, const JsonValue& params, bool enable);
    MethodResult process_list(const JsonValue& params);
    MethodResult process_get(const JsonValue& params);
    MethodResult process_tree(const JsonValue& params);
    MethodResult policy_call(const std::string& method, const JsonValue& params);

    // One row per method: its name and what runs it (null: not run here).
    struct Entry {
        std::string_view name;
        MethodResult (*run)(Methods&, const std::string& method, const JsonValue& params);
    };
    static const std::vector<Entry>& table();

    AgentServices& s_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

} // namespace vigil::api
