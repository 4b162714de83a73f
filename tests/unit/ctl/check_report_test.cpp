// The report of yubinctl check and the certificate judgement.
#include <doctest/doctest.h>

#include <sstream>

#include "ctl/check.hpp"
#include "ctl/check_report.hpp"

using namespace yubin::ctl::check;

TEST_CASE("check: report lines, counts and summary") {
    std::ostringstream live;
    Report r(&live);
    r.ok("banner", "\"220 mail.example.jp ESMTP\" names no software or version");
    r.warn("certificate", "self-signed");
    r.add({"relay", Outcome::Fail, "OPEN RELAY: 1 of 40 relay variants accepted", {"accepted: x\r\ny"}});
    CHECK(live.str() ==
          "ok banner: \"220 mail.example.jp ESMTP\" names no software or version\n"
          "warn certificate: self-signed\n"
          "FAIL relay: OPEN RELAY: 1 of 40 relay variants accepted\n"
          "    accepted: x??y\n");
    CHECK(r.passed() == 1);
    CHECK(r.failed() == 1);
    CHECK(r.warnings() == 1);
    CHECK(r.summary() == "1 passed, 1 failed, 1 warning");
    Report quiet(nullptr);
    CHECK(quiet.summary() == "0 passed, 0 failed, 0 warnings");
}

TEST_CASE("check: JSON output escapes everything a server could send") {
    CHECK(json_string("plain") == "\"plain\"");
    CHECK(json_string("a\"b\\c\n\t\x01") == "\"a\\\"b\\\\c\\n\\t\\u0001\"");
    CHECK(json_string("未承諾広告") == "\"未承諾広告\"");
    CHECK(json_string("\xff\xfe") == "\"\\ufffd\\ufffd\"");
    CHECK(json_string("\xe6\x9c") == "\"\\ufffd\\ufffd\"");         // cut sequence
    CHECK(json_string("\xc0\xaf") == "\"\\ufffd\\ufffd\"");         // overlong
    CHECK(json_string("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
    Report r(nullptr);
    r.ok("a", "x");
    r.add({"b", Outcome::Fail, "y", {"n1", "n2"}});
    std::ostringstream o;
    r.print_json(o);
    CHECK(o.str() ==
          "{\"checks\":[\n  {\"name\":\"a\",\"result\":\"ok\",\"detail\":\"x\",\"notes\":[]},\n"
          "  {\"name\":\"b\",\"result\":\"FAIL\",\"detail\":\"y\",\"notes\":[\"n1\",\"n2\"]}\n"
          "],\"passed\":1,\"failed\":1,\"warnings\":0}\n");
}

TEST_CASE("check: certificate judgement") {
    TlsInfo good;
    good.has_cert = true;
    good.subject = "/CN=mail.example.jp";
    good.issuer = "/CN=Some CA";
    good.name = "mail.example.jp";
    good.name_matches = true;
    good.days_left = 200;
    CHECK(judge_certificate(good, false).outcome == Outcome::Ok);

    TlsInfo soon = good;
    soon.days_left = 29;
    CHECK(judge_certificate(soon, false).outcome == Outcome::Warn);
    CHECK(judge_certificate(soon, false).detail.find("expires in 29 days") != std::string::npos);
    soon.days_left = 30;
    CHECK(judge_certificate(soon, false).outcome == Outcome::Ok);

    TlsInfo expired = good;
    expired.days_left = -3;
    CHECK(judge_certificate(expired, false).outcome == Outcome::Fail);

    TlsInfo self = good;
    self.chain_errors = {"depth 0: self-signed certificate"};
    self.only_self_signed = true;
    CHECK(judge_certificate(self, false).outcome == Outcome::Warn);
    CHECK(judge_certificate(self, true).outcome == Outcome::Fail);  // --cafile given, still untrusted

    TlsInfo untrusted = good;
    untrusted.chain_errors = {"depth 0: unable to get local issuer certificate"};
    CHECK(judge_certificate(untrusted, false).outcome == Outcome::Fail);

    TlsInfo wrong = good;
    wrong.name_matches = false;
    CHECK(judge_certificate(wrong, false).outcome == Outcome::Fail);
    CHECK(judge_certificate(wrong, false).detail.find("does not match the name mail.example.jp") !=
          std::string::npos);

    TlsInfo none;
    CHECK(judge_certificate(none, false).outcome == Outcome::Fail);
}

TEST_CASE("check: every check name is known to --skip") {
    const auto& names = check_names();
    CHECK(names.size() >= 20);
    for (const char* n : {"banner", "relay", "relay-control-local", "delivery", "spam-iso-2022-jp", "spam-utf-8-b", "spam-utf-8-q",
                          "spam-shift-jis", "spam-shift-jis-8bit", "spam-euc-jp", "imaps", "pop3s",
                          "auth-plain", "auth-login", "size-limit", "certificate", "smtps"}) {
        CAPTURE(n);
        CHECK(std::find(names.begin(), names.end(), n) != names.end());
    }
}
