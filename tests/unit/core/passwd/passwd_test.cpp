#include "core/passwd/passwd.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "core/passwd/codec.hpp"
#include "core/passwd/schemes.hpp"
#include "core/util/limits.hpp"

using namespace yubin;
using namespace yubin::passwd;

namespace {

const std::string kUtf8Password = "Pa55 w\xc3\xb6rd/\xe6\x97\xa5\xe6\x9c\xac";  // "Pa55 wörd/日本"

struct Golden {
    std::string plain;
    std::string stored;
};

// Made once and pasted: `doveadm pw -s SCHEME -r 1 -p PASSWORD` (Dovecot
// 2.3.19), Python's crypt for DES and rounds=, and libargon2's reference
// argon2_hash (through ctypes) for the cheap Argon2 parameter sets.
const Golden kGolden[] = {
    {"secret",
     "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$fbFYgUkXWpklcif1OlFScQ$"
     "ZV9Q1UBOYDaPEySqNdqmgpWR4IRrT2QyNIaF1pSvx20"},
    {"secret",
     "{ARGON2ID}$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ4$CijozQBSSouj/"
     "Cf5uTEDH9T1A9pLKdTAOPA4bCKgblk"},
    {kUtf8Password,
     "{ARGON2ID}$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHRzYWx0$"
     "D7T8Ws1uH/E3oTtOwhvO9ORZZdk/D7VgsYspZqZdu+o"},
    {"secret",
     "{ARGON2ID}$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5oQ"},
    {"secret",
     "{ARGON2I}$argon2i$v=19$m=16,t=2,p=2$c29tZXNhbHQ4$md+wANsSIog99K4RBoXl/"
     "xLi0ImtJG6k4w+O64+PTrU"},
    {"secret",
     "{SHA512-CRYPT}$6$rounds=1000$FUWbzBwh381aIfUB$tX.qTEDiTt/"
     "0YypdsIYPH1MICX5NqLKSSn29TikNtIzpUuMQ7"
     "ftYtgmJBkBbPi5s8uLJqofl1opTIXPKQhZ0r1"},
    {"secret",
     "{SHA512-CRYPT}$6$FHLF6huJTy2agHOg$wNP3CNcCRMnDb4SBuJ8ZEOfIGLAqaYHc3O1gAcO6F5v23jan680hn5DH."
     "ahGS7"
     "9z459SE5V8UzCBg669QLx7O."},
    {kUtf8Password,
     "{SHA512-CRYPT}$6$rounds=1000$dZ.QAr64xKpxaLOl$"
     "gkKQ6ZBXHo9bpLOY4hOq5d4JV8ZtIMBdY95EYTksy7tOd4HdgtQ"
     "mvLAtOiC1v08yBcwnR/nK1YBAvQUVJSyWa/"},
    {"secret", "{BLF-CRYPT}$2y$04$FhQOJ0ye4nyVTysKUvBtoenLJ.NtDm1mCB0KxPCE8lU03ny9AgBa."},
    {kUtf8Password, "{BLF-CRYPT}$2y$04$nIJgf9XxuoGIQdsg/6FoT.eVKcq.6BA0hAp.nnlVsgn6PQhTO61Ue"},
    {"secret",
     "{SSHA512}CU8dMmIKu8Hu0+H+QrnpBy5AnMkWg8GvHPaksOg7Nm8VjiCB+qxc9v/Bf7N8V2pnnY58o3w1/"
     "0XicXOSM4dPxQS"
     "PXHs="},
    {kUtf8Password,
     "{SSHA512}AsX963Oi1PEpOc6MgiGevFHtHz6QD+nzYIlgUCT5r2C6LIrMe/"
     "0Scm1rvxGaPwgxUpBRLEyZqJtQi8oB+AvPiMr"
     "Rd8g="},
    {"secret",
     "{SHA512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/"
     "isg=="},
    // The same digest as 128 hex digits, which Dovecot also reads.
    {"secret",
     "{SHA512}"
     "bd2b1aaf7ef4f09be9f52ce2d8d599674d81aa9d6a4421696dc4d93dd0619d682ce56b4d64a9ef097761ced99e0f"
     "67265b5f76085e5b0ee7ca4696b2ad6fe2b2"},
    {kUtf8Password,
     "{SHA512}"
     "3DbkXVrhaIf97zbJvZvJzgX5QE7TwmBPxhtlAYxpEgyJT5IhplKyMxbLuI7Pv2I4WWtiKI2KnAug2imOymsHEg=="},
    {"secret",
     "{SHA256-CRYPT}$5$rounds=1000$oHR0YRaI2yG5qPet$jgYjFvlREcAwcwZsEYxFSG7Ic1E8iTwxZQb.n.U9XUB"},
    {kUtf8Password,
     "{SHA256-CRYPT}$5$rounds=1000$61V5c4redpo6S2YW$4bV.MQpF/RLstn9eqglifuFj9vG7H74U/A8ccAsLo0D"},
    {"secret", "{MD5-CRYPT}$1$ExIr4Vhy$GJUcF6pD6wH24AGkQpxoK0"},
    {kUtf8Password, "{MD5-CRYPT}$1$x3emuj5J$VeJRUrf8ExrAWZgcf08hZ/"},
    {"secret", "{CRYPT}$2y$04$yVOPhvIQfuAIUwZB3VG3iOn0r6v2GHxGU3lIFEWw7m8SSF.WdOdTW"},
    {"secret", "{CRYPT}abNANd1rDfiNc"},  // traditional DES
    {"secret",
     "{CRYPT}$6$rounds=1000$saltsalt$LAV5VE5Y7w1d73x1mFNspYWUpazfmwv2SoepNXNKJ/otop/"
     "Zok96Hr8Q13LEv0DRY/x8"
     "v0/crpIjl8NJSAqXV/"},
    {"secret", "{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56"},
    {"secret", "{CRAM-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56"},
    {kUtf8Password, "{HMAC-MD5}014a39c800917d0ad5cd3995d5e68932d060b051046fc11ec393be1fc4091473"},
    {"secret", "{PLAIN}secret"},
    {"secret", "{CLEARTEXT}secret"},
    {kUtf8Password, "{PLAIN}" + kUtf8Password},
};

}  // namespace

