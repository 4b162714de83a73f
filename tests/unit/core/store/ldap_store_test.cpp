#include "core/store/ldap_store.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <fstream>
#include <string>

#include "core/store/store.hpp"
#include "ldap_slapd.hpp"
#include "store_conformance.hpp"

using namespace yubin;
using namespace yubin::store;
using namespace yubin::store::testing;

namespace {

// Lookups go through the cache with its default TTLs: the conformance suite
// then also proves that a write through the store invalidates what it read.
struct LdapFixture {
    std::unique_ptr<Store> s = must_open_ldap(shared_slapd().options(shared_slapd().new_base()));
    Store& store() { return *s; }
};

// A clock the test moves by hand.
struct FakeClock {
    std::chrono::steady_clock::time_point t{std::chrono::hours(1)};
    std::function<std::chrono::steady_clock::time_point()> fn() {
        return [this] { return t; };
    }
};

}  // namespace

TYPE_TO_STRING(LdapFixture);
YUBIN_STORE_CONFORMANCE(LdapFixture);

TEST_CASE("store: ldap: entries are laid out as documented in contrib/ldap/yubin.schema") {
    Slapd& d = shared_slapd();
    const std::string base = d.new_base();
    auto s = must_open_ldap(d.options(base));
    add_domains(*s, {"example.com"});
    add_mailboxes(*s, {"Taro@Example.com"});
    add_alias(*s, "info@example.com", "Taro@example.com");
    // An LDAP client that knows the DNs finds them.
    auto found = [&](const std::string& filter, const std::string& base_dn) {
        return run_command({"bash", "-c", "ldapsearch \"$@\" >/dev/null", "ldapsearch", "-x",
                            "-LLL", "-H", d.uri(), "-D", kBindDn, "-w", kBindPw, "-s", "base", "-b",
                            base_dn, filter, "1.1"});
    };
    CHECK(found("(objectClass=yubinDomain)", "yubinDomainName=example.com," + base) == 0);
    CHECK(found("(&(objectClass=inetOrgPerson)(objectClass=yubinMailbox)(mail=taro@example.com))",
                "mail=Taro@example.com,yubinDomainName=example.com," + base) == 0);

    // The overrides: absent while unset, then in the schema's attributes.
    auto matches = [&](const std::string& filter, const std::string& base_dn) {
        return run_command({"bash", "-c", "ldapsearch \"$@\" | grep -q '^dn:'", "ldapsearch", "-x",
                            "-LLL", "-H", d.uri(), "-D", kBindDn, "-w", kBindPw, "-s", "base", "-b",
                            base_dn, filter, "1.1"}) == 0;
    };
    const std::string taro = "mail=Taro@example.com,yubinDomainName=example.com," + base;
    const std::string dom = "yubinDomainName=example.com," + base;
    CHECK(matches("(mail=*)", taro));
    CHECK_FALSE(matches("(yubinSpamFilter=*)", taro));
    CHECK_FALSE(matches("(yubinRateLimit=*)", dom));
    auto m = *s->get_mailbox("taro@example.com");
    m.spam_filter = SpamFilter::Off;
    m.rate_limit = "messages:50/1h";
    m.recipient_limit = 20;
    REQUIRE(outcome(s->update_mailbox(m)) == "ok");
    auto dm = *s->get_domain("example.com");
    dm.spam_filter = SpamFilter::On;
    dm.rate_limit = "none";
    REQUIRE(outcome(s->update_domain(dm)) == "ok");
    CHECK(matches("(&(yubinSpamFilter=FALSE)(yubinRateLimit=messages:50/1h)(yubinRecipientLimit=20))",
                  taro));
    CHECK(matches("(&(yubinSpamFilter=TRUE)(yubinRateLimit=none))", dom));
    m.spam_filter = SpamFilter::Inherit;
    REQUIRE(outcome(s->update_mailbox(m)) == "ok");
    CHECK_FALSE(matches("(yubinSpamFilter=*)", taro));
    CHECK(matches("(yubinRateLimit=*)", taro));
}

