// The socketmap tables over a real SQLite store, the reply mapping, and the
// store source that heals after an outage.
#include "dovecot-auth/authd/socketmap.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/log/logger.hpp"
#include "core/log/sink.hpp"
#include "core/store/store.hpp"
#include "unit/temp_dir.hpp"

using namespace yubin;
using namespace yubin::authd;

namespace {

using test::TempDir;

// example.com with taro, hanako, a disabled jiro; off.example disabled with
// saburo; aliases: info -> taro, hanako; sales -> info@example.com (external
// kind); @old.example -> @example.com; catch-all @example.com -> postmaster.
std::unique_ptr<store::Store> populated(const TempDir& dir) {
    auto s = store::open_store("sqlite:" + dir.file("s.db"), {});
    REQUIRE(s);
    auto& st = **s;
    REQUIRE(st.add_domain({.name = "example.com"}));
    REQUIRE(st.add_domain({.name = "old.example"}));
    REQUIRE(st.add_domain({.name = "off.example", .active = false}));
    REQUIRE(st.add_mailbox({.address = "Taro@example.com"}));
    REQUIRE(st.add_mailbox({.address = "hanako@example.com"}));
    REQUIRE(st.add_mailbox({.address = "postmaster@example.com"}));
    REQUIRE(st.add_mailbox({.address = "jiro@example.com", .active = false}));
    REQUIRE(st.add_mailbox({.address = "saburo@off.example"}));
    REQUIRE(st.add_alias({.source = "info@example.com", .target = "taro@example.com"}));
    REQUIRE(st.add_alias({.source = "info@example.com", .target = "hanako@example.com"}));
    REQUIRE(st.add_alias({.source = "ext@example.com", .target = "someone@elsewhere.example"}));
    REQUIRE(
        st.add_alias({.source = "off@example.com", .target = "taro@example.com", .active = false}));
    REQUIRE(st.add_alias({.source = "@old.example", .target = "@example.com"}));
    REQUIRE(st.add_alias({.source = "@example.com", .target = "postmaster@example.com"}));
    REQUIRE(st.add_alias({.source = "team@off.example", .target = "taro@example.com"}));
    return std::move(*s);
}

std::string show(const Result<std::string>& r) {
    return format_reply(to_reply(r));
}

// A store whose every call is a temporary failure.
class DownStore final : public store::Store {
public:
    static tl::unexpected<Error> down() { return fail(ErrorKind::Temp, "database is locked"); }
    Status add_domain(const store::Domain&) override { return down(); }
    Status update_domain(const store::Domain&) override { return down(); }
    Status delete_domain(std::string_view, bool) override { return down(); }
    Result<store::Domain> get_domain(std::string_view) override { return down(); }
    Result<std::vector<store::Domain>> list_domains() override { return down(); }
    Status add_mailbox(const store::Mailbox&) override { return down(); }
    Status update_mailbox(const store::Mailbox&) override { return down(); }
    Status set_password(std::string_view, std::string_view) override { return down(); }
    Status delete_mailbox(std::string_view) override { return down(); }
    Result<store::Mailbox> get_mailbox(std::string_view) override { return down(); }
    Result<std::vector<store::Mailbox>> list_mailboxes(std::string_view) override { return down(); }
    Status add_alias(const store::Alias&) override { return down(); }
    Status delete_alias(std::string_view, std::string_view) override { return down(); }
    Result<std::vector<store::Alias>> list_aliases(std::string_view) override { return down(); }
    Result<std::vector<std::string>> alias_targets(std::string_view) override { return down(); }
    Status transaction(const std::function<Status(Store&)>&) override { return down(); }
};

// A real store that can be made to fail (every lookup Temp) and to hide its
// data_version (as a backend without one, such as LDAP, does).
class FlakyStore final : public store::Store {
public:
    FlakyStore(std::unique_ptr<store::Store> inner, const bool& down, const bool& versioned)
        : inner_(std::move(inner)), down_(down), versioned_(versioned) {}
    Status add_domain(const store::Domain& d) override { return inner_->add_domain(d); }
    Status update_domain(const store::Domain& d) override { return inner_->update_domain(d); }
    Status delete_domain(std::string_view n, bool c) override {
        return inner_->delete_domain(n, c);
    }
    Result<store::Domain> get_domain(std::string_view n) override {
        if (down_) return DownStore::down();
        return inner_->get_domain(n);
    }
    Result<std::vector<store::Domain>> list_domains() override { return inner_->list_domains(); }
    Status add_mailbox(const store::Mailbox& m) override { return inner_->add_mailbox(m); }
    Status update_mailbox(const store::Mailbox& m) override { return inner_->update_mailbox(m); }
    Status set_password(std::string_view a, std::string_view h) override {
        return inner_->set_password(a, h);
    }
    Status delete_mailbox(std::string_view a) override { return inner_->delete_mailbox(a); }
    Result<store::Mailbox> get_mailbox(std::string_view a) override {
        ++mailbox_reads;
        if (down_) return DownStore::down();
        return inner_->get_mailbox(a);
    }
    Result<std::vector<store::Mailbox>> list_mailboxes(std::string_view d) override {
        return inner_->list_mailboxes(d);
    }
    Status add_alias(const store::Alias& a) override { return inner_->add_alias(a); }
    Status delete_alias(std::string_view s, std::string_view t) override {
        return inner_->delete_alias(s, t);
    }
    Result<std::vector<store::Alias>> list_aliases(std::string_view d) override {
        return inner_->list_aliases(d);
    }
    Result<std::vector<std::string>> alias_targets(std::string_view s) override {
        if (down_) return DownStore::down();
        return inner_->alias_targets(s);
    }
    Status transaction(const std::function<Status(Store&)>& body) override {
        return inner_->transaction(body);
    }
    Status begin_read() override { return inner_->begin_read(); }
    void end_read() override { inner_->end_read(); }
    std::optional<std::uint64_t> data_version() override {
        if (!versioned_) return std::nullopt;
        return inner_->data_version();
    }