TEST_CASE("passwd: golden hashes verify") {
    for (const auto& g : kGolden) {
        CAPTURE(g.stored);
        auto v = verify(g.plain, g.stored, "ARGON2ID");
        REQUIRE_MESSAGE(v.has_value(), "got error ", v.error().what, ", want a match");
        CHECK_MESSAGE(v->match, "got no match, want a match");
    }
}

TEST_CASE("passwd: wrong passwords fail for every golden hash") {
    for (const auto& g : kGolden) {
        const std::string wrongs[] = {g.plain + "x", "S" + g.plain.substr(1)};
        for (const auto& w : wrongs) {
            CAPTURE(g.stored);
            CAPTURE(w);
            auto v = verify(w, g.stored, "ARGON2ID");
            REQUIRE_MESSAGE(v.has_value(), "got error ", v.error().what, ", want a mismatch");
            CHECK_MESSAGE(!v->match, "got a match, want none");
            CHECK(!v->needs_rehash);
        }
    }
}

TEST_CASE("passwd: round trip for every creatable scheme") {
    struct Case {
        std::string_view scheme;
        std::string_view want_prefix;  // of the stored string
    };
    const Case cases[] = {
        {"ARGON2ID", "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$"},
        {"SHA512-CRYPT", "{SHA512-CRYPT}$6$"},
        {"BLF-CRYPT", "{BLF-CRYPT}$2y$10$"},
        {"SSHA512", "{SSHA512}"},
    };
    for (const auto& c : cases) {
        for (const std::string& plain : {std::string("secret"), kUtf8Password}) {
            // ARGON2ID is the slow one; one password is enough for it.
            if (c.scheme == "ARGON2ID" && plain == "secret") continue;
            CAPTURE(c.scheme);
            CAPTURE(plain);
            CHECK(can_create(c.scheme));
            auto h = hash(plain, c.scheme);
            REQUIRE_MESSAGE(h.has_value(), "got error ", h.error().what);
            CHECK_MESSAGE(h->starts_with(c.want_prefix), "got ", *h, ", want prefix ",
                          c.want_prefix);
            CHECK(scheme_of(*h) == c.scheme);
            auto ok = verify(plain, *h, c.scheme);
            REQUIRE(ok.has_value());
            CHECK(ok->match);
            CHECK(!ok->needs_rehash);
            auto bad = verify(plain + "!", *h, c.scheme);
            REQUIRE(bad.has_value());
            CHECK(!bad->match);
            // Salted: the same password never gives the same string twice.
            if (c.scheme != "ARGON2ID") {  // keep the test fast; ARGON2ID's salt is checked below
                auto again = hash(plain, c.scheme);
                REQUIRE(again.has_value());
                CHECK(*again != *h);
            }
        }
    }
}

