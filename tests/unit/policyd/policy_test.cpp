// Policies with an injected clock over the memory backend, the store-based
// checks (sender/login, quota), rate rule syntax and client grouping.
#include <sqlite3.h>

#include "policy_suite.hpp"

using namespace policyd_test;

TEST_CASE("policyd: policy suite on the memory backend") {
    policy_suite([] { return make_memory_counters(100000); });
}

TEST_CASE("policyd: sender/login: own address, extensions and aliases that lead to the login") {
    World w(make_memory_counters(1000));
    struct Case {
        const char* login;
        const char* sender;
        bool allowed;
    };
    const Case cases[] = {
        {"taro@example.com", "taro@example.com", true},
        {"taro@example.com", "Taro@Example.COM", true},
        {"TARO@example.com", "taro@example.com", true},
        {"taro@example.com", "taro+lists@example.com", true},
        {"taro@example.com", "info@example.com", true},   // alias -> taro
        {"taro@example.com", "sales@example.com", true},  // alias -> taro, hanako
        {"hanako@example.com", "sales@example.com", true},
        {"taro@example.com", "anything@alias.example", true},  // catch-all -> taro
        {"taro@example.com", "", true},                        // null sender
        {"taro@example.com", "hanako@example.com", false},
        {"hanako@example.com", "info@example.com", false},
        {"jiro@example.com", "anything@alias.example", false},
        {"taro@example.com", "taro@example.net", false},  // not in the store
        {"taro@example.com", "not an address", false},
    };
    for (const auto& c : cases) {
        CAPTURE(std::string(c.login));
        CAPTURE(std::string(c.sender));
        for (const char* state : {"MAIL", "RCPT"}) {
            auto a = w.policy->decide(req(state, c.login, c.sender, "x@example.org"));
            if (c.allowed)
                CHECK(a == "DUNNO");
            else if (std::string_view(state) == "MAIL")
                CHECK(a == "553 5.7.1 not owned by user " + std::string(c.login));
            else
                CHECK(a == "553 5.7.1 Sender address <" + std::string(c.sender) +
                               "> not owned by user " + c.login);
        }
    }
    // Unauthenticated clients are not checked here (reject_unauth_destination is Postfix's job).
    CHECK(w.policy->decide(req("RCPT", "", "hanako@example.com", "x@example.org")) == "DUNNO");
    w.configure([](PolicySettings& s) { s.sender_login_mode = Mode::Off; });
    CHECK(w.policy->decide(req("MAIL", "taro@example.com", "hanako@example.com")) == "DUNNO");
}

TEST_CASE("policyd: recipient quota from maildirsize at RCPT") {
    World w(make_memory_counters(1000));
    auto rcpt = [&](const char* to, long size = 0) {
        return w.policy->decide(req("RCPT", "", "a@example.net", to, "192.0.2.10", 0, size));
    };
    CHECK(rcpt("hanako@example.com") == "552 5.2.2 Mailbox full");
    CHECK(rcpt("hanako+x@example.com").starts_with("552 5.2.2"));
    CHECK(rcpt("jiro@example.com") == "DUNNO");                     // 100 of 1000 used
    CHECK(rcpt("jiro@example.com", 900) == "DUNNO");                // exactly fills it
    CHECK(rcpt("jiro@example.com", 901).starts_with("552 5.2.2"));  // SIZE= would exceed
    CHECK(rcpt("taro@example.com") == "DUNNO");                     // no quota
    CHECK(rcpt("nobody@example.org") == "DUNNO");                   // not ours
    CHECK(w.logged(
        "reject: RCPT from client.example.net[192.0.2.10]: mailbox full (1100 of 1000 bytes"));
    w.configure([](PolicySettings& s) { s.quota_defer = true; });
    CHECK(rcpt("hanako@example.com").starts_with("452 4.2.2"));
    // default_quota applies to a mailbox without its own quota.
    w.write_maildirsize("example.com/taro/Maildir/", "0S\n5000 10\n");
    w.configure([](PolicySettings& s) { s.default_quota = 4096; });
    CHECK(rcpt("taro@example.com").starts_with("552 5.2.2"));
    // A malformed maildirsize is logged and the mail let through (delivery decides).
    w.write_maildirsize("example.com/hanako/Maildir/", "garbage\n");
    CHECK(rcpt("hanako@example.com") == "DUNNO");
    CHECK(w.logged("warning: quota of hanako@example.com"));
}