TEST_CASE("store: ldap: filter and DN injection matches nothing in every lookup path") {
    Slapd& d = shared_slapd();
    auto s = must_open_ldap(d.options(d.new_base()));
    add_domains(*s, {"example.com", "other.example"});
    add_mailboxes(*s, {"taro@example.com", "jiro@example.com"});
    add_alias(*s, "info@example.com", "taro@example.com");
    add_alias(*s, "@other.example", "jiro@example.com");

    // Keys a peer may send. Some are valid addresses ('*', '=', '#', '{',
    // '|' are atext), so they reach the directory and only escaping keeps
    // them from being patterns.
    const std::string keys[] = {
        "*)(uid=*",
        "*",
        "*@example.com",
        "t*@example.com",
        "*aro@example.com",
        "taro@example.com)(mail=*",
        "(",
        ")",
        "\\",
        "taro\\2a@example.com",
        std::string("taro\0@example.com", 17),
        "tar\xc3\xb6@example.com",
        "\xe5\xa4\xaa\xe9\x83\x8e@example.com",
        "=@example.com",
        "#taro@example.com",
        "taro@*",
        "taro@example.*",
        "@*",
        "*@*",
        "(mail=*)",
        "x@example.com)(|(mail=*",
    };
    for (const auto& key : keys) {
        CAPTURE(key);
        CHECK(kind(s->get_mailbox(key)) == "not found");
        CHECK(kind(find_mailbox(*s, key, "+")) == "not found");
        auto t = s->alias_targets(key);
        REQUIRE_MESSAGE(t.has_value(), outcome(t));
        CHECK(t->empty());
        auto r = resolve_alias(*s, key, "+");
        REQUIRE_MESSAGE(r.has_value(), outcome(r));
        // Only a key in a real domain reaches that domain's catch-all.
        if (!r->empty()) CHECK(join(*r).find("jiro@example.com") != std::string::npos);
        CHECK(join(*r).find("taro") == std::string::npos);
        CHECK(kind(s->get_domain(key)) == "not found");
        CHECK(kind(s->list_mailboxes(key)) == "not found");
        CHECK(kind(s->list_aliases(key)) == "not found");
        CHECK(kind(s->set_password(key, "{PLAIN}owned")) == "not found");
        CHECK(kind(s->delete_mailbox(key)) == "not found");
        CHECK(kind(s->delete_alias(key, "")) == "not found");
        CHECK(kind(s->delete_domain(key, true)) == "not found");
    }
    // Nothing was changed by any of it.
    CHECK(s->get_mailbox("taro@example.com")->password == "{PLAIN}x");
    CHECK(s->list_mailboxes("")->size() == 2);
    CHECK(s->list_aliases("")->size() == 2);
    CHECK(s->list_domains()->size() == 2);

    // Addresses made of LDAP special characters are stored and found as
    // themselves, and only themselves.
    add_mailboxes(*s,
                  {"*@example.com", "a+b=c@example.com", "#x@example.com", "{a}|b@example.com"});
    for (const char* a :
         {"*@example.com", "a+b=c@example.com", "#x@example.com", "{a}|b@example.com"}) {
        CAPTURE(a);
        auto m = s->get_mailbox(a);
        REQUIRE_MESSAGE(m.has_value(), outcome(m));
        CHECK(m->address == a);
    }
    CHECK(kind(s->get_mailbox("**@example.com")) == "not found");
    CHECK(s->list_mailboxes("example.com")->size() == 6);
    add_alias(*s, "*@example.com", "taro@example.com");
    CHECK(join(*s->alias_targets("*@example.com")) == "taro@example.com");
    CHECK(s->alias_targets("x@example.com")->empty());
    CHECK(outcome(s->delete_mailbox("*@example.com")) == "ok");
    CHECK(outcome(s->get_mailbox("taro@example.com")) == "ok");
}

