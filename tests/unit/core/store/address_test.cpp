#include <doctest/doctest.h>

#include <string>

#include "core/store/address.hpp"

using namespace yubin;
using namespace yubin::store;

namespace {

std::string kind_of(const Error& e) { return std::string(to_string(e.kind)); }

}  // namespace

TEST_CASE("store: parse_address accepts valid addresses, keeping case") {
    const std::string l64(64, 'a');
    const std::string label63(63, 'b');
    const std::string d255 = label63 + "." + label63 + "." + label63 + "." + std::string(60, 'c') + ".jp";
    REQUIRE(d255.size() == 255);
    struct Case { std::string in, local, domain; };
    const Case cases[] = {
        {"taro@example.com", "taro", "example.com"},
        {"Taro.Yamada@Example.COM", "Taro.Yamada", "Example.COM"},
        {"user+tag@example.com", "user+tag", "example.com"},
        {"a!#$%&'*+-/=?^_`{|}~z@example.com", "a!#$%&'*+-/=?^_`{|}~z", "example.com"},
        {"x@example.com.", "x", "example.com"},           // root dot removed
        {"x@a-b.c0.example", "x", "a-b.c0.example"},
        {"x@1.2.3.example", "x", "1.2.3.example"},
        {"x@xn--wgv71a119e.jp", "x", "xn--wgv71a119e.jp"},
        {l64 + "@example.com", l64, "example.com"},        // local part at its bound
        {"x@" + label63 + ".com", "x", label63 + ".com"},  // label at its bound
        {l64 + "@" + d255, l64, d255},                     // 320 bytes: every bound at once
        {l64 + "@" + d255 + ".", l64, d255},               // and the root dot on top
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        auto a = parse_address(c.in);
        REQUIRE_MESSAGE(a.has_value(), (a ? "" : a.error().what));
        CHECK(a->local == c.local);
        CHECK(a->domain == c.domain);
    }
}

TEST_CASE("store: parse_address rejects invalid addresses with BadInput") {
    const std::string l65(65, 'a');
    const std::string label64(64, 'b');
    const std::string label63(63, 'b');
    const std::string d256 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'c') + ".jp";
    REQUIRE(d256.size() == 256);
    struct Case { std::string in; std::string why; };
    const Case cases[] = {
        {"", "no '@'"},
        {"taro", "no '@'"},
        {"@example.com", "empty local part"},
        {"taro@", "empty domain"},
        {"taro@.", "empty domain"},
        {"a@b@example.com", "more than one '@'"},
        {".taro@example.com", "starts or ends with '.'"},
        {"taro.@example.com", "starts or ends with '.'"},
        {"ta..ro@example.com", "'..'"},
        {"\"taro\"@example.com", "quoted"},
        {"ta ro@example.com", "invalid character in local part"},
        {"ta(ro@example.com", "invalid character in local part"},
        {std::string("ta\0ro@example.com", 17), "invalid character in local part"},
        {"t\xC3\xA1ro@example.com", "non-ASCII"},
        {"taro@\xE4\xBE\x8B.jp", "non-ASCII"},
        {"taro@[192.0.2.1]", "address literals"},
        {"taro@[IPv6:2001:db8::1]", "address literals"},
        {"taro@192.0.2.1", "all digits"},
        {"taro@localhost", "at least two labels"},
        {"taro@example..com", "empty label"},
        {"taro@example.com..", "empty label"},
        {"taro@-example.com", "'-'"},
        {"taro@example-.com", "'-'"},
        {"taro@exa_mple.com", "invalid character in domain"},
        {l65 + "@example.com", "longer than 64"},
        {"x@" + label64 + ".com", "longer than 63"},
        {"x@" + d256, "longer than"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        auto a = parse_address(c.in);
        REQUIRE_FALSE(a.has_value());
        CHECK(kind_of(a.error()) == "bad input");
        CAPTURE(a.error().what);
        CHECK(a.error().what.find(c.why) != std::string::npos);
    }
}

TEST_CASE("store: parse_domain lower-cases and applies the domain rules") {
    struct Case { const char* in; const char* want; };  // want nullptr = BadInput
    const Case cases[] = {
        {"Example.COM", "example.com"},
        {"example.com.", "example.com"},
        {"MAIL.Example.co.jp", "mail.example.co.jp"},
        {"", nullptr},
        {".", nullptr},
        {"com", nullptr},
        {"[192.0.2.1]", nullptr},
        {"192.0.2.1", nullptr},
        {"exa mple.com", nullptr},
        {"example.com/x", nullptr},
        {"\xE4\xBE\x8B.jp", nullptr},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        auto d = parse_domain(c.in);
        if (c.want) {
            REQUIRE_MESSAGE(d.has_value(), (d ? "" : d.error().what));
            CHECK(*d == c.want);
        } else {
            REQUIRE_FALSE(d.has_value());
            CHECK(kind_of(d.error()) == "bad input");
        }
    }
}

TEST_CASE("store: lookup_key lower-cases both parts") {
    CHECK(lookup_key(Address{"Taro.Y", "Example.COM"}) == "taro.y@example.com");
    CHECK(lookup_key(Address{"x+Tag", "a.jp"}) == "x+tag@a.jp");
}