    static inline int mailbox_reads = 0;  // over every instance

private:
    std::unique_ptr<store::Store> inner_;
    const bool& down_;
    const bool& versioned_;
};

}  // namespace

TEST_CASE("socketmap: domain map") {
    TempDir dir;
    auto s = populated(dir);
    struct Case {
        const char* key;
        const char* want;
    };
    const Case cases[] = {
        {"example.com", "OK example.com"},
        {"EXAMPLE.com", "OK example.com"},
        {"old.example", "OK old.example"},
        {"off.example", "NOTFOUND "},      // disabled
        {"sub.example.com", "NOTFOUND "},  // no parent matching
        {"nowhere.example", "NOTFOUND "},
        {"taro@example.com", "NOTFOUND "},  // not a domain
        {"", "NOTFOUND "},
        {"exa\nmple.com", "NOTFOUND "},
    };
    for (const auto& c : cases) {
        CAPTURE(std::string(c.key));
        CHECK(show(lookup_domain(*s, c.key)) == c.want);
    }
}

TEST_CASE("socketmap: mailbox map") {
    TempDir dir;
    auto s = populated(dir);
    struct Case {
        const char* key;
        const char* want;
    };
    const Case cases[] = {
        {"taro@example.com", "OK example.com/taro/Maildir/"},
        {"TARO@Example.COM", "OK example.com/taro/Maildir/"},
        {"taro+news@example.com", "OK example.com/taro/Maildir/"},
        {"hanako@example.com", "OK example.com/hanako/Maildir/"},
        {"jiro@example.com", "NOTFOUND "},    // disabled mailbox
        {"saburo@off.example", "NOTFOUND "},  // disabled domain
        {"info@example.com", "NOTFOUND "},    // an alias, not a mailbox
        {"nobody@example.com", "NOTFOUND "},
        {"example.com", "NOTFOUND "},
        {"@example.com", "NOTFOUND "},
    };
    for (const auto& c : cases) {
        CAPTURE(std::string(c.key));
        CHECK(show(lookup_mailbox(*s, c.key, "+")) == c.want);
    }
    // No delimiter configured: no extension fallback.
    CHECK(show(lookup_mailbox(*s, "taro+news@example.com", "")) == "NOTFOUND ");
}

