#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "lda/lmtp_session.hpp"

using namespace yubin;
using namespace yubin::lda;

namespace {

struct FakeBackend : LmtpBackend {
    std::vector<std::string> delivered;  // message per deliver() call
    std::vector<std::vector<std::string>> rcpts;
    std::vector<std::string> senders, queue_ids;

    std::variant<Mailbox, Outcome> lookup(std::string_view a) override {
        if (a.starts_with("unknown")) return perm_failure("5.1.1", "user unknown");
        if (a.starts_with("tempfail")) return temp_failure("4.3.0", "store down");
        Mailbox m;
        m.maildir = "/nowhere/" + std::string(a);
        return m;
    }
    std::vector<Outcome> deliver(const Envelope& env, const std::vector<Recipient>& rs,
                                 std::string_view msg) override {
        delivered.emplace_back(msg);
        senders.push_back(env.sender);
        queue_ids.push_back(env.queue_id);
        std::vector<std::string> names;
        std::vector<Outcome> out;
        for (const auto& r : rs) {
            names.push_back(r.address);
            out.push_back(r.address.starts_with("full") ? perm_failure("5.2.2", "mailbox full")
                                                        : delivered_outcome());
        }
        rcpts.push_back(names);
        return out;
    }
    static Outcome delivered_outcome() { return lda::delivered("INBOX", "/x"); }
};

const std::string kSession =
    "LHLO postfix.example\r\n"
    "MAIL FROM:<s@example.org> SIZE=100 BODY=8BITMIME\r\n"
    "RCPT TO:<a@example.test>\r\n"
    "RCPT TO:<unknown@example.test>\r\n"
    "RCPT TO:<full@example.test>\r\n"
    "DATA\r\n"
    "Received: from x by mail.example.test (Postfix) with ESMTP id 4F9D18340B\r\n"
    "\tfor <a@example.test>; Sun, 29 Nov 2026\r\n"
    "Subject: hi\r\n"
    "\r\n"
    "..leading dot\r\n"
    ".\r\n"
    "QUIT\r\n";

const std::string kReplies =
    "250-mail.example.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
    "250 SIZE 1000\r\n"
    "250 2.1.0 Ok\r\n"
    "250 2.1.5 Ok\r\n"
    "550 5.1.1 user unknown\r\n"
    "250 2.1.5 Ok\r\n"
    "354 End data with <CR><LF>.<CR><LF>\r\n"
    "250 2.0.0 delivered to INBOX\r\n"
    "552 5.2.2 mailbox full\r\n"
    "221 2.0.0 Bye\r\n";

const std::string kMessage =
    "Received: from x by mail.example.test (Postfix) with ESMTP id 4F9D18340B\n"
    "\tfor <a@example.test>; Sun, 29 Nov 2026\n"
    "Subject: hi\n"
    "\n"
    ".leading dot\n";

}  // namespace

TEST_CASE("lmtp: a pipelined session gets one reply per recipient after DATA") {
    FakeBackend be;
    LmtpSession s(be, "mail.example.test", {.max_message_bytes = 1000});
    CHECK(s.greeting() == "220 mail.example.test LMTP yubin-lda\r\n");
    CHECK(s.feed(kSession) == kReplies);
    CHECK(s.closed());
    REQUIRE(be.delivered.size() == 1);
    CHECK(be.delivered[0] == kMessage);
    CHECK(be.rcpts[0] == std::vector<std::string>{"a@example.test", "full@example.test"});
    CHECK(be.senders[0] == "s@example.org");
    CHECK(be.queue_ids[0] == "4F9D18340B");
}

TEST_CASE("lmtp: the same session split at every byte gives the same replies and message") {
    for (std::size_t cut = 1; cut < kSession.size(); ++cut) {
        CAPTURE(cut);
        FakeBackend be;
        LmtpSession s(be, "mail.example.test", {.max_message_bytes = 1000});
        std::string got = s.feed(kSession.substr(0, cut));
        got += s.feed(kSession.substr(cut));
        REQUIRE(got == kReplies);
        REQUIRE(be.delivered.size() == 1);
        REQUIRE(be.delivered[0] == kMessage);
    }
    // and one byte at a time
    FakeBackend be;
    LmtpSession s(be, "mail.example.test", {.max_message_bytes = 1000});
    std::string got;
    for (char c : kSession) got += s.feed(std::string_view(&c, 1));
    CHECK(got == kReplies);
    CHECK(be.delivered.at(0) == kMessage);
}

