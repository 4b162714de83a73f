#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "core/config/config.hpp"
#include "core/store/store.hpp"
#include "lda/input.hpp"
#include "lda/mailbox.hpp"
#include "unit/temp_dir.hpp"

using namespace yubin;
using namespace yubin::lda;

TEST_CASE("lda: local mailbox is lda_mailbox under HOME") {
    auto cfg = config::Config::parse("default_quota = 1000\n", "t.cf");
    REQUIRE(cfg);
    auto m = local_mailbox(*cfg, "/home/taro", "lists");
    REQUIRE(m);
    CHECK(m->maildir == "/home/taro/Maildir/");
    CHECK(m->extension == "lists");
    CHECK(m->quota.bytes == 1000);
    CHECK_FALSE(m->create_parents);
    CHECK_FALSE(local_mailbox(*cfg, "", ""));
    CHECK_FALSE(local_mailbox(*cfg, "relative", ""));
    auto abs = config::Config::parse("lda_mailbox = /var/mail/x/\n", "t.cf");
    REQUIRE(abs);
    CHECK(local_mailbox(*abs, "", "")->maildir == "/var/mail/x/");
}

TEST_CASE("lda: virtual mailbox from the store, with extension, quota and failures") {
    test::TempDir t;
    auto st = store::open_store("sqlite:" + t.path() + "/y.db", {});
    REQUIRE_MESSAGE(st, (st ? "" : st.error().what));
    auto& s = **st;
    REQUIRE(s.add_domain({.name = "example.test", .quota_bytes = 5000}));
    REQUIRE(s.add_mailbox({.address = "Taro@example.test"}));
    REQUIRE(s.add_mailbox({.address = "hana@example.test", .quota_bytes = 7, .quota_messages = 3}));
    REQUIRE(s.add_mailbox({.address = "off@example.test", .active = false}));
    auto cfg = config::Config::parse("virtual_mailbox_base = /srv/vmail\n", "t.cf");
    REQUIRE(cfg);

    auto m = virtual_mailbox(s, *cfg, "taro+lists@example.test");
    REQUIRE_MESSAGE(m, (m ? "" : m.error().what));
    CHECK(m->maildir == "/srv/vmail/example.test/taro/Maildir/");
    CHECK(m->extension == "lists");
    CHECK(m->create_parents);
    CHECK(m->quota.bytes == 5000);  // from the domain
    auto h = virtual_mailbox(s, *cfg, "hana@example.test");
    REQUIRE(h);
    CHECK(h->extension.empty());
    CHECK(h->quota.bytes == 7);
    CHECK(h->quota.messages == 3);

    auto unknown = virtual_mailbox(s, *cfg, "nobody@example.test");
    REQUIRE_FALSE(unknown);
    CHECK(lookup_failure(unknown.error(), "nobody@example.test").dsn == "5.1.1");
    auto off = virtual_mailbox(s, *cfg, "off@example.test");
    REQUIRE_FALSE(off);
    CHECK(lookup_failure(off.error(), "off@example.test").dsn == "5.2.1");
    CHECK(lookup_failure({ErrorKind::Temp, "db locked"}, "x").dsn == "4.3.0");
}

TEST_CASE("lda: the filter opt-out comes from the mailbox, else its domain, else on") {
    test::TempDir t;
    auto st = store::open_store("sqlite:" + t.path() + "/y.db", {});
    REQUIRE_MESSAGE(st, (st ? "" : st.error().what));
    auto& s = **st;
    REQUIRE(s.add_domain({.name = "on.test"}));
    REQUIRE(s.add_domain({.name = "lab.test", .spam_filter = store::SpamFilter::Off}));
    REQUIRE(s.add_mailbox({.address = "plain@on.test"}));
    REQUIRE(s.add_mailbox({.address = "post@on.test", .spam_filter = store::SpamFilter::Off}));
    REQUIRE(s.add_mailbox({.address = "any@lab.test"}));
    REQUIRE(s.add_mailbox({.address = "boss@lab.test", .spam_filter = store::SpamFilter::On}));
    auto cfg = config::Config::parse("virtual_mailbox_base = /srv/vmail\n", "t.cf");
    REQUIRE(cfg);
    auto filter_of = [&](const char* rcpt) {
        auto m = virtual_mailbox(s, *cfg, rcpt);
        REQUIRE_MESSAGE(m, (m ? "" : m.error().what));
        return m->filter;
    };
    CHECK(filter_of("plain@on.test"));
    CHECK_FALSE(filter_of("post@on.test"));
    CHECK_FALSE(filter_of("post+ext@on.test"));
    CHECK_FALSE(filter_of("any@lab.test"));  // the domain's
    CHECK(filter_of("boss@lab.test"));       // the mailbox's wins
    auto cfg2 = config::Config::parse("", "t.cf");
    REQUIRE(cfg2);
    auto local = local_mailbox(*cfg2, "/home/taro", "");
    REQUIRE(local);
    CHECK(local->filter);  // no store entry: filtered as always
}

TEST_CASE("lda: read_message reads everything up to the limit, and refuses beyond it") {
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{65536}, std::size_t{300000}}) {
        CAPTURE(size);
        int p[2];
        REQUIRE(::pipe(p) == 0);
        std::string data(size, 'z');
        pid_t pid = ::fork();
        if (pid == 0) {
            ::close(p[0]);
            std::size_t off = 0;
            while (off < data.size()) {
                ssize_t n = ::write(p[1], data.data() + off, data.size() - off);
                if (n <= 0) break;
                off += static_cast<std::size_t>(n);
            }
            ::_exit(0);
        }
        ::close(p[1]);
        auto got = read_message(p[0], 300000);
        ::close(p[0]);
        int status = 0;
        ::waitpid(pid, &status, 0);
        REQUIRE(got);
        CHECK(got->view() == data);
    }
    int p[2];
    REQUIRE(::pipe(p) == 0);
    REQUIRE(::write(p[1], "0123456789", 10) == 10);
    ::close(p[1]);
    auto r = read_message(p[0], 9);
    ::close(p[0]);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::Perm);
}
