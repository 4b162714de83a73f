#include "dovecot-auth/checkpassword/checkpassword.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>

#include "core/config/config.hpp"
#include "core/passwd/passwd.hpp"
#include "core/store/store.hpp"

using namespace yubin;
using namespace yubin::checkpassword;
using namespace std::string_literals;

namespace {

struct Site {
    std::string dir;
    Site() {
        char tmpl[] = "/tmp/yubin-cp-XXXXXX";
        const char* p = ::mkdtemp(tmpl);
        REQUIRE(p != nullptr);
        dir = p;
        auto s = store::open_store("sqlite:" + dir + "/yubin.db", {});
        REQUIRE(s.has_value());
        REQUIRE((*s)->add_domain({.name = "example.com"}).has_value());
        auto h = passwd::hash("secret-1", "SHA512-CRYPT");
        REQUIRE(h.has_value());
        REQUIRE((*s)->add_mailbox({.address = "taro@example.com", .password = *h}).has_value());
        REQUIRE((*s)->add_mailbox({.address = "off@example.com", .password = *h, .active = false})
                    .has_value());
    }
    ~Site() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    auth::Service service() const {
        auto c = config::Config::parse("store = sqlite:" + dir +
                                           "/yubin.db\npassword_scheme = SHA512-CRYPT\n"
                                           "virtual_mailbox_base = /v\nvirtual_uid = 7\n"
                                           "virtual_gid = 8\n",
                                       "t.cf");
        REQUIRE(c.has_value());
        auto s = auth::Service::create(*c);
        REQUIRE(s.has_value());
        return std::move(*s);
    }
};

Request req(std::string user, std::string pw) {
    auto r = parse_request(user + '\0' + pw + '\0' + '\0');
    REQUIRE(r.has_value());
    return std::move(*r);
}

std::map<std::string, std::string> env_of(const Answer& a) {
    return {a.env.begin(), a.env.end()};
}

}  // namespace

TEST_CASE("checkpassword: parse_request") {
    auto ok = parse_request("taro@example.com\0pw\0 12345\0"s);
    REQUIRE(ok.has_value());
    CHECK(ok->user == "taro@example.com");
    CHECK(ok->password.view() == "pw");

    auto no_ts = parse_request("u@x.example\0pw\0"s);  // timestamp missing: fine
    REQUIRE(no_ts.has_value());
    auto empty_pw = parse_request("u@x.example\0\0\0"s);  // a lookup
    REQUIRE(empty_pw.has_value());
    CHECK(empty_pw->password.view().empty());

    const std::string bad[] = {
        ""s,
        "user-only"s,
        "user\0password-without-nul"s,
        "\0pw\0\0"s,
        std::string(400, 'a') + "\0pw\0\0"s,
        std::string(kMaxRequestBytes + 1, 'a'),
    };
    for (const auto& b : bad) {
        CAPTURE(b.size());
        auto r = parse_request(b);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().kind == ErrorKind::BadInput);
    }
    // Exactly at the bound is fine.
    std::string at = "u@x.example"s + '\0' + std::string(kMaxRequestBytes - 14, 'p') + '\0' + '\0';
    REQUIRE(at.size() == kMaxRequestBytes);
    CHECK(parse_request(at).has_value());
}

TEST_CASE("checkpassword: mode from the environment") {
    CHECK(mode_from_env(nullptr, nullptr) == Mode::Authenticate);
    CHECK(mode_from_env("0", nullptr) == Mode::Authenticate);
    CHECK(mode_from_env("1", nullptr) == Mode::UserLookup);
    CHECK(mode_from_env("1", "1") == Mode::CredentialsLookup);
    CHECK(mode_from_env(nullptr, "1") == Mode::Authenticate);
}

