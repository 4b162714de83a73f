#include "policyd/maildirsize.hpp"

#include <doctest/doctest.h>

#include <string>

using yubin::policyd::parse_maildirsize;

TEST_CASE("policyd: maildirsize parsing") {
    auto m = parse_maildirsize("10485760S,1000C\n4096 2\n-1024 -1\n  300 1  \n\n");
    REQUIRE(m);
    CHECK(m->limit_bytes == 10485760);
    CHECK(m->limit_messages == 1000);
    CHECK(m->used_bytes == 3372);
    CHECK(m->used_messages == 2);
    auto c = parse_maildirsize("1000C\n");
    REQUIRE(c);
    CHECK(c->limit_bytes == 0);
    CHECK(c->limit_messages == 1000);
    CHECK(parse_maildirsize("\n1 1\n"));  // no quota definition
    auto sat = parse_maildirsize("1S\n9223372036854775807 0\n9223372036854775807 0\n");
    REQUIRE(sat);
    CHECK(sat->used_bytes == INT64_MAX);
    for (const char* bad : {"", "10X\n", "S\n", "-5S\n", "100S\n1\n", "100S\n1 2 3\n",
                            "100S\nabc 1\n", "100S\n99999999999999999999 1\n"}) {
        CAPTURE(std::string(bad));
        auto e = parse_maildirsize(bad);
        CHECK_FALSE(e);
        if (!e) CHECK(e.error().kind == yubin::ErrorKind::BadInput);
    }
}

TEST_CASE("policyd: maildirsize file: missing is NotFound") {
    auto m = yubin::policyd::read_maildirsize("/nonexistent/Maildir/");
    REQUIRE_FALSE(m);
    CHECK(m.error().kind == yubin::ErrorKind::NotFound);
}
