#include "core/auth/authenticator.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/passwd/passwd.hpp"
#include "core/store/store.hpp"

using namespace yubin;
using namespace yubin::auth;

namespace {

constexpr std::string_view kScheme = "SHA512-CRYPT";  // creatable and fast enough for tests
// doveadm pw -s HMAC-MD5 -p secret (Dovecot 2.3.19)
constexpr std::string_view kHmacSecret =
    "{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56";

// Forwards to a real store; faults and hooks are switched on per test.
class FaultStore final : public store::Store {
public:
    explicit FaultStore(store::Store& inner) : inner_(inner) {}
    bool fail_get = false;
    bool fail_domain = false;
    bool fail_set = false;
    std::function<void()> before_transaction;

    Status add_domain(const store::Domain& d) override { return inner_.add_domain(d); }
    Status update_domain(const store::Domain& d) override { return inner_.update_domain(d); }
    Status delete_domain(std::string_view n, bool c) override { return inner_.delete_domain(n, c); }
    Result<store::Domain> get_domain(std::string_view n) override {
        if (fail_domain) return fail(ErrorKind::Temp, "database is locked");
        return inner_.get_domain(n);
    }
    Result<std::vector<store::Domain>> list_domains() override { return inner_.list_domains(); }
    Status add_mailbox(const store::Mailbox& m) override { return inner_.add_mailbox(m); }
    Status update_mailbox(const store::Mailbox& m) override { return inner_.update_mailbox(m); }
    Status set_password(std::string_view a, std::string_view h) override {
        if (fail_set) return fail(ErrorKind::Temp, "attempt to write a readonly database");
        return inner_.set_password(a, h);
    }
    Status delete_mailbox(std::string_view a) override { return inner_.delete_mailbox(a); }
    Result<store::Mailbox> get_mailbox(std::string_view a) override {
        if (fail_get) return fail(ErrorKind::Temp, "unable to open database file");
        return inner_.get_mailbox(a);
    }
    Result<std::vector<store::Mailbox>> list_mailboxes(std::string_view d) override {
        if (fail_get) return fail(ErrorKind::Temp, "unable to open database file");
        return inner_.list_mailboxes(d);
    }
    Status add_alias(const store::Alias& a) override { return inner_.add_alias(a); }
    Status delete_alias(std::string_view s, std::string_view t) override {
        return inner_.delete_alias(s, t);
    }
    Result<std::vector<store::Alias>> list_aliases(std::string_view d) override {
        return inner_.list_aliases(d);
    }
    Result<std::vector<std::string>> alias_targets(std::string_view s) override {
        return inner_.alias_targets(s);
    }
    Status transaction(const std::function<Status(store::Store&)>& body) override {
        if (before_transaction) before_transaction();
        // The body must use the store it is given; route it through this
        // wrapper so the write faults apply inside the transaction too.
        return inner_.transaction([&](store::Store&) { return body(*this); });
    }

private:
    store::Store& inner_;
};

struct Fixture {
    std::string dir;
    std::unique_ptr<store::Store> db;

