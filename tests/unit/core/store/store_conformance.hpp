// Behaviour every Store backend must show, written against the interface
// only. A backend's test file defines a fixture type F with
//     F();                 // a fresh, empty, read-write store
//     Store& store();
// and runs the suite with
//     TYPE_TO_STRING(F);
//     YUBIN_STORE_CONFORMANCE(F);
// Include this header in exactly one file per test binary.
#pragma once

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/store/store.hpp"

namespace yubin::store::testing {

// "ok" or the error kind's name, so a failed CHECK prints got and want.
template <class R>
std::string outcome(const R& r) {
    if (r) return "ok";
    return std::string(to_string(r.error().kind)) + ": " + r.error().what;
}
template <class R>
std::string kind(const R& r) {
    if (r) return "ok";
    return std::string(to_string(r.error().kind));
}

inline std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
}

inline bool looks_iso8601(const std::string& s) {
    return s.size() == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
           s[16] == ':' && s[19] == 'Z';
}

inline void add_domains(Store& s, std::initializer_list<const char*> names) {
    for (const char* n : names) {
        auto r = s.add_domain(Domain{.name = n});
        REQUIRE_MESSAGE(r.has_value(), outcome(r));
    }
}

inline void add_mailboxes(Store& s, std::initializer_list<const char*> addresses) {
    for (const char* a : addresses) {
        auto r = s.add_mailbox(Mailbox{.address = a, .password = "{PLAIN}x"});
        REQUIRE_MESSAGE(r.has_value(), outcome(r));
    }
}

inline void add_alias(Store& s, const char* source, const char* target, bool active = true) {
    auto r = s.add_alias(Alias{source, target, active});
    REQUIRE_MESSAGE(r.has_value(), outcome(r));
}

}  // namespace yubin::store::testing

TEST_CASE_TEMPLATE_DEFINE("store: conformance: domains", F, store_conformance_domains) {
    using namespace yubin;
    using namespace yubin::store;
    using namespace yubin::store::testing;
    F fixture;
    Store& s = fixture.store();

    auto listed = s.list_domains();
    REQUIRE(listed.has_value());
    CHECK(listed->empty());

    CHECK(outcome(s.add_domain(Domain{.name = "Example.COM.", .max_message_size = 10240000,
                                      .quota_bytes = 1 << 30})) == "ok");
    auto d = s.get_domain("example.com");
    REQUIRE_MESSAGE(d.has_value(), outcome(d));
    CHECK(d->name == "example.com");  // stored lower-case, root dot gone
    CHECK(d->active);
    CHECK(d->max_message_size == 10240000);
    CHECK(d->quota_bytes == 1 << 30);
    CHECK_MESSAGE(looks_iso8601(d->created), d->created);
    CHECK(outcome(s.get_domain("EXAMPLE.com")) == "ok");

    // Duplicates, also differing only in case.
    for (const char* dup : {"example.com", "EXAMPLE.COM", "example.com."}) {
        CAPTURE(dup);
        auto r = s.add_domain(Domain{.name = dup});
        CHECK(kind(r) == "permanent failure");
        if (!r) CHECK(r.error().what == "domain example.com already exists");
    }
    for (const char* bad : {"", "localhost", "[192.0.2.1]", "ex ample.com", "-a.com"}) {
        CAPTURE(bad);
        CHECK(kind(s.add_domain(Domain{.name = bad})) == "bad input");
    }
    CHECK(kind(s.add_domain(Domain{.name = "neg.example", .quota_bytes = -1})) == "bad input");

    CHECK(kind(s.get_domain("example.org")) == "not found");
    CHECK(kind(s.get_domain("not a domain")) == "not found");

    d->active = false;
    d->max_message_size = 5;
    d->quota_bytes = 0;
    d->name = "Example.Com";
    CHECK(outcome(s.update_domain(*d)) == "ok");
    auto d2 = s.get_domain("example.com");
    REQUIRE(d2.has_value());
    CHECK_FALSE(d2->active);
    CHECK(d2->max_message_size == 5);
    CHECK(d2->quota_bytes == 0);
    CHECK(d2->created == d->created);
    CHECK(kind(s.update_domain(Domain{.name = "example.org"})) == "not found");

    add_domains(s, {"b.example", "a.example"});
    listed = s.list_domains();
    REQUIRE(listed.has_value());
    std::vector<std::string> names;
    for (const auto& x : *listed) names.push_back(x.name);
    CHECK(join(names) == "a.example,b.example,example.com");

    CHECK(outcome(s.delete_domain("A.example", false)) == "ok");
    CHECK(kind(s.get_domain("a.example")) == "not found");
    CHECK(kind(s.delete_domain("a.example", false)) == "not found");
    CHECK(kind(s.delete_domain("a.example", true)) == "not found");
}

