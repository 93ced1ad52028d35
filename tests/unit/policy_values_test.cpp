// The value parsers shared by the parser and the selector compiler.
#include "policy_test_util.hpp"

#include "policy/values.hpp"

#include <sys/socket.h>
#include <sys/stat.h>

using namespace vigil::policy;

TEST_CASE("integers in the format's notations", "[policy][values]")
{
    auto v = [](std::string_view s) { return parse_integer(s); };
    CHECK(v("42")->magnitude == 42);
    CHECK(v("-42")->as_signed() == -42);
    CHECK(v("+7")->magnitude == 7);
    CHECK(v("0x1F")->magnitude == 31);
    CHECK(v("0o17")->magnitude == 15);
    CHECK(v("017")->magnitude == 15);
    CHECK(v("0b101")->magnitude == 5);
    CHECK(v("0")->magnitude == 0);
    CHECK_FALSE(v("-0")->negative);
    CHECK(v("18446744073709551615")->magnitude == UINT64_MAX);
    CHECK_FALSE(v("18446744073709551616"));
    CHECK_FALSE(v(""));
    CHECK_FALSE(v("-"));
    CHECK_FALSE(v("0x"));
    CHECK_FALSE(v("12a"));
    CHECK_FALSE(v("1.5"));
    CHECK_FALSE(v("09"));
    CHECK_FALSE(v(" 1"));
}

TEST_CASE("integer widths", "[policy][values]")
{
    auto fits = [](ArgType t, std::string_view s) { return integer_fits(t, *parse_integer(s)); };
    CHECK(fits(ArgType::int8, "-128"));
    CHECK_FALSE(fits(ArgType::int8, "-129"));
    CHECK(fits(ArgType::int8, "127"));
    CHECK_FALSE(fits(ArgType::int8, "128"));
    CHECK(fits(ArgType::uint8, "255"));
    CHECK_FALSE(fits(ArgType::uint8, "-1"));
    CHECK(fits(ArgType::int_, "-2147483648"));
    CHECK_FALSE(fits(ArgType::int32, "2147483648"));
    CHECK(fits(ArgType::uint32, "4294967295"));
    CHECK(fits(ArgType::int64, "-9223372036854775808"));
    CHECK_FALSE(fits(ArgType::int64, "9223372036854775808"));
    CHECK(fits(ArgType::uint64, "18446744073709551615"));
    CHECK(fits(ArgType::size_t_, "0xffffffffffffffff"));
    CHECK(fits(ArgType::syscall64, "-1"));
    CHECK_FALSE(fits(ArgType::string, "1"));
}

TEST_CASE("ranges and ports", "[policy][values]")
{
    auto r = parse_int_range("-5:10");
    REQUIRE(r);
    CHECK(r->min.as_signed() == -5);
    CHECK(r->max.as_signed() == 10);
    CHECK(parse_int_range("3:3"));
    CHECK_FALSE(parse_int_range("10:-5"));
    CHECK_FALSE(parse_int_range("1:2:3"));
    CHECK_FALSE(parse_int_range("1"));
    CHECK_FALSE(parse_int_range(":1"));

    auto p = parse_port_range("80");
    REQUIRE(p);
    CHECK(p->min == 80);
    CHECK(p->max == 80);
    auto pr = parse_port_range("1024:65535");
    REQUIRE(pr);
    CHECK(pr->min == 1024);
    CHECK(pr->max == 65535);
    CHECK_FALSE(parse_port_range("65536"));
    CHECK_FALSE(parse_port_range("-1"));
    CHECK_FALSE(parse_port_range("9:8"));
}

