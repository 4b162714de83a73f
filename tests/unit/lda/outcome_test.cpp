#include <doctest/doctest.h>

#include <string>

#include "lda/outcome.hpp"

using namespace yubin;
using namespace yubin::lda;

TEST_CASE("lda: exit status per enhanced status code, 75 when in doubt") {
    struct Case { std::string dsn; int want; };
    const Case cases[] = {
        {"2.0.0", 0},  {"4.3.0", 75}, {"4.2.2", 75}, {"5.1.1", 67}, {"5.2.2", 77},
        {"5.7.1", 77}, {"5.6.0", 65}, {"5.3.4", 65}, {"5.4.6", 69}, {"5.2.1", 69},
        {"", 75},      {"x", 75},     {"3.0.0", 75}, {"5.1", 75},   {"5..1", 75},
        {"5.1.", 75},  {"5.a.1", 75},
    };
    for (const auto& c : cases) {
        CAPTURE(c.dsn);
        Outcome o;
        o.dsn = c.dsn;
        CHECK(exit_status(o) == c.want);
    }
}

TEST_CASE("lda: LMTP replies per enhanced status code") {
    struct Case { std::string dsn, want; };
    const Case cases[] = {
        {"2.0.0", "250 2.0.0 t"}, {"4.3.0", "451 4.3.0 t"}, {"4.2.2", "452 4.2.2 t"},
        {"5.1.1", "550 5.1.1 t"}, {"5.7.1", "550 5.7.1 t"}, {"5.4.6", "550 5.4.6 t"},
        {"5.2.2", "552 5.2.2 t"}, {"5.3.4", "552 5.3.4 t"}, {"5.3.0", "554 5.3.0 t"},
        {"bad", "451 4.3.0 internal error"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.dsn);
        Outcome o;
        o.dsn = c.dsn;
        o.text = std::string(1, 't');  // not = "t": gcc 12 -O2 reports a false -Wrestrict there
        CHECK(lmtp_reply(o) == c.want);
    }
    CHECK(lmtp_reply(temp_failure("4.3.0", "a\r\nb")) == "451 4.3.0 a??b");
}

TEST_CASE("lda: errors become temporary unless known permanent") {
    CHECK(from_error({ErrorKind::Temp, "x"}).dsn == "4.3.0");
    CHECK(from_error({ErrorKind::Internal, "x"}).dsn == "4.3.0");
    CHECK(from_error({ErrorKind::NotFound, "x"}).dsn == "4.3.0");
    CHECK(from_error({ErrorKind::Config, "x"}).dsn == "4.3.0");
    CHECK(from_error({ErrorKind::Perm, "x"}).dsn == "5.3.0");
}