TEST_CASE("socketmap: alias map") {
    TempDir dir;
    auto s = populated(dir);
    struct Case {
        const char* key;
        const char* want;
    };
    const Case cases[] = {
        {"info@example.com", "OK taro@example.com,hanako@example.com"},
        {"INFO@example.com", "OK taro@example.com,hanako@example.com"},
        {"info+sales@example.com", "OK taro+sales@example.com,hanako+sales@example.com"},
        {"ext@example.com", "OK someone@elsewhere.example"},
        {"taro@old.example", "OK taro@example.com"},  // domain alias
        {"taro+x@old.example", "OK taro+x@example.com"},
        {"unknown@example.com", "OK postmaster@example.com"},  // catch-all
        {"taro@example.com", "NOTFOUND "},  // a mailbox: the catch-all does not take it
        {"taro+x@example.com", "NOTFOUND "},
        {"jiro@example.com", "OK postmaster@example.com"},  // disabled mailbox: catch-all applies
        {"off@example.com", "OK postmaster@example.com"},   // disabled alias row
        {"team@off.example", "NOTFOUND "},                  // disabled domain
        {"example.com", "NOTFOUND "},  // Postfix asks for the domain (virtual_alias_domains)
        {"x@nowhere.example", "NOTFOUND "},
    };
    for (const auto& c : cases) {
        CAPTURE(std::string(c.key));
        CHECK(show(lookup_alias(*s, c.key, "+")) == c.want);
    }
}

TEST_CASE("socketmap: sender_login map") {
    TempDir dir;
    auto s = populated(dir);
    struct Case {
        const char* key;
        const char* want;
    };
    const Case cases[] = {
        {"taro@example.com", "OK Taro@example.com"},
        {"taro+list@example.com", "OK Taro@example.com"},
        {"info@example.com", "OK Taro@example.com,hanako@example.com"},
        {"info+x@example.com", "OK Taro@example.com,hanako@example.com"},
        {"taro@old.example", "OK Taro@example.com"},  // domain alias
        {"unknown@example.com", "NOTFOUND "},         // a catch-all owns nothing
        {"ext@example.com", "NOTFOUND "},             // target is not a local mailbox
        {"jiro@example.com", "NOTFOUND "},            // disabled
        {"saburo@off.example", "NOTFOUND "},          // disabled domain
        {"team@off.example", "NOTFOUND "},
        {"not an address", "NOTFOUND "},
    };
    for (const auto& c : cases) {
        CAPTURE(std::string(c.key));
        CHECK(show(lookup_sender_login(*s, c.key, "+")) == c.want);
    }
}

TEST_CASE("socketmap: every error kind has one reply; unknown ones are TEMP") {
    CHECK(show(std::string("v")) == "OK v");
    CHECK(show(fail(ErrorKind::NotFound, "x")) == "NOTFOUND ");
    CHECK(show(fail(ErrorKind::BadInput, "x")) == "NOTFOUND ");
    for (auto k : {ErrorKind::Temp, ErrorKind::Internal, ErrorKind::Perm, ErrorKind::Config}) {
        auto r = show(fail(k, "bad\r\nthing"));
        CHECK(r.starts_with("TEMP "));
        CHECK(r.find('\n') == std::string::npos);
    }
    CHECK(format_reply({ReplyKind::Perm, "why"}) == "PERM why");
}