TEST_CASE_TEMPLATE_DEFINE("store: conformance: mailboxes", F, store_conformance_mailboxes) {
    using namespace yubin;
    using namespace yubin::store;
    using namespace yubin::store::testing;
    F fixture;
    Store& s = fixture.store();

    // Unknown domain is NotFound, and names the domain.
    auto r = s.add_mailbox(Mailbox{.address = "taro@example.com"});
    CHECK(kind(r) == "not found");
    if (!r) CHECK(r.error().what == "unknown domain example.com");

    add_domains(s, {"example.com", "example.org"});
    CHECK(outcome(s.add_mailbox(Mailbox{.address = "Taro@Example.COM",
                                        .password = "{SHA512-CRYPT}$6$abc$def",
                                        .max_message_size = 1000,
                                        .quota_bytes = 2000,
                                        .quota_messages = 30})) == "ok");

    for (const char* key : {"Taro@Example.COM", "taro@example.com", "TARO@EXAMPLE.COM",
                            "taro@example.com."}) {
        CAPTURE(key);
        auto m = s.get_mailbox(key);
        REQUIRE_MESSAGE(m.has_value(), outcome(m));
        CHECK(m->address == "Taro@example.com");  // case of the local part kept
        CHECK(m->local_part == "Taro");
        CHECK(m->domain == "example.com");
        CHECK(m->password == "{SHA512-CRYPT}$6$abc$def");
        CHECK(m->active);
        CHECK(m->max_message_size == 1000);
        CHECK(m->quota_bytes == 2000);
        CHECK(m->quota_messages == 30);
        CHECK(m->maildir == "example.com/taro/Maildir/");
        CHECK_MESSAGE(looks_iso8601(m->created), m->created);
        CHECK_MESSAGE(looks_iso8601(m->updated), m->updated);
    }

    // Duplicates, also differing only in case.
    for (const char* dup : {"Taro@example.com", "taro@example.com", "TARO@EXAMPLE.COM."}) {
        CAPTURE(dup);
        auto d = s.add_mailbox(Mailbox{.address = dup});
        CHECK(kind(d) == "permanent failure");
        if (!d) CHECK(d.error().what.find("already exists") != std::string::npos);
    }
    // The same local part in another domain is another mailbox.
    CHECK(outcome(s.add_mailbox(Mailbox{.address = "taro@example.org", .maildir = "org/t/"})) ==
          "ok");
    CHECK(s.get_mailbox("taro@example.org")->maildir == "org/t/");

    // Validation.
    struct Bad { Mailbox m; const char* why; };
    const Bad bad[] = {
        {Mailbox{.address = "no-at-sign"}, "address"},
        {Mailbox{.address = "x@[192.0.2.1]"}, "address literal"},
        {Mailbox{.address = "x@example.com", .password = "secret"}, "plaintext password"},
        {Mailbox{.address = "x@example.com", .password = "{}x"}, "empty scheme"},
        {Mailbox{.address = "x@example.com", .password = "{PLAIN}a\nb"}, "newline"},
        {Mailbox{.address = "x@example.com", .quota_bytes = -1}, "negative quota"},
        {Mailbox{.address = "x@example.com", .maildir = "/abs/Maildir/"}, "absolute maildir"},
        {Mailbox{.address = "x@example.com", .maildir = "a/../b/"}, "dot-dot maildir"},
        {Mailbox{.address = "x@example.com", .maildir = "a/Maildir"}, "no trailing slash"},
        {Mailbox{.address = "x@example.com", .maildir = "a//b/"}, "empty component"},
        {Mailbox{.address = "a/b@example.com"}, "slash in local part, default maildir"},
    };
    for (const auto& b : bad) {
        CAPTURE(b.why);
        CHECK(kind(s.add_mailbox(b.m)) == "bad input");
    }
    CHECK(kind(s.get_mailbox("x@example.com")) == "not found");
    CHECK(outcome(s.add_mailbox(Mailbox{.address = "a/b@example.com", .maildir = "example.com/a_b/"})) == "ok");

    // NotFound for absent keys, also syntactically impossible ones.
    for (const char* absent : {"jiro@example.com", "taro@example.net", "garbage", ""}) {
        CAPTURE(absent);
        CHECK(kind(s.get_mailbox(absent)) == "not found");
        CHECK(kind(s.delete_mailbox(absent)) == "not found");
        CHECK(kind(s.set_password(absent, "{PLAIN}x")) == "not found");
        CHECK(kind(s.update_mailbox(Mailbox{.address = absent})) == "not found");
    }

    // update: every field but address and created.
    auto m = *s.get_mailbox("taro@example.com");
    m.password = "";
    m.active = false;
    m.max_message_size = 1;
    m.quota_bytes = 2;
    m.quota_messages = 3;
    m.maildir = "elsewhere/Maildir/";
    m.address = "TARO@example.com";
    CHECK(outcome(s.update_mailbox(m)) == "ok");
    auto u = s.get_mailbox("taro@example.com");
    REQUIRE(u.has_value());
    CHECK(u->address == "Taro@example.com");
    CHECK(u->password == "");
    CHECK_FALSE(u->active);
    CHECK(u->max_message_size == 1);
    CHECK(u->quota_bytes == 2);
    CHECK(u->quota_messages == 3);
    CHECK(u->maildir == "elsewhere/Maildir/");
    CHECK(u->created == m.created);
    CHECK(kind(s.update_mailbox(Mailbox{.address = "taro@example.com", .password = "plain"})) ==
          "bad input");

    CHECK(outcome(s.set_password("TARO@example.com", "{ARGON2ID}$argon2id$v=19$x")) == "ok");
    CHECK(s.get_mailbox("taro@example.com")->password == "{ARGON2ID}$argon2id$v=19$x");
    CHECK(kind(s.set_password("taro@example.com", "hunter2")) == "bad input");
    CHECK(s.get_mailbox("taro@example.com")->password == "{ARGON2ID}$argon2id$v=19$x");
    CHECK(outcome(s.set_password("taro@example.com", "")) == "ok");  // disables login

    // Lists.
    add_mailboxes(s, {"b@example.com", "A@example.com"});
    auto all = s.list_mailboxes("");
    REQUIRE(all.has_value());
    std::vector<std::string> got;
    for (const auto& x : *all) got.push_back(x.address);
    // Ordered by domain, then address case-insensitively ('/' sorts before '@').
    CHECK(join(got) == "a/b@example.com,A@example.com,b@example.com,Taro@example.com,taro@example.org");
    auto org = s.list_mailboxes("EXAMPLE.org");
    REQUIRE(org.has_value());
    REQUIRE(org->size() == 1);
    CHECK((*org)[0].address == "taro@example.org");
    CHECK(kind(s.list_mailboxes("example.net")) == "not found");
    CHECK(kind(s.list_aliases("example.net")) == "not found");

    CHECK(outcome(s.delete_mailbox("TARO@EXAMPLE.COM")) == "ok");
    CHECK(kind(s.get_mailbox("taro@example.com")) == "not found");
    CHECK(kind(s.delete_mailbox("taro@example.com")) == "not found");
    CHECK(outcome(s.get_mailbox("taro@example.org")) == "ok");
}