TEST_CASE("lmtp: commands out of order and malformed ones are refused") {
    struct Case { std::string in, want; };
    const Case cases[] = {
        {"MAIL FROM:<a@b>\r\n", "503 5.5.1 Send LHLO first\r\n"},
        {"LHLO x\r\nRCPT TO:<a@b>\r\n", "503 5.5.1 Need MAIL command\r\n"},
        {"LHLO x\r\nMAIL FROM:<a@b>\r\nDATA\r\n", "503 5.5.1 No valid recipients\r\n"},
        {"LHLO x\r\nMAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\n", "503 5.5.1 Nested MAIL command\r\n"},
        {"LHLO x\r\nMAIL FROM:a@b\r\n", "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"},
        {"LHLO x\r\nMAIL FROM:<a@b> SIZE=5000\r\n", "552 5.3.4 Message size exceeds fixed limit\r\n"},
        {"LHLO x\r\nMAIL FROM:<a@b> XYZ=1\r\n", "555 5.5.4 Unsupported parameter\r\n"},
        {"LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<>\r\n", "501 5.5.4 Syntax: RCPT TO:<address>\r\n"},
        {"LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<tempfail@b>\r\n", "451 4.3.0 store down\r\n"},
        {"EHLO x\r\n", "500 5.5.1 This is LMTP: use LHLO\r\n"},
        {"LHLO\r\n", "501 5.5.4 Syntax: LHLO hostname\r\n"},
        {"FOO\r\n", "500 5.5.2 Command not recognized\r\n"},
        {"\r\n", "500 5.5.2 Empty command\r\n"},
        {"NOOP\r\n", "250 2.0.0 Ok\r\n"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        FakeBackend be;
        LmtpSession s(be, "h", {.max_message_bytes = 1000});
        std::string got = s.feed(c.in);
        CHECK(got.ends_with(c.want));
        CHECK(be.delivered.empty());
    }
}

TEST_CASE("lmtp: an over-long command line is answered once and skipped in sync") {
    FakeBackend be;
    LmtpSession s(be, "h");
    std::string got = s.feed(std::string(5000, 'A'));
    got += s.feed(std::string(5000, 'A') + "\r\nNOOP\r\n");
    CHECK(got == "500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n");
}

TEST_CASE("lmtp: a message over the limit is read to its end and refused for every recipient") {
    FakeBackend be;
    LmtpSession s(be, "h", {.max_message_bytes = 100});
    std::string in = "LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n" +
                     std::string(300, 'x') + "\r\n.\r\nNOOP\r\n";
    std::string got = s.feed(in);
    CHECK(got.ends_with("354 End data with <CR><LF>.<CR><LF>\r\n"
                        "552 5.3.4 Message size exceeds fixed limit\r\n"
                        "552 5.3.4 Message size exceeds fixed limit\r\n250 2.0.0 Ok\r\n"));
    CHECK(be.delivered.empty());
}

TEST_CASE("lmtp: long data lines, bare LF, NUL and 8-bit pass through whole") {
    FakeBackend be;
    LmtpSession s(be, "h", {.max_message_bytes = 0});
    std::string big(1 << 20, 'y');
    std::string body = "Subject: x\n\n" + big + "\r\nbare\nnul" + std::string(1, '\0') +
                       "byte\xff\r\nCR\rinside\r\n";
    std::string in = "LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<a@b>\r\nDATA\r\n" + body + ".\r\n";
    std::string got;
    for (std::size_t i = 0; i < in.size(); i += 4093) got += s.feed(in.substr(i, 4093));
    CHECK(got.ends_with("250 2.0.0 delivered to INBOX\r\n"));
    REQUIRE(be.delivered.size() == 1);
    std::string want = "Subject: x\n\n" + big + "\nbare\nnul" + std::string(1, '\0') +
                       "byte\xff\nCR\rinside\n";
    CHECK(be.delivered[0] == want);
    CHECK(be.senders[0].empty());
}

TEST_CASE("lmtp: recipients per transaction are bounded") {
    FakeBackend be;
    LmtpSession s(be, "h", {.max_message_bytes = 0, .max_recipients = 2});
    std::string got = s.feed("LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<a@b>\r\nRCPT TO:<c@b>\r\nRCPT TO:<d@b>\r\n");
    CHECK(got.ends_with("250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n452 4.5.3 Too many recipients\r\n"));
}

TEST_CASE("lmtp: queue id only from the first Received field") {
    CHECK(queue_id_from_received("Received: from a by b (Postfix) with ESMTP id ABC123\n\tfor <x>;\n\n") == "ABC123");
    CHECK(queue_id_from_received("Subject: x\nReceived: by b id Q1;\nReceived: by c id Q2\n\n") == "Q1");
    CHECK(queue_id_from_received("Received: by b\nReceived: by c id Q2\n\n").empty());
    CHECK(queue_id_from_received("Received: by b id bad/id\n\n").empty());
    CHECK(queue_id_from_received("Subject: x\n\n").empty());
}

TEST_CASE("lmtp: a command line exactly at the bound is the same whether its CR and LF arrive apart") {
    // "NOOP" padded to kMaxCommandLine bytes: accepted in one read; it must
    // be accepted too when the CR arrives before the LF (found by the fuzzer
    // target's one-piece/many-pieces comparison).
    std::string line = "NOOP " + std::string(kMaxCommandLine - 5, 'x');
    REQUIRE(line.size() == kMaxCommandLine);
    for (std::size_t cut : {line.size(), line.size() + 1}) {
        CAPTURE(cut);
        FakeBackend be;
        LmtpSession s(be, "h");
        const std::string in = line + "\r\n";
        std::string got = s.feed(in.substr(0, cut));
        got += s.feed(in.substr(cut));
        CHECK(got == "250 2.0.0 Ok\r\n");
    }
    // One byte more is too long, however it arrives.
    for (std::size_t cut : {kMaxCommandLine + 1, kMaxCommandLine + 2}) {
        CAPTURE(cut);
        FakeBackend be;
        LmtpSession s(be, "h");
        const std::string in = line + "y\r\nNOOP\r\n";
        std::string got = s.feed(in.substr(0, cut));
        got += s.feed(in.substr(cut));
        CHECK(got == "500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n");
    }
}

TEST_CASE("lmtp: a backend that cannot begin a transaction answers MAIL with its reason") {
    struct Refusing : FakeBackend {
        int begins = 0;
        std::optional<Outcome> begin_transaction() override {
            if (++begins == 1) return temp_failure("4.3.0", "user store unavailable");
            return std::nullopt;
        }
    } be;
    LmtpSession s(be, "h");
    CHECK(s.feed("LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<a@b>\r\n") ==
          "250-h\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
          "250 SIZE 104857600\r\n"
          "451 4.3.0 user store unavailable\r\n"
          "503 5.5.1 Need MAIL command\r\n");
    CHECK(s.feed("MAIL FROM:<a@b>\r\n") == "250 2.1.0 Ok\r\n");
    CHECK(be.begins == 2);
}