TEST_CASE("store: ldap: a person entry of an existing tree is a mailbox with defaults") {
    Slapd& d = shared_slapd();
    const std::string base = d.new_base();
    auto s = must_open_ldap(d.options(base));
    add_domains(*s, {"example.com"});
    d.admin_add("ou=people," + base, {{"objectClass", "organizationalUnit"}, {"ou", "people"}});
    d.admin_add("uid=hanako,ou=people," + base, {{"objectClass", "inetOrgPerson"},
                                                 {"objectClass", "yubinMailbox"},
                                                 {"uid", "hanako"},
                                                 {"cn", "Hanako"},
                                                 {"sn", "Yamada"},
                                                 {"mail", "Hanako@EXAMPLE.com"},
                                                 {"userPassword", "{SSHA512}abc"}});
    auto m = s->get_mailbox("hanako@example.com");
    REQUIRE_MESSAGE(m.has_value(), outcome(m));
    CHECK(m->address == "Hanako@example.com");
    CHECK(m->password == "{SSHA512}abc");
    CHECK(m->active);
    CHECK(m->maildir == "example.com/hanako/Maildir/");
    CHECK(m->quota_bytes == 0);
    CHECK(m->rate_limit == "");
    CHECK(m->recipient_limit == 0);
    CHECK(m->spam_filter == SpamFilter::Inherit);
    CHECK(looks_iso8601(m->created));
    CHECK(s->list_mailboxes("example.com")->size() == 1);
    CHECK(outcome(s->set_password("HANAKO@example.com", "{PLAIN}new")) == "ok");
    CHECK(s->get_mailbox("hanako@example.com")->password == "{PLAIN}new");
}

TEST_CASE("store: ldap: configurable attribute names") {
    Slapd& d = shared_slapd();
    const std::string base = d.new_base();
    LdapOptions o = d.options(base);
    o.password_attribute = "description";  // any attribute the entries may hold
    auto s = must_open_ldap(o);
    add_domains(*s, {"example.com"});
    CHECK(outcome(s->add_mailbox(Mailbox{.address = "a@example.com", .password = "{PLAIN}p"})) ==
          "ok");
    CHECK(s->get_mailbox("a@example.com")->password == "{PLAIN}p");
    // Through the other name the password is not there.
    auto plain = must_open_ldap(d.options(base));
    CHECK(plain->get_mailbox("a@example.com")->password == "");

    for (const char* bad : {"", "mail)(x", "1mail", "mail attr", "ma*il"}) {
        CAPTURE(bad);
        LdapOptions b = d.options(base);
        b.mail_attribute = bad;
        CHECK(kind(LdapStore::open(b, {})) == "configuration error");
        b = d.options(base);
        b.spam_filter_attribute = bad;
        CHECK(kind(LdapStore::open(b, {})) == "configuration error");
        b = d.options(base);
        b.rate_limit_attribute = bad;
        CHECK(kind(LdapStore::open(b, {})) == "configuration error");
        b = d.options(base);
        b.recipient_limit_attribute = bad;
        CHECK(kind(LdapStore::open(b, {})) == "configuration error");
    }

    // A site's own attributes for the overrides (here inetOrgPerson's), with
    // the spellings such a tree may use.
    LdapOptions site = d.options(base);
    site.rate_limit_attribute = "departmentNumber";
    site.recipient_limit_attribute = "employeeNumber";
    site.spam_filter_attribute = "employeeType";
    d.admin_add("ou=people," + base, {{"objectClass", "organizationalUnit"}, {"ou", "people"}});
    d.admin_add("uid=jiro,ou=people," + base, {{"objectClass", "inetOrgPerson"},
                                               {"objectClass", "yubinMailbox"},
                                               {"uid", "jiro"},
                                               {"cn", "Jiro"},
                                               {"sn", "Suzuki"},
                                               {"mail", "jiro@example.com"},
                                               {"departmentNumber", "messages:7/1d"},
                                               {"employeeNumber", "12"},
                                               {"employeeType", "off"}});
    auto ss = must_open_ldap(site);
    auto j = ss->get_mailbox("jiro@example.com");
    REQUIRE_MESSAGE(j.has_value(), outcome(j));
    CHECK(j->rate_limit == "messages:7/1d");
    CHECK(j->recipient_limit == 12);
    CHECK(j->spam_filter == SpamFilter::Off);
    j->spam_filter = SpamFilter::On;
    j->recipient_limit = 0;
    CHECK(outcome(ss->update_mailbox(*j)) == "ok");
    auto j2 = ss->get_mailbox("jiro@example.com");
    CHECK(j2->spam_filter == SpamFilter::On);
    CHECK(j2->recipient_limit == 0);
    CHECK(j2->rate_limit == "messages:7/1d");
    // Through the default names the entry has none of them.
    auto j3 = must_open_ldap(d.options(base))->get_mailbox("jiro@example.com");
    CHECK(j3->spam_filter == SpamFilter::Inherit);
    CHECK(j3->rate_limit == "");
    LdapOptions nobase = d.options("");
    CHECK(kind(LdapStore::open(nobase, {})) == "configuration error");
    LdapOptions baduri = d.options(base);
    baduri.uri = "nonsense://x";
    CHECK(kind(LdapStore::open(baduri, {})) == "configuration error");
}

