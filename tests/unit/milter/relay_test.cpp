// The relay decision against the classic open-relay test lists: nmap's
// smtp-open-relay (16 tests), the 19-test relay checkers of the late 1990s
// (abuse.net / ORBS style: percent hack, bang paths, source routes, quoted
// and escaped local parts, IP literals of the server) and the variants
// Postfix's own documentation warns about (trailing dots, case, missing
// angle brackets, nested routes). Our domain is example.jp, the server's
// address 192.0.2.10, the victim relay.example.net.
#include "milter/relay.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace yubin;
using namespace yubin::milter;

namespace {

Result<bool> local_domains(std::string_view d) {
    if (d == "store-down.example") return fail(ErrorKind::Temp, "database is locked");
    return d == "example.jp" || d == "mx.example.jp" || d == "[192.0.2.53]";
}

const char* name(RelayVerdict v) {
    switch (v) {
        case RelayVerdict::Accept:
            return "accept";
        case RelayVerdict::Reject:
            return "reject";
        case RelayVerdict::TempFail:
            return "tempfail";
    }
    return "?";
}

struct Case {
    std::string rcpt;
    RelayVerdict want;
};

void run(const std::vector<Case>& cases, RelayClient client) {
    for (const auto& c : cases) {
        const auto got = decide_relay(c.rcpt, client, local_domains);
        INFO("rcpt <" << c.rcpt << ">: got " << name(got.verdict) << " (" << got.reason
                      << "), want " << name(c.want));
        CHECK(got.verdict == c.want);
    }
}

constexpr auto A = RelayVerdict::Accept;
constexpr auto R = RelayVerdict::Reject;

// Every relay trick: refused for an unauthenticated, untrusted client.
const std::vector<Case> kRelayAttempts = {
    // nmap smtp-open-relay, domain relay.example.net, server mx.example.jp / [192.0.2.10]
    {"<relaytest@relay.example.net>", R},
    {"<relaytest%relay.example.net@[192.0.2.10]>", R},
    {"<relaytest%relay.example.net@mx.example.jp>", R},
    {"<\"relaytest@relay.example.net\">", R},
    {"<\"relaytest%relay.example.net\">", R},
    {"<relaytest@relay.example.net@[192.0.2.10]>", R},
    {"<\"relaytest@relay.example.net\"@[192.0.2.10]>", R},
    {"<relaytest@relay.example.net@mx.example.jp>", R},
    {"<@[192.0.2.10]:relaytest@relay.example.net>", R},
    {"<@mx.example.jp:relaytest@relay.example.net>", R},
    {"<relay.example.net!relaytest>", R},
    {"<relay.example.net!relaytest@[192.0.2.10]>", R},
    {"<relay.example.net!relaytest@mx.example.jp>", R},
    // the same against our own domain rather than the host name
    {"<relaytest%relay.example.net@example.jp>", R},
    {"<relaytest@relay.example.net@example.jp>", R},
    {"<\"relaytest@relay.example.net\"@example.jp>", R},
    {"<\"relaytest%relay.example.net\"@example.jp>", R},
    {"<\"relay.example.net!relaytest\"@example.jp>", R},
    {"<@example.jp:relaytest@relay.example.net>", R},
    {"<@example.jp,@mx.example.jp:relaytest@relay.example.net>", R},
    {"<relay.example.net!relaytest@example.jp>", R},
    {"<relaytest\\@relay.example.net@example.jp>", R},
    {"<relaytest\\%relay.example.net@example.jp>", R},
    {"<relaytest%relay.example.net%example.jp@example.jp>", R},
    {"<relay.example.net!relaytest%example.jp@example.jp>", R},
    {"<\"relaytest@relay.example.net\">@example.jp", R},
    // a local final domain behind a route is still routed (Postfix flags it)
    {"<@relay.example.net:user@example.jp>", R},
    // the 19-test checkers: IP literal of the server, the plain foreign domain
    {"<relaytest@[192.0.2.10]>", R},
    {"<relaytest%[192.0.2.10]@example.jp>", R},
    {"<relaytest@[192.0.2.10].>", R},
    {"<relaytest@relay.example.net.>", R},
    {"<RelayTest@RELAY.EXAMPLE.NET>", R},
    // missing angle brackets, extra white space
    {"relaytest@relay.example.net", R},
    {"relaytest%relay.example.net@example.jp", R},
    {"relay.example.net!relaytest", R},
    {"@example.jp:relaytest@relay.example.net", R},
    {"  <relaytest@relay.example.net>  ", R},
    {"< relaytest@relay.example.net >", R},
    // look-alikes of our domain
    {"<relaytest@example.jp.relay.example.net>", R},
    {"<relaytest@relay.example.net#example.jp>", R},
    {"<relaytest@example.jp..>", R},
    {"<relaytest@examplejp>", R},
    {"<relaytest@xample.jp>", R},
    {"<relaytest@example.jp@>", R},
    {"<relaytest@\"example.jp\">", R},
    {"<relaytest@[example.jp]>", R},
    {"<relaytest@example.jp>relay.example.net", R},
    // unqualified and broken
    {"<relaytest>", R},
    {"relaytest", R},
    {"<>", R},
    {"", R},
    {"<relaytest@relay.example.net", R},
    {"relaytest@relay.example.net>", R},
    {"<\"relaytest@example.jp>", R},
    {"<relaytest\\>", R},
    {"<@example.jp>", R},
    {"<@example.jp:>", R},
    {"<@>", R},
    {"<@example.jp relaytest@relay.example.net>", R},
    {std::string("<relaytest@relay.example.net\0@example.jp>", 42), R},
    {"<" + std::string(3000, 'a') + "@example.jp>", R},
};

// Ordinary local mail: accepted for anybody.
const std::vector<Case> kLocal = {
    {"<taro@example.jp>", A},
    {"<Taro@Example.JP>", A},
    {"<taro@example.jp.>", A},
    {"taro@example.jp", A},
    {" <taro@example.jp> ", A},
    {"<taro+tag@example.jp>", A},
    {"<taro.yamada@example.jp>", A},
    {"<\"taro yamada\"@example.jp>", A},
    {"<\"taro\"@example.jp>", A},
    {"<taro@mx.example.jp>", A},
    {"<taro@[192.0.2.53]>", A},
    {"<postmaster>", A},
    {"<Postmaster>", A},
    {"postmaster", A},
    {"<postmaster@example.jp>", A},
    {"<o'brien@example.jp>", A},
    {"<user=tag@example.jp>", A},
};

}  // namespace