TEST_CASE("passwd: created hashes have the documented shapes") {
    auto a = hash("secret", "ARGON2ID");
    REQUIRE(a.has_value());
    // {ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$<16-byte salt>$<32-byte hash>
    std::string_view rest = std::string_view(*a).substr(a->rfind("p=1$") + 4);
    auto salt = base64_decode(rest.substr(0, rest.find('$')));
    auto digest = base64_decode(rest.substr(rest.find('$') + 1));
    REQUIRE(salt.has_value());
    REQUIRE(digest.has_value());
    CHECK(salt->size() == kArgon2SaltBytes);
    CHECK(digest->size() == kArgon2HashBytes);
    CHECK(rest.find('=') == std::string_view::npos);  // unpadded, as libsodium writes it

    auto s = hash("secret", "SHA512-CRYPT");
    REQUIRE(s.has_value());
    CHECK(s->find("rounds=") == std::string::npos);  // the default 5000, implicit
    // "{SHA512-CRYPT}" + "$6$" + 16 salt + "$" + 86 hash characters
    CHECK(s->size() == 14 + 3 + 16 + 1 + 86);

    auto b = hash("secret", "BLF-CRYPT");
    REQUIRE(b.has_value());
    CHECK(b->size() == 11 + 60);

    auto x = hash("secret", "SSHA512");
    REQUIRE(x.has_value());
    auto raw = base64_decode(std::string_view(*x).substr(9));
    REQUIRE(raw.has_value());
    CHECK(raw->size() == kSha512Bytes + kSsha512SaltBytes);
}

TEST_CASE("passwd: verify-only schemes cannot create") {
    const char* cases[] = {"CRAM-MD5", "HMAC-MD5", "PLAIN",        "CLEARTEXT", "MD5-CRYPT",
                           "CRYPT",    "SHA512",   "SHA256-CRYPT", "ARGON2I"};
    for (const char* c : cases) {
        CAPTURE(c);
        CHECK(can_verify(c));
        CHECK(!can_create(c));
        auto h = hash("secret", c);
        REQUIRE(!h.has_value());
        CHECK(h.error().kind == ErrorKind::BadInput);
    }
    for (const char* c : {"UNKNOWN", "", "SHA512-CRYPT.HEX", "MD5", "SSHA"}) {
        CAPTURE(c);
        CHECK(!can_verify(c));
        CHECK(!can_create(c));
        auto h = hash("secret", c);
        REQUIRE(!h.has_value());
        CHECK(h.error().kind == ErrorKind::BadInput);
    }
}

