// Human output of the vigil CLI: aligned tables, compact one-line events, durations.
#pragma once

#include "api/json_value.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace vigil::cli {

// Columns padded to their widest cell; the last column is not padded.
class Table {
public:
    explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    void print() const;

private:
    std::vector<std::vector<std::string>> rows_;
};

// A JSON scalar as text ("" for absent, strings unquoted).
std::string text(const api::JsonValue& v);

// One event as one line: time, type, pid, binary and what is specific to the type.
std::string compact_event(const api::JsonValue& event, bool color);

std::string human_duration(int64_t seconds);

} // namespace vigil::cli
