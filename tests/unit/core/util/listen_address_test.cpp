#include <doctest/doctest.h>

#include <string>

#include "core/util/listen_address.hpp"

using namespace yubin;

TEST_CASE("util: listen addresses read back from their canonical form") {
    const char* inputs[] = {"unix:/run/yubin/policy",    "UNIX:/run/x",
                            "inet:127.0.0.1:10025",      "Inet:[::1]:25",
                            "inet:[2001:db8::5]:1",      "inet:mx-1.example_x.jp:587",
                            "inet:localhost:65535"};
    for (const char* in : inputs) {
        CAPTURE(in);
        auto a = parse_listen_address(in);
        REQUIRE_MESSAGE(a.has_value(), (a ? "" : a.error().what));
        auto b = parse_listen_address(a->to_string());
        REQUIRE(b.has_value());
        CHECK(b->kind == a->kind);
        CHECK(b->path == a->path);
        CHECK(b->host == a->host);
        CHECK(b->port == a->port);
        CHECK(b->to_string() == a->to_string());
        CHECK(a->to_string().starts_with(a->kind == ListenAddress::Kind::Unix ? "unix:" : "inet:"));
    }
    CHECK(parse_listen_address("Inet:[::1]:25")->to_string() == "inet:[::1]:25");
}

TEST_CASE("util: empty is disabled; port 0 only where the caller allows it") {
    auto d = parse_listen_address("");
    REQUIRE(d.has_value());
    CHECK(d->kind == ListenAddress::Kind::Disabled);
    CHECK(d->to_string().empty());

    auto refused = parse_listen_address("inet:127.0.0.1:0");
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().kind == ErrorKind::Config);
    CHECK(refused.error().what ==
          "invalid listen address \"inet:127.0.0.1:0\": port must be a number from 1 to 65535");

    auto allowed = parse_listen_address("inet:127.0.0.1:0", ListenPortZero::Allow);
    REQUIRE(allowed.has_value());
    CHECK(allowed->port == 0);
}

TEST_CASE("util: malformed listen addresses name the reason on one line") {
    struct Case {
        std::string in;
        const char* reason;
    };
    const Case cases[] = {
        {"unix:", "missing socket path"},
        {"unix:relative", "must be absolute"},
        {"unix:/" + std::string(120, 'a'), "longer than 107 bytes"},
        {"unix:/a\x7f", "control character"},
        {"inet:1.2.3:25", "invalid IPv4"},
        {"inet:256.1.1.1:25", "invalid IPv4"},
        {"inet:a..b:25", "empty label"},
        {"inet:.a:25", "empty label"},
        {"inet:a.:25", "empty label"},
        {"inet:-a.example:25", "'-'"},
        {"inet:" + std::string(64, 'a') + ":25", "longer than 63"},
        {"inet:" + std::string(254, 'a') + ":25", "too long"},
        {"inet:h\xc3\xa9:25", "invalid character"},
        {"inet:h\nx:25", "invalid character"},
        {"inet:[::1]:", "missing port"},
        {"inet:x:1e3", "1 to 65535"},
        {"inet:x:065536", "1 to 65535"},
        {"ftp:x:21", "unknown transport"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        auto got = parse_listen_address(c.in);
        REQUIRE_FALSE(got.has_value());
        CAPTURE(got.error().what);
        CHECK(got.error().kind == ErrorKind::Config);
        CHECK(got.error().what.starts_with("invalid listen address \""));
        CHECK(got.error().what.find(c.reason) != std::string::npos);
        CHECK(got.error().what.find('\n') == std::string::npos);
    }
}