TEST_CASE("passwd: malformed stored hashes are BadInput, never a match") {
    const std::string cases[] = {
        "",
        "secret",
        "{UNKNOWN}x",
        "{SHA512-CRYPT",
        "{}secret",
        "{SHA512-CRYPT}",
        // truncated
        "{SHA512-CRYPT}$6$rounds=1000$FUWbzBwh381aIfUB$tX.qTEDiTt",
        "{SHA512-CRYPT}$6$rounds=1000$FUWbzBwh381aIfUB",
        "{SHA512-CRYPT}$6$rounds=1000$FUWbzBwh381aIfUB$tX.qTEDiTt/"
        "0YypdsIYPH1MICX5NqLKSSn29TikNtIzpUuMQ7"
        "ftYtgmJBkBbPi5s8uLJqofl1opTIXPKQhZ0r",
        "{BLF-CRYPT}$2y$04$FhQOJ0ye4nyVTysKUvBtoenLJ.NtDm1mCB0KxPCE8lU03ny9AgBa",
        "{MD5-CRYPT}$1$ExIr4Vhy$GJUcF6pD6wH24AGkQpxoK",
        "{SHA256-CRYPT}$5$rounds=1000$oHR0YRaI2yG5qPet$",
        "{CRYPT}a",
        "{CRYPT}*",
        "{CRYPT}!",
        // the family does not match the scheme name
        "{SHA512-CRYPT}$1$ExIr4Vhy$GJUcF6pD6wH24AGkQpxoK0",
        "{MD5-CRYPT}$2y$04$FhQOJ0ye4nyVTysKUvBtoenLJ.NtDm1mCB0KxPCE8lU03ny9AgBa.",
        "{BLF-CRYPT}$6$rounds=1000$FUWbzBwh381aIfUB$tX.qTEDiTt/"
        "0YypdsIYPH1MICX5NqLKSSn29TikNtIzpUuMQ7"
        "ftYtgmJBkBbPi5s8uLJqofl1opTIXPKQhZ0r1",
        // costs past the bounds
        "{SHA512-CRYPT}$6$rounds=1000001$FUWbzBwh381aIfUB$tX.qTEDiTt/"
        "0YypdsIYPH1MICX5NqLKSSn29TikNtIzpUu"
        "MQ7ftYtgmJBkBbPi5s8uLJqofl1opTIXPKQhZ0r1",
        "{SHA512-CRYPT}$6$rounds=$FUWbzBwh381aIfUB$x",
        "{BLF-CRYPT}$2y$31$FhQOJ0ye4nyVTysKUvBtoenLJ.NtDm1mCB0KxPCE8lU03ny9AgBa.",
        "{CRYPT}$2y$17$FhQOJ0ye4nyVTysKUvBtoenLJ.NtDm1mCB0KxPCE8lU03ny9AgBa.",
        // hex
        "{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b5",
        "{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b",
        "{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b5g",
        "{CRAM-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56 ",
        "{CRAM-MD5}",
        // base64
        "{SHA512}"
        "vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/is*==",
        "{SHA512}"
        "vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW==",
        "{SHA512}",
        "{SHA512}"
        "bd2b1aaf7ef4f09be9f52ce2d8d599674d81aa9d6a4421696dc4d93dd0619d682ce56b4d64a9ef097761ced99e"
        "0"
        "f67265b5f76085e5b0ee7ca4696b2ad6fe2bz",
        "{SSHA512}CU8dMmIKu8Hu0+H+QrnpBy5AnMkWg8GvHPaksOg7Nm8VjiCB+qxc9v/Bf7N8V2pnnY58o3w1/"
        "0XicXOSM4dPxQ"
        "SPXH!=",
        // a bare SHA-512 digest has no salt
        "{SSHA512}"
        "vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/isg==",
        "{SSHA512}",
        // argon2
        "{ARGON2ID}",
        "{ARGON2ID}$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg",
        "{ARGON2ID}$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5oQ$",
        "{ARGON2ID}argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5oQ",
        "{ARGON2ID}$argon2id$v=16$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5oQ",
        "{ARGON2ID}$argon2id$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5oQ",
        "{ARGON2ID}$argon2id$v=19$t=1,m=64,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5oQ",
        "{ARGON2ID}$argon2id$v=19$m=64,t=1$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5oQ",
        "{ARGON2ID}$argon2id$v=19$m=64,t=0,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5oQ",
        "{ARGON2ID}$argon2id$v=19$m=64,t=1,p=0$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5oQ",
        "{ARGON2ID}$argon2id$v=19$m=4,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5oQ",
        "{ARGON2ID}$argon2id$v=19$m=1048577,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5oQ",
        "{ARGON2ID}$argon2id$v=19$m=64,t=33,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5oQ",
        "{ARGON2ID}$argon2id$v=19$m=64,t=1,p=17$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5oQ",
        "{ARGON2ID}$argon2id$v=19$m=99999999999,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$"
        "WjofHI4gZ82TE7jlMux5oQ",
        "{ARGON2ID}$argon2id$v=19$m=+64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5oQ",
        "{ARGON2ID}$argon2id$v=19$m=64,t=1,p=1$c2FsdA$WjofHI4gZ82TE7jlMux5oQ",    // 4-byte salt
        "{ARGON2ID}$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4g",  // 6-byte hash
        "{ARGON2ID}$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5o*",
        "{ARGON2ID}$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2Rl!g$WjofHI4gZ82TE7jlMux5oQ",
        "{ARGON2ID}$argon2i$v=19$m=16,t=2,p=2$c29tZXNhbHQ4$md+wANsSIog99K4RBoXl/"
        "xLi0ImtJG6k4w+O64+PTrU",
        "{ARGON2I}$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WjofHI4gZ82TE7jlMux5oQ",
        // longer than any stored hash may be
        "{PLAIN}" + std::string(kMaxStoredBytes, 's'),
    };
    for (const auto& c : cases) {
        CAPTURE(c);
        for (std::string_view plain : {"secret", ""}) {
            CAPTURE(plain);
            auto v = verify(plain, c, "ARGON2ID");
            REQUIRE_MESSAGE(!v.has_value(), "got match=", v->match, ", want BadInput");
            CHECK_MESSAGE(v.error().kind == ErrorKind::BadInput, "got kind ",
                          to_string(v.error().kind), " (", v.error().what, "), want BadInput");
        }
    }
}

