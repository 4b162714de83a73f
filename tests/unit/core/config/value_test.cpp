#include "core/config/value.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

using namespace yubin;
using namespace yubin::config;

TEST_CASE("config: parse_bool accepts yes and no only, any case") {
    struct Case {
        const char* in;
        std::optional<bool> want;
    };
    const Case cases[] = {
        {"yes", true},       {"YES", true},          {"Yes", true},           {"no", false},
        {"NO", false},       {"true", std::nullopt}, {"false", std::nullopt}, {"1", std::nullopt},
        {"0", std::nullopt}, {"", std::nullopt},     {"yes ", std::nullopt},  {"y", std::nullopt},
    };
    for (const auto& c : cases) {
        INFO("input: " << std::string(c.in));
        auto got = parse_bool(c.in);
        std::optional<bool> g = got ? std::optional<bool>(*got) : std::nullopt;
        CHECK(g == c.want);
        if (!got) CHECK(got.error().kind == ErrorKind::Config);
    }
}

TEST_CASE("config: parse_size takes plain non-negative byte counts") {
    struct Case {
        const char* in;
        std::optional<std::int64_t> want;
    };
    const Case cases[] = {
        {"0", 0},
        {"10240000", 10240000},
        {"9223372036854775807", INT64_MAX},
        {"9223372036854775808", std::nullopt},
        {"-1", std::nullopt},
        {"+1", std::nullopt},
        {"10k", std::nullopt},
        {"1m", std::nullopt},
        {"", std::nullopt},
        {" 1", std::nullopt},
        {"1.5", std::nullopt},
    };
    for (const auto& c : cases) {
        INFO("input: " << std::string(c.in));
        auto got = parse_size(c.in);
        std::optional<std::int64_t> g = got ? std::optional<std::int64_t>(*got) : std::nullopt;
        CHECK(g == c.want);
    }
}

TEST_CASE("config: parse_int_value takes signed decimal integers") {
    struct Case {
        const char* in;
        std::optional<std::int64_t> want;
    };
    const Case cases[] = {
        {"0", 0},
        {"-5", -5},
        {"5000", 5000},
        {"12a", std::nullopt},
        {"", std::nullopt},
        {"99999999999999999999", std::nullopt},
        {"0x10", std::nullopt},
    };
    for (const auto& c : cases) {
        INFO("input: " << std::string(c.in));
        auto got = parse_int_value(c.in);
        std::optional<std::int64_t> g = got ? std::optional<std::int64_t>(*got) : std::nullopt;
        CHECK(g == c.want);
    }
}

TEST_CASE("config: parse_time uses Postfix units and the default unit") {
    struct Case {
        const char* in;
        char unit;
        std::optional<std::int64_t> want;
    };
    const Case cases[] = {
        {"5", 's', 5},
        {"5s", 'h', 5},
        {"5", 'm', 300},
        {"2m", 's', 120},
        {"3h", 's', 10800},
        {"1d", 's', 86400},
        {"2w", 's', 1209600},
        {"0", 's', 0},
        {"0w", 's', 0},
        {"5x", 's', std::nullopt},
        {"5S", 's', std::nullopt},
        {"5ms", 's', std::nullopt},
        {"s", 's', std::nullopt},
        {"", 's', std::nullopt},
        {"-5s", 's', std::nullopt},
        {"5 s", 's', std::nullopt},
        {"1h30m", 's', std::nullopt},
        {"15250284452472w", 's', std::nullopt},               // overflows int64 seconds
        {"15250284452471w", 's', 15250284452471LL * 604800},  // the largest that fits
    };
    for (const auto& c : cases) {
        INFO("input: " << std::string(c.in));
        INFO("default unit: " << std::string(1, c.unit));
        auto got = parse_time(c.in, c.unit);
        std::optional<std::int64_t> g = got ? std::optional<std::int64_t>(*got) : std::nullopt;
        CHECK(g == c.want);
        if (!got) CHECK(got.error().what == std::string("invalid time value \"") + c.in + "\"");
    }
}