TEST_CASE("socketmap: an answer longer than Postfix accepts is TEMP, never cut") {
    TempDir dir;
    auto s = populated(dir);
    // 900 targets of about 125 bytes: more than the 100000 bytes of a reply.
    const std::string pad(50, 'p');
    const std::string domain = "@" + std::string(60, 'd') + ".example";
    for (int i = 0; i < 900; ++i)
        REQUIRE(s->add_alias(
            {.source = "big@example.com", .target = "m" + std::to_string(i) + pad + domain}));
    auto r = show(lookup_alias(*s, "big@example.com", "+"));
    CHECK(r.starts_with("TEMP "));
}

TEST_CASE("socketmap: service parses requests and answers each map") {
    TempDir dir;
    auto filled = populated(dir);
    filled.reset();
    log::MemorySink sink;
    log::Logger log(sink);
    StoreSource source(
        [&] {
            return store::open_store("sqlite:" + dir.file("s.db"),
                                     store::StoreOptions{.read_only = true});
        },
        std::chrono::milliseconds(0));
    SocketmapService svc(source, "+", log);
    CHECK(svc.answer("domain example.com") == "OK example.com");
    CHECK(svc.answer("mailbox taro@example.com") == "OK example.com/taro/Maildir/");
    CHECK(svc.answer("alias info@example.com") == "OK taro@example.com,hanako@example.com");
    CHECK(svc.answer("sender_login info@example.com") == "OK Taro@example.com,hanako@example.com");
    CHECK(svc.answer("mailbox nobody@example.com") == "NOTFOUND ");
    CHECK(svc.answer("mailbox ") == "NOTFOUND ");
    CHECK(svc.answer("nomap taro@example.com").starts_with("PERM unknown map"));
    CHECK(svc.answer("mailbox").starts_with("PERM "));
    CHECK(svc.answer("").starts_with("PERM "));
    CHECK(svc.answer(std::string("mailbox taro@example.com\0x", 26)) == "NOTFOUND ");
    CHECK(svc.stats().requests == 10);
    CHECK(svc.stats().temp == 0);
}

TEST_CASE("socketmap: a store outage is TEMP and heals by reopening") {
    TempDir dir;
    auto filled = populated(dir);
    filled.reset();
    log::MemorySink sink;
    log::Logger log(sink);
    int opens = 0;
    bool down = true;
    auto now = std::chrono::steady_clock::time_point{};
    StoreSource source(
        [&]() -> Result<std::unique_ptr<store::Store>> {
            ++opens;
            if (down) return std::unique_ptr<store::Store>(std::make_unique<DownStore>());
            return store::open_store("sqlite:" + dir.file("s.db"),
                                     store::StoreOptions{.read_only = true});
        },
        std::chrono::seconds(1), [&] { return now; });
    SocketmapService svc(source, "+", log);

    CHECK(svc.answer("mailbox taro@example.com").starts_with("TEMP "));
    CHECK(opens == 1);
    down = false;
    // Within the retry interval: TEMP without another open attempt.
    CHECK(svc.answer("mailbox taro@example.com").starts_with("TEMP "));
    CHECK(opens == 1);
    now += std::chrono::seconds(2);
    CHECK(svc.answer("mailbox taro@example.com") == "OK example.com/taro/Maildir/");
    CHECK(opens == 2);
    CHECK(svc.answer("domain example.com") == "OK example.com");
    CHECK(opens == 2);  // kept open while it works
    CHECK(svc.stats().temp == 2);
    bool warned = false;
    for (const auto& [level, line] : sink.snapshot())
        if (level == log::Level::Warning && line.find("TEMP") != std::string::npos) warned = true;
    CHECK(warned);
}

TEST_CASE("socketmap: a store that cannot be opened is TEMP") {
    log::MemorySink sink;
    log::Logger log(sink);
    StoreSource source(
        [] {
            return store::open_store("sqlite:/nonexistent-yubin-dir/s.db",
                                     store::StoreOptions{.read_only = true});
        },
        std::chrono::milliseconds(0));
    SocketmapService svc(source, "+", log);
    CHECK(svc.answer("domain example.com").starts_with("TEMP "));
    CHECK(svc.answer("mailbox a@example.com").starts_with("TEMP "));
}