TEST_CASE("store: ldap: a read-only store reads but refuses writes with Perm") {
    Slapd& d = shared_slapd();
    const std::string base = d.new_base();
    add_domains(*must_open_ldap(d.options(base)), {"example.com"});
    auto ro = must_open_ldap(d.options(base), StoreOptions{.read_only = true});
    CHECK(outcome(ro->get_domain("example.com")) == "ok");
    CHECK(kind(ro->add_domain(Domain{.name = "example.org"})) == "permanent failure");
    CHECK(kind(ro->delete_domain("example.com", true)) == "permanent failure");
    CHECK(outcome(ro->get_domain("example.com")) == "ok");
}

TEST_CASE("store: ldap: cache keeps answers for the TTL and a write through the store empties it") {
    Slapd& d = shared_slapd();
    const std::string base = d.new_base();
    FakeClock clock;
    LdapOptions o = d.options(base);
    o.cache_ttl = std::chrono::seconds(30);
    o.negative_cache_ttl = std::chrono::seconds(10);
    o.clock = clock.fn();
    auto reader = must_open_ldap(o);
    auto writer = must_open_ldap(d.options(base));  // another process, in effect
    add_domains(*writer, {"example.com"});
    add_mailboxes(*writer, {"taro@example.com"});
    add_alias(*writer, "info@example.com", "taro@example.com");

    CHECK(reader->get_mailbox("taro@example.com")->password == "{PLAIN}x");
    CHECK(kind(reader->get_mailbox("hanako@example.com")) == "not found");
    CHECK(join(*reader->alias_targets("info@example.com")) == "taro@example.com");
    CHECK(reader->alias_targets("sales@example.com")->empty());
    CHECK(outcome(reader->get_domain("example.com")) == "ok");
    const auto searches = reader->stats().searches;

    // Changed elsewhere: the reader answers from its cache, without asking.
    CHECK(outcome(writer->set_password("taro@example.com", "{PLAIN}new")) == "ok");
    add_mailboxes(*writer, {"hanako@example.com"});
    add_alias(*writer, "sales@example.com", "taro@example.com");
    for (int i = 0; i < 3; ++i) {
        CHECK(reader->get_mailbox("TARO@example.com")->password == "{PLAIN}x");
        CHECK(kind(reader->get_mailbox("hanako@example.com")) == "not found");
        CHECK(reader->alias_targets("sales@example.com")->empty());
        CHECK(outcome(reader->get_domain("EXAMPLE.com")) == "ok");
    }
    CHECK(reader->stats().searches == searches);
    CHECK(reader->stats().cache_hits >= 12);

    // Negative answers expire first (10 s), positive ones later (30 s).
    clock.t += std::chrono::seconds(11);
    CHECK(outcome(reader->get_mailbox("hanako@example.com")) == "ok");
    CHECK(join(*reader->alias_targets("sales@example.com")) == "taro@example.com");
    CHECK(reader->get_mailbox("taro@example.com")->password == "{PLAIN}x");
    clock.t += std::chrono::seconds(20);
    CHECK(reader->get_mailbox("taro@example.com")->password == "{PLAIN}new");

    // A write through the reader itself is seen at once.
    CHECK(outcome(reader->set_password("taro@example.com", "{PLAIN}mine")) == "ok");
    CHECK(reader->get_mailbox("taro@example.com")->password == "{PLAIN}mine");
    CHECK(outcome(reader->delete_mailbox("hanako@example.com")) == "ok");
    CHECK(kind(reader->get_mailbox("hanako@example.com")) == "not found");

    // TTL 0: no cache at all.
    LdapOptions off = d.options(base);
    off.cache_ttl = off.negative_cache_ttl = std::chrono::milliseconds(0);
    auto uncached = must_open_ldap(off);
    (void)uncached->get_mailbox("taro@example.com");
    (void)uncached->get_mailbox("taro@example.com");
    CHECK(uncached->stats().cache_hits == 0);
    CHECK(uncached->stats().searches == 2);
}