TEST_CASE("config: parse_listen accepts unix:PATH and inet:HOST:PORT") {
    using K = ListenAddress::Kind;
    struct Case {
        const char* in;
        bool ok;
        K kind;
        const char* path_or_host;
        int port;
    };
    const Case cases[] = {
        {"", true, K::Disabled, "", 0},
        {"unix:/run/yubin/milter.sock", true, K::Unix, "/run/yubin/milter.sock", 0},
        {"inet:127.0.0.1:10025", true, K::Inet, "127.0.0.1", 10025},
        {"inet:[::1]:10025", true, K::Inet, "::1", 10025},
        {"inet:[2001:db8::5]:1", true, K::Inet, "2001:db8::5", 1},
        {"inet:localhost:65535", true, K::Inet, "localhost", 65535},
        {"inet:mx-1.example.com:25", true, K::Inet, "mx-1.example.com", 25},
        {"inet:0.0.0.0:25", true, K::Inet, "0.0.0.0", 25},
        {"unix:relative.sock", false, K::Disabled, "", 0},
        {"unix:", false, K::Disabled, "", 0},
        {"inet:127.0.0.1:0", false, K::Disabled, "", 0},
        {"inet:127.0.0.1:65536", false, K::Disabled, "", 0},
        {"inet:127.0.0.1:", false, K::Disabled, "", 0},
        {"inet:127.0.0.1:+25", false, K::Disabled, "", 0},
        {"inet:127.0.0.1", false, K::Disabled, "", 0},
        {"inet::25", false, K::Disabled, "", 0},
        {"inet:256.1.1.1:25", false, K::Disabled, "", 0},
        {"inet:1.2.3:25", false, K::Disabled, "", 0},
        {"inet:::1:25", false, K::Disabled, "", 0},
        {"inet:[::1:25", false, K::Disabled, "", 0},
        {"inet:[::1]25", false, K::Disabled, "", 0},
        {"inet:[127.0.0.1]:25", false, K::Disabled, "", 0},
        {"inet:-bad.example:25", false, K::Disabled, "", 0},
        {"inet:a..b:25", false, K::Disabled, "", 0},
        {"inet:host_name:25", true, K::Inet, "host_name", 25},
        {"inet:a.-b:25", false, K::Disabled, "", 0},
        {"inet:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example:25", false, K::Disabled, "", 0},
        {"tcp:127.0.0.1:25", false, K::Disabled, "", 0},
        {"127.0.0.1:25", false, K::Disabled, "", 0},
    };
    for (const auto& c : cases) {
        INFO("input: " << std::string(c.in));
        auto got = parse_listen(c.in);
        CHECK(got.has_value() == c.ok);
        if (!got) {
            CHECK(got.error().what.starts_with(std::string("invalid listen address \"") + c.in));
            continue;
        }
        CHECK(got->kind == c.kind);
        CHECK((c.kind == K::Unix ? got->path : got->host) == c.path_or_host);
        CHECK(got->port == c.port);
    }
    std::string long_path = "unix:/" + std::string(107, 'x');  // sun_path is 108 with NUL
    CHECK_FALSE(parse_listen(long_path));
    CHECK(parse_listen(long_path.substr(0, long_path.size() - 1)));
}

TEST_CASE("config: split_list splits on commas and white space") {
    struct Case {
        const char* in;
        std::vector<std::string> want;
    };
    const Case cases[] = {
        {"", {}},
        {"a", {"a"}},
        {"a,b", {"a", "b"}},
        {" a, b  c,,d\te ", {"a", "b", "c", "d", "e"}},
        {",,, ", {}},
    };
    for (const auto& c : cases) {
        INFO("input: " << std::string(c.in));
        CHECK(split_list(c.in) == c.want);
    }
}

TEST_CASE("config: check_value checks type, range, choices and emptiness") {
    const Param pint{"p", Type::Int, "5", 1, 10, "", ""};
    const Param psize{"p", Type::Size, "0", 0, 100, "", ""};
    const Param ptime{"p", Type::Time, "1m", 0, 3600, "", ""};
    const Param penum{"p", Type::Enum, "a", 0, 0, "ARGON2ID|SHA512-CRYPT", ""};
    const Param pstr{"p", Type::String, "", 0, 0, "", ""};
    const Param plist{"p", Type::List, "", 0, 0, "", ""};
    const Param plisten{"p", Type::Listen, "", 0, 0, "", ""};
    const Param pbool{"p", Type::Bool, "no", 0, 0, "", ""};
    struct Case {
        const Param* p;
        const char* in;
        const char* want_value;
        std::int64_t want_number;
        const char* want_error;
    };
    const Case cases[] = {
        {&pint, "1", "1", 1, nullptr},
        {&pint, "10", "10", 10, nullptr},
        {&pint, "0", nullptr, 0, "value \"0\" out of range 1..10"},
        {&pint, "11", nullptr, 0, "value \"11\" out of range 1..10"},
        {&pint, "", nullptr, 0, "empty integer value"},
        {&psize, "100", "100", 100, nullptr},
        {&psize, "101", nullptr, 0, "value \"101\" out of range 0..100 bytes"},
        {&ptime, "60", "60", 3600, nullptr},  // default unit from "1m"
        {&ptime, "61", nullptr, 0, "value \"61\" out of range 0..3600 seconds"},
        {&ptime, "1h", "1h", 3600, nullptr},
        {&ptime, "", nullptr, 0, "empty time value"},
        {&penum, "sha512-crypt", "SHA512-CRYPT", 0, nullptr},
        {&penum, "ARGON2ID", "ARGON2ID", 0, nullptr},
        {&penum, "MD5", nullptr, 0, "invalid value \"MD5\" (one of ARGON2ID, SHA512-CRYPT)"},
        {&penum, "", nullptr, 0, "empty enum value"},
        {&pstr, "", "", 0, nullptr},
        {&plist, "", "", 0, nullptr},
        {&plisten, "", "", 0, nullptr},
        {&pbool, "Yes", "Yes", 1, nullptr},
        {&pbool, "no", "no", 0, nullptr},
        {&pbool, "", nullptr, 0, "empty boolean value"},
        {&pbool, "on", nullptr, 0, "invalid boolean value \"on\" (use yes or no)"},
    };
    for (const auto& c : cases) {
        INFO("input: " << std::string(c.in));
        INFO("type: " << std::string(to_string(c.p->type)));
        auto got = check_value(*c.p, c.in);
        if (c.want_error) {
            REQUIRE_FALSE(got);
            CHECK(got.error().what == c.want_error);
            CHECK(got.error().kind == ErrorKind::Config);
        } else {
            REQUIRE(got);
            CHECK(got->value == c.want_value);
            CHECK(got->number == c.want_number);
        }
    }
    const Param psmax{"p", Type::Size, "0", 0, kNoMax, "", ""};
    auto neg = check_value(psmax, "-1");
    REQUIRE_FALSE(neg);
    CHECK(neg.error().what == "invalid size value \"-1\" (a plain number of bytes)");
}
