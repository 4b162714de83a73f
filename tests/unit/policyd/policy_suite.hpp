// The policy test suite, run against every Counters backend (memory here,
// Redis in redis_test.cpp) so that both keep identical semantics.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "core/log/logger.hpp"
#include "core/log/sink.hpp"
#include "core/store/store.hpp"
#include "policyd/clock.hpp"
#include "policyd/counters.hpp"
#include "policyd/policy.hpp"

namespace policyd_test {

using namespace yubin;
using namespace yubin::policyd;

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/yubin-policyd-test.XXXXXX";
        const char* p = ::mkdtemp(tmpl);
        REQUIRE(p != nullptr);
        path_ = p;
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

// A store with example.com: taro (no quota), hanako (quota 1000 bytes, over
// it), jiro (quota 1000, under it); info@ -> taro, sales@ -> taro + hanako,
// catch-all @alias.example -> taro.
struct World {
    TempDir dir;
    std::string db = dir.path() + "/yubin.db";
    std::string base = dir.path() + "/vmail";
    log::MemorySink sink;
    log::Logger log{sink, true};
    ManualClock clock;
    std::unique_ptr<Counters> counters;
    std::unique_ptr<StoreHandle> store;
    std::unique_ptr<Policy> policy;

    explicit World(std::unique_ptr<Counters> c) : counters(std::move(c)) {
        store::StoreOptions so;
        auto s = store::open_store("sqlite:" + db, so);
        REQUIRE(s);
        auto& st = **s;
        REQUIRE(st.add_domain(store::Domain{.name = "example.com"}));
        REQUIRE(st.add_domain(store::Domain{.name = "alias.example"}));
        REQUIRE(st.add_mailbox(store::Mailbox{.address = "taro@example.com"}));
        REQUIRE(
            st.add_mailbox(store::Mailbox{.address = "hanako@example.com", .quota_bytes = 1000}));
        REQUIRE(st.add_mailbox(store::Mailbox{.address = "jiro@example.com", .quota_bytes = 1000}));
        REQUIRE(
            st.add_alias(store::Alias{.source = "info@example.com", .target = "taro@example.com"}));
        REQUIRE(st.add_alias(
            store::Alias{.source = "sales@example.com", .target = "taro@example.com"}));
        REQUIRE(st.add_alias(
            store::Alias{.source = "sales@example.com", .target = "hanako@example.com"}));
        REQUIRE(
            st.add_alias(store::Alias{.source = "@alias.example", .target = "taro@example.com"}));
        write_maildirsize("example.com/hanako/Maildir/", "1000S\n900 3\n200 1\n");
        write_maildirsize("example.com/jiro/Maildir/", "1000S\n100 1\n");
        store = std::make_unique<StoreHandle>(
            [this] {
                store::StoreOptions ro;
                ro.read_only = true;
                return store::open_store("sqlite:" + db, ro);
            },
            clock);
        configure([](PolicySettings&) {});
    }

    void write_maildirsize(const std::string& rel, const std::string& text) {
        std::filesystem::create_directories(base + "/" + rel);
        std::ofstream(base + "/" + rel + "maildirsize") << text;
    }

    void configure(const std::function<void(PolicySettings&)>& tweak) {
        PolicySettings s;
        s.mailbox_base = base;
        tweak(s);
        policy = std::make_unique<Policy>(s, *counters, *store, clock, log);
    }