TEST_CASE("policyd: recipient limit per message and class of sender") {
    World w(make_memory_counters(1000));
    w.configure([](PolicySettings& s) {
        s.recipient_limit_authenticated = 50;
        s.recipient_limit_unauthenticated = 5;
    });
    CHECK(w.policy->decide(req("DATA", "", "a@example.net", "", "192.0.2.1", 5)) == "DUNNO");
    CHECK(w.policy->decide(req("DATA", "", "a@example.net", "", "192.0.2.1", 6))
              .starts_with("REJECT 5.5.3 Too many recipients (at most 5"));
    CHECK(w.policy->decide(req("END-OF-MESSAGE", "", "a@example.net", "", "192.0.2.1", 6)) !=
          "DUNNO");
    CHECK(w.policy->decide(
              req("DATA", "taro@example.com", "taro@example.com", "", "192.0.2.1", 50)) == "DUNNO");
    CHECK(w.policy->decide(
              req("DATA", "taro@example.com", "taro@example.com", "", "192.0.2.1", 51)) != "DUNNO");
}

TEST_CASE("policyd: per-user and per-domain overrides from the store") {
    World w(make_memory_counters(1000));
    {
        auto rw = store::open_store("sqlite:" + w.db, {});
        REQUIRE(rw);
        auto& st = **rw;
        auto d = *st.get_domain("example.com");
        d.rate_limit = "messages:4/1h";
        d.recipient_limit = 3;
        REQUIRE(st.update_domain(d));
        auto h = *st.get_mailbox("hanako@example.com");
        h.rate_limit = "none";  // exempt from rate limits; recipient limit: the domain's
        REQUIRE(st.update_mailbox(h));
        auto j = *st.get_mailbox("jiro@example.com");
        j.rate_limit = "messages:1/1h";
        j.recipient_limit = 20;
        REQUIRE(st.update_mailbox(j));
        REQUIRE(st.add_domain(store::Domain{.name = "plain.example"}));
        REQUIRE(st.add_mailbox(store::Mailbox{.address = "ume@plain.example"}));
    }
    w.configure([](PolicySettings& s) {
        s.rates[0] = rules("messages:2/1h");  // policyd_rate_sasl_user
        s.recipient_limit_authenticated = 10;
    });
    auto send = [&](const char* user, int rcpts = 1) {
        return message(*w.policy, user, user, rcpts);
    };
    // No override anywhere: yubin.cf.
    CHECK(send("ume@plain.example") == "DUNNO");
    CHECK(send("ume@plain.example", 10) == "DUNNO");
    CHECK(send("ume@plain.example").find("2 messages per 1h") != std::string::npos);
    CHECK(w.policy->decide(req("DATA", "ume@plain.example", "ume@plain.example", "", "192.0.2.1",
                               11)) != "DUNNO");
    // taro: the domain's (4 per hour, 3 recipients).
    for (int i = 0; i < 4; ++i) CHECK(send("taro@example.com") == "DUNNO");
    auto a = send("taro@example.com");
    CHECK(a.starts_with("DEFER_IF_PERMIT 4.7.1 Rate limit exceeded (4 messages per 1h)"));
    CHECK(w.policy->decide(req("DATA", "taro@example.com", "taro@example.com", "", "192.0.2.1",
                               4)) == "REJECT 5.5.3 Too many recipients (at most 3 per message)");
    // hanako: "none" lifts every rate limit; the domain's recipient limit stays.
    for (int i = 0; i < 8; ++i) CHECK(send("HANAKO@example.com") == "DUNNO");
    CHECK(send("hanako@example.com", 4).starts_with("REJECT 5.5.3"));
    // jiro: his own (1 per hour, 20 recipients) over the domain's.
    CHECK(send("jiro@example.com", 15) == "DUNNO");
    CHECK(send("jiro@example.com").find("1 messages per 1h") != std::string::npos);
    CHECK(w.logged("rate limit 1 messages per 1h exceeded for sasl_username"));
    // Unauthenticated mail is not touched by the overrides.
    CHECK(w.policy->decide(req("DATA", "", "taro@example.com", "", "192.0.2.1", 9)) == "DUNNO");

    // A malformed value written around yubinctl: the yubin.cf limits, logged.
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(w.db.c_str(), &db) == SQLITE_OK);
        CHECK(sqlite3_exec(db,
                           "UPDATE mailboxes SET rate_limit = 'garbage' "
                           "WHERE address = 'ume@plain.example'",
                           nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    w.clock.advance_s(2 * 3600);
    CHECK(send("ume@plain.example") == "DUNNO");
    CHECK(w.logged("rate_limit of ume@plain.example in the store: bad rate"));

    // The store unreadable: the yubin.cf limits (never a deferral for that;
    // the quota check, which needs the store, is off here).
    w.configure([](PolicySettings& s) {
        s.rates[0] = rules("messages:2/1h");
        s.recipient_limit_authenticated = 10;
        s.quota_mode = Mode::Off;
    });
    std::filesystem::rename(w.db, w.db + ".away");
    w.store->reset();
    w.clock.advance_s(2 * 3600);
    CHECK(send("hanako@example.com") == "DUNNO");
    CHECK(send("hanako@example.com") == "DUNNO");
    CHECK(send("hanako@example.com").find("2 messages per 1h") != std::string::npos);
    CHECK(w.logged("using the yubin.cf defaults"));
}

TEST_CASE("policyd: limits cached within batches follow a store change from the next batch on") {
    World w(make_memory_counters(1000));
    w.configure([](PolicySettings& s) {
        s.rates[0] = rules("messages:100/1h");
        s.quota_mode = Mode::Off;
        s.sender_login_mode = Mode::Off;
    });
    auto batch = [&](const Request& r) {
        const Request* p = &r;
        w.policy->prefetch({&p, 1});
        auto a = w.policy->decide(r);
        auto again = w.policy->decide(r);  // the same batch: the same answer
        w.policy->finish_batch();
        CHECK(a == again);
        return a;
    };
    auto data = req("DATA", "taro@example.com", "taro@example.com", "", "192.0.2.1", 5);
    auto set_limit = [&](std::int64_t n) {  // what yubinctl user set does, from outside
        auto rw = store::open_store("sqlite:" + w.db, {});
        REQUIRE(rw);
        auto m = *(*rw)->get_mailbox("taro@example.com");
        m.recipient_limit = n;
        REQUIRE((*rw)->update_mailbox(m));
    };
    CHECK(batch(data) == "DUNNO");
    CHECK(batch(data) == "DUNNO");
    set_limit(3);
    CHECK(batch(data) == "REJECT 5.5.3 Too many recipients (at most 3 per message)");
    CHECK(batch(data).starts_with("REJECT 5.5.3"));
    set_limit(0);  // inherit: no limit
    CHECK(batch(data) == "DUNNO");
    // The store reopened after an outage: nothing cached from the old one.
    set_limit(4);
    w.store->reset();
    CHECK(batch(data) == "REJECT 5.5.3 Too many recipients (at most 4 per message)");
}

namespace {

class DownCounters final : public Counters {
public:
    int calls = 0;
    Result<CheckResult> check_and_add(std::span<const CounterLimit>, std::int64_t, bool) override {
        ++calls;
        return fail(ErrorKind::Temp, "connection refused");
    }
    Result<GreylistResult> greylist(std::string_view, std::int64_t, const GreylistTimes&) override {
        ++calls;
        return fail(ErrorKind::Temp, "connection refused");
    }
};

}  // namespace

TEST_CASE(
    "policyd: state outage follows policyd_state_failure_action and is logged once a minute") {
    auto down = std::make_unique<DownCounters>();
    DownCounters* raw = down.get();
    World w(std::move(down));
    w.configure([](PolicySettings& s) { s.rates[0] = rules("messages:1/1h"); });
    for (int i = 0; i < 5; ++i)
        CHECK(message(*w.policy, "taro@example.com", "taro@example.com") == "DUNNO");
    CHECK(raw->calls == 15);
    int warnings = 0;
    for (const auto& [lvl, line] : w.sink.snapshot())
        if (line.find("policy state unavailable: connection refused") != std::string::npos)
            ++warnings;
    CHECK(warnings == 1);
    w.clock.advance_s(61);
    w.configure([](PolicySettings& s) {
        s.rates[0] = rules("messages:1/1h");
        s.state_failure_action = "DEFER_IF_PERMIT";
    });
    CHECK(message(*w.policy, "taro@example.com", "taro@example.com")
              .starts_with("DEFER_IF_PERMIT 4.3.0 Temporary policy state failure"));
}

TEST_CASE("policyd: an unreadable store defers store-based checks, then recovers") {
    World w(make_memory_counters(1000));
    std::filesystem::rename(w.db, w.db + ".away");
    w.store->reset();
    CHECK(w.policy->decide(req("MAIL", "taro@example.com", "info@example.com"))
              .starts_with("DEFER_IF_PERMIT 4.3.0 Temporary lookup failure"));
    std::filesystem::rename(w.db + ".away", w.db);
    // Retried at most every 5 s.
    CHECK(w.policy->decide(req("MAIL", "taro@example.com", "info@example.com")) != "DUNNO");
    w.clock.advance_s(6);
    CHECK(w.policy->decide(req("MAIL", "taro@example.com", "info@example.com")) == "DUNNO");
}

TEST_CASE("policyd: rate rule syntax") {
    auto r = parse_rate_rules("messages:100/1h, recipients:1000/1d bytes:50M/1w messages:5/30");
    REQUIRE(r);
    REQUIRE(r->size() == 4);
    CHECK(describe((*r)[0]) == "100 messages per 1h");
    CHECK(describe((*r)[1]) == "1000 recipients per 1d");
    CHECK((*r)[2].max == 50LL * 1024 * 1024);
    CHECK((*r)[2].window_s == 7 * 86400);
    CHECK((*r)[3].window_s == 30);
    CHECK(parse_rate_rules("")->empty());
    for (const char* bad : {"messages", "messages:100", "mails:1/1h", "messages:x/1h",
                            "messages:-1/1h", "messages:1/0", "messages:1/1y", "messages/1h:5"}) {
        CAPTURE(std::string(bad));
        auto e = parse_rate_rules(bad);
        REQUIRE_FALSE(e);
        CHECK(e.error().what.find("want KIND:COUNT/WINDOW") != std::string::npos);
    }
}

TEST_CASE("policyd: client grouping") {
    CHECK(client_group("192.0.2.10", false) == "192.0.2.10");
    CHECK(client_group("192.0.2.10", true) == "192.0.2.0/24");
    CHECK(client_group("2001:db8:1:2:3:4:5:6", false) == "2001:db8:1:2::/64");
    CHECK(client_group("::ffff:192.0.2.10", false) == "192.0.2.10");
    CHECK(client_group("::ffff:192.0.2.10", true) == "192.0.2.0/24");
    CHECK(client_group("unknown", false).empty());
    CHECK(client_group("", false).empty());
    CHECK(client_group("192.0.2.10; rm -rf", false).empty());
}

TEST_CASE("policyd: greylist whitelist") {
    auto w = GreylistWhitelist::parse({"192.0.2.0/24", "2001:db8::/32", "198.51.100.7",
                                       "mx.example.net", "postmaster@example.com", "@example.org"});
    REQUIRE(w);
    auto r = [](const char* addr, const char* name, const char* rcpt) {
        Request q;
        q.client_address = addr;
        q.client_name = name;
        q.recipient = rcpt;
        return q;
    };
    struct Case {
        Request q;
        bool want;
    };
    const Case cases[] = {
        {r("192.0.2.99", "unknown", "x@example.com"), true},
        {r("::ffff:192.0.2.99", "unknown", "x@example.com"), true},
        {r("192.0.3.1", "unknown", "x@example.com"), false},
        {r("2001:db8:ffff::1", "unknown", "x@example.com"), true},
        {r("2001:db9::1", "unknown", "x@example.com"), false},
        {r("198.51.100.7", "unknown", "x@example.com"), true},
        {r("198.51.100.8", "unknown", "x@example.com"), false},
        {r("203.0.113.1", "mx.example.net", "x@example.com"), true},
        {r("203.0.113.1", "a.mx.EXAMPLE.net", "x@example.com"), true},
        {r("203.0.113.1", "evilmx.example.net", "x@example.com"), false},
        {r("203.0.113.1", "unknown", "Postmaster@Example.com"), true},
        {r("203.0.113.1", "unknown", "anyone@example.org"), true},
        {r("203.0.113.1", "unknown", "anyone@sub.example.org"), false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.q.client_address);
        CAPTURE(c.q.client_name);
        CAPTURE(c.q.recipient);
        CHECK(w->matches(c.q) == c.want);
    }
    for (const char* bad : {"192.0.2.0/33", "::/129", "not a name", "@", "a@", "1.2.3.4/x"}) {
        CAPTURE(std::string(bad));
        CHECK_FALSE(GreylistWhitelist::parse({bad}));
    }
}