TEST_CASE_TEMPLATE_DEFINE("store: conformance: aliases", F, store_conformance_aliases) {
    using namespace yubin;
    using namespace yubin::store;
    using namespace yubin::store::testing;
    F fixture;
    Store& s = fixture.store();

    auto r = s.add_alias(Alias{"info@example.com", "taro@example.com"});
    CHECK(kind(r) == "not found");
    if (!r) CHECK(r.error().what == "unknown domain example.com");
    add_domains(s, {"example.com", "old.example"});

    add_alias(s, "Info@Example.com", "Taro@example.com");
    add_alias(s, "info@example.com", "someone@elsewhere.example");  // target domain need not exist
    add_alias(s, "info@example.com", "off@example.com", false);
    add_alias(s, "@old.example", "@Example.COM");
    add_alias(s, "@example.com", "catchall@example.com");

    struct Pair { const char* source; const char* target; };
    const Pair duplicates[] = {
        {"info@example.com", "taro@example.com"},
        {"INFO@example.com", "TARO@EXAMPLE.COM"},
        {"@old.example", "@example.com"},
    };
    for (const auto& c : duplicates) {
        CAPTURE(c.source);
        CAPTURE(c.target);
        CHECK(kind(s.add_alias(Alias{c.source, c.target})) == "permanent failure");
    }
    const Pair invalid[] = {
        {"info", "taro@example.com"},
        {"info@example.com", ""},
        {"info@example.com", "not an address"},
        {"@", "x@example.com"},
        {"info@example.com", "@[192.0.2.1]"},
    };
    for (const auto& c : invalid) {
        CAPTURE(c.source);
        CAPTURE(c.target);
        CHECK(kind(s.add_alias(Alias{c.source, c.target})) == "bad input");
    }

    // Exact source, case-insensitive, active targets only, in insertion order,
    // as stored.
    auto t = s.alias_targets("INFO@EXAMPLE.COM");
    REQUIRE_MESSAGE(t.has_value(), outcome(t));
    CHECK(join(*t) == "Taro@example.com,someone@elsewhere.example");
    CHECK(join(*s.alias_targets("@OLD.example")) == "@example.com");
    CHECK(s.alias_targets("nobody@example.com")->empty());  // exact: no catch-all here
    CHECK(s.alias_targets("info+x@example.com")->empty());
    CHECK(s.alias_targets("not an address")->empty());

    auto all = s.list_aliases("");
    REQUIRE(all.has_value());
    std::vector<std::string> rows;
    for (const auto& a : *all)
        rows.push_back(a.source + ">" + a.target + (a.active ? "" : "(off)"));
    CHECK(join(rows) ==
          "@example.com>catchall@example.com,@old.example>@example.com,"
          "Info@example.com>Taro@example.com,info@example.com>someone@elsewhere.example,"
          "info@example.com>off@example.com(off)");  // each row as it was added
    auto old = s.list_aliases("old.example");
    REQUIRE(old.has_value());
    CHECK(old->size() == 1);

    CHECK(outcome(s.delete_alias("info@example.com", "SOMEONE@elsewhere.example")) == "ok");
    CHECK(join(*s.alias_targets("info@example.com")) == "Taro@example.com");
    CHECK(kind(s.delete_alias("info@example.com", "someone@elsewhere.example")) == "not found");
    CHECK(outcome(s.delete_alias("info@example.com", "")) == "ok");  // every target
    CHECK(s.alias_targets("info@example.com")->empty());
    CHECK(s.list_aliases("example.com")->size() == 1);
    CHECK(kind(s.delete_alias("info@example.com", "")) == "not found");
    CHECK(kind(s.delete_alias("garbage", "")) == "not found");
}