TEST_CASE("store: ldap: directory outage is Temp everywhere, then the same store recovers") {
    Slapd own;  // this test stops its server
    const std::string base = own.new_base();
    LdapOptions o = own.options(base);
    o.cache_ttl = o.negative_cache_ttl = std::chrono::milliseconds(0);
    o.timeout = std::chrono::milliseconds(2000);
    auto s = must_open_ldap(o);
    add_domains(*s, {"example.com"});
    add_mailboxes(*s, {"taro@example.com"});
    add_alias(*s, "@example.com", "taro@example.com");
    REQUIRE(outcome(s->get_mailbox("taro@example.com")) == "ok");

    own.stop();
    auto all_temp = [&](const char* when) {
        CAPTURE(when);
        CHECK(kind(s->get_mailbox("taro@example.com")) == "temporary failure");
        CHECK(kind(s->get_mailbox("nobody@example.com")) == "temporary failure");
        CHECK(kind(find_mailbox(*s, "taro+x@example.com", "+")) == "temporary failure");
        CHECK(kind(s->alias_targets("x@example.com")) == "temporary failure");
        CHECK(kind(resolve_alias(*s, "x@example.com", "+")) == "temporary failure");
        CHECK(kind(s->get_domain("example.com")) == "temporary failure");
        CHECK(kind(s->list_domains()) == "temporary failure");
        CHECK(kind(s->list_mailboxes("example.com")) == "temporary failure");
        CHECK(kind(s->list_aliases("")) == "temporary failure");
        CHECK(kind(s->add_domain(Domain{.name = "new.example"})) == "temporary failure");
        CHECK(kind(s->add_mailbox(Mailbox{.address = "new@example.com"})) == "temporary failure");
        CHECK(kind(s->set_password("taro@example.com", "{PLAIN}y")) == "temporary failure");
        CHECK(kind(s->delete_alias("@example.com", "")) == "temporary failure");
    };
    all_temp("server stopped");
    all_temp("still stopped (no stale connection state)");
    // A fresh store while the server is down opens (no connection yet) and
    // answers Temp.
    auto fresh = must_open_ldap(o);
    CHECK(kind(fresh->get_mailbox("taro@example.com")) == "temporary failure");

    own.restart();
    auto m = s->get_mailbox("taro@example.com");
    REQUIRE_MESSAGE(m.has_value(), outcome(m));
    CHECK(join(*resolve_alias(*s, "x@example.com", "+")) == "taro@example.com");
    CHECK(outcome(s->set_password("taro@example.com", "{PLAIN}after")) == "ok");
    CHECK(outcome(fresh->get_mailbox("taro@example.com")) == "ok");

    // A restart between two calls is invisible to the caller: the dead
    // connection is replaced on the spot.
    own.stop();
    own.restart();
    const auto connects = s->stats().connects;
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(s->get_mailbox("taro@example.com")->password == "{PLAIN}after");
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(s->stats().connects == connects + 1);
    // Not by waiting out a timeout (o.timeout is 2 s).
    CHECK(took < std::chrono::milliseconds(1500));
}

TEST_CASE("store: ldap: a server that does not answer is Temp within the timeout") {
    // Listens (the kernel completes the handshake) but never reads.
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    int port = free_port();
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    REQUIRE(::listen(fd.get(), 16) == 0);
    LdapOptions o = shared_slapd().options("ou=x,dc=example,dc=com");
    o.uri = "ldap://127.0.0.1:" + std::to_string(port) + "/";
    o.timeout = std::chrono::milliseconds(1000);
    auto s = must_open_ldap(o);
    auto t0 = std::chrono::steady_clock::now();
    CHECK(kind(s->get_mailbox("taro@example.com")) == "temporary failure");
    auto elapsed = std::chrono::steady_clock::now() - t0;
    CHECK(elapsed < std::chrono::seconds(8));  // two tries of 1 s each, generous
}

