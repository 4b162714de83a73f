#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "core/store/ldap_store.hpp"
#include "core/store/migrate.hpp"
#include "core/store/store.hpp"
#include "ldap_slapd.hpp"

using namespace yubin;
using namespace yubin::store;
using namespace yubin::store::testing;

namespace {

struct SqliteFile {
    std::string dir;
    std::unique_ptr<Store> s;
    SqliteFile() {
        char tmpl[] = "/tmp/yubin-migrate-XXXXXX";
        const char* p = ::mkdtemp(tmpl);
        REQUIRE(p != nullptr);
        dir = p;
        auto r = open_store("sqlite:" + dir + "/y.db", {});
        REQUIRE(r.has_value());
        s = std::move(*r);
    }
    ~SqliteFile() {
        s.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

std::string status_of(const Status& st) {
    return st ? std::string("ok")
              : std::string(to_string(st.error().kind)) + ": " + st.error().what;
}

void fill(Store& s) {
    REQUIRE(s.add_domain(Domain{.name = "example.com", .max_message_size = 1000}));
    REQUIRE(s.add_domain(Domain{.name = "old.example", .active = false}));
    REQUIRE(s.add_mailbox(Mailbox{.address = "Taro@example.com",
                                  .password = "{SHA512-CRYPT}$6$salt$hash",
                                  .quota_bytes = 2048,
                                  .quota_messages = 7}));
    REQUIRE(s.add_mailbox(
        Mailbox{.address = "a+b@example.com", .active = false, .maildir = "elsewhere/ab/"}));
    REQUIRE(s.add_alias(Alias{"info@example.com", "Taro@example.com"}));
    REQUIRE(s.add_alias(Alias{"info@example.com", "a+b@example.com", false}));
    REQUIRE(s.add_alias(Alias{"@old.example", "@example.com"}));
}

// Everything a store holds except timestamps, one line per row.
std::string dump(Store& s) {
    std::ostringstream out;
    auto domains = s.list_domains();
    auto mailboxes = s.list_mailboxes("");
    auto aliases = s.list_aliases("");
    REQUIRE(domains.has_value());
    REQUIRE(mailboxes.has_value());
    REQUIRE(aliases.has_value());
    for (const auto& d : *domains)
        out << "D " << d.name << " " << d.active << " " << d.max_message_size << " "
            << d.quota_bytes << "\n";
    for (const auto& m : *mailboxes)
        out << "M " << m.address << " " << m.password << " " << m.active << " "
            << m.max_message_size << " " << m.quota_bytes << " " << m.quota_messages << " "
            << m.maildir << "\n";
    for (const auto& a : *aliases)
        out << "A " << a.source << " " << a.target << " " << a.active << "\n";
    return out.str();
}

}  // namespace

TEST_CASE("store: migrate_store copies SQLite into LDAP, and a rerun changes nothing") {
    SqliteFile from;
    fill(*from.s);
    Slapd& d = shared_slapd();
    auto to = must_open_ldap(d.options(d.new_base()));

    std::ostringstream report;
    CHECK(status_of(migrate_store(*from.s, *to, report)) == "ok");
    CHECK(report.str() ==
          "domains: 2 added, 0 skipped, 0 failed\n"
          "mailboxes: 2 added, 0 skipped, 0 failed\n"
          "aliases: 3 added, 0 skipped, 0 failed\n");
    CHECK(dump(*to) == dump(*from.s));
    auto m = to->get_mailbox("taro@example.com");
    REQUIRE(m.has_value());
    CHECK(m->password == "{SHA512-CRYPT}$6$salt$hash");
    auto r = resolve_alias(*to, "x@old.example", "+");
    REQUIRE(r.has_value());
    REQUIRE(r->size() == 1);
    CHECK(r->front() == "x@example.com");

    std::ostringstream again;
    MigrateSummary summary;
    CHECK(status_of(migrate_store(*from.s, *to, again, &summary)) == "ok");
    CHECK(summary.added() == 0);
    CHECK(summary.mailboxes.skipped == 2);
    CHECK(again.str() ==
          "domains: 0 added, 2 skipped, 0 failed\n"
          "mailboxes: 0 added, 2 skipped, 0 failed\n"
          "aliases: 0 added, 3 skipped, 0 failed\n");
    CHECK(dump(*to) == dump(*from.s));

    // A partial copy (an interrupted run) is completed; what the target has
    // already is left as it is there.
    REQUIRE(to->delete_alias("info@example.com", "a+b@example.com"));
    REQUIRE(to->set_password("taro@example.com", "{PLAIN}changed-in-ldap"));
    REQUIRE(from.s->add_mailbox(Mailbox{.address = "new@example.com"}));
    std::ostringstream partial;
    CHECK(status_of(migrate_store(*from.s, *to, partial)) == "ok");
    CHECK(partial.str() ==
          "domains: 0 added, 2 skipped, 0 failed\n"
          "mailboxes: 1 added, 2 skipped, 0 failed\n"
          "aliases: 1 added, 2 skipped, 0 failed\n");
    CHECK(to->get_mailbox("taro@example.com")->password == "{PLAIN}changed-in-ldap");
    CHECK(to->list_aliases("example.com")->size() == 2);
}

TEST_CASE("store: migrate_store goes both ways and reports refused rows") {
    Slapd& d = shared_slapd();
    const std::string base = d.new_base();
    auto ldap = must_open_ldap(d.options(base));
    fill(*ldap);

    SqliteFile back;
    std::ostringstream report;
    CHECK(status_of(migrate_store(*ldap, *back.s, report)) == "ok");
    CHECK(dump(*back.s) == dump(*ldap));

    // A target that refuses writes: every row reported, none copied, BadInput.
    SqliteFile src;
    fill(*src.s);
    auto ro = must_open_ldap(d.options(d.new_base()), StoreOptions{.read_only = true});
    std::ostringstream refused;
    auto st = migrate_store(*src.s, *ro, refused);
    CHECK(status_of(st) == "bad input: 7 row(s) were not copied");
    CHECK(refused.str().find("migrate: domain example.com: ") != std::string::npos);
    CHECK(refused.str().find("migrate: mailbox Taro@example.com: ") != std::string::npos);
    CHECK(refused.str().find("aliases: 0 added, 0 skipped, 3 failed\n") != std::string::npos);
}

TEST_CASE("store: migrate_store stops at an outage with Temp") {
    SqliteFile from;
    fill(*from.s);
    LdapOptions o = shared_slapd().options("ou=x,dc=example,dc=com");
    o.uri = "ldap://127.0.0.1:" + std::to_string(free_port()) + "/";  // nobody there
    auto to = must_open_ldap(o);
    std::ostringstream report;
    auto st = migrate_store(*from.s, *to, report);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().kind == ErrorKind::Temp);
    CHECK(report.str().empty());
}
