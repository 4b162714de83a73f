#include <doctest/doctest.h>

#include "ctl/import.hpp"

using namespace yubin::ctl;

TEST_CASE("ctl: parse_size") {
    struct Case { const char* in; std::optional<std::int64_t> want; };
    const Case cases[] = {
        {"0", 0}, {"1048576", 1048576}, {"10M", 10485760}, {"10m", 10485760}, {"512k", 524288},
        {"1G", 1073741824}, {"2GB", 2147483648}, {"", std::nullopt}, {"M", std::nullopt},
        {"-1", std::nullopt}, {"1.5M", std::nullopt}, {"10X", std::nullopt},
        {"99999999999T", std::nullopt},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        CHECK(parse_size(c.in) == c.want);
    }
}

TEST_CASE("ctl: virtual_domains file") {
    ImportPlan plan;
    parse_virtual_domains("# domains\nexample.com\n\n  Example.ORG  OK\r\nbad_domain!\n-x.com\n",
                          "virtual_domains", plan);
    REQUIRE(plan.domains.size() == 2);
    CHECK(plan.domains[0].name == "example.com");
    CHECK(plan.domains[0].where.line == 2);
    CHECK(plan.domains[1].name == "example.org");
    CHECK(plan.domains[1].where.line == 4);
    REQUIRE(plan.problems.size() == 2);
    CHECK(plan.problems[0].where.line == 5);
    CHECK(plan.problems[1].where.line == 6);
    CHECK(to_string(plan.problems[0].where) == "virtual_domains, line 5");
}

TEST_CASE("ctl: virtual mailbox map") {
    ImportPlan plan;
    parse_virtual_mailboxes(
        "taro@example.com   example.com/taro/Maildir/\n"
        "Hanako@Example.com example.com/hanako/Maildir/\n"
        "nopath@example.com\n"
        "two@example.com a/ b/\n"
        "@example.com example.com/catchall/\n"
        "abs@example.com /etc/passwd\n"
        "dots@example.com ../../etc/\n"
        "not-an-address  x/\n",
        "virtual", plan);
    REQUIRE(plan.mailboxes.size() == 2);
    CHECK(plan.mailboxes[0].address == "taro@example.com");
    CHECK(plan.mailboxes[0].maildir == "example.com/taro/Maildir/");
    CHECK(plan.mailboxes[1].address == "Hanako@example.com");
    REQUIRE(plan.problems.size() == 6);
    std::size_t lines[] = {3, 4, 5, 6, 7, 8};
    for (std::size_t i = 0; i < 6; ++i) {
        CAPTURE(i);
        CHECK(plan.problems[i].where.line == lines[i]);
    }
}

TEST_CASE("ctl: virtual alias file with continuation lines and domains") {
    ImportPlan plan;
    parse_virtual_aliases(
        "alias.example  anything\n"
        "postmaster@example.com  taro@example.com, hanako@example.com\n"
        "info@example.com taro@example.com\n"
        "    hanako@example.com\n"
        "@old.example @example.com\n"
        "@example.com catchall@example.com\n"
        "bad@ taro@example.com\n"
        "empty@example.com\n"
        "x@example.com not an address\n",
        "virtual", plan);
    REQUIRE(plan.domains.size() == 1);
    CHECK(plan.domains[0].name == "alias.example");
    REQUIRE(plan.aliases.size() == 4);
    CHECK(plan.aliases[0].source == "postmaster@example.com");
    CHECK(plan.aliases[0].targets == std::vector<std::string>{"taro@example.com",
                                                               "hanako@example.com"});
    CHECK(plan.aliases[1].targets.size() == 2);  // joined continuation line
    CHECK(plan.aliases[1].where.line == 3);
    CHECK(plan.aliases[2].source == "@old.example");
    CHECK(plan.aliases[2].targets == std::vector<std::string>{"@example.com"});
    CHECK(plan.aliases[3].source == "@example.com");
    REQUIRE(plan.problems.size() == 3);
    CHECK(plan.problems[0].where.line == 7);
    CHECK(plan.problems[1].where.line == 8);
    CHECK(plan.problems[2].where.line == 9);
}

TEST_CASE("ctl: dovecot passwd-file") {
    ImportPlan plan;
    parse_dovecot_passwd(
        "taro@example.com:{HMAC-MD5}0123abcd::\n"
        "hanako@example.com:{SHA512-CRYPT}$6$salt$hash:5000:5000::/var/spool/vmail/x::"
        "userdb_quota_rule=*:storage=1G\n"
        "old@example.com:$1$salt$hash\n"
        "nopass@example.com:\n"
        "justname\n"
        "notanaddress:{PLAIN}x\n"
        "q@example.com:{PLAIN}x:1:1::/h::userdb_quota_rule=*:storage=lots\n",
        "passwd", plan);
    REQUIRE(plan.passwords.size() == 3);
    CHECK(plan.passwords[0].address == "taro@example.com");
    CHECK(plan.passwords[0].hash == "{HMAC-MD5}0123abcd");
    CHECK(plan.passwords[1].quota_bytes == 1073741824);
    CHECK(plan.passwords[2].hash == "{CRYPT}$1$salt$hash");
    REQUIRE(plan.problems.size() == 4);
    CHECK(plan.problems[0].where.line == 4);
    CHECK(plan.problems[3].where.line == 7);
}

TEST_CASE("ctl: over-long and NUL lines are reported, not fatal") {
    ImportPlan plan;
    using namespace std::string_literals;
    std::string text = std::string(10000, 'a') + "\nexample.com\nx\0y.com\n"s;
    text.push_back('\0');
    text += "\nexample.net\n";
    parse_virtual_domains(text, "f", plan);
    REQUIRE(plan.domains.size() == 2);
    CHECK(plan.domains[1].name == "example.net");
    CHECK(plan.problems.size() == 3);
    CHECK(plan.problems[0].what.find("too long") != std::string::npos);
}