TEST_CASE("checkpassword: answers and exit statuses") {
    Site site;
    auth::Service svc = site.service();
    struct Case {
        Mode mode;
        const char* user;
        const char* pw;
        bool exec;
        int exit_code;
    };
    const Case cases[] = {
        {Mode::Authenticate, "taro@example.com", "secret-1", true, kExitOk},
        {Mode::Authenticate, "taro@example.com", "wrong", false, kExitFail},
        {Mode::Authenticate, "jiro@example.com", "secret-1", false, kExitFail},
        {Mode::Authenticate, "off@example.com", "secret-1", false, kExitFail},
        {Mode::UserLookup, "taro@example.com", "", true, kExitOk},
        {Mode::UserLookup, "off@example.com", "", true, kExitOk},
        {Mode::UserLookup, "jiro@example.com", "", false, kExitUnknownUser},
        {Mode::CredentialsLookup, "taro@example.com", "", true, kExitOk},
        {Mode::CredentialsLookup, "off@example.com", "", false, kExitFail},
        {Mode::CredentialsLookup, "jiro@example.com", "", false, kExitUnknownUser},
    };
    for (const auto& c : cases) {
        CAPTURE(std::string(c.user));
        CAPTURE(static_cast<int>(c.mode));
        Answer a = answer(svc, c.mode, req(c.user, c.pw));
        CHECK(a.exec_reply == c.exec);
        if (!c.exec) CHECK(a.exit_code == c.exit_code);
    }

    auto env = env_of(answer(svc, Mode::Authenticate, req("taro@example.com", "secret-1")));
    CHECK(env["USER"] == "taro@example.com");
    CHECK(env["HOME"] == "/v/example.com/taro");
    CHECK(env["userdb_uid"] == "7");
    CHECK(env["userdb_gid"] == "8");
    CHECK(env["userdb_mail"] == "maildir:/v/example.com/taro/Maildir");
    CHECK(env["EXTRA"] == "userdb_uid userdb_gid userdb_mail");
    CHECK(env.count("AUTHORIZED") == 0);
    CHECK(env.count("password") == 0);  // never the hash after a password login

    auto look = env_of(answer(svc, Mode::UserLookup, req("taro@example.com", "")));
    CHECK(look["AUTHORIZED"] == "2");
    CHECK(look.count("password") == 0);

    auto cred = env_of(answer(svc, Mode::CredentialsLookup, req("taro@example.com", "")));
    CHECK(cred["AUTHORIZED"] == "2");
    CHECK(passwd::scheme_of(cred["password"]) == "SHA512-CRYPT");
    CHECK(cred["EXTRA"] == "userdb_uid userdb_gid userdb_mail password");

    // The log says why, without the password.
    Answer dis = answer(svc, Mode::Authenticate, req("off@example.com", "secret-1"));
    CHECK(dis.log == "login refused: mailbox is disabled");
    Answer bad = answer(svc, Mode::Authenticate, req("taro@example.com", "wrong-pw"));
    CHECK(bad.log.find("wrong-pw") == std::string::npos);
}

TEST_CASE("checkpassword: a store outage is exit 111 in every mode") {
    Site site;
    auth::Service svc = site.service();
    std::filesystem::rename(site.dir + "/yubin.db", site.dir + "/away.db");
    for (Mode m : {Mode::Authenticate, Mode::UserLookup, Mode::CredentialsLookup}) {
        Answer a = answer(svc, m, req("taro@example.com", m == Mode::Authenticate ? "x" : ""));
        CHECK_FALSE(a.exec_reply);
        CHECK(a.exit_code == kExitTempFail);
        CHECK(a.error);
    }
}

TEST_CASE("checkpassword: every truncation of a request is handled") {
    const std::string full = "taro@example.com\0secret-1\0 1700000000\0"s;
    const std::size_t second_nul = full.find('\0', full.find('\0') + 1);
    for (std::size_t n = 0; n <= full.size(); ++n) {
        CAPTURE(n);
        auto r = parse_request(full.substr(0, n));
        CHECK(r.has_value() == (n > second_nul));
        if (r) {
            CHECK(r->user == "taro@example.com");
            CHECK(r->password.view() == "secret-1");
        }
    }
    // NUL-free 8-bit bytes are passed on as they are (the store refuses them).
    auto eight = parse_request("\xe5\xa4\xaa\xe9\x83\x8e@example.com\0\xff\xfe\0\0"s);
    REQUIRE(eight.has_value());
    CHECK(eight->password.view() == "\xff\xfe");
}