TEST_CASE("relay: every relay trick is refused for an untrusted client") {
    run(kRelayAttempts, {});
}

TEST_CASE("relay: local recipients are accepted for anybody") {
    run(kLocal, {});
    run(kLocal, {.authenticated = true});
}

TEST_CASE("relay: authenticated and trusted clients may relay") {
    std::vector<Case> relayed;
    for (const auto& c : kRelayAttempts) relayed.push_back({c.rcpt, A});
    run(relayed, {.authenticated = true});
    run(relayed, {.trusted = true});
}

TEST_CASE("relay: a store that cannot answer is a temporary failure") {
    auto d = decide_relay("<a@store-down.example>", {}, local_domains);
    CHECK(d.verdict == RelayVerdict::TempFail);
    CHECK(d.reason.find("locked") != std::string::npos);
    // ...but a routed address is refused before the store is asked
    d = decide_relay("<a%b@store-down.example>", {}, local_domains);
    CHECK(d.verdict == RelayVerdict::Reject);
}

TEST_CASE("relay: parse_recipient") {
    auto p = parse_recipient("<@a.example,@b.example:User@Example.JP.>");
    CHECK(p.source_route);
    CHECK_FALSE(p.routing);
    CHECK(p.local == "User");
    CHECK(p.domain == "example.jp");

    p = parse_recipient("<\"a@b\"@c.example>");
    CHECK(p.routing);
    CHECK(p.local == "\"a@b\"");
    CHECK(p.domain == "c.example");

    p = parse_recipient("a\\@b@c.example");
    CHECK(p.routing);
    CHECK(p.domain == "c.example");

    p = parse_recipient("<\"a\\\"@b\"@c.example>");  // escaped quote inside quotes
    CHECK(p.routing);
    CHECK(p.domain == "c.example");
    CHECK_FALSE(p.malformed);

    p = parse_recipient("<[192.0.2.1]!x@[192.0.2.10]>");
    CHECK(p.routing);
    CHECK(p.domain == "[192.0.2.10]");
}

TEST_CASE("relay: every prefix of every case parses without crashing") {
    // Truncated input (Postfix would not pass it, a raw milter client might).
    for (const auto* list : {&kRelayAttempts, &kLocal})
        for (const auto& c : *list)
            for (std::size_t n = 0; n <= c.rcpt.size(); ++n) {
                auto d = decide_relay(std::string_view(c.rcpt).substr(0, n), {}, local_domains);
                CHECK(d.verdict != RelayVerdict::TempFail);
            }
}