TEST_CASE_TEMPLATE_DEFINE("store: conformance: find_mailbox handles extensions", F,
                          store_conformance_find) {
    using namespace yubin;
    using namespace yubin::store;
    using namespace yubin::store::testing;
    F fixture;
    Store& s = fixture.store();
    add_domains(s, {"example.com"});
    add_mailboxes(s, {"Taro@example.com", "a+b@example.com", "jiro-x@example.com"});

    struct Case { const char* in; const char* delims; const char* want; };  // want nullptr = NotFound
    const Case cases[] = {
        {"taro@example.com", "+", "Taro@example.com"},
        {"TARO@EXAMPLE.COM", "+", "Taro@example.com"},
        {"taro+ml@example.com", "+", "Taro@example.com"},
        {"Taro+ml+more@Example.com", "+", "Taro@example.com"},
        {"taro-ml@example.com", "+", nullptr},             // '-' is not a delimiter here
        {"taro-ml@example.com", "+-", "Taro@example.com"},  // any of the characters
        {"taro+ml@example.com", "", nullptr},               // no delimiter configured
        {"a+b@example.com", "+", "a+b@example.com"},        // exact wins over stripping
        {"a+c@example.com", "+", nullptr},                  // "a" does not exist
        {"jiro-x+y@example.com", "+-", nullptr},            // cut at the first delimiter: "jiro"
        {"jiro-x+y@example.com", "+", "jiro-x@example.com"},
        {"+taro@example.com", "+", nullptr},                // a leading delimiter is not cut
        {"hanako@example.com", "+", nullptr},
        {"taro+x@example.org", "+", nullptr},
        {"garbage", "+", nullptr},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        CAPTURE(c.delims);
        auto m = find_mailbox(s, c.in, c.delims);
        if (c.want) {
            REQUIRE_MESSAGE(m.has_value(), outcome(m));
            CHECK(m->address == c.want);
        } else {
            CHECK(kind(m) == "not found");
        }
    }
    auto miss = find_mailbox(s, "hanako+x@example.com", "+");
    REQUIRE_FALSE(miss.has_value());
    CHECK(miss.error().what == "no mailbox hanako+x@example.com");
}

