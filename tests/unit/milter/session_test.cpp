// Session: the decisions of one SMTP session, driven without libmilter.
#include "milter/session.hpp"

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/log/sink.hpp"

using namespace yubin;
using namespace yubin::milter;

namespace {

// Domains and limits: example.jp (limit 20000), tiny@example.jp (10000),
// free.example (none); "down.example" answers like a store that is down.
class FakeDirectory final : public Directory {
public:
    Result<bool> is_local_domain(std::string_view d) override {
        ++lookups;
        if (d == "down.example") return fail(ErrorKind::Temp, "database is locked");
        return d == "example.jp" || d == "free.example";
    }
    Result<std::int64_t> size_limit(std::string_view local, std::string_view d) override {
        ++limit_lookups;
        auto l = is_local_domain(d);
        if (!l) return fail(l.error());
        if (!*l) return 0;
        if (d == "example.jp") return local == "tiny" ? 10000 : 20000;
        return 0;
    }
    // Local parts starting with "optout" opted out of the filter (the
    // store's mailbox / domain / default order is StoreDirectory's, tested
    // with the store).
    Result<RecipientSettings> recipient(std::string_view local, std::string_view d) override {
        auto limit = size_limit(local, d);
        if (!limit) return fail(limit.error());
        bool off = local.starts_with("optout");
        return RecipientSettings{*limit, !off};
    }
    // taro@example.jp owns itself and info@example.jp (an alias)
    Result<bool> owns_sender(std::string_view login, std::string_view sender) override {
        if (sender == "x@down.example") return fail(ErrorKind::Temp, "database is locked");
        return sender == login || (login == "taro@example.jp" && sender == "info@example.jp");
    }
    int lookups = 0;
    int limit_lookups = 0;
};

struct Fixture {
    std::shared_ptr<Settings> settings = std::make_shared<Settings>();
    std::shared_ptr<FakeDirectory> dir = std::make_shared<FakeDirectory>();
    log::MemorySink sink;
    log::Logger log{sink};

    Fixture() {
        settings->trusted = *NetworkList::parse({"192.0.2.0/24"});
        settings->rules = std::make_shared<const rules::RuleSet>(rules::RuleSet::defaults());
    }
    Session session(std::string_view ip = "198.51.100.7") {
        Session s(settings, dir, log);
        s.connect("client.example.net", ip);
        return s;
    }
    bool logged(std::string_view what) const {
        for (const auto& [level, line] : sink.snapshot())
            if (line.find(what) != std::string::npos) return true;
        return false;
    }
};

std::vector<std::string_view> size_arg(const std::string& s) {
    return {s};
}

const std::string kAdSubject = "=?ISO-2022-JP?B?GyRCTCQ+NUJ6OS05cCIoGyhC?=";

void send_headers(Session& s, std::string_view subject) {
    s.header("From", "a@client.example.net");
    s.header("Subject", subject);
    s.body("hello\r\n");
}

using K = Reply::Kind;

}  // namespace