TEST_CASE("store: ldap: bind and TLS failures are Temp, never NotFound") {
    Slapd& d = shared_slapd();
    const std::string base = d.new_base();
    add_domains(*must_open_ldap(d.options(base)), {"example.com"});

    LdapOptions wrong = d.options(base);
    wrong.bind_password = "wrong";
    auto s = must_open_ldap(wrong);
    auto r = s->get_domain("example.com");
    CHECK(kind(r) == "temporary failure");
    if (!r) CHECK(r.error().what.find("bind") != std::string::npos);
    CHECK(kind(s->get_mailbox("nobody@example.com")) == "temporary failure");

    // Anonymous clients may not read the tree (the test ACL): that is not
    // "no such user" either.
    LdapOptions anon = d.options(base);
    anon.bind_dn.clear();
    CHECK(kind(must_open_ldap(anon)->get_mailbox("nobody@example.com")) == "temporary failure");

    // StartTLS requested, the server has no TLS: refuse, do not go on in
    // plaintext.
    LdapOptions tls = d.options(base);
    tls.start_tls = true;
    CHECK(kind(must_open_ldap(tls)->get_domain("example.com")) == "temporary failure");

    // A base DN that does not exist (a consumer not replicated yet) is Temp.
    LdapOptions nobase = d.options("ou=missing,dc=example,dc=com");
    CHECK(kind(must_open_ldap(nobase)->get_mailbox("taro@example.com")) == "temporary failure");
    CHECK(kind(must_open_ldap(nobase)->get_domain("example.com")) == "temporary failure");
}

TEST_CASE("store: ldap: open_store(\"ldap:FILE\") reads the store_ldap_* parameters") {
    Slapd& d = shared_slapd();
    const std::string base = d.new_base();
    const std::string cf = d.dir() + "/yubin-" + std::to_string(d.port()) + ".cf";
    auto write = [&](const std::string& text) { std::ofstream(cf, std::ios::trunc) << text; };
    write("store = ldap:" + cf + "\nstore_ldap_uri = " + d.uri() +
          "\nstore_ldap_base_dn = " + base + "\nstore_ldap_bind_dn = " + kBindDn +
          "\nstore_ldap_bind_pw_file = " + d.bind_pw_file() + "\nstore_ldap_cache_ttl = 0\n");
    auto s = open_store("ldap:" + cf, {});
    REQUIRE_MESSAGE(s.has_value(), outcome(s));
    CHECK(outcome((*s)->add_domain(Domain{.name = "example.com"})) == "ok");
    CHECK(outcome((*s)->get_domain("example.com")) == "ok");

    CHECK(kind(open_store("ldap:relative.cf", {})) == "configuration error");
    CHECK(kind(open_store("ldap:", {})) == "configuration error");
    CHECK(kind(open_store("ldap:/nonexistent/yubin.cf", {})) == "configuration error");
    write("store_ldap_base_dn = " + base + "\nstore_ldap_bind_dn = " + kBindDn +
          "\nstore_ldap_bind_pw_file = /nonexistent/pw\n");
    auto nopw = open_store("ldap:" + cf, {});
    CHECK(kind(nopw) == "configuration error");
    if (!nopw) CHECK(nopw.error().what.find("store_ldap_bind_pw_file") != std::string::npos);
    write("store_ldap_bind_dn = " + std::string(kBindDn) +
          "\nstore_ldap_bind_pw_file = " + d.bind_pw_file() + "\n");
    CHECK(kind(open_store("ldap:" + cf, {})) == "configuration error");  // no base DN
    write("store_ldap_nonsense = 1\n");
    CHECK(kind(open_store("ldap:" + cf, {})) == "configuration error");
}

TEST_CASE("store: ldap: an outage in the middle of a transaction is Temp and says what is left") {
    Slapd own;
    LdapOptions o = own.options(own.new_base());
    o.timeout = std::chrono::milliseconds(2000);
    auto s = must_open_ldap(o);
    add_domains(*s, {"example.com"});
    auto r = s->transaction([&](Store& t) -> Status {
        if (auto st = t.add_mailbox(Mailbox{.address = "a@example.com"}); !st) return st;
        own.stop();
        return t.add_mailbox(Mailbox{.address = "b@example.com"});
    });
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == ErrorKind::Temp);
    CHECK_MESSAGE(r.error().what.find("rollback incomplete") != std::string::npos, r.error().what);
    own.restart();
    // What was written before the outage is still there (not silently lost
    // or silently kept: the error said so); the next call works.
    CHECK(outcome(s->get_mailbox("a@example.com")) == "ok");
    CHECK(kind(s->get_mailbox("b@example.com")) == "not found");
}