    bool logged(std::string_view what) const {
        for (const auto& [lvl, line] : sink.snapshot())
            if (line.find(what) != std::string::npos) return true;
        return false;
    }
};

inline Request req(std::string state, std::string sasl, std::string sender, std::string rcpt = "",
                   std::string client = "192.0.2.10", int rcpt_count = 0, long size = 0) {
    Request r;
    r.request = "smtpd_access_policy";
    r.protocol_state = std::move(state);
    r.protocol_name = "ESMTP";
    r.sasl_username = std::move(sasl);
    r.sender = std::move(sender);
    r.recipient = std::move(rcpt);
    r.client_address = std::move(client);
    r.client_name = "client.example.net";
    r.recipient_count = std::to_string(rcpt_count);
    r.size = std::to_string(size);
    r.queue_id = "4F9D18340B";
    return r;
}

// Sends one whole message (RCPT, DATA, END-OF-MESSAGE) and returns the
// END-OF-MESSAGE answer, or the first non-DUNNO answer before it.
inline std::string message(Policy& p, const std::string& sasl, const std::string& sender,
                           int rcpts = 1, long size = 100,
                           const std::string& client = "192.0.2.10") {
    for (int i = 0; i < rcpts; ++i) {
        auto a = p.decide(
            req("RCPT", sasl, sender, "r" + std::to_string(i) + "@example.org", client, 0, size));
        if (a != "DUNNO") return a;
    }
    auto d = p.decide(req("DATA", sasl, sender, "", client, rcpts, size));
    if (d != "DUNNO") return d;
    return p.decide(req("END-OF-MESSAGE", sasl, sender, "", client, rcpts, size));
}

inline std::vector<RateRule> rules(std::string_view text) {
    auto r = parse_rate_rules(text);
    REQUIRE(r);
    return *r;
}

inline void policy_suite(const std::function<std::unique_ptr<Counters>()>& make) {
    SUBCASE("a clean request gets DUNNO, never OK") {
        World w(make());
        for (const char* state : {"CONNECT", "EHLO", "MAIL", "RCPT", "DATA", "END-OF-MESSAGE",
                                  "VRFY", "ETRN", "SOMETHING-NEW"})
            CHECK(w.policy->decide(req(state, "", "a@example.net", "taro@example.com")) == "DUNNO");
    }

    SUBCASE("per-user hourly message limit: deferred at the limit, another user is not") {
        World w(make());
        w.configure([](PolicySettings& s) { s.rates[0] = rules("messages:3/1h"); });
        for (int i = 0; i < 3; ++i)
            CHECK(message(*w.policy, "taro@example.com", "taro@example.com") == "DUNNO");
        auto a = message(*w.policy, "taro@example.com", "taro@example.com");
        CHECK(a.starts_with("DEFER_IF_PERMIT 4.7.1 Rate limit exceeded (3 messages per 1h)"));
        CHECK(
            w.logged("4F9D18340B: defer: RCPT from client.example.net[192.0.2.10]: rate limit 3 "
                     "messages per 1h exceeded for sasl_username"));
        CHECK(message(*w.policy, "jiro@example.com", "jiro@example.com") == "DUNNO");
        // An hour later the window has slid past them (the previous window's
        // weight falls to 0 at its end).
        w.clock.advance_s(2 * 3600);
        CHECK(message(*w.policy, "taro@example.com", "taro@example.com") == "DUNNO");
    }

    SUBCASE("deferred messages are not counted; counting happens once at END-OF-MESSAGE") {
        World w(make());
        w.configure([](PolicySettings& s) { s.rates[0] = rules("messages:2/1h"); });
        // RCPT and DATA checks do not count: many of them, then two messages.
        for (int i = 0; i < 10; ++i)
            CHECK(w.policy->decide(req("RCPT", "taro@example.com", "taro@example.com",
                                       "x@example.org")) == "DUNNO");
        CHECK(message(*w.policy, "taro@example.com", "taro@example.com") == "DUNNO");
        CHECK(message(*w.policy, "taro@example.com", "taro@example.com") == "DUNNO");
        CHECK(message(*w.policy, "taro@example.com", "taro@example.com") != "DUNNO");
        CHECK(message(*w.policy, "taro@example.com", "taro@example.com") != "DUNNO");
    }

    SUBCASE("recipients and bytes per window, several windows at once") {
        World w(make());
        w.configure([](PolicySettings& s) {
            s.rates[0] = rules("recipients:10/1h, bytes:1k/1d messages:100/1d");
        });
        CHECK(message(*w.policy, "taro@example.com", "taro@example.com", 6, 100) == "DUNNO");
        auto a = message(*w.policy, "taro@example.com", "taro@example.com", 5, 100);
        CHECK(a.find("10 recipients per 1h") != std::string::npos);
        CHECK(message(*w.policy, "taro@example.com", "taro@example.com", 4, 100) == "DUNNO");
        // The recipient window is empty again two hours later; the day is not:
        // 200 bytes used (at least 96% of them still weigh if a day boundary
        // passed), 900 more do not fit in 1k per day, 700 do.
        w.clock.advance_s(2 * 3600);
        a = message(*w.policy, "taro@example.com", "taro@example.com", 1, 900);
        CHECK(a.find("1024 bytes per 1d") != std::string::npos);
        CHECK(message(*w.policy, "taro@example.com", "taro@example.com", 1, 700) == "DUNNO");
    }

    SUBCASE("per client, IPv6 grouped by /64; per sender; per sender domain; server-wide") {
        World w(make());
        w.configure([](PolicySettings& s) {
            s.rates[static_cast<std::size_t>(RateClass::Client)] = rules("messages:2/1h");
        });
        CHECK(message(*w.policy, "", "a@example.net", 1, 10, "2001:db8:1:2::1") == "DUNNO");
        CHECK(message(*w.policy, "", "a@example.net", 1, 10, "2001:db8:1:2:ffff::9") == "DUNNO");
        CHECK(message(*w.policy, "", "a@example.net", 1, 10, "2001:db8:1:2::77") != "DUNNO");
        CHECK(message(*w.policy, "", "a@example.net", 1, 10, "2001:db8:1:3::1") == "DUNNO");
        CHECK(message(*w.policy, "", "a@example.net", 1, 10, "192.0.2.1") == "DUNNO");

        World w2(make());
        w2.configure([](PolicySettings& s) {
            s.rates[static_cast<std::size_t>(RateClass::Sender)] = rules("messages:1/1h");
            s.rates[static_cast<std::size_t>(RateClass::SenderDomain)] = rules("messages:2/1h");
        });
        CHECK(message(*w2.policy, "", "a@example.net") == "DUNNO");
        CHECK(message(*w2.policy, "", "A@EXAMPLE.NET") != "DUNNO");  // same sender, any case
        CHECK(message(*w2.policy, "", "b@example.net") == "DUNNO");
        CHECK(message(*w2.policy, "", "c@example.net") != "DUNNO");  // domain: 2 per hour
        CHECK(message(*w2.policy, "", "c@example.org") == "DUNNO");

        World w3(make());
        w3.configure([](PolicySettings& s) {
            s.rates[static_cast<std::size_t>(RateClass::Global)] = rules("messages:2/1m");
            s.rate_action = "REJECT";
        });
        CHECK(message(*w3.policy, "", "a@example.net") == "DUNNO");
        CHECK(message(*w3.policy, "taro@example.com", "taro@example.com", 1, 10, "198.51.100.1") ==
              "DUNNO");
        CHECK(message(*w3.policy, "", "b@example.org")
                  .starts_with("REJECT 5.7.1 Rate limit exceeded"));
    }

    SUBCASE("sliding window: half of the previous window still counts half-way through") {
        World w(make());
        w.configure([](PolicySettings& s) { s.rates[0] = rules("messages:4/1h"); });
        // Align to a window start, send 4, then go half-way into the next window.
        w.clock.advance_ms(3'600'000 - w.clock.now_ms() % 3'600'000);
        for (int i = 0; i < 4; ++i)
            CHECK(message(*w.policy, "taro@example.com", "taro@example.com") == "DUNNO");
        w.clock.advance_ms(3'600'000 + 1'800'000);  // previous = 4, weight 0.5 -> 2 used
        CHECK(message(*w.policy, "taro@example.com", "taro@example.com") == "DUNNO");
        CHECK(message(*w.policy, "taro@example.com", "taro@example.com") == "DUNNO");
        CHECK(message(*w.policy, "taro@example.com", "taro@example.com") != "DUNNO");
    }

    SUBCASE("warn mode and policyd_check log but answer DUNNO") {
        World w(make());
        w.configure([](PolicySettings& s) {
            s.rates[0] = rules("messages:1/1h");
            s.rate_mode = Mode::Warn;
        });
        CHECK(message(*w.policy, "taro@example.com", "taro@example.com") == "DUNNO");
        CHECK(message(*w.policy, "taro@example.com", "taro@example.com") == "DUNNO");
        CHECK(w.logged("warn: would defer: RCPT from"));
        World w2(make());
        w2.configure([](PolicySettings& s) { s.dry_run = true; });
        CHECK(w2.policy->decide(req("MAIL", "taro@example.com", "hanako@example.com")) == "DUNNO");
        CHECK(w2.logged("warn: would reject: MAIL from"));
    }

    SUBCASE("greylisting: a client that retried twice is whitelisted automatically") {
        World w(make());
        w.configure([](PolicySettings& s) {
            s.greylist_mode = Mode::Enforce;
            s.greylist_times = {60'000, 3'600'000, 86'400'000};
            s.greylist_auto_whitelist = 2;
        });
        auto from = [&](const std::string& sender, const std::string& client) {
            return w.policy->decide(req("RCPT", "", sender, "taro@example.com", client));
        };
        for (const char* sender : {"a@example.net", "b@example.net"}) {
            CHECK(from(sender, "192.0.2.10") != "DUNNO");
            w.clock.advance_s(61);
            CHECK(from(sender, "192.0.2.10") == "DUNNO");
            CHECK(from(sender, "192.0.2.10") == "DUNNO");  // a pass of a known triplet: not a retry
        }
        CHECK(from("c@example.net", "192.0.2.77") == "DUNNO");    // same /24, new triplet
        CHECK(from("c@example.net", "198.51.100.1") != "DUNNO");  // another client still waits
        w.configure([](PolicySettings& s) {
            s.greylist_mode = Mode::Enforce;
            s.greylist_auto_whitelist = 0;
        });
        CHECK(from("d@example.net", "192.0.2.10") != "DUNNO");  // off: greylisted again
    }

    SUBCASE("greylisting: IPv6 by /64, case of addresses, max age, whitelists") {
        World w(make());
        w.configure([](PolicySettings& s) {
            s.greylist_mode = Mode::Enforce;
            s.greylist_times = {60'000, 3'600'000, 2 * 3'600'000};
            s.greylist_auto_whitelist = 0;
            auto wl = GreylistWhitelist::parse({"203.0.113.0/24", "@example.org", "mx.example.jp"});
            REQUIRE(wl);
            s.greylist_whitelist = *wl;
        });
        auto rcpt = [&](const std::string& sender, const std::string& to,
                        const std::string& client) {
            return w.policy->decide(req("RCPT", "", sender, to, client));
        };
        // IPv6 clients are one client per /64.
        CHECK(rcpt("a@example.net", "taro@example.com", "2001:db8:1:2::10") != "DUNNO");
        w.clock.advance_s(61);
        CHECK(rcpt("a@example.net", "taro@example.com", "2001:db8:1:2::99") == "DUNNO");
        CHECK(rcpt("a@example.net", "taro@example.com", "2001:db8:1:3::10") != "DUNNO");
        // Sender and recipient are compared without case.
        CHECK(rcpt("b@example.net", "taro@example.com", "198.51.100.7") != "DUNNO");
        w.clock.advance_s(61);
        CHECK(rcpt("B@Example.NET", "Taro@EXAMPLE.com", "198.51.100.7") == "DUNNO");
        // A passed triplet is remembered max_age after its last use, then forgotten.
        w.clock.advance_s(3600);
        CHECK(rcpt("b@example.net", "taro@example.com", "198.51.100.7") == "DUNNO");
        w.clock.advance_s(3600 + 1800);
        CHECK(rcpt("b@example.net", "taro@example.com", "198.51.100.7") == "DUNNO");
        w.clock.advance_s(2 * 3600 + 1);
        CHECK(rcpt("b@example.net", "taro@example.com", "198.51.100.7").starts_with(
            "DEFER_IF_PERMIT 4.7.1 Greylisted"));
        // Whitelisted networks, recipient domains and client names pass at once.
        CHECK(rcpt("c@example.net", "taro@example.com", "203.0.113.5") == "DUNNO");
        CHECK(rcpt("c@example.net", "postmaster@example.org", "192.0.2.200") == "DUNNO");
        Request named = req("RCPT", "", "c@example.net", "taro@example.com", "192.0.2.201");
        named.client_name = "out1.mx.example.jp";
        CHECK(w.policy->decide(named) == "DUNNO");
        named.client_name = "unknown";
        CHECK(w.policy->decide(named) != "DUNNO");
        // Only RCPT is greylisted; other stages of the same unknown client pass.
        for (const char* state : {"CONNECT", "EHLO", "MAIL", "DATA", "END-OF-MESSAGE", "VRFY"})
            CHECK(w.policy->decide(req(state, "", "d@example.net", "", "192.0.2.202", 1)) ==
                  "DUNNO");
    }

    SUBCASE("greylisting: defer, too early, pass after the delay, remembered") {
        World w(make());
        w.configure([](PolicySettings& s) {
            s.greylist_mode = Mode::Enforce;
            s.greylist_times = {60'000, 3'600'000, 86'400'000};
        });
        auto r = req("RCPT", "", "a@example.net", "taro@example.com", "192.0.2.10");
        CHECK(w.policy->decide(r).starts_with(
            "DEFER_IF_PERMIT 4.7.1 Greylisted, try again in 60 seconds"));
        w.clock.advance_s(30);
        CHECK(w.policy->decide(r).starts_with("DEFER_IF_PERMIT 4.7.1 Greylisted, try again in 30"));
        w.clock.advance_s(31);
        auto same24 = req("RCPT", "", "a@example.net", "taro@example.com", "192.0.2.99");
        CHECK(w.policy->decide(same24) == "DUNNO");  // another host of the same /24 retried
        w.clock.advance_s(20 * 3600);
        CHECK(w.policy->decide(r) == "DUNNO");
        // Authenticated clients are never greylisted.
        CHECK(w.policy->decide(
                  req("RCPT", "taro@example.com", "taro@example.com", "x@example.org")) == "DUNNO");
        // A first attempt whose retry comes after the retry window starts over.
        auto other = req("RCPT", "", "b@example.net", "taro@example.com", "198.51.100.7");
        CHECK(w.policy->decide(other) != "DUNNO");
        w.clock.advance_s(2 * 3600);
        CHECK(w.policy->decide(other) != "DUNNO");
    }
}

}  // namespace policyd_test
