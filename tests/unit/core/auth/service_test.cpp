#include "core/auth/service.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "core/auth/live_store.hpp"
#include "core/auth/module_args.hpp"
#include "core/config/config.hpp"
#include "core/passwd/passwd.hpp"
#include "core/store/store.hpp"

using namespace yubin;
using namespace yubin::auth;

namespace {

struct Site {
    std::string dir;
    std::string db;

    Site() {
        char tmpl[] = "/tmp/yubin-auth-svc-XXXXXX";
        const char* p = ::mkdtemp(tmpl);
        REQUIRE(p != nullptr);
        dir = p;
        db = dir + "/yubin.db";
        make_db(db, "Taro@example.com", "secret-1");
    }
    ~Site() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    static void make_db(const std::string& path, const std::string& user, std::string_view pw) {
        auto s = store::open_store("sqlite:" + path, {});
        REQUIRE(s.has_value());
        REQUIRE((*s)->add_domain({.name = "example.com", .quota_bytes = 2048}).has_value());
        auto h = passwd::hash(pw, "SHA512-CRYPT");
        REQUIRE(h.has_value());
        REQUIRE((*s)->add_mailbox({.address = user, .password = *h}).has_value());
    }
    std::unique_ptr<store::Store> open() {
        auto s = store::open_store("sqlite:" + db, {});
        REQUIRE(s.has_value());
        return std::move(*s);
    }
    config::Config config(const std::string& extra = "") const {
        auto c = config::Config::parse("store = sqlite:" + db +
                                           "\npassword_scheme = SHA512-CRYPT"
                                           "\nvirtual_mailbox_base = /srv/vmail"
                                           "\nvirtual_uid = 1234\nvirtual_gid = 5678\n" +
                                           extra,
                                       "test.cf");
        REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().what));
        return std::move(*c);
    }
    Service service(const std::string& extra = "", ServiceOptions o = {}) const {
        auto s = Service::create(config(extra), o);
        REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().what));
        return std::move(*s);
    }
};

std::string fields(const std::vector<std::pair<std::string, std::string>>& f) {
    std::string out;
    for (const auto& [k, v] : f) out += k + "=" + v + "\n";
    return out;
}

}  // namespace

TEST_CASE("auth: expand_user_template") {
    const store::Mailbox mb{.address = "Taro.Y@example.com",
                            .local_part = "Taro.Y",
                            .domain = "example.com",
                            .maildir = "example.com/taro.y/Maildir/"};
    struct Case {
        const char* tmpl;
        const char* want;  // nullptr: a Config error
    };
    const Case cases[] = {
        {"", ""},
        {"/srv/%d/%n", "/srv/example.com/taro.y"},
        {"%u", "taro.y@example.com"},
        {"maildir:/v/%m", "maildir:/v/example.com/taro.y/Maildir"},
        {"100%%", "100%"},
        {"%", nullptr},
        {"/a/%x", nullptr},
        {"/a/%h", nullptr},
        {"%%%", nullptr},
    };
    for (const auto& c : cases) {
        CAPTURE(std::string(c.tmpl));
        auto got = expand_user_template(c.tmpl, mb);
        if (c.want == nullptr) {
            REQUIRE_FALSE(got.has_value());
            CHECK(got.error().kind == ErrorKind::Config);
        } else {
            REQUIRE(got.has_value());
            CHECK(*got == c.want);
        }
    }
}

TEST_CASE("auth: service verifies and builds userdb fields from yubin.cf") {
    Site site;
    Service svc = site.service();
    auto r = svc.verify_plain("taro@example.com", "secret-1");
    REQUIRE(r.outcome == Outcome::Ok);
    CHECK(fields(svc.userdb_fields(r)) ==
          "uid=1234\ngid=5678\nhome=/srv/vmail/example.com/taro\n"
          "mail=maildir:/srv/vmail/example.com/taro/Maildir\nquota_rule=*:storage=2048B\n");
    CHECK(svc.verify_plain("taro@example.com", "nope").outcome == Outcome::PasswordMismatch);
    CHECK(svc.verify_plain("jiro@example.com", "secret-1").outcome == Outcome::UserUnknown);

    // The mailbox's own quota wins over the domain's; messages are added.
    {
        auto db = site.open();
        auto mb = db->get_mailbox("taro@example.com");
        REQUIRE(mb.has_value());
        mb->quota_bytes = 1 << 20;
        mb->quota_messages = 500;
        REQUIRE(db->update_mailbox(*mb).has_value());
    }
    auto l = svc.lookup("TARO@example.com");
    REQUIRE(l.outcome == Outcome::Ok);
    CHECK(fields(svc.userdb_fields(l)).find("quota_rule=*:storage=1048576B:messages=500\n") !=
          std::string::npos);

    Service custom = site.service("auth_home = /home/%u\nauth_mail_location = mdbox:~/mdbox\n");
    CHECK(fields(custom.userdb_fields(custom.lookup("taro@example.com")))
              .find("home=/home/taro@example.com\nmail=mdbox:~/mdbox\n") != std::string::npos);

    auto users = svc.list_users();
    REQUIRE(users.has_value());
    CHECK(users->size() == 1);
}

