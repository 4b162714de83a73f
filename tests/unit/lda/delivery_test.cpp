#include <doctest/doctest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/config/config.hpp"
#include "core/log/logger.hpp"
#include "core/log/sink.hpp"
#include "lda/delivery.hpp"
#include "unit/temp_dir.hpp"

using namespace yubin;
using namespace yubin::lda;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> files_in(const std::string& dir) {
    std::vector<std::string> out;
    if (!fs::exists(dir)) return out;
    for (auto& e : fs::directory_iterator(dir)) out.push_back(e.path().string());
    return out;
}

constexpr const char* kRules = R"(rule junk-me
    target  = subject
    literal = JUNKME
    action  = junk
rule tag-me
    target  = subject
    literal = TAGME
    action  = tag
    text    = [SPAM]
rule drop-me
    target  = subject
    literal = DROPME
    action  = discard
rule refuse-me
    target  = subject
    literal = REFUSEME
    action  = reject
    text    = go away
)";

int g_fail_errno = 0;
ssize_t failing_write(int fd, const void* p, std::size_t n) {
    if (g_fail_errno) {
        errno = g_fail_errno;
        return -1;
    }
    return ::write(fd, p, n);
}

struct Fixture {
    test::TempDir dir;
    log::MemorySink sink;
    log::Logger log{sink};
    Settings settings;
    maildir::MaildirWriter writer{maildir::UniqueNamer("h", 1), {failing_write, ::fsync}};
    Mailbox mbox;

    explicit Fixture(std::string extra_config = "") {
        std::ofstream(dir.path() + "/rules") << kRules;
        auto cfg = config::Config::parse("lda_rules_file = " + dir.path() + "/rules\n" + extra_config,
                                         "test.cf");
        REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().what));
        auto s = Settings::from_config(*cfg);
        REQUIRE_MESSAGE(s, (s ? "" : s.error().what));
        settings = std::move(*s);
        mbox.maildir = dir.path() + "/Maildir";
    }
    Outcome deliver(std::string_view msg, std::string rcpt = "taro@example.test") {
        Deliverer d(settings, writer, log);
        return d.deliver({"sender@example.org", rcpt, "4F9D18340B"}, mbox, msg);
    }
    std::string md(std::string sub) const { return dir.path() + "/Maildir/" + sub; }
};

}  // namespace

TEST_CASE("lda: a plain message lands in new/ byte for byte, behind the added headers") {
    Fixture f;
    static const char kMsg[] = "From s Sun Nov 29\nSubject: hello\nX: \xe6\x97\xa5\0\n\nbody\n";
    std::string msg(kMsg, sizeof kMsg - 1);
    auto o = f.deliver(msg);
    REQUIRE_MESSAGE(o.ok(), o.text);
    CHECK(o.folder == "INBOX");
    auto files = files_in(f.md("new"));
    REQUIRE(files.size() == 1);
    CHECK(slurp(files[0]) == "Return-Path: <sender@example.org>\nDelivered-To: taro@example.test\n" +
                                 msg.substr(18));
    CHECK(files_in(f.md("tmp")).empty());
    auto lines = f.sink.snapshot();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].second.starts_with("4F9D18340B: to=<taro@example.test>, from=<sender@example.org>"));
    CHECK(lines[0].second.find("status=sent (delivered to INBOX)") != std::string::npos);
}

TEST_CASE("lda: a second Delivered-To for the recipient is a loop, 5.4.6, nothing written") {
    Fixture f;
    auto o = f.deliver("Delivered-To: taro@example.test\nReceived: x\nDelivered-To: taro@example.test\n\nb\n");
    CHECK(o.dsn == "5.4.6");
    CHECK(files_in(f.md("new")).empty());
    CHECK(f.sink.snapshot().size() == 1);
}

TEST_CASE("lda: junk goes to .Junk, created and subscribed") {
    Fixture f;
    auto o = f.deliver("Subject: buy JUNKME now\n\nb\n");
    REQUIRE_MESSAGE(o.ok(), o.text);
    CHECK(o.folder == "Junk");
    CHECK(files_in(f.md("new")).empty());
    auto files = files_in(f.md(".Junk/new"));
    REQUIRE(files.size() == 1);
    CHECK(slurp(files[0]).find("X-Yubin-Filter: junk; rule=junk-me\nSubject: buy JUNKME now\n") !=
          std::string::npos);
    CHECK(slurp(f.md("subscriptions")) == "V\t2\n\nJunk\n");
    CHECK(fs::exists(f.md(".Junk/maildirfolder")));
}

