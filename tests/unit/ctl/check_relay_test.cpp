// The open-relay probe list of yubinctl check.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "ctl/check_relay.hpp"

using namespace yubin::ctl::check;

namespace {
RelayTarget full() {
    RelayTarget t;
    t.relay_domain = "relay.example.net";
    t.local_domain = "example.jp";
    t.server_name = "mail.example.jp";
    t.server_ip = "192.0.2.25";
    return t;
}
bool has(const std::vector<RelayProbe>& ps, const std::string& from, const std::string& rcpt) {
    for (const auto& p : ps)
        if (p.mail_from == from && p.rcpt_to == rcpt) return true;
    return false;
}
}  // namespace

TEST_CASE("check: relay probes cover the classic variants") {
    auto ps = relay_probes(full());
    const std::string f = "<spamtest@relay.example.net>";
    struct Want {
        const char* from;
        const char* rcpt;
    };
    for (auto w : {Want{"<spamtest@relay.example.net>", "<relaytest@relay.example.net>"},
                   Want{"<>", "<relaytest@relay.example.net>"},
                   Want{"<spamtest@example.jp>", "<relaytest@relay.example.net>"},
                   Want{"<spamtest@[192.0.2.25]>", "<relaytest@relay.example.net>"},
                   Want{"<spamtest@mail.example.jp>", "<relaytest@relay.example.net>"},
                   Want{"<spamtest@relay.example.net>", "relaytest@relay.example.net"},
                   Want{"<spamtest@relay.example.net>", "<relaytest%relay.example.net@example.jp>"},
                   Want{"<spamtest@relay.example.net>", "<relaytest%relay.example.net@[192.0.2.25]>"},
                   Want{"<spamtest@relay.example.net>", "<relaytest%relay.example.net@mail.example.jp>"},
                   Want{"<spamtest@relay.example.net>", "<\"relaytest@relay.example.net\">"},
                   Want{"<spamtest@relay.example.net>", "<\"relaytest%relay.example.net\">"},
                   Want{"<spamtest@relay.example.net>", "<\"relaytest@relay.example.net\"@example.jp>"},
                   Want{"<spamtest@relay.example.net>", "<\"relaytest@relay.example.net\"@[192.0.2.25]>"},
                   Want{"<spamtest@relay.example.net>", "<relaytest@relay.example.net@example.jp>"},
                   Want{"<spamtest@relay.example.net>", "<relaytest@relay.example.net@[192.0.2.25]>"},
                   Want{"<spamtest@relay.example.net>", "<@example.jp:relaytest@relay.example.net>"},
                   Want{"<spamtest@relay.example.net>", "<@[192.0.2.25]:relaytest@relay.example.net>"},
                   Want{"<spamtest@relay.example.net>", "<@example.jp,@mail.example.jp:relaytest@relay.example.net>"},
                   Want{"<spamtest@relay.example.net>", "<relay.example.net!relaytest>"},
                   Want{"<spamtest@relay.example.net>", "<relay.example.net!relaytest@example.jp>"},
                   Want{"<spamtest@relay.example.net>", "<relay.example.net!relaytest@[192.0.2.25]>"},
                   Want{"<spamtest@relay.example.net>", "<relaytest\\@relay.example.net@example.jp>"},
                   Want{"<spamtest@relay.example.net>", "<relaytest@example.jp.relay.example.net>"},
                   Want{"<spamtest@relay.example.net>", "<RELAYTEST@RELAY.EXAMPLE.NET>"},
                   Want{"<spamtest@relay.example.net>", "<relaytest@relay.example.net.>"}}) {
        CAPTURE(w.from);
        CAPTURE(w.rcpt);
        CHECK(has(ps, w.from, w.rcpt));
    }
    CHECK(ps.size() >= 40);
}

TEST_CASE("check: relay probes are distinct, named, and never aim at a local address") {
    auto ps = relay_probes(full());
    std::set<std::pair<std::string, std::string>> seen;
    std::set<std::string> names;
    for (const auto& p : ps) {
        CAPTURE(p.name);
        CHECK(seen.insert({p.mail_from, p.rcpt_to}).second);
        CHECK(names.insert(p.name).second);
        CHECK_FALSE(p.name.empty());
        // Every recipient mentions the foreign destination, a foreign IP
        // literal, or a look-alike of the local domain.
        CHECK((p.rcpt_to.find("relay.example.net") != std::string::npos ||
               p.rcpt_to.find("RELAY.EXAMPLE.NET") != std::string::npos ||
               p.rcpt_to.find("[192.0.2.1]") != std::string::npos ||
               p.rcpt_to == "<relaytest@relay-example.jp>"));
        CHECK(p.rcpt_to != "<relaytest@example.jp>");
        CHECK(p.mail_from.find_first_of("\r\n") == std::string::npos);
        CHECK(p.rcpt_to.find_first_of("\r\n") == std::string::npos);
    }
}

TEST_CASE("check: relay probes without a local domain or server name") {
    RelayTarget t;
    t.relay_domain = "relay.example.net";
    t.server_ip = "2001:db8::25";
    auto ps = relay_probes(t);
    CHECK(has(ps, "<spamtest@relay.example.net>", "<relaytest%relay.example.net@[IPv6:2001:db8::25]>"));
    for (const auto& p : ps) {
        CAPTURE(p.rcpt_to);
        CHECK(p.rcpt_to.find("@>") == std::string::npos);
        CHECK(p.rcpt_to.find("@:") == std::string::npos);
        CHECK(p.mail_from.find("@>") == std::string::npos);
    }
    RelayTarget bare;
    auto minimal = relay_probes(bare);
    CHECK(minimal.size() >= 10);
    CHECK(address_literal("192.0.2.1") == "[192.0.2.1]");
    CHECK(address_literal("::1") == "[IPv6:::1]");
}