TEST_CASE_TEMPLATE_DEFINE("store: conformance: resolve_alias follows Postfix virtual(5)", F,
                          store_conformance_resolve) {
    using namespace yubin;
    using namespace yubin::store;
    using namespace yubin::store::testing;
    F fixture;
    Store& s = fixture.store();
    add_domains(s, {"example.com", "old.example", "empty.example"});
    add_alias(s, "exact+tag@example.com", "x@dest.example");
    add_alias(s, "exact@example.com", "e@dest.example");
    add_alias(s, "user@example.com", "u1@dest.example");
    add_alias(s, "user@example.com", "u2@dest.example");
    add_alias(s, "off@example.com", "z@dest.example", false);
    add_alias(s, "@example.com", "catchall@dest.example");
    add_alias(s, "@old.example", "@new.example");
    add_alias(s, "keep@old.example", "kept@dest.example");

    struct Case { const char* in; const char* delims; const char* want; };
    const Case cases[] = {
        {"exact+tag@example.com", "+", "x@dest.example"},        // 1. with extension
        {"exact+other@example.com", "+", "e+other@dest.example"},  // 2. extension propagated
        {"exact@example.com", "+", "e@dest.example"},
        {"user@example.com", "+", "u1@dest.example,u2@dest.example"},
        {"USER@Example.COM.", "+", "u1@dest.example,u2@dest.example"},
        {"user+foo@example.com", "+", "u1+foo@dest.example,u2+foo@dest.example"},
        {"user-foo@example.com", "+-", "u1-foo@dest.example,u2-foo@dest.example"},
        {"user+foo@example.com", "", "catchall@dest.example"},    // no delimiter: 3. catch-all
        {"nobody@example.com", "+", "catchall@dest.example"},
        {"nobody+x@example.com", "+", "catchall@dest.example"},   // no propagation at step 3
        {"off@example.com", "+", "catchall@dest.example"},        // inactive row ignored
        {"Taro@old.example", "+", "Taro@new.example"},            // domain alias
        {"Taro+ml@old.example", "+", "Taro+ml@new.example"},      // extension kept
        {"keep@old.example", "+", "kept@dest.example"},           // exact beats domain alias
        {"someone@empty.example", "+", ""},
        {"someone@unknown.example", "+", ""},
        {"garbage", "+", ""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        CAPTURE(c.delims);
        auto got = resolve_alias(s, c.in, c.delims);
        REQUIRE_MESSAGE(got.has_value(), outcome(got));
        CHECK(join(*got) == c.want);
    }
}

TEST_CASE_TEMPLATE_DEFINE("store: conformance: delete_domain with and without cascade", F,
                          store_conformance_delete_domain) {
    using namespace yubin;
    using namespace yubin::store;
    using namespace yubin::store::testing;
    F fixture;
    Store& s = fixture.store();
    add_domains(s, {"example.com", "aliases.example", "other.example"});
    add_mailboxes(s, {"a@example.com", "b@example.com", "c@other.example"});
    add_alias(s, "info@example.com", "a@example.com");
    add_alias(s, "x@aliases.example", "a@example.com");
    add_alias(s, "y@other.example", "a@example.com");

    auto r = s.delete_domain("example.com", false);
    CHECK(kind(r) == "permanent failure");
    if (!r) CHECK(r.error().what == "domain example.com still has 2 mailbox(es) and 1 alias(es)");
    CHECK(kind(s.delete_domain("aliases.example", false)) == "permanent failure");
    // Nothing went.
    CHECK(outcome(s.get_domain("example.com")) == "ok");
    CHECK(s.list_mailboxes("example.com")->size() == 2);
    CHECK(s.list_aliases("aliases.example")->size() == 1);

    CHECK(outcome(s.delete_domain("Example.COM", true)) == "ok");
    CHECK(kind(s.get_domain("example.com")) == "not found");
    CHECK(kind(s.get_mailbox("a@example.com")) == "not found");
    CHECK(s.alias_targets("info@example.com")->empty());
    // Other domains untouched, also their aliases pointing into the deleted one.
    CHECK(s.list_mailboxes("")->size() == 1);
    CHECK(join(*s.alias_targets("y@other.example")) == "a@example.com");
    CHECK(join(*s.alias_targets("x@aliases.example")) == "a@example.com");

    // The name can be used again and starts empty.
    add_domains(s, {"example.com"});
    CHECK(s.list_mailboxes("example.com")->empty());
}

TEST_CASE_TEMPLATE_DEFINE("store: conformance: transactions are all or nothing", F,
                          store_conformance_transactions) {
    using namespace yubin;
    using namespace yubin::store;
    using namespace yubin::store::testing;
    F fixture;
    Store& s = fixture.store();
    add_domains(s, {"example.com"});

    SUBCASE("a failing body writes nothing") {
        auto r = s.transaction([](Store& t) -> Status {
            if (auto st = t.add_mailbox(Mailbox{.address = "a@example.com"}); !st) return st;
            if (auto st = t.add_alias(Alias{"x@example.com", "a@example.com"}); !st) return st;
            if (auto st = t.add_domain(Domain{.name = "new.example"}); !st) return st;
            return t.add_mailbox(Mailbox{.address = "A@EXAMPLE.COM"});  // duplicate: fails
        });
        CHECK(kind(r) == "permanent failure");
        CHECK(kind(s.get_mailbox("a@example.com")) == "not found");
        CHECK(s.alias_targets("x@example.com")->empty());
        CHECK(kind(s.get_domain("new.example")) == "not found");
    }
    SUBCASE("a body's own error is returned and rolls back") {
        auto r = s.transaction([](Store& t) -> Status {
            if (auto st = t.add_mailbox(Mailbox{.address = "a@example.com"}); !st) return st;
            return fail(ErrorKind::BadInput, "changed my mind");
        });
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().what == "changed my mind");
        CHECK(kind(s.get_mailbox("a@example.com")) == "not found");
    }
    SUBCASE("a body that throws rolls back") {
        CHECK_THROWS_AS((void)s.transaction([](Store& t) -> Status {
            (void)t.add_mailbox(Mailbox{.address = "a@example.com"});
            throw std::runtime_error("boom");
        }), std::runtime_error);
        CHECK(kind(s.get_mailbox("a@example.com")) == "not found");
        CHECK(outcome(s.add_mailbox(Mailbox{.address = "b@example.com"})) == "ok");
    }
    SUBCASE("a successful body writes everything") {
        auto r = s.transaction([](Store& t) -> Status {
            if (auto st = t.add_mailbox(Mailbox{.address = "a@example.com"}); !st) return st;
            return t.add_alias(Alias{"x@example.com", "a@example.com"});
        });
        CHECK(outcome(r) == "ok");
        CHECK(outcome(s.get_mailbox("a@example.com")) == "ok");
        CHECK(join(*s.alias_targets("x@example.com")) == "a@example.com");
    }
    SUBCASE("nested: a failed inner transaction leaves the outer one going") {
        auto r = s.transaction([](Store& t) -> Status {
            if (auto st = t.add_mailbox(Mailbox{.address = "outer@example.com"}); !st) return st;
            auto inner = t.transaction([](Store& u) -> Status {
                if (auto st = u.add_mailbox(Mailbox{.address = "inner@example.com"}); !st) return st;
                return fail(ErrorKind::Perm, "inner fails");
            });
            if (inner) return fail(ErrorKind::Internal, "inner transaction should have failed");
            // Reads inside the outer transaction see its own writes only.
            if (!t.get_mailbox("outer@example.com")) return fail(ErrorKind::Internal, "outer lost");
            if (t.get_mailbox("inner@example.com")) return fail(ErrorKind::Internal, "inner kept");
            return t.transaction([](Store& u) -> Status {
                return u.add_mailbox(Mailbox{.address = "inner2@example.com"});
            });
        });
        CHECK(outcome(r) == "ok");
        CHECK(outcome(s.get_mailbox("outer@example.com")) == "ok");
        CHECK(kind(s.get_mailbox("inner@example.com")) == "not found");
        CHECK(outcome(s.get_mailbox("inner2@example.com")) == "ok");
    }
    SUBCASE("nested: an outer failure undoes a committed inner transaction") {
        auto r = s.transaction([](Store& t) -> Status {
            auto inner = t.transaction([](Store& u) -> Status {
                return u.add_mailbox(Mailbox{.address = "inner@example.com"});
            });
            if (!inner) return inner;
            return fail(ErrorKind::Perm, "outer fails");
        });
        CHECK(kind(r) == "permanent failure");
        CHECK(kind(s.get_mailbox("inner@example.com")) == "not found");
    }
}