TEST_CASE("addresses and prefixes", "[policy][values]")
{
    auto a = parse_addr("10.1.2.3");
    REQUIRE(a);
    CHECK(a->family == AF_INET);
    CHECK(a->prefix_len == 32);
    CHECK(a->bytes[0] == 10);
    CHECK(a->bytes[3] == 3);
    auto c = parse_addr("192.168.0.0/16");
    REQUIRE(c);
    CHECK(c->prefix_len == 16);
    auto six = parse_addr("2001:db8::/32");
    REQUIRE(six);
    CHECK(six->family == AF_INET6);
    CHECK(six->prefix_len == 32);
    CHECK(parse_addr("::1")->prefix_len == 128);
    CHECK_FALSE(parse_addr("10.0.0.0/33"));
    CHECK_FALSE(parse_addr("::/129"));
    CHECK_FALSE(parse_addr("10.0.0.0/"));
    CHECK_FALSE(parse_addr("10.0.0"));
    CHECK_FALSE(parse_addr("localhost"));
}

TEST_CASE("symbolic names", "[policy][values]")
{
    CHECK(protocol_number("IPPROTO_TCP") == 6u);
    CHECK(protocol_number("IPPROTO_UDP") == 17u);
    CHECK(protocol_number("IPPROTO_MPTCP") == 262u);
    CHECK(protocol_number("132") == 132u);
    CHECK_FALSE(protocol_number("ipproto_tcp"));
    CHECK(family_number("AF_INET") == static_cast<uint32_t>(AF_INET));
    CHECK(family_number("AF_INET6") == 10u);
    CHECK(family_number("AF_UNIX") == 1u);
    CHECK_FALSE(family_number("AF_NOPE"));
    CHECK(tcp_state_number("TCP_ESTABLISHED") == 1u);
    CHECK(tcp_state_number("TCP_CLOSE") == 7u);
    CHECK(tcp_state_number("TCP_NEW_SYN_RECV") == 12u);
    CHECK_FALSE(tcp_state_number("-1"));
    CHECK(file_type_mode("reg") == static_cast<uint32_t>(S_IFREG));
    CHECK(file_type_mode("pipe") == static_cast<uint32_t>(S_IFIFO));
    CHECK(file_type_mode("char") == static_cast<uint32_t>(S_IFCHR));
    CHECK_FALSE(file_type_mode("REG"));
}

TEST_CASE("capabilities", "[policy][values]")
{
    CHECK(capability_number("CAP_CHOWN") == 0u);
    CHECK(capability_number("cap_sys_admin") == 21u);
    CHECK(capability_number(" CAP_BPF ") == 39u);
    CHECK(capability_number("CAP_CHECKPOINT_RESTORE") == 40u);
    CHECK_FALSE(capability_number("CAP_ALL"));
    CHECK(capability_name(7) == "CAP_SETUID");
    CHECK(capability_name(41).empty());
    for (uint32_t n = 0; n < capability_count; ++n)
        CHECK(capability_number(capability_name(n)) == n);

    CHECK(parse_capability_mask("0x3") == 3u);
    CHECK(parse_capability_mask("CAP_CHOWN,CAP_KILL") == ((1u << 0) | (1u << 5)));
    CHECK_FALSE(parse_capability_mask("CAP_CHOWN,"));
    CHECK_FALSE(parse_capability_mask("-1"));
}

TEST_CASE("rate limits", "[policy][values]")
{
    CHECK(parse_rate_limit_ms("100") == 100'000u);
    CHECK(parse_rate_limit_ms("10s") == 10'000u);
    CHECK(parse_rate_limit_ms("1m") == 60'000u);
    CHECK(parse_rate_limit_ms("2H") == 7'200'000u);
    CHECK(parse_rate_limit_ms("1193h") == 4'294'800'000u);
    CHECK_FALSE(parse_rate_limit_ms("1194h")); // past 2^32 ms
    CHECK_FALSE(parse_rate_limit_ms("0"));
    CHECK_FALSE(parse_rate_limit_ms("m"));
    CHECK_FALSE(parse_rate_limit_ms(""));
    CHECK_FALSE(parse_rate_limit_ms("1d"));
    CHECK_FALSE(parse_rate_limit_ms("-1s"));
    CHECK_FALSE(parse_rate_limit_ms("1.5m"));
}
