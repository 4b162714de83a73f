#include <doctest/doctest.h>

#include <set>
#include <string>

#include "core/maildir/unique_name.hpp"

using namespace yubin::maildir;

TEST_CASE("maildir: unique names have the documented shape") {
    UniqueNamer namer("mail.example.test", 4242, [] { return Timestamp{1700000000, 42}; });
    CHECK(namer.next(2048) == "1700000000.M42P4242Q1.mail.example.test,S=2048");
    CHECK(namer.next(0) == "1700000000.M42P4242Q2.mail.example.test,S=0");
}

TEST_CASE("maildir: names from one process never repeat within the same microsecond") {
    UniqueNamer namer("h", 1, [] { return Timestamp{1, 1}; });
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i) CHECK(seen.insert(namer.next(1)).second);
}

TEST_CASE("maildir: host names are made safe for a file name") {
    struct Case { std::string in, want; };
    const Case cases[] = {
        {"mail.example.test", "mail.example.test"},
        {"a/b", "a\\057b"},
        {"a:b", "a\\072b"},
        {"sp ace\n", "sp_ace_"},
        {std::string("n\0l", 3), "n_l"},
        {"\xe9", "_"},
        {"", "localhost"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        CHECK(sanitize_host(c.in) == c.want);
    }
}

TEST_CASE("maildir: the S= size is read back from names in new/ and cur/") {
    struct Case { std::string name; std::optional<std::uint64_t> want; };
    const Case cases[] = {
        {"1.M1P1Q1.h,S=123", 123},
        {"1.M1P1Q1.h,S=123:2,S", 123},
        {"1.M1P1Q1.h,S=123,W=130:2,RS", 123},
        {"1.M1P1Q1.h,S=:2,", std::nullopt},
        {"1.M1P1Q1.h,S=12x", std::nullopt},
        {"1.M1P1Q1.h", std::nullopt},
        {"1.M1P1Q1.h:2,S=5", std::nullopt},  // after the info separator: flags, not size
        {"1.h,S=99999999999999999999999", std::nullopt},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        CHECK(size_from_name(c.name) == c.want);
    }
}