TEST_CASE("session: relay and local recipients") {
    Fixture f;
    auto s = f.session();
    CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
    auto r = s.rcpt("<victim%relay.example.net@example.jp>", {});
    CHECK(r.kind == K::Reject);
    CHECK(r.to_string() == "554 5.7.1 <victim?relay.example.net@example.jp>: Relay access denied");
    CHECK(f.logged("NOQUEUE: reject: RCPT from client.example.net[198.51.100.7]: 554 5.7.1"));
    CHECK(f.logged("(routing operator in local part)"));
    CHECK(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
    CHECK(s.rcpt("<x@relay.example.net>", {}).kind == K::Reject);
}

TEST_CASE("session: trusted network and authenticated clients relay") {
    Fixture f;
    auto trusted = f.session("192.0.2.99");
    CHECK(trusted.mail("<a@x.example>", {}, "").kind == K::Continue);
    CHECK(trusted.rcpt("<x@relay.example.net>", {}).kind == K::Continue);

    auto auth = f.session();
    CHECK(auth.mail("<a@x.example>", {}, "taro@example.jp").kind == K::Continue);
    CHECK(auth.rcpt("<x@relay.example.net>", {}).kind == K::Continue);
    // a new MAIL without AUTH on the same connection is not authenticated
    CHECK(auth.mail("<a@x.example>", {}, "").kind == K::Continue);
    CHECK(auth.rcpt("<x@relay.example.net>", {}).kind == K::Reject);
}

TEST_CASE("session: a store that cannot answer gives 451 4.3.0") {
    Fixture f;
    auto s = f.session();
    CHECK(s.mail("<a@down.example>", {}, "").to_string() ==
          "451 4.3.0 Temporary failure, try again later");
    CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
    CHECK(s.rcpt("<b@down.example>", {}).kind == K::TempFail);
}

TEST_CASE("session: size limits at MAIL, RCPT and end of message") {
    Fixture f;
    SUBCASE("SIZE= over the sender's own limit") {
        auto s = f.session();
        auto r = s.mail("<tiny@example.jp>", size_arg("SIZE=15000"), "tiny@example.jp");
        CHECK(r.to_string() == "552 5.3.4 Message size exceeds fixed limit");
    }
    SUBCASE("SIZE= per recipient") {
        auto s = f.session();
        CHECK(s.mail("<a@client.example.net>", size_arg("size=15000"), "").kind == K::Continue);
        CHECK(s.rcpt("<tiny@example.jp>", {}).to_string() ==
              "552 5.3.4 Message size exceeds fixed limit");
        CHECK(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
        CHECK(s.rcpt("<any@free.example>", {}).kind == K::Continue);
    }
    SUBCASE("counted at end of message against the smallest accepted limit") {
        auto s = f.session();
        CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
        CHECK(s.rcpt("<any@free.example>", {}).kind == K::Continue);
        CHECK(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
        s.header("Subject", "big");
        for (int i = 0; i < 25; ++i) s.body(std::string(1000, 'x'));
        auto r = s.eom();
        CHECK(r.reply.to_string() == "552 5.3.4 Message size exceeds fixed limit");
    }
    SUBCASE("under the limit") {
        auto s = f.session();
        CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
        CHECK(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
        s.body(std::string(15000, 'x'));
        CHECK(s.eom().reply.kind == K::Continue);
    }
    SUBCASE("global limit") {
        f.settings->max_message_size = 1000;
        auto s = f.session();
        CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
        CHECK(s.rcpt("<any@free.example>", {}).kind == K::Continue);
        s.body(std::string(2000, 'x'));
        CHECK(s.eom().reply.code == "552");
    }
    SUBCASE("a rejected recipient's limit does not count") {
        auto s = f.session();
        CHECK(s.mail("<a@client.example.net>", size_arg("SIZE=15000"), "").kind == K::Continue);
        CHECK(s.rcpt("<tiny@example.jp>", {}).kind == K::Reject);
        CHECK(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
        s.body(std::string(15000, 'x'));
        CHECK(s.eom().reply.kind == K::Continue);
    }
}

TEST_CASE("session: state is reset by abort and by a new MAIL") {
    Fixture f;
    auto s = f.session();
    CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
    CHECK(s.rcpt("<tiny@example.jp>", {}).kind == K::Continue);
    s.header("X-Yubin-Spam", "no");
    s.header("Subject", kAdSubject);
    s.abort();
    CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
    CHECK(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
    s.header("Subject", "hello");
    s.body(std::string(15000, 'x'));  // over tiny's limit, under taro's
    auto r = s.eom();
    CHECK(r.reply.kind == K::Continue);
    CHECK(r.edits.empty());  // the forged field and the ad belonged to the aborted message
}

TEST_CASE("session: the default rules reject 未承諾広告") {
    Fixture f;
    auto s = f.session();
    CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
    CHECK(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
    send_headers(s, kAdSubject);
    auto r = s.eom();
    CHECK(r.reply.kind == K::Reject);
    CHECK(r.reply.code == "550");
    CHECK(r.reply.xcode == "5.7.1");
    CHECK(f.logged("rule=jp-unsolicited-ad"));
}

TEST_CASE("session: authenticated submissions are not filtered unless configured") {
    Fixture f;
    auto s = f.session();
    CHECK(s.mail("<taro@example.jp>", {}, "taro@example.jp").kind == K::Continue);
    CHECK(s.rcpt("<x@relay.example.net>", {}).kind == K::Continue);
    send_headers(s, kAdSubject);
    CHECK(s.eom().reply.kind == K::Continue);

    f.settings->filter_authenticated = true;
    auto s2 = f.session();
    CHECK(s2.mail("<taro@example.jp>", {}, "taro@example.jp").kind == K::Continue);
    CHECK(s2.rcpt("<x@relay.example.net>", {}).kind == K::Continue);
    send_headers(s2, kAdSubject);
    CHECK(s2.eom().reply.kind == K::Reject);
}

namespace {

EomResult run_rule(Fixture& f, std::string_view action, std::string_view text = "") {
    std::string rules =
        "rule ad\n target = subject\n literal = 未承諾広告\n action = " + std::string(action) +
        "\n";
    if (!text.empty()) rules += " text = " + std::string(text) + "\n";
    auto rs = rules::RuleSet::parse(rules, "test.rules");
    REQUIRE(rs);
    f.settings->rules = std::make_shared<const rules::RuleSet>(std::move(*rs));
    auto s = f.session();
    REQUIRE(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
    REQUIRE(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
    send_headers(s, kAdSubject);
    return s.eom();
}

bool has_edit(const EomResult& r, HeaderEdit::Op op, std::string_view name,
              std::string_view value) {
    for (const auto& e : r.edits)
        if (e.op == op && e.name == name && e.value == value) return true;
    return false;
}

}  // namespace

TEST_CASE("session: filter actions") {
    Fixture f;
    SUBCASE("tag adds headers and prefixes the Subject") {
        auto r = run_rule(f, "tag", "[SPAM]");
        CHECK(r.reply.kind == K::Continue);
        CHECK(has_edit(r, HeaderEdit::Op::Add, "X-Yubin-Spam", "yes"));
        CHECK(has_edit(r, HeaderEdit::Op::Add, "X-Yubin-Rule", "ad"));
        CHECK(has_edit(r, HeaderEdit::Op::Change, "Subject", "[SPAM] " + kAdSubject));
    }
    SUBCASE("junk marks for the Junk folder") {
        auto r = run_rule(f, "junk");
        CHECK(r.reply.kind == K::Continue);
        CHECK(has_edit(r, HeaderEdit::Op::Add, "X-Yubin-Spam", "junk"));
        CHECK(r.quarantine.empty());
    }
    SUBCASE("quarantine holds") {
        auto r = run_rule(f, "quarantine");
        CHECK(r.reply.kind == K::Continue);
        CHECK(r.quarantine == "yubin rule ad");
    }
    SUBCASE("discard only when allowed, else quarantine") {
        auto r = run_rule(f, "discard");
        CHECK(r.reply.kind == K::Continue);
        CHECK(r.quarantine == "yubin rule ad");
        CHECK(f.logged("discard not allowed"));
        f.settings->allow_discard = true;
        r = run_rule(f, "discard");
        CHECK(r.reply.kind == K::Discard);
        CHECK(f.logged("discard: END-OF-MESSAGE"));
    }
    SUBCASE("reject with the rule's text") {
        auto r = run_rule(f, "reject", "no ads 100% please");
        CHECK(r.reply.to_string() == "550 5.7.1 no ads 100? please");
    }
    SUBCASE("filter off") {
        f.settings->filter = false;
        auto r = run_rule(f, "reject");
        CHECK(r.reply.kind == K::Continue);
    }
}

TEST_CASE("session: recipients that opted out of the filter") {
    Fixture f;
    auto run = [&](std::initializer_list<const char*> rcpts, std::string_view action) {
        std::string rules =
            "rule ad\n target = subject\n literal = 未承諾広告\n action = " + std::string(action) +
            "\n text = [AD]\n";
        auto rs = rules::RuleSet::parse(rules, "test.rules");
        REQUIRE(rs);
        f.settings->rules = std::make_shared<const rules::RuleSet>(std::move(*rs));
        f.settings->allow_discard = true;
        auto s = f.session();
        REQUIRE(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
        for (const char* r : rcpts) REQUIRE(s.rcpt(r, {}).kind == K::Continue);
        send_headers(s, kAdSubject);
        return s.eom();
    };
    for (const char* action : {"reject", "discard", "quarantine", "junk", "tag"}) {
        CAPTURE(action);
        // Every recipient opted out (mailbox, whole domain): untouched.
        auto r = run({"<optout@example.jp>", "<optout-x@free.example>"}, action);
        CHECK(r.reply.kind == K::Continue);
        CHECK(r.quarantine.empty());
        CHECK(r.edits.empty());
        // Nobody opted out: the rule's action as configured.
        r = run({"<taro@example.jp>", "<in@free.example>"}, action);
        if (std::string_view(action) == "reject") CHECK(r.reply.kind == K::Reject);
        if (std::string_view(action) == "discard") CHECK(r.reply.kind == K::Discard);
        if (std::string_view(action) == "quarantine") CHECK(r.quarantine == "yubin rule ad");
        if (std::string_view(action) == "junk")
            CHECK(has_edit(r, HeaderEdit::Op::Add, "X-Yubin-Spam", "junk"));
        if (std::string_view(action) == "tag")
            CHECK(has_edit(r, HeaderEdit::Op::Change, "Subject", "[AD] " + kAdSubject));
        // Mixed: delivered to all, headers only, whatever the action.
        r = run({"<taro@example.jp>", "<optout@example.jp>", "<optout-y@free.example>"}, action);
        CHECK(r.reply.kind == K::Continue);
        CHECK(r.quarantine.empty());
        CHECK(has_edit(r, HeaderEdit::Op::Add, "X-Yubin-Spam", "yes"));
        CHECK(has_edit(r, HeaderEdit::Op::Add, "X-Yubin-Rule", "ad"));
        CHECK(r.edits.size() == 2);  // no Subject change
        CHECK(f.logged("2 of 3 recipients opted out of the filter"));
    }
    // A forged X-Yubin-Spam is still removed when nobody wants the filter.
    f.settings->rules = std::make_shared<const rules::RuleSet>(rules::RuleSet::defaults());
    auto s = f.session();
    REQUIRE(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
    REQUIRE(s.rcpt("<optout@example.jp>", {}).kind == K::Continue);
    s.header("X-Yubin-Spam", "no");
    send_headers(s, kAdSubject);
    auto r = s.eom();
    CHECK(r.reply.kind == K::Continue);
    CHECK(has_edit(r, HeaderEdit::Op::Delete, "X-Yubin-Spam", ""));
    CHECK(r.edits.size() == 1);
    // The opt-out is per message: a new MAIL starts counting again.
    REQUIRE(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
    REQUIRE(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
    send_headers(s, kAdSubject);
    CHECK(s.eom().reply.kind == K::Reject);
}

TEST_CASE("session: forged X-Yubin fields are deleted, highest index first") {
    Fixture f;
    auto s = f.session();
    CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
    CHECK(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
    s.header("X-Yubin-Spam", "no");
    s.header("Subject", "hello");
    s.header("x-yubin-spam", "no");
    s.header("X-Yubin-Rule", "none");
    s.header("X-YUBIN-SPAM", "no");
    auto r = s.eom();
    CHECK(r.reply.kind == K::Continue);
    REQUIRE(r.edits.size() == 4);
    CHECK(r.edits[0].op == HeaderEdit::Op::Delete);
    CHECK(r.edits[0].name == "X-Yubin-Spam");
    CHECK(r.edits[0].index == 3);
    CHECK(r.edits[1].index == 2);
    CHECK(r.edits[2].index == 1);
    CHECK(r.edits[3].name == "X-Yubin-Rule");
    CHECK(r.edits[3].index == 1);
}

TEST_CASE("session: deletions of forged fields come before our own additions") {
    Fixture f;
    auto r = [&] {
        auto rs = rules::RuleSet::parse(
            "rule ad\n target = subject\n literal = 未承諾広告\n "
            "action = junk\n",
            "t");
        REQUIRE(rs);
        f.settings->rules = std::make_shared<const rules::RuleSet>(std::move(*rs));
        auto s = f.session();
        REQUIRE(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
        REQUIRE(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
        s.header("X-Yubin-Spam", "no");
        send_headers(s, kAdSubject);
        return s.eom();
    }();
    REQUIRE(r.edits.size() == 3);
    CHECK(r.edits[0].op == HeaderEdit::Op::Delete);
    CHECK(r.edits[1].op == HeaderEdit::Op::Add);
}

TEST_CASE("session: bounds on hostile messages") {
    Fixture f;
    SUBCASE("100,000 header fields and a 1 MB field: memory bounded, verdict still made") {
        auto s = f.session();
        CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
        CHECK(s.rcpt("<any@free.example>", {}).kind == K::Continue);
        for (int i = 0; i < 100000; ++i) s.header("X-Filler", "value");
        s.header("X-Huge", std::string(1 << 20, 'a'));
        s.header("Subject", kAdSubject);
        CHECK(s.eom().reply.kind == K::Reject);
    }
    SUBCASE("too many forged X-Yubin fields") {
        auto s = f.session();
        CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
        CHECK(s.rcpt("<any@free.example>", {}).kind == K::Continue);
        for (std::size_t i = 0; i <= kMaxForgedFields; ++i)
            s.header("X-Yubin-" + std::to_string(i), "x");
        auto r = s.eom();
        CHECK(r.reply.code == "550");
    }
    SUBCASE("a failed no-reply stage makes the message tempfail") {
        auto s = f.session();
        CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
        CHECK(s.rcpt("<any@free.example>", {}).kind == K::Continue);
        s.fail_later("bad_alloc");
        CHECK(s.eom().reply.to_string() == "451 4.3.0 Temporary failure, try again later");
    }
    SUBCASE("RCPT without MAIL and EOM without anything do not crash") {
        auto s = f.session();
        CHECK(s.rcpt("<x@relay.example.net>", {}).kind == K::Reject);
        CHECK(s.eom().reply.kind == K::Continue);
        Session bare(f.settings, f.dir, f.log);  // no connect at all
        CHECK(bare.eom().reply.kind == K::Continue);
        bare.abort();
    }
}

TEST_CASE("session: the queue id appears in log lines once known") {
    Fixture f;
    auto s = f.session();
    CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
    CHECK(s.rcpt("<x@relay.example.net>", {}).kind == K::Reject);
    CHECK(f.logged("NOQUEUE: reject: RCPT"));
    CHECK(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
    s.set_queue_id("4F9D18340B");
    send_headers(s, kAdSubject);
    CHECK(s.eom().reply.kind == K::Reject);
    CHECK(f.logged("4F9D18340B: reject: END-OF-MESSAGE from client.example.net[198.51.100.7]"));
}

TEST_CASE("networks: parsing and matching") {
    auto n = NetworkList::parse({"127.0.0.0/8", "[::1]/128", "192.0.2.7", "2001:db8::/32"});
    REQUIRE(n);
    CHECK(n->contains("127.1.2.3"));
    CHECK(n->contains("::ffff:127.0.0.1"));
    CHECK(n->contains("::1"));
    CHECK(n->contains("192.0.2.7"));
    CHECK_FALSE(n->contains("192.0.2.8"));
    CHECK(n->contains("2001:db8:1::5"));
    CHECK_FALSE(n->contains("2001:db9::1"));
    CHECK_FALSE(n->contains("128.0.0.1"));
    CHECK_FALSE(n->contains("not an address"));
    CHECK_FALSE(n->contains(""));
    for (const char* bad :
         {"10.1.2.3/8", "1.2.3.4/33", "::1/129", "1.2.3/24", "x", "1.2.3.4/", "1.2.3.4/-1"}) {
        CAPTURE(bad);
        CHECK_FALSE(NetworkList::parse({bad}));
    }
    auto all = NetworkList::parse({"0.0.0.0/0"});
    REQUIRE(all);
    CHECK(all->contains("203.0.113.9"));
}

TEST_CASE("session: sender/login mismatch for authenticated clients") {
    Fixture f;
    auto mail_as = [&](std::string_view sender, std::string_view login) {
        auto s = f.session();
        return s.mail(sender, {}, login);
    };
    // off (default): anything goes
    CHECK(mail_as("<hanako@example.jp>", "taro@example.jp").kind == K::Continue);

    f.settings->sender_login_mismatch = LoginMismatch::Reject;
    CHECK(mail_as("<taro@example.jp>", "taro@example.jp").kind == K::Continue);
    CHECK(mail_as("<info@example.jp>", "taro@example.jp").kind == K::Continue);
    CHECK(mail_as("<>", "taro@example.jp").kind == K::Continue);    // bounces are fine
    CHECK(mail_as("<hanako@example.jp>", "").kind == K::Continue);  // not authenticated
    auto r = mail_as("<hanako@example.jp>", "taro@example.jp");
    CHECK(r.to_string() ==
          "553 5.7.1 <hanako@example.jp>: Sender address rejected: not owned by user "
          "taro@example.jp");
    CHECK(mail_as("<x@down.example>", "taro@example.jp").kind == K::TempFail);

    f.settings->sender_login_mismatch = LoginMismatch::Warn;
    CHECK(mail_as("<hanako@example.jp>", "taro@example.jp").kind == K::Continue);
    CHECK(
        f.logged("warn: MAIL from client.example.net[198.51.100.7]: sender <hanako@example.jp> "
                 "not owned by user taro@example.jp"));
}

TEST_CASE("session: header rules see the fields they name, any case") {
    Fixture f;
    auto rs = rules::RuleSet::parse(
        "rule xm\n target = header:X-Mailer\n literal = SpamCannon\n action = reject\n", "t");
    REQUIRE(rs);
    f.settings->rules = std::make_shared<const rules::RuleSet>(std::move(*rs));
    auto s = f.session();
    CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
    CHECK(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
    s.header("Subject", "hello");
    s.header("x-mailer", "SpamCannon 2.0");
    CHECK(s.eom().reply.code == "550");
    CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
    CHECK(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
    s.header("X-Other", "SpamCannon 2.0");
    CHECK(s.eom().reply.kind == K::Continue);
}

TEST_CASE("session: directory answers are cached for the connection, failures are not") {
    Fixture f;
    auto s = f.session();
    CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
    CHECK(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
    const int first = f.dir->lookups + f.dir->limit_lookups;
    CHECK(first > 0);
    // the same sender and recipient again, and a second message: no lookup
    CHECK(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
    send_headers(s, "hello");
    CHECK(s.eom().reply.kind == K::Continue);
    CHECK(s.mail("<a@client.example.net>", {}, "").kind == K::Continue);
    CHECK(s.rcpt("<taro@example.jp>", {}).kind == K::Continue);
    CHECK(f.dir->lookups + f.dir->limit_lookups == first);
    // a foreign domain has no limit to look up
    auto auth = f.session();
    CHECK(auth.mail("<taro@example.jp>", {}, "taro@example.jp").kind == K::Continue);
    const int limits = f.dir->limit_lookups;
    CHECK(auth.rcpt("<x@relay.example.net>", {}).kind == K::Continue);
    CHECK(f.dir->limit_lookups == limits);
    // a failed lookup is asked again
    CHECK(s.rcpt("<b@down.example>", {}).kind == K::TempFail);
    const int n = f.dir->lookups;
    CHECK(s.rcpt("<b@down.example>", {}).kind == K::TempFail);
    CHECK(f.dir->lookups > n);
    // a new connection starts without the cache
    auto fresh = f.session();
    const int m = f.dir->lookups;
    CHECK(fresh.mail("<a@client.example.net>", {}, "").kind == K::Continue);
    CHECK(f.dir->lookups > m);
}
