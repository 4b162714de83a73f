#include "milter/glue.hpp"

#include <doctest/doctest.h>

#include <new>
#include <stdexcept>
#include <string>

using namespace yubin;

TEST_CASE("glue: milter_listen in libmilter's notation") {
    using K = config::ListenAddress::Kind;
    CHECK(*milter::libmilter_address({K::Unix, "/run/yubin/milter", "", 0}) ==
          "unix:/run/yubin/milter");
    CHECK(*milter::libmilter_address({K::Inet, "", "127.0.0.1", 24100}) == "inet:24100@127.0.0.1");
    CHECK(*milter::libmilter_address({K::Inet, "", "::1", 24100}) == "inet6:24100@::1");
    CHECK(*milter::libmilter_address({K::Inet, "", "localhost", 8891}) == "inet:8891@localhost");
    CHECK_FALSE(milter::libmilter_address({K::Disabled, "", "", 0}));
}

TEST_CASE("glue: negotiation asks for the stages used and no replies where none is needed") {
    const unsigned long all_actions = 0x1FF;  // what Postfix 3.7 offers
    const unsigned long all_steps = 0x1FFFFF;
    for (bool body : {true, false}) {
        INFO("want_body=" << body);
        const auto n = milter::negotiate(all_actions, all_steps, body);
        // skipped: HELO, unknown commands, DATA, end of header
        for (unsigned long f : {SMFIP_NOHELO, SMFIP_NOUNKNOWN, SMFIP_NODATA, SMFIP_NOEOH})
            CHECK((n.steps & f) == f);
        // kept: connect, MAIL, RCPT, headers (the filter and forged fields)
        for (unsigned long f : {SMFIP_NOCONNECT, SMFIP_NOMAIL, SMFIP_NORCPT, SMFIP_NOHDRS})
            CHECK((n.steps & f) == 0);
        // connect and header fields are always "continue": no reply awaited
        CHECK((n.steps & SMFIP_NR_CONN) != 0);
        CHECK((n.steps & SMFIP_NR_HDR) != 0);
        // MAIL, RCPT and end of message can refuse: they must be answered
        for (unsigned long f : {SMFIP_NR_MAIL, SMFIP_NR_RCPT})
            CHECK((n.steps & f) == 0);
        CHECK(((n.steps & SMFIP_NOBODY) != 0) == !body);
        CHECK(((n.steps & SMFIP_NR_BODY) != 0) == body);
        CHECK((n.actions & SMFIF_SETSYMLIST) != 0);
        CHECK((n.actions & SMFIF_CHGBODY) == 0);
        CHECK((n.actions & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE)) ==
              (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE));
    }
    // Never more than the MTA offers (an old MTA without NR_* or macro lists).
    const auto old = milter::negotiate(SMFIF_ADDHDRS, SMFIP_NOHELO | SMFIP_NOBODY, false);
    CHECK(old.actions == SMFIF_ADDHDRS);
    CHECK(old.steps == (SMFIP_NOHELO | SMFIP_NOBODY));
}

TEST_CASE("glue: an exception in a callback becomes a temporary failure") {
    std::string seen;
    auto record = [&](const char* what) { seen = what; };
    SUBCASE("no exception: the callback's own answer") {
        CHECK(milter::guarded(false, [] { return SMFIS_REJECT; }, record) == SMFIS_REJECT);
        CHECK(seen.empty());
    }
    SUBCASE("a std::exception: tempfail, the reason passed on") {
        auto r = milter::guarded(
            false, []() -> sfsistat { throw std::runtime_error("store exploded"); }, record);
        CHECK(r == SMFIS_TEMPFAIL);
        CHECK(seen == "store exploded");
    }
    SUBCASE("anything else thrown: tempfail") {
        CHECK(milter::guarded(false, []() -> sfsistat { throw 42; }, record) == SMFIS_TEMPFAIL);
        CHECK(seen == "unknown exception");
    }
    SUBCASE("a long reason is cut, not overrun") {
        auto r = milter::guarded(
            false, []() -> sfsistat { throw std::runtime_error(std::string(5000, 'x')); },
            record);
        CHECK(r == SMFIS_TEMPFAIL);
        CHECK(seen == std::string(255, 'x'));
    }
    SUBCASE("a stage without reply: no reply, the reason passed on for end of message") {
        auto r = milter::guarded(
            true, []() -> sfsistat { throw std::bad_alloc(); }, record);
        CHECK(r == SMFIS_NOREPLY);
        CHECK_FALSE(seen.empty());
    }
    SUBCASE("the error handler throwing too: still an answer") {
        auto r = milter::guarded(
            false, []() -> sfsistat { throw std::runtime_error("a"); },
            [](const char*) { throw std::runtime_error("b"); });
        CHECK(r == SMFIS_TEMPFAIL);
    }
}
