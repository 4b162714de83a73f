// The socketmap framing: normal frames, every malformed form, the bounds, and
// each frame split at every byte.
#include "dovecot-auth/authd/netstring.hpp"

#include <doctest/doctest.h>

#include <string>

using yubin::authd::append_netstring;
using yubin::authd::NetstringParse;
using yubin::authd::parse_netstring;

namespace {

std::string state(const NetstringParse& p) {
    switch (p.state) {
        case NetstringParse::State::NeedMore:
            return "need more";
        case NetstringParse::State::Done:
            return "done";
        case NetstringParse::State::Error:
            return "error";
    }
    return "?";
}

}  // namespace

TEST_CASE("netstring: complete frames") {
    struct Case {
        std::string in;
        std::string payload;
        std::size_t consumed;
    };
    const Case cases[] = {
        {"0:,", "", 3},
        {"5:hello,", "hello", 8},
        {"5:hello,6:second,", "hello", 8},
        {"005:hello,", "hello", 10},  // leading zeros, as Postfix accepts
        {std::string("3:a\0b,", 6), std::string("a\0b", 3), 6},
        {"4:\xff\xfe:,,", "\xff\xfe:,", 7},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        auto p = parse_netstring(c.in, 100);
        REQUIRE(state(p) == "done");
        CHECK(p.payload == c.payload);
        CHECK(p.consumed == c.consumed);
    }
}

TEST_CASE("netstring: malformed frames are errors") {
    const std::string cases[] = {
        ":hello,",         // empty length
        "a:hello,",        // not a digit
        "-1:x,",           // sign
        " 5:hello,",       // space
        "5:hello;",        // wrong terminator
        "5:hello ",        // wrong terminator
        "3:hello,",        // payload longer than declared
        "12345678901:x,",  // 11 digits
    };
    for (const auto& c : cases) {
        CAPTURE(c);
        auto p = parse_netstring(c, 1000);
        CHECK(state(p) == "error");
        CHECK_FALSE(p.error.empty());
    }
}

TEST_CASE("netstring: the length bound is checked before the payload arrives") {
    CHECK(state(parse_netstring("100:", 100)) == "need more");
    CHECK(state(parse_netstring("101:", 100)) == "error");
    CHECK(state(parse_netstring("999999999:", 100000)) == "error");
    CHECK(state(parse_netstring("9999999999", 100000)) == "need more");  // 10 digits, no ':' yet
    CHECK(state(parse_netstring("99999999999", 100000)) == "error");
    // Exactly at the bound.
    std::string at;
    append_netstring(at, std::string(100000, 'x'));
    auto p = parse_netstring(at, 100000);
    CHECK(state(p) == "done");
    CHECK(p.payload.size() == 100000);
}

TEST_CASE("netstring: a frame split at every point needs more until complete") {
    std::string frame;
    append_netstring(frame, "mailbox taro@example.com");
    CHECK(frame == "24:mailbox taro@example.com,");
    for (std::size_t cut = 0; cut < frame.size(); ++cut) {
        CAPTURE(cut);
        CHECK(state(parse_netstring(std::string_view(frame).substr(0, cut), 100)) == "need more");
    }
    auto p = parse_netstring(frame, 100);
    CHECK(state(p) == "done");
    CHECK(p.payload == "mailbox taro@example.com");
}

TEST_CASE("netstring: 10,000-fold garbage stays in bounds") {
    std::string big(1000000, '7');
    CHECK(state(parse_netstring(big, 100000)) == "error");
    std::string nuls(1000000, '\0');
    CHECK(state(parse_netstring(nuls, 100000)) == "error");
}