TEST_CASE("auth: a bad template is a configuration error") {
    Site site;
    auto s = Service::create(site.config("auth_home = /v/%z\n"));
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().kind == ErrorKind::Config);
    CHECK(s.error().what.find("auth_home") != std::string::npos);
}

TEST_CASE("auth: the service follows the database file through an outage and a replacement") {
    Site site;
    Service svc = site.service();
    REQUIRE(svc.verify_plain("taro@example.com", "secret-1").outcome == Outcome::Ok);

    // Moved away (a lost mount, a botched restore): a temporary failure, not
    // a stale success from the file still open and not "unknown user".
    std::filesystem::rename(site.db, site.db + ".away");
    auto r = svc.verify_plain("taro@example.com", "secret-1");
    CHECK_MESSAGE(r.outcome == Outcome::TempFail, to_string(r.outcome), " ", r.reason);
    CHECK(r.reason.find("yubin.db") != std::string::npos);
    CHECK(svc.lookup("taro@example.com").outcome == Outcome::TempFail);
    CHECK_FALSE(svc.list_users().has_value());
    CHECK_FALSE(std::filesystem::exists(site.db));  // nothing was created in its place

    std::filesystem::rename(site.db + ".away", site.db);
    CHECK(svc.verify_plain("taro@example.com", "secret-1").outcome == Outcome::Ok);

    // Replaced by another database (renamed over it, with its -wal and -shm
    // files, which the store keeps): its users, at once.
    const std::string other = site.dir + "/other.db";
    Site::make_db(other, "jiro@example.com", "secret-2");
    for (const char* ext : {"-wal", "-shm", ""}) {
        if (std::filesystem::exists(other + ext))
            std::filesystem::rename(other + ext, site.db + ext);
        else
            std::filesystem::remove(site.db + ext);
    }
    CHECK(svc.verify_plain("taro@example.com", "secret-1").outcome == Outcome::UserUnknown);
    CHECK(svc.verify_plain("jiro@example.com", "secret-2").outcome == Outcome::Ok);

    // Not a database at all: temporary failure.
    std::filesystem::remove(site.db);
    std::filesystem::remove(site.db + "-wal");
    std::filesystem::remove(site.db + "-shm");
    FILE* fp = std::fopen(site.db.c_str(), "w");
    REQUIRE(fp != nullptr);
    std::fputs(std::string(4096, 'x').c_str(), fp);
    std::fclose(fp);
    auto bad = svc.verify_plain("jiro@example.com", "secret-2");
    CHECK_MESSAGE(bad.outcome == Outcome::TempFail, to_string(bad.outcome), " ", bad.reason);
}

TEST_CASE("auth: the service rehashes imported hashes unless told not to") {
    Site site;
    constexpr std::string_view kHmacSecret =
        "{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56";
    auto stored = [&] {
        auto m = site.open()->get_mailbox("taro@example.com");
        REQUIRE(m.has_value());
        return m->password;
    };
    REQUIRE(site.open()->set_password("taro@example.com", kHmacSecret).has_value());

    Service ro = site.service("", {.rehash = false});
    auto r = ro.verify_plain("taro@example.com", "secret");
    CHECK(r.outcome == Outcome::Ok);
    CHECK_FALSE(r.rehashed);
    CHECK(stored() == kHmacSecret);

    Service rw = site.service();
    auto r2 = rw.verify_plain("taro@example.com", "secret");
    CHECK(r2.outcome == Outcome::Ok);
    CHECK(r2.rehashed);
    CHECK(passwd::scheme_of(stored()) == "SHA512-CRYPT");
    CHECK(ro.verify_plain("taro@example.com", "secret").outcome == Outcome::Ok);
}

TEST_CASE("auth: LiveStore with a spec that is not sqlite") {
    LiveStore s("nosuch:thing", {});
    auto got = s.get();
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().kind == ErrorKind::Config);
}

TEST_CASE("auth: parse_module_args") {
    struct Case {
        const char* args;
        bool ok;
        bool blocking;
        bool rehash;
        const char* path;
    };
    const Case cases[] = {
        {"", true, true, true, "/etc/yubin/yubin.cf"},
        {"/srv/y.cf", true, true, true, "/srv/y.cf"},
        {"  blocking=no   /srv/y.cf ", true, false, true, "/srv/y.cf"},
        {"rehash=no blocking=yes", true, true, false, "/etc/yubin/yubin.cf"},
        {"/srv/y.cf rehash=no", true, true, false, "/srv/y.cf"},
        {"blocking=maybe /srv/y.cf", false, true, true, ""},
        {"cache=yes /srv/y.cf", false, true, true, ""},
        {"relative.cf", false, true, true, ""},
        {"/a.cf /b.cf", false, true, true, ""},
        {"blocking= /a.cf", false, true, true, ""},
    };
    for (const auto& c : cases) {
        CAPTURE(std::string(c.args));
        auto got = parse_module_args(c.args);
        REQUIRE(got.has_value() == c.ok);
        if (!c.ok) {
            CHECK(got.error().kind == ErrorKind::Config);
            continue;
        }
        CHECK(got->blocking == c.blocking);
        CHECK(got->rehash == c.rehash);
        CHECK(got->config_path == c.path);
    }
}
