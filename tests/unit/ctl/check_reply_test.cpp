// Parsers of server output used by yubinctl check: whole, split at every
// point, and garbage.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ctl/check_reply.hpp"

using namespace yubin::ctl::check;

namespace {
// Feeds LINES to a reader; returns the reply, or nullopt on error; fails the
// test if the reply completes early or not at all.
std::optional<SmtpReply> read_all(const std::vector<std::string>& lines) {
    SmtpReplyReader r;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto done = r.feed(lines[i]);
        if (!done) return std::nullopt;
        CHECK(*done == (i + 1 == lines.size()));
    }
    return r.take();
}
}  // namespace

TEST_CASE("check: SMTP replies, single and multi-line") {
    auto one = read_all({"220 mail.example.com ESMTP"});
    REQUIRE(one);
    CHECK(one->code == 220);
    CHECK(one->text() == "mail.example.com ESMTP");
    auto multi = read_all({"250-mail.example.com", "250-PIPELINING", "250-SIZE 10240000", "250 8BITMIME"});
    REQUIRE(multi);
    CHECK(multi->code == 250);
    CHECK(multi->lines.size() == 4);
    CHECK(multi->positive());
    auto bare = read_all({"250"});
    REQUIRE(bare);
    CHECK(bare->lines == std::vector<std::string>{""});
    auto neg = read_all({"552 5.3.4 Message size exceeds fixed limit"});
    REQUIRE(neg);
    CHECK_FALSE(neg->positive());
}

TEST_CASE("check: malformed SMTP replies are errors") {
    struct Case {
        std::vector<std::string> lines;
    };
    for (const auto& lines : std::vector<std::vector<std::string>>{
             {""}, {"25"}, {"abc hello"}, {"2500 x"}, {"250x"}, {"650 bad class"}, {"150 no"},
             {"250-first", "251 second"}, {"250-a", "garbage"}, {std::string("2\x00" "0 x", 6)}}) {
        CAPTURE(lines.front());
        SmtpReplyReader r;
        bool error = false;
        for (const auto& l : lines) {
            auto d = r.feed(l);
            if (!d) {
                error = true;
                break;
            }
        }
        CHECK(error);
    }
}

TEST_CASE("check: an endless multi-line reply is cut at kMaxReplyLines") {
    SmtpReplyReader r;
    std::size_t n = 0;
    for (;; ++n) {
        auto d = r.feed("250-again");
        if (!d) break;
        REQUIRE_FALSE(*d);
        REQUIRE(n < kMaxReplyLines + 1);
    }
    CHECK(n == kMaxReplyLines);
}

TEST_CASE("check: EHLO keywords") {
    auto reply = read_all({"250-mail.example.com", "250-PIPELINING", "250-SIZE 10240000", "250-starttls",
                           "250-AUTH PLAIN LOGIN", "250-AUTH=PLAIN LOGIN", "250-ENHANCEDSTATUSCODES",
                           "250 8BITMIME"});
    REQUIRE(reply);
    auto e = parse_ehlo(*reply);
    CHECK(e.has("PIPELINING"));
    CHECK(e.has("STARTTLS"));  // case-insensitive
    CHECK(e.has("8BITMIME"));
    CHECK_FALSE(e.has("SMTPUTF8"));
    CHECK_FALSE(e.has("mail.example.com"));  // the greeting line is no keyword
    REQUIRE(e.size());
    CHECK(*e.size() == 10240000u);
    auto mechs = e.auth_mechanisms();
    CHECK(mechs == std::vector<std::string>{"PLAIN", "LOGIN", "PLAIN", "LOGIN"});

    auto nosize = parse_ehlo(*read_all({"250-x", "250 SIZE"}));
    CHECK(nosize.has("SIZE"));
    CHECK_FALSE(nosize.size());  // "SIZE" alone: no fixed limit
    CHECK_FALSE(parse_ehlo(*read_all({"250-x", "250 SIZE -5"})).size());
    CHECK_FALSE(parse_ehlo(*read_all({"250-x", "250 SIZE 99999999999999999999999"})).size());
    CHECK(parse_ehlo(*read_all({"250-x", "250 AUTH"})).auth_mechanisms().empty());
}

TEST_CASE("check: the banner test") {
    struct Case {
        const char* banner;
        bool reveals;
    };
    for (auto c : {Case{"mail.example.com ESMTP", false},
                   Case{"mail.example.com ESMTP ready", false},
                   Case{"mail.example.com ESMTP Postfix", true},
                   Case{"mail.example.com ESMTP Postfix (Debian/GNU)", true},
                   Case{"mail.example.com ESMTP Sendmail 8.15.2/8.15.2; Sun, 1 Jan 2026 10:00:00 +0900", true},
                   Case{"mail.example.com ESMTP Exim 4.96 Sun, 01 Jan 2026", true},
                   Case{"mx.example.com Microsoft ESMTP MAIL Service ready", true},
                   Case{"mail.example.com ESMTP v3.7.11", true},
                   Case{"mail.example.com ESMTP OpenSMTPD", true},
                   Case{"postfix.example.com ESMTP", false},  // the host name may say anything
                   Case{"10.1.2.3", false},
                   Case{"", false}}) {
        CAPTURE(c.banner);
        CHECK(banner_reveals(c.banner).has_value() == c.reveals);
    }
    CHECK(*banner_reveals("mail ESMTP Exim 4.96") == "software name \"exim\"");
    CHECK(*banner_reveals("mail ESMTP ready 2.3.1") == "version \"2.3.1\"");
}