TEST_CASE("lda: reject files into Junk by default, bounces 5.7.1 with lda_reject_action = bounce") {
    {
        Fixture f;
        auto o = f.deliver("Subject: REFUSEME\n\nb\n");
        CHECK(o.ok());
        CHECK(o.folder == "Junk");
    }
    {
        Fixture f("lda_reject_action = bounce\n");
        auto o = f.deliver("Subject: REFUSEME\n\nb\n");
        CHECK(o.dsn == "5.7.1");
        CHECK(o.text == "go away");
        CHECK(files_in(f.md("new")).empty());
    }
}

TEST_CASE("lda: discard writes nothing and says so in the log") {
    Fixture f;
    auto o = f.deliver("Subject: DROPME\n\nb\n");
    CHECK(o.ok());
    CHECK(o.discarded);
    CHECK(files_in(f.md("new")).empty());
    auto lines = f.sink.snapshot();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].second.find("discarded by rule drop-me") != std::string::npos);
}

TEST_CASE("lda: tag prefixes the Subject and marks the message") {
    Fixture f;
    auto o = f.deliver("Subject: TAGME please\n\nb\n");
    REQUIRE(o.ok());
    auto files = files_in(f.md("new"));
    REQUIRE(files.size() == 1);
    CHECK(slurp(files[0]).ends_with("X-Yubin-Filter: tag; rule=tag-me\nSubject: [SPAM] TAGME please\n\nb\n"));
}

TEST_CASE("lda: user+folder goes to an existing .folder only") {
    Fixture f;
    f.mbox.extension = "lists";
    REQUIRE(f.deliver("Subject: a\n\nb\n").ok());  // no .lists yet: INBOX, and not created
    CHECK(files_in(f.md("new")).size() == 1);
    CHECK_FALSE(fs::exists(f.md(".lists")));
    fs::create_directories(f.md(".lists/new"));
    fs::create_directories(f.md(".lists/cur"));
    fs::create_directories(f.md(".lists/tmp"));
    auto o = f.deliver("Subject: a\n\nb\n");
    CHECK(o.folder == "lists");
    CHECK(files_in(f.md(".lists/new")).size() == 1);
    f.mbox.extension = "../../x";
    CHECK(f.deliver("Subject: a\n\nb\n").folder == "INBOX");
}

TEST_CASE("lda: quota full bounces 5.2.2 or defers 4.2.2, and maildirsize follows deliveries") {
    for (bool defer : {false, true}) {
        CAPTURE(defer);
        Fixture f(defer ? "lda_quota_full_action = defer\n" : "");
        f.mbox.quota = {200, 0};
        auto o1 = f.deliver("Subject: a\n\n" + std::string(50, 'x') + "\n");
        REQUIRE_MESSAGE(o1.ok(), o1.text);
        auto size1 = fs::file_size(files_in(f.md("new"))[0]);
        CHECK(slurp(f.md("maildirsize")) == "200S\n0 0\n" + std::to_string(size1) + " 1\n");
        auto o2 = f.deliver("Subject: a\n\n" + std::string(100, 'x') + "\n");
        CHECK(o2.dsn == (defer ? "4.2.2" : "5.2.2"));
        CHECK(files_in(f.md("new")).size() == 1);
    }
}

TEST_CASE("lda: a full disk is a temporary failure with nothing left behind") {
    Fixture f;
    g_fail_errno = ENOSPC;
    auto o = f.deliver("Subject: a\n\nb\n");
    g_fail_errno = 0;
    CHECK(o.dsn == "4.3.0");
    CHECK(o.temporary());
    CHECK(files_in(f.md("new")).empty());
    CHECK(files_in(f.md("tmp")).empty());
    auto lines = f.sink.snapshot();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].second.find("status=deferred") != std::string::npos);
    CHECK(lines[0].second.find("No space left on device") != std::string::npos);
}

