// [[redaction]]: capture groups of the rules' regexes masked in process arguments.
#include "core/config.hpp"
#include "process/redaction.hpp"

#include <catch2/catch.hpp>

using namespace vigil;
using namespace std::string_literals;

namespace {

Redactor make(std::vector<RedactionRuleConfig> rules)
{
    auto r = Redactor::make(rules);
    REQUIRE(r);
    return std::move(*r);
}

std::string redacted(const Redactor& r, std::string args, std::string_view binary = "/usr/bin/tool")
{
    r.apply(args, binary);
    return args;
}

} // namespace

TEST_CASE("redaction masks every capture group, seen across the arguments", "[unit][redaction]")
{
    Redactor r = make({{{R"((?:--password|-p)(?:\s+|=)(\S+))", R"(token=(\w+))"}, "", "t.toml:1:1"}});
    // NUL-separated as the cache keeps them; the regex sees "--password hunter2" with a space.
    CHECK(redacted(r, "mysql\0--password\0hunter2\0-u\0root"s) == "mysql\0--password\0*****\0-u\0root"s);
    CHECK(redacted(r, "mysql\0--password=hunter2"s) == "mysql\0--password=*****"s);
    CHECK(redacted(r, "curl\0-p\0a\0-p\0b\0x?token=abc&token=def"s) == "curl\0-p\0*****\0-p\0*****\0x?token=*****&token=*****"s);
    CHECK(redacted(r, "ls\0-l"s) == "ls\0-l"s);
    CHECK(redacted(r, ""s).empty());
}

TEST_CASE("redaction rules can be limited to binaries", "[unit][redaction]")
{
    Redactor r = make({{{R"(--key\s+(\S+))"}, "/mysql$", "t.toml:1:1"}});
    CHECK(redacted(r, "mysql\0--key\0s3cret"s, "/usr/bin/mysql") == "mysql\0--key\0*****"s);
    CHECK(redacted(r, "other\0--key\0visible"s, "/usr/bin/other") == "other\0--key\0visible"s);
}

TEST_CASE("overlapping rules mask once", "[unit][redaction]")
{
    Redactor r = make({{{R"(pw=(\S+))", R"(pw=(\S{3}))"}, "", "t.toml:1:1"}});
    CHECK(redacted(r, "x\0pw=abcdef\0y"s) == "x\0pw=*****\0y"s);
}

TEST_CASE("bad redaction rules are refused with their place", "[unit][redaction]")
{
    auto no_group = Redactor::make({{{"--password \\S+"}, "", "vigild.toml:7:1"}});
    REQUIRE_FALSE(no_group);
    CHECK(no_group.error().message() ==
          "vigild.toml:7:1: redact \"--password \\S+\" has no capture group: put what is to be hidden in (...)");
    auto bad = Redactor::make({{{"(unclosed"}, "", "vigild.toml:9:1"}});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message().starts_with("vigild.toml:9:1: redact \"(unclosed\" is not a valid regular expression"));
}

TEST_CASE("[[redaction]] in the config", "[unit][redaction][config]")
{
    auto cfg = parse_config("[[redaction]]\nredact = ['--password\\s+(\\S+)']\nbinary_regex = 'mysql'\n"
                            "[[redaction]]\nredact = ['token=(\\w+)']\n",
                            "vigild.toml");
    REQUIRE(cfg);
    REQUIRE(cfg->redactions.size() == 2);
    CHECK(cfg->redactions[0].redact == std::vector<std::string>{"--password\\s+(\\S+)"});
    CHECK(cfg->redactions[0].binary_regex == "mysql");
    CHECK(cfg->redactions[1].where == "vigild.toml:4:1");
    auto empty = parse_config("[[redaction]]\nbinary_regex = 'x'\n", "vigild.toml");
    REQUIRE_FALSE(empty);
    CHECK(empty.error().message() == "vigild.toml:1:1: redaction[0] needs redact, a list of regexes");
    auto unknown = parse_config("[[redaction]]\nredact = ['(x)']\nredcat = 1\n", "vigild.toml");
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().message().find("unknown key redaction[0].redcat") != std::string::npos);
}