TEST_CASE("socketmap: a store file replaced on disk is reopened") {
    TempDir dir;
    auto filled = populated(dir);
    filled.reset();
    int opens = 0;
    std::string id = "inode-1";
    auto now = std::chrono::steady_clock::time_point{};
    StoreSource source(
        [&] {
            ++opens;
            return store::open_store("sqlite:" + dir.file("s.db"),
                                     store::StoreOptions{.read_only = true});
        },
        std::chrono::seconds(1), [&] { return now; }, [&] { return id; });
    REQUIRE(source.get());
    CHECK(opens == 1);
    now += std::chrono::seconds(2);
    REQUIRE(source.get());
    CHECK(opens == 1);  // same file: kept
    id = "inode-2";
    REQUIRE(source.get());
    CHECK(opens == 1);  // checked at most once per interval
    now += std::chrono::seconds(2);
    REQUIRE(source.get());
    CHECK(opens == 2);  // replaced: reopened
    id = "inode-3";
    REQUIRE(source.get());
    CHECK(opens == 2);
    now += std::chrono::seconds(2);
    REQUIRE(source.get());
    CHECK(opens == 3);
}

TEST_CASE("socketmap: a batch answers from one snapshot taken at its first lookup") {
    TempDir dir;
    auto writer = populated(dir);
    log::MemorySink sink;
    log::Logger log(sink);
    StoreSource source(
        [&] {
            return store::open_store("sqlite:" + dir.file("s.db"),
                                     store::StoreOptions{.read_only = true});
        },
        std::chrono::milliseconds(0));
    // The same with and without the reply cache.
    std::size_t cache_size = 0;
    SUBCASE("without a reply cache") {}
    SUBCASE("with a reply cache") {
        cache_size = 100;
    }
    SocketmapService svc(source, "+", log, cache_size);

    // Committed after begin but before the first lookup: seen.
    svc.begin_batch();
    REQUIRE(writer->add_mailbox({.address = "u1@example.com"}));
    CHECK(svc.answer("mailbox u1@example.com") == "OK example.com/u1/Maildir/");
    // Committed in the middle of the batch: the batch keeps its snapshot...
    REQUIRE(writer->add_mailbox({.address = "u2@example.com"}));
    CHECK(svc.answer("mailbox u2@example.com") == "NOTFOUND ");
    svc.end_batch();
    // ...and the next lookup sees it, in a batch or not.
    CHECK(svc.answer("mailbox u2@example.com") == "OK example.com/u2/Maildir/");
    svc.begin_batch();
    CHECK(svc.answer("mailbox u2@example.com") == "OK example.com/u2/Maildir/");
    svc.end_batch();
    svc.end_batch();  // without a batch: nothing

    // The writer is not held up by a reader's batch (WAL).
    svc.begin_batch();
    CHECK(svc.answer("domain example.com") == "OK example.com");
    REQUIRE(writer->delete_mailbox("u1@example.com"));
    svc.end_batch();
    CHECK(svc.answer("mailbox u1@example.com") == "NOTFOUND ");
}

TEST_CASE("socketmap: a store outage inside a batch is TEMP and the batch ends cleanly") {
    TempDir dir;
    auto filled = populated(dir);
    filled.reset();
    log::MemorySink sink;
    log::Logger log(sink);
    bool down = false;
    StoreSource source(
        [&]() -> Result<std::unique_ptr<store::Store>> {
            if (down) return std::unique_ptr<store::Store>(std::make_unique<DownStore>());
            return store::open_store("sqlite:" + dir.file("s.db"),
                                     store::StoreOptions{.read_only = true});
        },
        std::chrono::milliseconds(0));
    SocketmapService svc(source, "+", log);
    svc.begin_batch();
    CHECK(svc.answer("domain example.com") == "OK example.com");
    svc.end_batch();
    down = true;
    source.reset();  // the next open gives the failing store
    svc.begin_batch();
    CHECK(svc.answer("domain example.com").starts_with("TEMP "));
    CHECK(source.current() == nullptr);  // dropped after the failure
    CHECK(svc.answer("domain example.com").starts_with("TEMP "));
    svc.end_batch();
    down = false;
    CHECK(svc.answer("domain example.com") == "OK example.com");
}

