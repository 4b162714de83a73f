// The saslauthd codec: counted strings, bounds, splits, and the one mapping of
// authentication outcomes to answers.
#include "dovecot-auth/authd/saslauthd.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace yubin::authd;

namespace {

std::string request(std::string_view login, std::string_view password, std::string_view service,
                    std::string_view realm) {
    std::string out;
    append_counted(out, login);
    append_counted(out, password);
    append_counted(out, service);
    append_counted(out, realm);
    return out;
}

}  // namespace

TEST_CASE("saslauthd: a whole request") {
    auto req = request("taro@example.com", "pass word", "smtp", "");
    auto p = parse_saslauthd_request(req, kSaslauthdMaxField);
    REQUIRE(p.state == SaslauthdParse::State::Done);
    CHECK(p.fields[0] == "taro@example.com");
    CHECK(p.fields[1] == "pass word");
    CHECK(p.fields[2] == "smtp");
    CHECK(p.fields[3] == "");
    CHECK(p.consumed == req.size());
}

TEST_CASE("saslauthd: counted strings are big-endian") {
    std::string out;
    append_counted(out, std::string(0x0102, 'a'));
    CHECK(static_cast<unsigned char>(out[0]) == 0x01);
    CHECK(static_cast<unsigned char>(out[1]) == 0x02);
    CHECK(out.size() == 0x0104);
    std::string ok;
    append_counted(ok, "OK");
    CHECK(ok == std::string("\0\2OK", 4));
}

TEST_CASE("saslauthd: split at every point needs more") {
    auto req = request("a@b.example", std::string("p\0w\xff", 4), "smtp", "realm.example");
    for (std::size_t cut = 0; cut < req.size(); ++cut) {
        CAPTURE(cut);
        CHECK(parse_saslauthd_request(std::string_view(req).substr(0, cut), kSaslauthdMaxField)
                  .state == SaslauthdParse::State::NeedMore);
    }
    auto p = parse_saslauthd_request(req, kSaslauthdMaxField);
    REQUIRE(p.state == SaslauthdParse::State::Done);
    CHECK(p.fields[1] == std::string("p\0w\xff", 4));
}

TEST_CASE("saslauthd: a field over the bound is refused before its bytes arrive") {
    std::string in;
    append_counted(in, "taro@example.com");
    in += "\x04\x01";  // 1025
    CHECK(parse_saslauthd_request(in, 1024).state == SaslauthdParse::State::Error);
    std::string at;
    append_counted(at, "x");
    append_counted(at, std::string(1024, 'p'));
    append_counted(at, "smtp");
    append_counted(at, "");
    CHECK(parse_saslauthd_request(at, 1024).state == SaslauthdParse::State::Done);
    CHECK(parse_saslauthd_request(std::string(100000, '\xff'), 1024).state ==
          SaslauthdParse::State::Error);
}

TEST_CASE("saslauthd: login and realm") {
    CHECK(saslauthd_login("taro@example.com", "") == "taro@example.com");
    CHECK(saslauthd_login("taro@example.com", "other.example") == "taro@example.com");
    CHECK(saslauthd_login("taro", "example.com") == "taro@example.com");
    CHECK(saslauthd_login("taro", "") == "taro");
}

TEST_CASE("saslauthd: outcomes map to OK, one NO, or no answer for temporary failures") {
    using yubin::auth::Outcome;
    CHECK(to_saslauthd_answer(Outcome::Ok).payload == "OK");
    for (auto o : {Outcome::UserUnknown, Outcome::PasswordMismatch, Outcome::Disabled}) {
        auto a = to_saslauthd_answer(o);
        CHECK(a.reply);
        CHECK(a.payload == "NO authentication failed");
    }
    CHECK_FALSE(to_saslauthd_answer(Outcome::TempFail).reply);
}
