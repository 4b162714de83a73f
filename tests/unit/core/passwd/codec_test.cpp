#include "core/passwd/codec.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>

using namespace yubin::passwd;

TEST_CASE("passwd: base64 encodes the RFC 4648 vectors") {
    struct Case {
        std::string in, padded, unpadded;
    };
    const Case cases[] = {
        {"", "", ""},
        {"f", "Zg==", "Zg"},
        {"fo", "Zm8=", "Zm8"},
        {"foo", "Zm9v", "Zm9v"},
        {"foob", "Zm9vYg==", "Zm9vYg"},
        {"fooba", "Zm9vYmE=", "Zm9vYmE"},
        {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
        {std::string("\xff\xfe\x00\x3e\x3f", 5), "//4APj8=", "//4APj8"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        CHECK_MESSAGE(base64_encode(c.in) == c.padded, "got ", base64_encode(c.in), ", want ",
                      c.padded);
        CHECK(base64_encode(c.in, Padding::Without) == c.unpadded);
        auto back = base64_decode(c.padded);
        REQUIRE(back.has_value());
        CHECK(*back == c.in);
        auto back2 = base64_decode(c.unpadded);
        REQUIRE(back2.has_value());
        CHECK(*back2 == c.in);
    }
}

TEST_CASE("passwd: base64 decode rejects what no encoder writes") {
    const char* cases[] = {
        "Z",         // one leftover character
        "Zg=",       // padding that does not complete a quartet
        "Zg===",     // too much padding
        "Z===",      //
        "Zm9v\n",    // line break
        "Zm 9v",     // space
        "Zm9*",      // outside the alphabet
        "Zm9v-_",    // URL-safe alphabet
        "Zg==Zg==",  // padding in the middle
        "=",         //
        "==",        //
    };
    for (const char* c : cases) {
        CAPTURE(c);
        auto got = base64_decode(c);
        CHECK_MESSAGE(!got.has_value(), "got a decoding of ", *got, ", want none");
    }
    // An embedded NUL byte is outside the alphabet too.
    CHECK_FALSE(base64_decode(std::string_view("Zm\0v", 4)).has_value());
}

TEST_CASE("passwd: hex round trip and rejects") {
    CHECK(hex_encode(std::string("\x00\x01\xab\xff", 4)) == "0001abff");
    struct Case {
        std::string in;
        std::optional<std::string> want;
    };
    const Case cases[] = {
        {"", std::string()},
        {"0001abff", std::string("\x00\x01\xab\xff", 4)},
        {"0001ABFF", std::string("\x00\x01\xab\xff", 4)},
        {"0", std::nullopt},
        {"0g", std::nullopt},
        {"0 ", std::nullopt},
        {"+1", std::nullopt},
        {std::string("0\0", 2), std::nullopt},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        auto got = hex_decode(c.in);
        CHECK(got == c.want);
    }
}