// Runs every conformance test case for the fixture type F.
TEST_CASE_TEMPLATE_DEFINE("store: conformance: policy overrides and filter opt-out", F,
                          store_conformance_overrides) {
    using namespace yubin;
    using namespace yubin::store;
    using namespace yubin::store::testing;
    F fixture;
    Store& s = fixture.store();

    // Defaults: nothing set, the filter inherits.
    add_domains(s, {"plain.example"});
    add_mailboxes(s, {"u@plain.example"});
    auto pd = s.get_domain("plain.example");
    REQUIRE(pd.has_value());
    CHECK(pd->rate_limit == "");
    CHECK(pd->recipient_limit == 0);
    CHECK(pd->spam_filter == SpamFilter::Inherit);
    auto pm = s.get_mailbox("u@plain.example");
    REQUIRE(pm.has_value());
    CHECK(pm->rate_limit == "");
    CHECK(pm->recipient_limit == 0);
    CHECK(pm->spam_filter == SpamFilter::Inherit);

    // Round trip through add, get and list.
    CHECK(outcome(s.add_domain(Domain{.name = "bulk.example",
                                      .rate_limit = "messages:500/1h recipients:5000/1d",
                                      .recipient_limit = 200,
                                      .spam_filter = SpamFilter::Off})) == "ok");
    CHECK(outcome(s.add_mailbox(Mailbox{.address = "news@bulk.example",
                                        .password = "{PLAIN}x",
                                        .rate_limit = "none",
                                        .recipient_limit = 5000,
                                        .spam_filter = SpamFilter::On})) == "ok");
    auto d = s.get_domain("bulk.example");
    REQUIRE_MESSAGE(d.has_value(), outcome(d));
    CHECK(d->rate_limit == "messages:500/1h recipients:5000/1d");
    CHECK(d->recipient_limit == 200);
    CHECK(d->spam_filter == SpamFilter::Off);
    auto m = s.get_mailbox("NEWS@bulk.example");
    REQUIRE_MESSAGE(m.has_value(), outcome(m));
    CHECK(m->rate_limit == "none");
    CHECK(m->recipient_limit == 5000);
    CHECK(m->spam_filter == SpamFilter::On);
    auto domains = s.list_domains();
    REQUIRE(domains.has_value());
    REQUIRE(domains->size() == 2);
    CHECK((*domains)[0].name == "bulk.example");
    CHECK((*domains)[0].spam_filter == SpamFilter::Off);
    CHECK((*domains)[0].recipient_limit == 200);
    auto boxes = s.list_mailboxes("bulk.example");
    REQUIRE(boxes.has_value());
    REQUIRE(boxes->size() == 1);
    CHECK((*boxes)[0].rate_limit == "none");
    CHECK((*boxes)[0].spam_filter == SpamFilter::On);

    // Mailbox wins, then domain, then unset.
    auto e = effective_overrides(&*m, &*d);
    CHECK(e.rate_limit == "none");
    CHECK(e.recipient_limit == 5000);
    CHECK(e.spam_filter == SpamFilter::On);
    Mailbox bare{.address = "x@bulk.example"};
    e = effective_overrides(&bare, &*d);
    CHECK(e.rate_limit == "messages:500/1h recipients:5000/1d");
    CHECK(e.recipient_limit == 200);
    CHECK(e.spam_filter == SpamFilter::Off);
    e = effective_overrides(nullptr, &*d);  // an alias of the domain
    CHECK(e.spam_filter == SpamFilter::Off);
    e = effective_overrides(nullptr, nullptr);
    CHECK(e.rate_limit == "");
    CHECK(e.spam_filter == SpamFilter::Inherit);

    // update changes them, back to unset too (LDAP: the attribute goes).
    d->rate_limit = "";
    d->recipient_limit = 0;
    d->spam_filter = SpamFilter::Inherit;
    CHECK(outcome(s.update_domain(*d)) == "ok");
    auto d2 = s.get_domain("bulk.example");
    REQUIRE(d2.has_value());
    CHECK(d2->rate_limit == "");
    CHECK(d2->recipient_limit == 0);
    CHECK(d2->spam_filter == SpamFilter::Inherit);
    m->rate_limit = "messages:10/1m";
    m->recipient_limit = 0;
    m->spam_filter = SpamFilter::Off;
    CHECK(outcome(s.update_mailbox(*m)) == "ok");
    auto m2 = s.get_mailbox("news@bulk.example");
    REQUIRE(m2.has_value());
    CHECK(m2->rate_limit == "messages:10/1m");
    CHECK(m2->recipient_limit == 0);
    CHECK(m2->spam_filter == SpamFilter::Off);
    // A password change keeps them.
    CHECK(outcome(s.set_password("news@bulk.example", "{PLAIN}y")) == "ok");
    CHECK(s.get_mailbox("news@bulk.example")->rate_limit == "messages:10/1m");

    // Validation, the same for both backends; nothing is written.
    for (const char* bad : {"messages:100", "lots:5/1h", "messages:-1/1h", "messages:5/0",
                            "messages:5/1h none", "messages:5/1h\n"}) {
        CAPTURE(bad);
        CHECK(kind(s.add_domain(Domain{.name = "bad.example", .rate_limit = bad})) == "bad input");
        CHECK(kind(s.add_mailbox(Mailbox{.address = "bad@plain.example", .rate_limit = bad})) ==
              "bad input");
        Mailbox u = *m2;
        u.rate_limit = bad;
        CHECK(kind(s.update_mailbox(u)) == "bad input");
    }
    CHECK(kind(s.add_domain(Domain{.name = "bad.example", .recipient_limit = -1})) == "bad input");
    CHECK(kind(s.add_mailbox(Mailbox{.address = "bad@plain.example", .recipient_limit = -5})) ==
          "bad input");
    Domain ud = *d2;
    ud.rate_limit = "bytes:x/1d";
    CHECK(kind(s.update_domain(ud)) == "bad input");
    CHECK(kind(s.get_domain("bad.example")) == "not found");
    CHECK(kind(s.get_mailbox("bad@plain.example")) == "not found");
    CHECK(s.get_domain("bulk.example")->rate_limit == "");
    CHECK(s.get_mailbox("news@bulk.example")->rate_limit == "messages:10/1m");
}

#define YUBIN_STORE_CONFORMANCE(F)                                  \
    TEST_CASE_TEMPLATE_INVOKE(store_conformance_domains, F);        \
    TEST_CASE_TEMPLATE_INVOKE(store_conformance_mailboxes, F);      \
    TEST_CASE_TEMPLATE_INVOKE(store_conformance_aliases, F);        \
    TEST_CASE_TEMPLATE_INVOKE(store_conformance_find, F);           \
    TEST_CASE_TEMPLATE_INVOKE(store_conformance_resolve, F);        \
    TEST_CASE_TEMPLATE_INVOKE(store_conformance_delete_domain, F);  \
    TEST_CASE_TEMPLATE_INVOKE(store_conformance_transactions, F);      \
    TEST_CASE_TEMPLATE_INVOKE(store_conformance_overrides, F)
