#include "milter/glue.hpp"

#include <doctest/doctest.h>

using namespace yubin;

TEST_CASE("glue: milter_listen in libmilter's notation") {
    using K = config::ListenAddress::Kind;
    CHECK(*milter::libmilter_address({K::Unix, "/run/yubin/milter", "", 0}) ==
          "unix:/run/yubin/milter");
    CHECK(*milter::libmilter_address({K::Inet, "", "127.0.0.1", 24100}) == "inet:24100@127.0.0.1");
    CHECK(*milter::libmilter_address({K::Inet, "", "::1", 24100}) == "inet6:24100@::1");
    CHECK(*milter::libmilter_address({K::Inet, "", "localhost", 8891}) == "inet:8891@localhost");
    CHECK_FALSE(milter::libmilter_address({K::Disabled, "", "", 0}));
}
