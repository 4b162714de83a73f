// The policy protocol codec: every attribute, split reads at every byte, CRLF
// tolerance, bounds, garbage.
#include "policyd/request.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using yubin::policyd::format_reply;
using yubin::policyd::ParserLimits;
using yubin::policyd::Request;
using yubin::policyd::RequestParser;
using Status = RequestParser::Status;

namespace {

// What Postfix 3.7 sends at RCPT (SMTPD_POLICY_README), every attribute.
const std::string kPostfixRequest =
    "request=smtpd_access_policy\n"
    "protocol_state=RCPT\n"
    "protocol_name=ESMTP\n"
    "client_address=192.0.2.10\n"
    "client_name=mail.example.net\n"
    "client_port=41234\n"
    "reverse_client_name=mail.example.net\n"
    "server_address=192.0.2.1\n"
    "server_port=25\n"
    "helo_name=mail.example.net\n"
    "sender=taro@example.com\n"
    "recipient=hanako@example.org\n"
    "recipient_count=0\n"
    "queue_id=4F9D18340B\n"
    "instance=123.5f3c1a2b.e4f0a.0\n"
    "size=12345\n"
    "etrn_domain=\n"
    "stress=\n"
    "sasl_method=PLAIN\n"
    "sasl_username=taro@example.com\n"
    "sasl_sender=\n"
    "ccert_subject=CN=taro\n"
    "ccert_issuer=CN=CA\n"
    "ccert_fingerprint=AB:CD\n"
    "ccert_pubkey_fingerprint=EF:01\n"
    "encryption_protocol=TLSv1.3\n"
    "encryption_cipher=TLS_AES_256_GCM_SHA384\n"
    "encryption_keysize=256\n"
    "policy_context=submission\n"
    "compatibility_level=3.6\n"
    "mail_version=3.7.11\n"
    "\n";

std::vector<Request> parse_all(std::string_view input, Status* last = nullptr,
                               std::string* error = nullptr, ParserLimits limits = {}) {
    RequestParser p(limits);
    std::vector<Request> out;
    Status st = Status::NeedMore;
    while (!input.empty()) {
        auto step = p.feed(input);
        input.remove_prefix(step.consumed);
        st = step.status;
        if (st == Status::Complete) out.push_back(p.take());
        if (st == Status::Error) break;
    }
    if (last) *last = st;
    if (error) *error = p.error();
    return out;
}

}  // namespace

TEST_CASE("policyd: parses every attribute Postfix 3.7 sends") {
    Status st;
    auto reqs = parse_all(kPostfixRequest, &st);
    REQUIRE(reqs.size() == 1);
    CHECK(st == Status::Complete);
    const Request& r = reqs[0];
    CHECK(r.request == "smtpd_access_policy");
    CHECK(r.protocol_state == "RCPT");
    CHECK(r.protocol_name == "ESMTP");
    CHECK(r.client_address == "192.0.2.10");
    CHECK(r.client_name == "mail.example.net");
    CHECK(r.client_port == "41234");
    CHECK(r.reverse_client_name == "mail.example.net");
    CHECK(r.server_address == "192.0.2.1");
    CHECK(r.server_port == "25");
    CHECK(r.helo_name == "mail.example.net");
    CHECK(r.sender == "taro@example.com");
    CHECK(r.recipient == "hanako@example.org");
    CHECK(r.recipient_count == "0");
    CHECK(r.queue_id == "4F9D18340B");
    CHECK(r.instance == "123.5f3c1a2b.e4f0a.0");
    CHECK(r.size_value() == 12345);
    CHECK(r.sasl_method == "PLAIN");
    CHECK(r.sasl_username == "taro@example.com");
    CHECK(r.ccert_subject == "CN=taro");
    CHECK(r.ccert_issuer == "CN=CA");
    CHECK(r.ccert_fingerprint == "AB:CD");
    CHECK(r.ccert_pubkey_fingerprint == "EF:01");
    CHECK(r.encryption_protocol == "TLSv1.3");
    CHECK(r.encryption_cipher == "TLS_AES_256_GCM_SHA384");
    CHECK(r.encryption_keysize == "256");
    CHECK(r.policy_context == "submission");
    CHECK(r.compatibility_level == "3.6");
    CHECK(r.mail_version == "3.7.11");
    // Every known attribute appears in the sample above.
    for (std::size_t i = 0; i < yubin::policyd::known_attribute_count(); ++i) {
        std::string name(yubin::policyd::known_attribute_name(i));
        CAPTURE(name);
        bool present = kPostfixRequest.find("\n" + name + "=") != std::string::npos ||
                       kPostfixRequest.starts_with(name + "=");
        CHECK(present);
    }
}

TEST_CASE("policyd: a request split at every byte parses the same") {
    std::string two = kPostfixRequest + kPostfixRequest;
    for (std::size_t cut = 0; cut <= two.size(); ++cut) {
        RequestParser p;
        std::vector<Request> got;
        for (std::string_view part :
             {std::string_view(two).substr(0, cut), std::string_view(two).substr(cut)}) {
            while (!part.empty()) {
                auto step = p.feed(part);
                part.remove_prefix(step.consumed);
                REQUIRE(step.status != Status::Error);
                if (step.status == Status::Complete) got.push_back(p.take());
            }
        }
        CAPTURE(cut);
        REQUIRE(got.size() == 2);
        CHECK(got[1].sasl_username == "taro@example.com");
        CHECK(got[0].recipient == "hanako@example.org");
    }
}