TEST_CASE("passwd: needs_rehash") {
    const std::string sha512crypt =
        "{SHA512-CRYPT}$6$rounds=1000$FUWbzBwh381aIfUB$tX.qTEDiTt/"
        "0YypdsIYPH1MICX5NqLKSSn29TikNtIzpUuMQ7"
        "ftYtgmJBkBbPi5s8uLJqofl1opTIXPKQhZ0r1";
    const std::string argon2id =
        "{ARGON2ID}$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ4$CijozQBSSouj/"
        "Cf5uTEDH9T1A9pLKdTAOPA4bCKgblk";
    const std::string hmac =
        "{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56";
    struct Case {
        std::string plain, stored, default_scheme;
        bool want_match, want_rehash;
    };
    const Case cases[] = {
        {"secret", sha512crypt, "SHA512-CRYPT", true, false},
        {"secret", sha512crypt, "sha512-crypt", true, false},
        {"secret", sha512crypt, "ARGON2ID", true, true},
        {"secret", argon2id, "ARGON2ID", true, false},
        {"secret", argon2id, "SHA512-CRYPT", true, true},
        {"secret", hmac, "ARGON2ID", true, true},
        {"secret", hmac, "HMAC-MD5", true, true},  // verify-only: always
        {"secret", "{PLAIN}secret", "PLAIN", true, true},
        {"secret",
         "{SSHA512}CU8dMmIKu8Hu0+H+QrnpBy5AnMkWg8GvHPaksOg7Nm8VjiCB+qxc9v/Bf7N8V2pnnY58o3w1/"
         "0XicXOSM4dPxQSPXHs=",
         "SSHA512", true, false},
        {"wrong", sha512crypt, "ARGON2ID", false, false},
        {"wrong", hmac, "ARGON2ID", false, false},
        // An empty password never matches, even an empty stored one.
        {"", "{PLAIN}", "ARGON2ID", false, false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.stored);
        CAPTURE(c.default_scheme);
        auto v = verify(c.plain, c.stored, c.default_scheme);
        REQUIRE_MESSAGE(v.has_value(), "got error ", v.error().what);
        CHECK_MESSAGE(v->match == c.want_match, "got match=", v->match, ", want ", c.want_match);
        CHECK_MESSAGE(v->needs_rehash == c.want_rehash, "got needs_rehash=", v->needs_rehash,
                      ", want ", c.want_rehash);
    }
}

TEST_CASE("passwd: scheme names are case-insensitive") {
    struct Case {
        std::string stored;
        std::string want_scheme;
    };
    const Case cases[] = {
        {"{sha512-crypt}$6$rounds=1000$FUWbzBwh381aIfUB$tX.qTEDiTt/"
         "0YypdsIYPH1MICX5NqLKSSn29TikNtIzpUuMQ7"
         "ftYtgmJBkBbPi5s8uLJqofl1opTIXPKQhZ0r1",
         "SHA512-CRYPT"},
        {"{Hmac-Md5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56", "HMAC-MD5"},
        {"{plain}secret", "PLAIN"},
        {"{argon2id}$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ4$CijozQBSSouj/"
         "Cf5uTEDH9T1A9pLKdTAOPA4bCKgblk",
         "ARGON2ID"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.stored);
        CHECK(scheme_of(c.stored) == c.want_scheme);
        auto v = verify("secret", c.stored, c.want_scheme);
        REQUIRE(v.has_value());
        CHECK(v->match);
    }
    for (std::string_view s : {"argon2id", "Sha512-Crypt", "blf-crypt", "ssha512"}) {
        CAPTURE(s);
        CHECK(can_create(s));
        CHECK(can_verify(s));
    }
    auto h = hash("secret", "ssha512");
    REQUIRE(h.has_value());
    CHECK(h->starts_with("{SSHA512}"));
}

