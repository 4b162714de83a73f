#include "core/store/ldap_escape.hpp"

#include <doctest/doctest.h>
#include <ldap.h>

#include <string>

using namespace yubin::store;

TEST_CASE("store: ldap_filter_escape escapes RFC 4515 specials, NUL and 8-bit bytes") {
    struct Case {
        std::string in, want;
    };
    const Case cases[] = {
        {"", ""},
        {"taro@example.com", "taro@example.com"},
        {"*", "\\2a"},
        {"*)(uid=*", "\\2a\\29\\28uid=\\2a"},
        {"(", "\\28"},
        {")", "\\29"},
        {"\\", "\\5c"},
        {"\\2a", "\\5c2a"},
        {std::string("a\0b", 3), "a\\00b"},
        {"\xc3\xb6", "\\c3\\b6"},
        {"\x7f\x01\n", "\\7f\\01\\0a"},
        {"a+b=c,d;#<>\" ", "a+b=c,d;#<>\" "},  // DN specials mean nothing in a filter
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        CHECK(ldap_filter_escape(c.in) == c.want);
    }
}

TEST_CASE("store: ldap_dn_escape escapes RFC 4514 specials, NUL and 8-bit bytes") {
    struct Case {
        std::string in, want;
    };
    const Case cases[] = {
        {"", ""},
        {"taro@example.com", "taro@example.com"},
        {"a+b@example.com", "a\\+b@example.com"},
        {"a,b;c", "a\\,b\\;c"},
        {"<x>", "\\<x\\>"},
        {"\"q\"", "\\\"q\\\""},
        {"\\", "\\\\"},
        {"a=b", "a\\=b"},
        {"#x#", "\\#x#"},
        {" a b ", "\\ a b\\ "},
        {" ", "\\ "},
        {std::string("a\0b", 3), "a\\00b"},
        {"*)(uid=*", "*)(uid\\=*"},  // filter specials mean nothing in a DN
        {"\xe5\xa4\xaa", "\\e5\\a4\\aa"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        CHECK(ldap_dn_escape(c.in) == c.want);
    }
}

TEST_CASE("store: ldap_dn_escape: every byte value survives as libldap parses it back") {
    // "cn=<escaped>" parsed by libldap's own RFC 4514 parser gives one RDN
    // with one AVA whose value is exactly the input.
    std::string all;
    for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
    const std::string inputs[] = {all, " #lead", "trail ", "+", ",,", "=\\", std::string(1, '\0')};
    for (const auto& in : inputs) {
        CAPTURE(in.size());
        std::string dn = "cn=" + ldap_dn_escape(in);
        for (char c : dn) CHECK((static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));
        LDAPDN parsed = nullptr;
        REQUIRE(ldap_str2dn(dn.c_str(), &parsed, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS);
        REQUIRE(parsed != nullptr);
        REQUIRE(parsed[0] != nullptr);
        CHECK(parsed[1] == nullptr);     // one RDN: no ',' leaked
        CHECK(parsed[0][1] == nullptr);  // one AVA: no '+' leaked
        const LDAPAVA* ava = parsed[0][0];
        CHECK(std::string(ava->la_value.bv_val, ava->la_value.bv_len) == in);
        ldap_dnfree(parsed);
    }
}

TEST_CASE("store: ldap_filter_escape leaves no special byte unescaped at any input") {
    std::string all;
    for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
    std::string out = ldap_filter_escape(all);
    for (std::size_t i = 0; i < out.size(); ++i) {
        auto c = static_cast<unsigned char>(out[i]);
        CHECK((c >= 0x20 && c < 0x7f));
        CHECK(c != '*');
        CHECK(c != '(');
        CHECK(c != ')');
        if (c == '\\') {  // always followed by two hex digits
            REQUIRE(i + 2 < out.size());
            CHECK(std::isxdigit(static_cast<unsigned char>(out[i + 1])));
            CHECK(std::isxdigit(static_cast<unsigned char>(out[i + 2])));
            i += 2;
        }
    }
    // 91 printable bytes stay (95 minus * ( ) \), the other 165 become \XX.
    CHECK(out.size() == 91 + 3 * 165);
}