namespace {

// A service over FlakyStore handles on dir's store, with a reply cache.
struct CachedService {
    explicit CachedService(const TempDir& dir, std::size_t cache = 100)
        : source(
              [this, path = dir.file("s.db")]() -> Result<std::unique_ptr<store::Store>> {
                  auto s =
                      store::open_store("sqlite:" + path, store::StoreOptions{.read_only = true});
                  if (!s) return fail(s.error());
                  return std::unique_ptr<store::Store>(
                      std::make_unique<FlakyStore>(std::move(*s), down, versioned));
              },
              std::chrono::milliseconds(0)),
          svc(source, "+", log, cache) {}
    // One event-loop pass with one request.
    std::string ask(std::string_view request) {
        svc.begin_batch();
        auto r = svc.answer(request);
        svc.end_batch();
        return r;
    }
    bool down = false;
    bool versioned = true;
    log::MemorySink sink;
    log::Logger log{sink};
    StoreSource source;
    SocketmapService svc;
};

}  // namespace

TEST_CASE("socketmap cache: repeated lookups are answered without the store") {
    TempDir dir;
    auto writer = populated(dir);
    CachedService c(dir);
    FlakyStore::mailbox_reads = 0;
    CHECK(c.ask("mailbox taro@example.com") == "OK example.com/taro/Maildir/");
    const int reads = FlakyStore::mailbox_reads;
    CHECK(reads > 0);
    CHECK(c.ask("mailbox taro@example.com") == "OK example.com/taro/Maildir/");
    CHECK(FlakyStore::mailbox_reads == reads);
    CHECK(c.ask("mailbox nobody@example.com") == "NOTFOUND ");
    const int reads2 = FlakyStore::mailbox_reads;
    CHECK(c.ask("mailbox nobody@example.com") == "NOTFOUND ");  // NOTFOUND is cached too
    CHECK(FlakyStore::mailbox_reads == reads2);
    c.svc.begin_batch();
    CHECK(c.svc.answer("alias info@example.com") == "OK taro@example.com,hanako@example.com");
    CHECK(c.svc.answer("alias info@example.com") == "OK taro@example.com,hanako@example.com");
    CHECK(c.svc.answer("sender_login info@example.com") ==
          "OK Taro@example.com,hanako@example.com");
    CHECK(c.svc.answer("domain example.com") == "OK example.com");
    CHECK(c.svc.answer("domain example.com") == "OK example.com");
    CHECK(c.svc.answer("nomap x").starts_with("PERM "));
    CHECK(c.svc.answer("nomap x").starts_with("PERM "));  // not cached, answered again
    c.svc.end_batch();
    CHECK(FlakyStore::mailbox_reads > reads2);  // the alias map read mailboxes once
    CHECK(c.svc.stats().cached == 4);
    // Outside a batch (no snapshot to check the version in): the store.
    const int reads3 = FlakyStore::mailbox_reads;
    CHECK(c.svc.answer("mailbox taro@example.com") == "OK example.com/taro/Maildir/");
    CHECK(FlakyStore::mailbox_reads > reads3);
    CHECK(c.svc.stats().cached == 4);
}