TEST_CASE("check: IMAP response lines") {
    auto g = parse_imap_line("* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.");
    CHECK(g.kind == ImapLine::Kind::Untagged);
    CHECK(g.status == "OK");
    CHECK(g.text == "[CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.");
    auto data = parse_imap_line("* SEARCH 2 7");
    CHECK(data.kind == ImapLine::Kind::Untagged);
    CHECK(data.status.empty());
    CHECK(imap_search_numbers(data.text) == std::vector<std::uint32_t>{2, 7});
    CHECK(imap_search_numbers("SEARCH").empty());
    CHECK(imap_search_numbers("3 EXISTS").empty());
    CHECK(imap_search_numbers("search 1 x -2 99999999999 4") == std::vector<std::uint32_t>{1, 4});
    auto t = parse_imap_line("y12 no [AUTHENTICATIONFAILED] Authentication failed.");
    CHECK(t.kind == ImapLine::Kind::Tagged);
    CHECK(t.tag == "y12");
    CHECK(t.status == "NO");
    CHECK(parse_imap_line("+ go ahead").kind == ImapLine::Kind::Continuation);
    CHECK(parse_imap_line("+").kind == ImapLine::Kind::Continuation);
    for (const char* bad : {"", "y1", "y1 MAYBE done", "(x) OK", "y\"1 OK", " OK x", "y1  OK"}) {
        CAPTURE(bad);
        CHECK(parse_imap_line(bad).kind == ImapLine::Kind::Malformed);
    }
}

TEST_CASE("check: IMAP literals and quoting") {
    auto none = imap_literal_length("* OK hello", 100);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    auto lit = imap_literal_length("* 1 FETCH (BODY[] {42}", 100);
    REQUIRE(lit);
    CHECK(**lit == 42u);
    auto plus = imap_literal_length("y1 LOGIN {5+}", 100);
    REQUIRE(plus);
    CHECK(**plus == 5u);
    CHECK_FALSE(imap_literal_length("* x {101}", 100));
    CHECK_FALSE(imap_literal_length("* x {-1}", 100));
    CHECK_FALSE(imap_literal_length("* x {}", 100));
    CHECK_FALSE(imap_literal_length("* x {1a}", 100));
    CHECK(imap_quote("taro@example.jp") == std::optional<std::string>("\"taro@example.jp\""));
    CHECK(imap_quote("a\"b\\c") == std::optional<std::string>("\"a\\\"b\\\\c\""));
    CHECK_FALSE(imap_quote("a\r\nb"));
    CHECK_FALSE(imap_quote(std::string("a\0b", 3)));
    CHECK_FALSE(imap_quote("パスワード"));
}

TEST_CASE("check: POP3 status lines") {
    CHECK(parse_pop3_status("+OK Dovecot ready.").kind == Pop3Status::Kind::Ok);
    CHECK(parse_pop3_status("+OK Dovecot ready.").text == "Dovecot ready.");
    CHECK(parse_pop3_status("+OK").kind == Pop3Status::Kind::Ok);
    CHECK(parse_pop3_status("-ERR [AUTH] Authentication failed.").kind == Pop3Status::Kind::Err);
    CHECK(parse_pop3_status("+ ").kind == Pop3Status::Kind::Continuation);
    for (const char* bad : {"", "OK", "+OKAY", "-ERROR", "ERR", "* OK", "+ok"}) {
        CAPTURE(bad);
        CHECK(parse_pop3_status(bad).kind == Pop3Status::Kind::Malformed);
    }
}

TEST_CASE("check: base64 for SASL") {
    struct Case {
        std::string plain, encoded;
    };
    for (const auto& c : {Case{"", ""}, Case{"f", "Zg=="}, Case{"fo", "Zm8="}, Case{"foo", "Zm9v"},
                          Case{"foob", "Zm9vYg=="}, Case{std::string("\0taro\0pw", 8), "AHRhcm8AcHc="}}) {
        CAPTURE(c.encoded);
        CHECK(base64_encode(c.plain) == c.encoded);
        CHECK(base64_decode(c.encoded) == std::optional<std::string>(c.plain));
    }
    for (const char* bad : {"Z", "Zg=", "Z===", "Zg==Zg==", "Zm9v!", "=Zg=", "Zm=v"}) {
        CAPTURE(bad);
        CHECK_FALSE(base64_decode(bad));
    }
}
