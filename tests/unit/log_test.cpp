#include "core/log.hpp"

#include <catch2/catch.hpp>

#include <spdlog/details/log_msg.h>

TEST_CASE("journal lines carry the syslog priority of their level", "[unit][log]")
{
    auto f = vigil::log::journal_formatter();
    auto line = [&](spdlog::level::level_enum level) {
        spdlog::memory_buf_t buf;
        spdlog::details::log_msg msg("host", level, "ring full");
        f->format(msg, buf);
        return fmt::to_string(buf);
    };
    CHECK(line(spdlog::level::critical) == "<2>[host] ring full\n");
    CHECK(line(spdlog::level::err) == "<3>[host] ring full\n");
    CHECK(line(spdlog::level::warn) == "<4>[host] ring full\n");
    CHECK(line(spdlog::level::info) == "<6>[host] ring full\n");
    CHECK(line(spdlog::level::debug) == "<7>[host] ring full\n");
}

TEST_CASE("stderr is the journal when JOURNAL_STREAM names its device and inode", "[unit][log]")
{
    struct stat st {};
    st.st_dev = 23;
    st.st_ino = 4711;
    CHECK(vigil::log::is_journal_stream("23:4711", st));
    CHECK_FALSE(vigil::log::is_journal_stream("23:4712", st)); // stderr redirected since
    CHECK_FALSE(vigil::log::is_journal_stream(nullptr, st));
    CHECK_FALSE(vigil::log::is_journal_stream("garbage", st));
}