TEST_CASE("socketmap cache: a commit by another connection drops it; the next request sees it") {
    TempDir dir;
    auto writer = populated(dir);
    CachedService c(dir);
    // NOTFOUND, cached, turns OK with the commit (as after yubinctl user add).
    CHECK(c.ask("mailbox new@example.com") == "NOTFOUND ");
    CHECK(c.ask("mailbox new@example.com") == "NOTFOUND ");
    CHECK(c.ask("alias new@example.com") == "OK postmaster@example.com");  // the catch-all
    CHECK(c.ask("alias new@example.com") == "OK postmaster@example.com");
    CHECK(c.ask("sender_login new@example.com") == "NOTFOUND ");
    CHECK(c.svc.stats().cached == 2);
    REQUIRE(writer->add_mailbox({.address = "new@example.com"}));
    CHECK(c.ask("mailbox new@example.com") == "OK example.com/new/Maildir/");
    CHECK(c.ask("alias new@example.com") == "NOTFOUND ");  // a mailbox now
    CHECK(c.ask("sender_login new@example.com") == "OK new@example.com");
    CHECK(c.svc.stats().cached == 2);
    CHECK(c.ask("mailbox new@example.com") == "OK example.com/new/Maildir/");
    CHECK(c.svc.stats().cached == 3);
    // OK turns NOTFOUND: a disabled domain, a deleted mailbox.
    CHECK(c.ask("domain old.example") == "OK old.example");
    CHECK(c.ask("domain old.example") == "OK old.example");
    REQUIRE(writer->update_domain({.name = "old.example", .active = false}));
    CHECK(c.ask("domain old.example") == "NOTFOUND ");
    REQUIRE(writer->delete_mailbox("new@example.com"));
    CHECK(c.ask("mailbox new@example.com") == "NOTFOUND ");
    // A change of recipient_delimiter (SIGHUP) drops it too.
    CHECK(c.ask("mailbox taro+x@example.com") == "OK example.com/taro/Maildir/");
    CHECK(c.ask("mailbox taro+x@example.com") == "OK example.com/taro/Maildir/");
    c.svc.set_recipient_delimiter("");
    CHECK(c.ask("mailbox taro+x@example.com") == "NOTFOUND ");
}

TEST_CASE("socketmap cache: TEMP is never cached; a reopened store starts afresh") {
    TempDir dir;
    auto writer = populated(dir);
    CachedService c(dir);
    CHECK(c.ask("mailbox taro@example.com") == "OK example.com/taro/Maildir/");
    c.down = true;
    c.svc.begin_batch();
    CHECK(c.svc.answer("mailbox hanako@example.com").starts_with("TEMP "));
    c.down = false;
    // Same batch, the store dropped and reopened: asked again, not from the
    // cache (neither the TEMP nor the earlier OK, from the old handle).
    const auto cached = c.svc.stats().cached;
    CHECK(c.svc.answer("mailbox hanako@example.com") == "OK example.com/hanako/Maildir/");
    CHECK(c.svc.answer("mailbox taro@example.com") == "OK example.com/taro/Maildir/");
    CHECK(c.svc.stats().cached == cached);
    c.svc.end_batch();
    c.down = true;
    CHECK(c.ask("mailbox taro@example.com").starts_with("TEMP "));
    CHECK(c.ask("mailbox taro@example.com").starts_with("TEMP "));  // asked the store again
    c.down = false;
    CHECK(c.ask("mailbox taro@example.com") == "OK example.com/taro/Maildir/");
    CHECK(c.svc.stats().cached == cached);
    CHECK(c.svc.stats().temp == 3);
}

TEST_CASE("socketmap cache: a store without a data_version is never cached") {
    TempDir dir;
    auto writer = populated(dir);
    CachedService c(dir);
    c.versioned = false;
    for (int i = 0; i < 3; ++i)
        CHECK(c.ask("mailbox taro@example.com") == "OK example.com/taro/Maildir/");
    CHECK(c.svc.stats().cached == 0);
    CachedService off(dir, 0);  // authd_socketmap_cache_size = 0
    for (int i = 0; i < 3; ++i) CHECK(off.ask("domain example.com") == "OK example.com");
    CHECK(off.svc.stats().cached == 0);
}