    Fixture() {
        char tmpl[] = "/tmp/yubin-auth-XXXXXX";
        const char* p = ::mkdtemp(tmpl);
        REQUIRE(p != nullptr);
        dir = p;
        auto s = store::open_store("sqlite:" + dir + "/yubin.db", {});
        REQUIRE(s.has_value());
        db = std::move(*s);
        REQUIRE(db->add_domain({.name = "example.com"}).has_value());
        REQUIRE(db->add_domain({.name = "off.example"}).has_value());
        add("Taro@example.com", "secret-1");
        add("hanako@example.com", "secret-2");
        add("sleepy@example.com", "secret-3", false);
        add("nobody@off.example", "secret-4");
        REQUIRE(db->add_mailbox({.address = "nopass@example.com"}).has_value());
        auto off = db->get_domain("off.example");
        REQUIRE(off.has_value());
        off->active = false;
        REQUIRE(db->update_domain(*off).has_value());
    }
    ~Fixture() {
        db.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    void add(const std::string& addr, std::string_view pw, bool active = true) {
        auto h = passwd::hash(pw, kScheme);
        REQUIRE(h.has_value());
        REQUIRE(db->add_mailbox({.address = addr, .password = *h, .active = active}).has_value());
    }
    void set_hash(std::string_view addr, std::string_view stored) {
        REQUIRE(db->set_password(addr, stored).has_value());
    }
    std::string stored(std::string_view addr) {
        auto m = db->get_mailbox(addr);
        REQUIRE(m.has_value());
        return m->password;
    }
};

std::string show(const AuthResult& r) {
    return std::string(to_string(r.outcome)) + " (" + r.reason + ")";
}

}  // namespace

TEST_CASE("auth: verify_plain outcomes") {
    Fixture f;
    Authenticator a(*f.db, std::string(kScheme));
    struct Case {
        const char* user;
        std::string password;
        Outcome want;
    };
    const Case cases[] = {
        {"Taro@example.com", "secret-1", Outcome::Ok},
        {"taro@EXAMPLE.com", "secret-1", Outcome::Ok},  // case-insensitive login
        {"taro@example.com", "secret-2", Outcome::PasswordMismatch},
        {"taro@example.com", "Secret-1", Outcome::PasswordMismatch},
        {"taro@example.com", "", Outcome::PasswordMismatch},
        {"taro@example.com", std::string("secret-1\0x", 10), Outcome::PasswordMismatch},
        {"taro@example.com", std::string(2000, 'a'), Outcome::PasswordMismatch},
        {"hanako@example.com", "secret-2", Outcome::Ok},
        {"nopass@example.com", "", Outcome::PasswordMismatch},
        {"nopass@example.com", "anything", Outcome::PasswordMismatch},
        {"sleepy@example.com", "secret-3", Outcome::Disabled},
        {"sleepy@example.com", "wrong", Outcome::PasswordMismatch},
        {"nobody@off.example", "secret-4", Outcome::Disabled},
        {"nobody@off.example", "wrong", Outcome::PasswordMismatch},
        {"jiro@example.com", "secret-1", Outcome::UserUnknown},
        {"taro+ext@example.com", "secret-1", Outcome::UserUnknown},  // no extension stripping
        {"taro", "secret-1", Outcome::UserUnknown},
        {"", "secret-1", Outcome::UserUnknown},
        {"taro@example.com\r\nx", "secret-1", Outcome::UserUnknown},
        {"a@b@example.com", "secret-1", Outcome::UserUnknown},
    };
    for (const auto& c : cases) {
        CAPTURE(std::string(c.user));
        auto r = a.verify_plain(c.user, c.password);
        CHECK_MESSAGE(r.outcome == c.want, "got ", show(r), ", want ", to_string(c.want));
        CHECK_FALSE(r.alert);
        CHECK_FALSE(r.rehashed);
    }
}

TEST_CASE("auth: the mailbox comes back with the result") {
    Fixture f;
    Authenticator a(*f.db, std::string(kScheme));
    auto r = a.verify_plain("TARO@example.com", "secret-1");
    REQUIRE(r.outcome == Outcome::Ok);
    CHECK(r.mailbox.address == "Taro@example.com");
    CHECK(r.mailbox.maildir == "example.com/taro/Maildir/");
    CHECK(r.domain.name == "example.com");
    CHECK(r.reason.empty());

    auto d = a.verify_plain("sleepy@example.com", "secret-3");
    CHECK(d.outcome == Outcome::Disabled);
    CHECK(d.reason == "mailbox is disabled");
    auto od = a.verify_plain("nobody@off.example", "secret-4");
    CHECK(od.reason == "domain off.example is disabled");
    auto u = a.verify_plain("jiro@example.com", "x");
    CHECK(u.reason == "unknown user");
    CHECK(u.mailbox.address.empty());
}

TEST_CASE("auth: an unusable stored hash never logs in and raises an alert") {
    Fixture f;
    Authenticator a(*f.db, std::string(kScheme));
    const char* broken[] = {
        "{NO-SUCH-SCHEME}abc",
        "{HMAC-MD5}cd3ba7deaad6e5ca",                // too short
        "{SHA512-CRYPT}$6$broken",                   // malformed crypt string
        "{ARGON2ID}$argon2id$v=19$m=x,t=1,p=1$a$b",  // malformed parameters
    };
    for (const char* h : broken) {
        CAPTURE(std::string(h));
        f.set_hash("hanako@example.com", h);
        auto r = a.verify_plain("hanako@example.com", "secret-2");
        CHECK_MESSAGE(r.outcome == Outcome::PasswordMismatch, "got ", show(r));
        CHECK(r.alert);
        CHECK(r.reason.find("stored password hash is unusable") != std::string::npos);
        CHECK(r.reason.find(h) == std::string::npos);  // the hash itself is never logged
    }
}

TEST_CASE("auth: a store fault is a temporary failure, never a mismatch or unknown user") {
    Fixture f;
    FaultStore fs(*f.db);
    Authenticator a(fs, std::string(kScheme));
    fs.fail_get = true;
    for (const char* user : {"taro@example.com", "jiro@example.com", "garbage"}) {
        CAPTURE(std::string(user));
        auto r = a.verify_plain(user, "secret-1");
        CHECK_MESSAGE(r.outcome == Outcome::TempFail, "got ", show(r));
        CHECK(r.reason.find("unable to open database file") != std::string::npos);
        CHECK(a.lookup(user).outcome == Outcome::TempFail);
    }
    CHECK_FALSE(a.list_users().has_value());
    fs.fail_get = false;
    fs.fail_domain = true;
    CHECK(a.verify_plain("taro@example.com", "secret-1").outcome == Outcome::TempFail);
    CHECK(a.lookup("taro@example.com").outcome == Outcome::TempFail);
    fs.fail_domain = false;
    CHECK(a.verify_plain("taro@example.com", "secret-1").outcome == Outcome::Ok);
}

TEST_CASE("auth: lookup") {
    Fixture f;
    Authenticator a(*f.db, std::string(kScheme));
    CHECK(a.lookup("taro@example.com").outcome == Outcome::Ok);
    CHECK(a.lookup("taro@example.com").mailbox.address == "Taro@example.com");
    CHECK(a.lookup("nopass@example.com").outcome == Outcome::Ok);  // userdb needs no password
    auto s = a.lookup("sleepy@example.com");
    CHECK(s.outcome == Outcome::Disabled);
    CHECK(s.mailbox.address == "sleepy@example.com");
    CHECK(a.lookup("nobody@off.example").outcome == Outcome::Disabled);
    CHECK(a.lookup("jiro@example.com").outcome == Outcome::UserUnknown);
    CHECK(a.lookup("taro+x@example.com").outcome == Outcome::UserUnknown);

    auto users = a.list_users();
    REQUIRE(users.has_value());
    CHECK(users->size() == 5);
    CHECK(std::find(users->begin(), users->end(), "Taro@example.com") != users->end());
    CHECK(std::find(users->begin(), users->end(), "sleepy@example.com") != users->end());
}

TEST_CASE("auth: rehash an imported hash on login") {
    Fixture f;
    f.set_hash("hanako@example.com", kHmacSecret);

    SUBCASE("without a rehash store nothing is written") {
        Authenticator a(*f.db, std::string(kScheme));
        auto r = a.verify_plain("hanako@example.com", "secret");
        CHECK(r.outcome == Outcome::Ok);
        CHECK_FALSE(r.rehashed);
        CHECK(f.stored("hanako@example.com") == kHmacSecret);
    }
    SUBCASE("with one the hash is upgraded once, and still verifies") {
        Authenticator a(*f.db, std::string(kScheme), f.db.get());
        CHECK(a.verify_plain("hanako@example.com", "wrong").outcome == Outcome::PasswordMismatch);
        CHECK(f.stored("hanako@example.com") == kHmacSecret);
        auto r = a.verify_plain("hanako@example.com", "secret");
        CHECK(r.outcome == Outcome::Ok);
        CHECK(r.rehashed);
        CHECK_FALSE(r.alert);
        CHECK(r.reason == "password rehashed from HMAC-MD5 to SHA512-CRYPT");
        const std::string now = f.stored("hanako@example.com");
        CHECK(passwd::scheme_of(now) == "SHA512-CRYPT");
        CHECK(r.mailbox.password == now);
        auto again = a.verify_plain("hanako@example.com", "secret");
        CHECK(again.outcome == Outcome::Ok);
        CHECK_FALSE(again.rehashed);
        CHECK(f.stored("hanako@example.com") == now);
    }
    SUBCASE("a disabled user is not rehashed") {
        Authenticator a(*f.db, std::string(kScheme), f.db.get());
        f.set_hash("sleepy@example.com", kHmacSecret);
        CHECK(a.verify_plain("sleepy@example.com", "secret").outcome == Outcome::Disabled);
        CHECK(f.stored("sleepy@example.com") == kHmacSecret);
    }
    SUBCASE("a password changed meanwhile is never overwritten") {
        FaultStore fs(*f.db);
        Authenticator a(*f.db, std::string(kScheme), &fs);
        auto changed = passwd::hash("new-password", kScheme);
        REQUIRE(changed.has_value());
        fs.before_transaction = [&] { f.set_hash("hanako@example.com", *changed); };
        auto r = a.verify_plain("hanako@example.com", "secret");
        CHECK(r.outcome == Outcome::Ok);  // the password was right when it was checked
        CHECK_FALSE(r.rehashed);
        CHECK(f.stored("hanako@example.com") == *changed);
    }
    SUBCASE("a failed rehash still logs in, with an alert") {
        FaultStore fs(*f.db);
        fs.fail_set = true;
        Authenticator a(*f.db, std::string(kScheme), &fs);
        auto r = a.verify_plain("hanako@example.com", "secret");
        CHECK(r.outcome == Outcome::Ok);
        CHECK_FALSE(r.rehashed);
        CHECK(r.alert);
        CHECK(r.reason.find("readonly database") != std::string::npos);
        CHECK(f.stored("hanako@example.com") == kHmacSecret);
    }
    SUBCASE("an uncreatable default scheme is an alert, not a failure") {
        Authenticator a(*f.db, "CRAM-MD5", f.db.get());
        auto r = a.verify_plain("hanako@example.com", "secret");
        CHECK(r.outcome == Outcome::Ok);
        CHECK(r.alert);
        CHECK(f.stored("hanako@example.com") == kHmacSecret);
    }
}

TEST_CASE("auth: a hash in another creatable scheme is upgraded to the default") {
    Fixture f;
    auto ssha = passwd::hash("pw-ssha", "SSHA512");
    REQUIRE(ssha.has_value());
    f.set_hash("taro@example.com", *ssha);
    Authenticator a(*f.db, std::string(kScheme), f.db.get());
    auto r = a.verify_plain("taro@example.com", "pw-ssha");
    CHECK(r.outcome == Outcome::Ok);
    CHECK(r.rehashed);
    CHECK(passwd::scheme_of(f.stored("taro@example.com")) == "SHA512-CRYPT");
}

TEST_CASE("auth: outcome names") {
    CHECK(to_string(Outcome::Ok) == "ok");
    CHECK(to_string(Outcome::UserUnknown) == "user unknown");
    CHECK(to_string(Outcome::PasswordMismatch) == "password mismatch");
    CHECK(to_string(Outcome::Disabled) == "disabled");
    CHECK(to_string(Outcome::TempFail) == "temporary failure");
}