TEST_CASE("lda: a Maildir that cannot be created is a temporary failure") {
    Fixture f;
    f.mbox.maildir = f.dir.path() + "/missing/parent/Maildir";
    auto o = f.deliver("Subject: a\n\nb\n");
    CHECK(o.temporary());
    f.mbox.create_parents = true;
    CHECK(f.deliver("Subject: a\n\nb\n").ok());
}

TEST_CASE("lda: the junk folder name is checked at startup") {
    auto cfg = config::Config::parse("lda_junk_folder = ../x\n", "t.cf");
    REQUIRE(cfg);
    auto s = Settings::from_config(*cfg);
    REQUIRE_FALSE(s);
    CHECK(s.error().kind == ErrorKind::Config);
}

TEST_CASE("lda: several recipients share one file by hard links, each with its own outcome") {
    Fixture f;
    std::vector<Recipient> rcpts;
    for (const char* who : {"a", "b", "c"}) {
        Mailbox m;
        m.maildir = f.dir.path() + "/" + who + "/Maildir";
        m.create_parents = true;
        rcpts.push_back({std::string(who) + "@example.test", m});
    }
    rcpts[1].mailbox.quota = {10, 0};  // b is full for anything
    Deliverer d(f.settings, f.writer, f.log);
    auto out = d.deliver({"s@example.org", "", "QID1"}, rcpts, "Subject: hi\n\nbody\n");
    REQUIRE(out.size() == 3);
    CHECK(out[0].ok());
    CHECK(out[1].dsn == "5.2.2");
    CHECK(out[2].ok());
    auto a = files_in(f.dir.path() + "/a/Maildir/new");
    auto c = files_in(f.dir.path() + "/c/Maildir/new");
    REQUIRE(a.size() == 1);
    REQUIRE(c.size() == 1);
    CHECK(fs::hard_link_count(a[0]) == 2);
    CHECK(fs::equivalent(a[0], c[0]));
    CHECK(slurp(a[0]) == "Return-Path: <s@example.org>\nSubject: hi\n\nbody\n");
    CHECK(files_in(f.dir.path() + "/b/Maildir/new").empty());
    CHECK(files_in(f.dir.path() + "/a/Maildir/tmp").empty());
    CHECK(f.sink.snapshot().size() == 3);
}

TEST_CASE("lda: with several recipients the loop check is per recipient") {
    Fixture f;
    std::vector<Recipient> rcpts;
    for (const char* who : {"a", "b"}) {
        Mailbox m;
        m.maildir = f.dir.path() + "/" + who + "/Maildir";
        m.create_parents = true;
        rcpts.push_back({std::string(who) + "@example.test", m});
    }
    Deliverer d(f.settings, f.writer, f.log);
    auto out = d.deliver({"s@example.org", "", "QID2"}, rcpts,
                         "Received: x\nDelivered-To: b@example.test\n\nbody\n");
    CHECK(out[0].ok());
    CHECK(out[1].dsn == "5.4.6");
}

