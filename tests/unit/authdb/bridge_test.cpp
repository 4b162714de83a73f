// The C face of the Dovecot module (bridge.h), driven the way the shim in
// authdb_yubin.c drives it, without Dovecot.
#include "dovecot-auth/module/bridge.h"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/passwd/passwd.hpp"
#include "core/store/store.hpp"

using namespace yubin;

namespace {

struct Calls {
    std::multimap<std::string, std::string> fields;
    std::vector<std::pair<int, std::string>> logs;
};

void on_field(void* ctx, const char* name, const char* value) {
    static_cast<Calls*>(ctx)->fields.emplace(name, value);
}
void on_log(void* ctx, yubin_authdb_level level, const char* msg) {
    static_cast<Calls*>(ctx)->logs.emplace_back(level, msg);
}

struct Site {
    std::string dir;
    std::string cf;
    Site() {
        char tmpl[] = "/tmp/yubin-bridge-XXXXXX";
        const char* p = ::mkdtemp(tmpl);
        REQUIRE(p != nullptr);
        dir = p;
        cf = dir + "/yubin.cf";
        std::ofstream(cf) << "store = sqlite:" << dir
                          << "/yubin.db\npassword_scheme = SHA512-CRYPT\n"
                             "virtual_mailbox_base = /v\nvirtual_uid = 7\nvirtual_gid = 8\n";
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
};

struct Db {
    yubin_authdb* db = nullptr;
    explicit Db(const std::string& args) {
        char err[256] = "";
        db = yubin_authdb_create(args.c_str(), err, sizeof err);
        REQUIRE_MESSAGE(db != nullptr, err);
    }
    ~Db() { yubin_authdb_destroy(db); }
};

}  // namespace

TEST_CASE("authdb: create refuses bad args and configuration with a message") {
    Site site;
    const std::string bad[] = {"blocking=perhaps " + site.cf, "relative.cf",
                               site.dir + "/missing.cf"};
    for (const auto& args : bad) {
        CAPTURE(args);
        char err[256] = "";
        CHECK(yubin_authdb_create(args.c_str(), err, sizeof err) == nullptr);
        CHECK(std::string(err).size() > 0);
    }
    std::ofstream(site.dir + "/bad.cf") << "auth_home = /v/%q\n";
    char err[256] = "";
    CHECK(yubin_authdb_create((site.dir + "/bad.cf").c_str(), err, sizeof err) == nullptr);
    CHECK(std::string(err).find("auth_home") != std::string::npos);
    char tiny[8] = "";  // a short buffer is filled, truncated, never overrun
    CHECK(yubin_authdb_create("relative.cf", tiny, sizeof tiny) == nullptr);
    CHECK(std::string(tiny).size() == 7);

    Db blocking(site.cf);
    CHECK(yubin_authdb_blocking(blocking.db) == 1);
    Db nonblocking("blocking=no " + site.cf);
    CHECK(yubin_authdb_blocking(nonblocking.db) == 0);
}

TEST_CASE("authdb: results, fields and log lines") {
    Site site;
    Db d(site.cf);
    Calls c;
    yubin_authdb_sink sink{&c, on_field, on_log};

    CHECK(yubin_authdb_verify_plain(d.db, "taro@example.com", "secret-1", &sink) ==
          YUBIN_AUTHDB_OK);
    CHECK(yubin_authdb_verify_plain(d.db, "taro@example.com", "nope", &sink) ==
          YUBIN_AUTHDB_MISMATCH);
    CHECK(yubin_authdb_verify_plain(d.db, "jiro@example.com", "x", &sink) ==
          YUBIN_AUTHDB_USER_UNKNOWN);
    CHECK(c.logs.empty());  // routine failures are Dovecot's to log
    CHECK(yubin_authdb_verify_plain(d.db, "off@example.com", "secret-1", &sink) ==
          YUBIN_AUTHDB_DISABLED);
    REQUIRE(c.logs.size() == 1);
    CHECK(c.logs[0].first == YUBIN_AUTHDB_INFO);
    CHECK(c.logs[0].second == "login refused: mailbox is disabled");
    CHECK(c.fields.empty());

    CHECK(yubin_authdb_lookup_credentials(d.db, "taro@example.com", &sink) == YUBIN_AUTHDB_OK);
    REQUIRE(c.fields.count("password") == 1);
    CHECK(passwd::scheme_of(c.fields.find("password")->second) == "SHA512-CRYPT");
    c.fields.clear();
    CHECK(yubin_authdb_lookup_credentials(d.db, "off@example.com", &sink) == YUBIN_AUTHDB_DISABLED);
    CHECK(c.fields.empty());

    CHECK(yubin_authdb_userdb_lookup(d.db, "TARO@example.com", &sink) == YUBIN_AUTHDB_OK);
    CHECK(c.fields ==
          std::multimap<std::string, std::string>{{"uid", "7"},
                                                  {"gid", "8"},
                                                  {"home", "/v/example.com/taro"},
                                                  {"mail", "maildir:/v/example.com/taro/Maildir"}});
    c.fields.clear();
    CHECK(yubin_authdb_userdb_lookup(d.db, "off@example.com", &sink) == YUBIN_AUTHDB_OK);
    CHECK(yubin_authdb_userdb_lookup(d.db, "jiro@example.com", &sink) == YUBIN_AUTHDB_USER_UNKNOWN);
    c.fields.clear();

    CHECK(yubin_authdb_iterate(d.db, &sink) == YUBIN_AUTHDB_OK);
    CHECK(c.fields.count("user") == 2);
}

TEST_CASE("authdb: a store outage is TEMPFAIL everywhere, logged as an error") {
    Site site;
    Db d(site.cf);
    std::filesystem::rename(site.dir + "/yubin.db", site.dir + "/away.db");
    Calls c;
    yubin_authdb_sink sink{&c, on_field, on_log};
    CHECK(yubin_authdb_verify_plain(d.db, "taro@example.com", "secret-1", &sink) ==
          YUBIN_AUTHDB_TEMPFAIL);
    CHECK(yubin_authdb_lookup_credentials(d.db, "taro@example.com", &sink) ==
          YUBIN_AUTHDB_TEMPFAIL);
    CHECK(yubin_authdb_userdb_lookup(d.db, "taro@example.com", &sink) == YUBIN_AUTHDB_TEMPFAIL);
    CHECK(yubin_authdb_iterate(d.db, &sink) == YUBIN_AUTHDB_TEMPFAIL);
    REQUIRE(c.logs.size() == 4);
    for (const auto& [level, msg] : c.logs) {
        CHECK(level == YUBIN_AUTHDB_ERROR);
        CHECK(msg.find("temporary failure: store") == 0);
    }
    CHECK(c.fields.empty());
}
