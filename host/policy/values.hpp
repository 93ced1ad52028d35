// Parsing of the string values selectors compare against: integers in the format's notations,
// ranges, ports, addresses, and the symbolic names (IPPROTO_*, AF_*, TCP_*, CAP_*, file types).
// The parser uses these to reject bad values with a location; the selector compiler uses the
// same functions to encode them, so both agree on what a value means.
#pragma once

#include "policy/enums.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace vigil::policy {

// An integer as written, before it is given a width: sign and magnitude.
struct IntValue {
    bool negative = false;
    uint64_t magnitude = 0;

    [[nodiscard]] int64_t as_signed() const
    {
        return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
    }
    [[nodiscard]] uint64_t as_unsigned() const { return negative ? 0 - magnitude : magnitude; }
};

// Decimal, 0x hex, 0o / leading-0 octal, 0b binary, optional sign.
[[nodiscard]] std::optional<IntValue> parse_integer(std::string_view s);

// Whether v is representable in an argument of integer type t.
[[nodiscard]] bool integer_fits(ArgType t, IntValue v);

// "min:max" (both integers, min <= max).
struct IntRange {
    IntValue min;
    IntValue max;
};
[[nodiscard]] std::optional<IntRange> parse_int_range(std::string_view s);

// "N" or "min:max", each 0..65535.
struct PortRange {
    uint16_t min = 0;
    uint16_t max = 0;
};
[[nodiscard]] std::optional<PortRange> parse_port_range(std::string_view s);

// An IPv4/IPv6 address or CIDR prefix.
struct AddrValue {
    int family = 0;                 // AF_INET or AF_INET6
    std::array<uint8_t, 16> bytes{};
    uint8_t prefix_len = 0;         // 32 / 128 for a single address
};
[[nodiscard]] std::optional<AddrValue> parse_addr(std::string_view s);

// A number or a symbolic name: IPPROTO_TCP, AF_INET, TCP_ESTABLISHED.
[[nodiscard]] std::optional<uint32_t> protocol_number(std::string_view s);
[[nodiscard]] std::optional<uint32_t> family_number(std::string_view s);
[[nodiscard]] std::optional<uint32_t> tcp_state_number(std::string_view s);

// FileType operator values (sock/socket, lnk/link, reg/regular, blk/block, dir, chr/char,
// fifo/pipe) as S_IF* mode bits.
[[nodiscard]] std::optional<uint32_t> file_type_mode(std::string_view s);

// CAP_* name (case-insensitive) to capability number; and back.
[[nodiscard]] std::optional<uint32_t> capability_number(std::string_view s);
[[nodiscard]] std::string_view capability_name(uint32_t n);
inline constexpr uint32_t capability_count = 41; // CAP_CHOWN (0) .. CAP_CHECKPOINT_RESTORE (40)

// A value compared with a capability-set argument (kernel_cap_t, cap_*): a number taken as the
// mask itself, or comma-separated CAP_* names.
[[nodiscard]] std::optional<uint64_t> parse_capability_mask(std::string_view s);

// Post rateLimit: "N" seconds, or with an s/m/h suffix. Returns milliseconds; values that do not
// fit 32 bits of milliseconds are refused rather than clamped.
[[nodiscard]] std::optional<uint32_t> parse_rate_limit_ms(std::string_view s);

} // namespace vigil::policy