namespace {

std::vector<Recipient> two_recipients(const Fixture& f, bool a_filter, bool b_filter) {
    std::vector<Recipient> rcpts;
    for (const char* who : {"a", "b"}) {
        Mailbox m;
        m.maildir = f.dir.path() + "/" + who + "/Maildir";
        m.create_parents = true;
        rcpts.push_back({std::string(who) + "@example.test", m});
    }
    rcpts[0].mailbox.filter = a_filter;
    rcpts[1].mailbox.filter = b_filter;
    return rcpts;
}

bool logged(const Fixture& f, std::string_view what) {
    for (const auto& l : f.sink.snapshot())
        if (l.second.find(what) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("lda: a recipient who opted out of the filter gets the message unfiltered") {
    Fixture f;
    f.mbox.filter = false;
    auto o = f.deliver("Subject: buy JUNKME now\n\nb\n");
    REQUIRE_MESSAGE(o.ok(), o.text);
    CHECK(o.folder == "INBOX");
    CHECK(files_in(f.md(".Junk/new")).empty());
    auto files = files_in(f.md("new"));
    REQUIRE(files.size() == 1);
    CHECK(slurp(files[0]).find("X-Yubin-Filter") == std::string::npos);
    // discard and a bouncing reject do not apply either
    Fixture g("lda_reject_action = bounce\n");
    g.mbox.filter = false;
    CHECK(g.deliver("Subject: REFUSEME\n\nb\n").dsn == "2.0.0");
    auto d = g.deliver("Subject: DROPME\n\nb\n");
    CHECK(d.ok());
    CHECK_FALSE(d.discarded);
    CHECK(files_in(g.md("new")).size() == 2);
}

TEST_CASE("lda: LMTP, every recipient opted out: the rules do not run") {
    Fixture f;
    auto rcpts = two_recipients(f, false, false);
    Deliverer d(f.settings, f.writer, f.log);
    auto out = d.deliver({"s@example.org", "", "QID3"}, rcpts, "Subject: TAGME JUNKME\n\nb\n");
    REQUIRE(out.size() == 2);
    for (const char* who : {"a", "b"}) {
        auto files = files_in(f.dir.path() + "/" + who + "/Maildir/new");
        REQUIRE(files.size() == 1);
        CHECK(slurp(files[0]) == "Return-Path: <s@example.org>\nSubject: TAGME JUNKME\n\nb\n");
        CHECK_FALSE(fs::exists(f.dir.path() + "/" + who + "/Maildir/.Junk"));
    }
    CHECK(out[0].folder == "INBOX");
    CHECK(out[1].folder == "INBOX");
}

TEST_CASE("lda: LMTP, no recipient opted out: the rule's action for everyone") {
    Fixture f("lda_reject_action = bounce\n");
    auto rcpts = two_recipients(f, true, true);
    Deliverer d(f.settings, f.writer, f.log);
    auto out = d.deliver({"s@example.org", "", "QID4"}, rcpts, "Subject: JUNKME\n\nb\n");
    REQUIRE(out.size() == 2);
    CHECK(out[0].folder == "Junk");
    CHECK(out[1].folder == "Junk");
    CHECK(files_in(f.dir.path() + "/a/Maildir/.Junk/new").size() == 1);
    auto rej = d.deliver({"s@example.org", "", "QID5"}, rcpts, "Subject: REFUSEME\n\nb\n");
    CHECK(rej[0].dsn == "5.7.1");
    CHECK(rej[1].dsn == "5.7.1");
    CHECK_FALSE(logged(f, "not applied"));
}

TEST_CASE("lda: LMTP, some recipients opted out: everyone gets it with X-Yubin-Filter only") {
    Fixture f("lda_reject_action = bounce\n");
    auto rcpts = two_recipients(f, true, false);
    Deliverer d(f.settings, f.writer, f.log);
    for (const char* subject : {"JUNKME", "TAGME", "DROPME", "REFUSEME"}) {
        CAPTURE(subject);
        auto out = d.deliver({"s@example.org", "", "QID6"}, rcpts,
                             "Subject: " + std::string(subject) + "\n\nb\n");
        REQUIRE(out.size() == 2);
        for (const auto& o : out) {
            CHECK_MESSAGE(o.ok(), o.text);
            CHECK_FALSE(o.discarded);
            CHECK(o.folder == "INBOX");
        }
    }
    auto a = files_in(f.dir.path() + "/a/Maildir/new");
    auto b = files_in(f.dir.path() + "/b/Maildir/new");
    REQUIRE(a.size() == 4);
    REQUIRE(b.size() == 4);
    CHECK_FALSE(fs::exists(f.dir.path() + "/a/Maildir/.Junk"));
    bool tag_seen = false;
    for (const auto& file : a) {
        auto text = slurp(file);
        CHECK(text.find("X-Yubin-Filter: ") != std::string::npos);
        CHECK(text.find("[SPAM]") == std::string::npos);  // no Subject tag
        if (text.find("X-Yubin-Filter: tag; rule=tag-me\nSubject: TAGME\n") != std::string::npos)
            tag_seen = true;
    }
    CHECK(tag_seen);
    CHECK(logged(f, "rule=junk-me action junk not applied: 1 of 2 recipients opted out"));
    CHECK(logged(f, "rule=refuse-me action reject not applied: 1 of 2 recipients opted out"));
    CHECK(logged(f, "rule=drop-me action discard not applied"));
}

namespace {

// The rest of a message in a pipe, as local(8) gives it (small enough for
// the pipe's buffer, so no writer thread is needed).
struct PipeTail {
    int fds[2] = {-1, -1};
    explicit PipeTail(const std::string& rest) {
        REQUIRE(::pipe(fds) == 0);
        REQUIRE(::write(fds[1], rest.data(), rest.size()) == static_cast<ssize_t>(rest.size()));
        ::close(fds[1]);
    }
    ~PipeTail() { ::close(fds[0]); }
};

}  // namespace

TEST_CASE("lda: streamed (command mode): header decisions on the head, body copied byte for byte") {
    Fixture f;
    std::string head = "From s Sun Nov 29\nSubject: TAGME now\nX: y\n\nfirst body bytes ";
    std::string rest(40000, 'r');
    rest += std::string("\0end\n", 5);
    PipeTail p(rest);
    maildir::StreamTail tail{.fd = p.fds[0], .counted = head.size(), .limit = 0};
    Deliverer d(f.settings, f.writer, f.log);
    auto o = d.deliver_stream({"sender@example.org", "taro@example.test", ""}, f.mbox, head, tail);
    REQUIRE_MESSAGE(o.ok(), o.text);
    auto files = files_in(f.md("new"));
    REQUIRE(files.size() == 1);
    std::string want = "Return-Path: <sender@example.org>\nDelivered-To: taro@example.test\n"
                       "X-Yubin-Filter: tag; rule=tag-me\nSubject: [SPAM] TAGME now\nX: y\n\n"
                       "first body bytes " + rest;
    CHECK(slurp(files[0]) == want);
    CHECK(files[0].ends_with(",S=" + std::to_string(want.size())));
    CHECK(files_in(f.md("tmp")).empty());
    CHECK(f.sink.snapshot().back().second.find("size=" + std::to_string(head.size() + rest.size())) !=
          std::string::npos);
}

TEST_CASE("lda: streamed: loop and junk decided before the file; quota checked on the final size") {
    {
        Fixture f;
        PipeTail p("body\n");
        maildir::StreamTail tail{.fd = p.fds[0]};
        Deliverer d(f.settings, f.writer, f.log);
        auto o = d.deliver_stream({"s@example.org", "taro@example.test", ""}, f.mbox,
                                  "Received: x\nDelivered-To: taro@example.test\n\n", tail);
        CHECK(o.dsn == "5.4.6");
        CHECK(files_in(f.md("new")).empty());
    }
    {
        Fixture f;
        PipeTail p(std::string(5000, 'j'));
        maildir::StreamTail tail{.fd = p.fds[0]};
        Deliverer d(f.settings, f.writer, f.log);
        auto o = d.deliver_stream({"s@example.org", "taro@example.test", ""}, f.mbox,
                                  "Subject: JUNKME\n\n", tail);
        REQUIRE_MESSAGE(o.ok(), o.text);
        CHECK(o.folder == "Junk");
        REQUIRE(files_in(f.md(".Junk/new")).size() == 1);
    }
    for (bool defer : {false, true}) {
        CAPTURE(defer);
        Fixture f(defer ? "lda_quota_full_action = defer\n" : "");
        f.mbox.quota = {1000, 0};
        PipeTail p(std::string(5000, 'q'));  // the head alone fits, the whole does not
        maildir::StreamTail tail{.fd = p.fds[0]};
        Deliverer d(f.settings, f.writer, f.log);
        auto o = d.deliver_stream({"s@example.org", "taro@example.test", ""}, f.mbox,
                                  "Subject: a\n\n", tail);
        CHECK(o.dsn == (defer ? "4.2.2" : "5.2.2"));
        CHECK(files_in(f.md("new")).empty());
        CHECK(files_in(f.md("tmp")).empty());
    }
    {
        Fixture f;
        PipeTail p(std::string(5000, 'l'));
        maildir::StreamTail tail{.fd = p.fds[0], .counted = 20, .limit = 1000};
        Deliverer d(f.settings, f.writer, f.log);
        auto o = d.deliver_stream({"s@example.org", "taro@example.test", ""}, f.mbox,
                                  "Subject: a\n\n", tail);
        CHECK(o.dsn == "5.3.4");
        CHECK(o.text.find("message too big") != std::string::npos);
        CHECK(files_in(f.md("new")).empty());
        CHECK(files_in(f.md("tmp")).empty());
    }
}
