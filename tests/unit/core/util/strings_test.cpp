#include <doctest/doctest.h>

#include "core/util/fd.hpp"
#include "core/util/result.hpp"
#include "core/util/strings.hpp"

#include <cerrno>
#include <fcntl.h>

using namespace yubin;

TEST_CASE("util: to_lower and iequals are ASCII only") {
    CHECK(to_lower("MiXeD.Example") == "mixed.example");
    CHECK(to_lower("\xC3\x84") == "\xC3\x84");  // 8-bit bytes untouched
    CHECK(iequals("Example.COM", "example.com"));
    CHECK_FALSE(iequals("example.com", "example.co"));
    CHECK(istarts_with("Subject: x", "subject:"));
    CHECK_FALSE(istarts_with("Sub", "subject:"));
}

TEST_CASE("util: trim and split_any") {
    CHECK(trim("  a b \t\r\n") == "a b");
    CHECK(trim("   ").empty());
    auto parts = split_any(" a, b,,c ", ", ");
    REQUIRE(parts.size() == 3);
    CHECK(parts[0] == "a");
    CHECK(parts[1] == "b");
    CHECK(parts[2] == "c");
}

TEST_CASE("util: parse_int accepts whole decimal numbers only") {
    struct Case { const char* in; std::optional<std::int64_t> want; };
    const Case cases[] = {
        {"0", 0}, {"10240000", 10240000}, {"-5", -5}, {"", std::nullopt},
        {"12a", std::nullopt}, {" 1", std::nullopt}, {"99999999999999999999", std::nullopt},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        CHECK(parse_int(c.in) == c.want);
    }
}

TEST_CASE("util: sanitize_for_log hides control bytes and truncates") {
    CHECK(sanitize_for_log("a\r\nb\x01\xff") == "a??b??");
    CHECK(sanitize_for_log(std::string(300, 'x'), 10) == "xxxxxxxxxx...");
}

TEST_CASE("util: errno_error classifies transient errors as Temp") {
    CHECK(errno_error("write", ENOSPC).kind == ErrorKind::Temp);
    CHECK(errno_error("open", ENOENT).kind == ErrorKind::NotFound);
    CHECK(errno_error("open", EACCES).kind == ErrorKind::Internal);
    CHECK(is_temporary(ErrorKind::Internal));
    CHECK_FALSE(is_temporary(ErrorKind::Perm));
}

TEST_CASE("util: UniqueFd closes on destruction and move") {
    int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(raw >= 0);
    {
        UniqueFd a(raw);
        UniqueFd b(std::move(a));
        CHECK_FALSE(a.valid());
        CHECK(b.get() == raw);
    }
    CHECK(::fcntl(raw, F_GETFD) == -1);
    int ran = 0;
    {
        ScopeExit guard([&] { ++ran; });
    }
    CHECK(ran == 1);
}