TEST_CASE("passwd: scheme_of") {
    struct Case {
        std::string_view stored, want;
    };
    const Case cases[] = {
        {"{SHA512-CRYPT}$6$x", "SHA512-CRYPT"},
        {"{blf-crypt}$2y$", "BLF-CRYPT"},
        {"{PLAIN}{x}", "PLAIN"},
        {"{UNKNOWN}", "UNKNOWN"},
        {"$6$abc", ""},
        {"", ""},
        {"{", ""},
        {"{PLAIN", ""},
        {"{}x", ""},
        {" {PLAIN}x", ""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.stored);
        std::string got = scheme_of(c.stored);
        CHECK_MESSAGE(got == c.want, "got ", got, ", want ", c.want);
    }
}

TEST_CASE("passwd: password length and content bounds") {
    const std::string at_bound(limits::kMaxPasswordBytes, 'p');
    const std::string past_bound(limits::kMaxPasswordBytes + 1, 'p');
    const std::string crypt_at_bound(kMaxCryptPasswordBytes, 'p');
    const std::string crypt_past_bound(kMaxCryptPasswordBytes + 1, 'p');
    const std::string with_nul("sec\0ret", 7);

    struct Create {
        std::string plain;
        std::string_view scheme;
        bool want_ok;
    };
    const Create creates[] = {
        {at_bound, "SSHA512", true},
        {past_bound, "SSHA512", false},
        {past_bound, "ARGON2ID", false},
        {crypt_at_bound, "SHA512-CRYPT", true},
        {crypt_past_bound, "SHA512-CRYPT", false},
        {crypt_past_bound, "BLF-CRYPT", false},
        {with_nul, "SSHA512", false},
        {with_nul, "SHA512-CRYPT", false},
        {"", "SSHA512", false},
        {"", "ARGON2ID", false},
    };
    for (const auto& c : creates) {
        CAPTURE(c.plain.size());
        CAPTURE(c.scheme);
        auto h = hash(c.plain, c.scheme);
        CHECK_MESSAGE(h.has_value() == c.want_ok, "got ok=", h.has_value(), ", want ", c.want_ok);
        if (h) {
            auto v = verify(c.plain, *h, "ARGON2ID");
            REQUIRE(v.has_value());
            CHECK(v->match);
        } else {
            CHECK(h.error().kind == ErrorKind::BadInput);
        }
    }

    struct Verify {
        std::string plain, stored;
    };
    const Verify bad_verifies[] = {
        {past_bound, "{PLAIN}" + past_bound},
        {past_bound,
         "{SSHA512}CU8dMmIKu8Hu0+H+QrnpBy5AnMkWg8GvHPaksOg7Nm8VjiCB+qxc9v/Bf7N8V2pnnY58o3w1/"
         "0XicXOSM4dPxQSPXHs="},
        {crypt_past_bound, "{MD5-CRYPT}$1$ExIr4Vhy$GJUcF6pD6wH24AGkQpxoK0"},
        {with_nul, "{PLAIN}" + with_nul},
        {with_nul, "{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56"},
    };
    for (const auto& c : bad_verifies) {
        CAPTURE(c.plain.size());
        CAPTURE(c.stored.substr(0, 20));
        auto v = verify(c.plain, c.stored, "ARGON2ID");
        REQUIRE_MESSAGE(!v.has_value(), "got match=", v->match, ", want BadInput");
        CHECK(v.error().kind == ErrorKind::BadInput);
    }
    // At the bound a {PLAIN} entry still verifies.
    auto v = verify(at_bound, "{PLAIN}" + at_bound, "ARGON2ID");
    REQUIRE(v.has_value());
    CHECK(v->match);
}

TEST_CASE("passwd: ct_equal") {
    CHECK(ct_equal("", ""));
    CHECK(ct_equal("abc", "abc"));
    CHECK(!ct_equal("abc", "abd"));
    CHECK(!ct_equal("abc", "ab"));
    CHECK(!ct_equal("", "a"));
}