TEST_CASE("policyd: byte-at-a-time feeding") {
    RequestParser p;
    int complete = 0;
    for (char c : kPostfixRequest + kPostfixRequest) {
        auto step = p.feed(std::string_view(&c, 1));
        CHECK(step.consumed == 1);
        if (step.status == Status::Complete) {
            ++complete;
            CHECK(p.take().protocol_state == "RCPT");
        }
    }
    CHECK(complete == 2);
}

TEST_CASE("policyd: CRLF line ends are accepted") {
    std::string crlf;
    for (char c : kPostfixRequest) {
        if (c == '\n') crlf += '\r';
        crlf += c;
    }
    Status st;
    auto reqs = parse_all(crlf, &st);
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].protocol_state == "RCPT");
    CHECK(reqs[0].mail_version == "3.7.11");
}

TEST_CASE("policyd: unknown attributes are ignored, values keep '=' and 8-bit bytes") {
    auto reqs = parse_all(
        "request=smtpd_access_policy\nfuture_attr=x\nsender=a=b@example.com\n"
        "helo_name=\xe9\x83\xb5\xe4\xbe\xbf\nfuture_attr=again\n\n");
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].sender == "a=b@example.com");
    CHECK(reqs[0].helo_name == "\xe9\x83\xb5\xe4\xbe\xbf");
}

TEST_CASE("policyd: malformed requests are errors, never requests") {
    struct Case {
        const char* name;
        std::string input;
        const char* want_error;
    };
    const std::vector<Case> cases = {
        {"line without '='", "request=smtpd_access_policy\ngarbage\n\n", "without '='"},
        {"empty name", "request=smtpd_access_policy\n=x\n\n", "without a name"},
        {"NUL byte", std::string("request=smtpd_access_policy\nsender=a\0b\n\n", 38), "NUL"},
        {"empty request", "\n", "empty request"},
        {"not a policy request", "request=junk\n\n", "not an smtpd_access_policy"},
        {"no request attribute", "sender=a@b.example\n\n", "not an smtpd_access_policy"},
        {"duplicate known attribute", "request=smtpd_access_policy\nsender=a\nsender=b\n\n",
         "duplicate"},
        {"non-numeric size", "request=smtpd_access_policy\nsize=12k\n\n", "not a number"},
        {"negative count", "request=smtpd_access_policy\nrecipient_count=-1\n\n", "not a number"},
        {"binary garbage (a TLS ClientHello)",
         std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n", 13), "NUL"},
    };
    for (const auto& c : cases) {
        CAPTURE(std::string(c.name));
        Status st;
        std::string err;
        auto reqs = parse_all(c.input, &st, &err);
        CHECK(reqs.empty());
        CHECK(st == Status::Error);
        CHECK(err.find(c.want_error) != std::string::npos);
    }
}

TEST_CASE("policyd: an error is sticky") {
    RequestParser p;
    CHECK(p.feed("junk\n").status == Status::Error);
    auto step = p.feed(kPostfixRequest);
    CHECK(step.status == Status::Error);
    CHECK(step.consumed == 0);
}

TEST_CASE("policyd: request size bound, at and past the limit") {
    ParserLimits lim{64, 100};
    std::string head = "request=smtpd_access_policy\nsender=";  // 35 bytes
    std::string at = head + std::string(64 - head.size() - 2, 'a') + "\n\n";
    REQUIRE(at.size() == 64);
    Status st;
    CHECK(parse_all(at, &st, nullptr, lim).size() == 1);
    CHECK(st == Status::Complete);
    std::string past = head + std::string(64 - head.size() - 1, 'a') + "\n\n";
    std::string err;
    CHECK(parse_all(past, &st, &err, lim).empty());
    CHECK(st == Status::Error);
    CHECK(err.find("longer than 64") != std::string::npos);
    // A line that never ends is cut off at the bound, not buffered forever.
    RequestParser p(lim);
    std::string endless(1 << 20, 'x');
    auto step = p.feed(endless);
    CHECK(step.status == Status::Error);
    CHECK(step.consumed == 65);
}

TEST_CASE("policyd: 10,000 attributes hit the attribute bound") {
    std::string big = "request=smtpd_access_policy\n";
    for (int i = 0; i < 10000; ++i) big += "x" + std::to_string(i) + "=y\n";
    big += "\n";
    Status st;
    std::string err;
    CHECK(parse_all(big, &st, &err, ParserLimits{1 << 20, 100}).empty());
    CHECK(st == Status::Error);
    CHECK(err.find("more than 100 attributes") != std::string::npos);
    // Exactly at the bound is fine.
    std::string at = "request=smtpd_access_policy\n";
    for (int i = 0; i < 99; ++i) at += "x" + std::to_string(i) + "=y\n";
    at += "\n";
    CHECK(parse_all(at, &st, nullptr, ParserLimits{1 << 20, 100}).size() == 1);
}

TEST_CASE("policyd: numbers") {
    auto reqs = parse_all(
        "request=smtpd_access_policy\nrecipient_count=7\nsize=99999999999999999999999\n\n");
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].recipient_count_value() == 7);
    CHECK(reqs[0].size_value() == INT64_MAX);
    Request empty;
    CHECK(empty.size_value() == 0);
}

TEST_CASE("policyd: replies") {
    CHECK(format_reply("DUNNO") == "action=DUNNO\n\n");
    CHECK(format_reply("REJECT a\r\nb") == "action=REJECT a  b\n\n");
}
