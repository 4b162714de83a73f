#include <doctest/doctest.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/store/sqlite_store.hpp"
#include "core/store/store.hpp"
#include "core/util/fd.hpp"
#include "store_conformance.hpp"

using namespace yubin;
using namespace yubin::store;
using namespace yubin::store::testing;

namespace {

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/yubin-store-XXXXXX";
        const char* p = ::mkdtemp(tmpl);
        REQUIRE(p != nullptr);
        path_ = p;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const char* name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

Result<std::unique_ptr<Store>> open_at(const std::string& file, StoreOptions o = {}) {
    return open_store("sqlite:" + file, o);
}

std::unique_ptr<Store> must_open(const std::string& file, StoreOptions o = {}) {
    auto s = open_at(file, o);
    REQUIRE_MESSAGE(s.has_value(), outcome(s));
    return std::move(*s);
}

// Runs a raw statement to set up states the Store API cannot produce.
void raw_exec(const std::string& file, const char* sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    REQUIRE_MESSAGE(rc == SQLITE_OK, msg);
}

void write_file(const std::string& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
}

// Waits for a child and returns its exit status, or -1 if it did not exit.
int wait_child(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

struct SqliteFixture {
    TempDir dir;
    std::unique_ptr<Store> s = must_open(dir.file("store.db"));
    Store& store() { return *s; }
};
TYPE_TO_STRING(SqliteFixture);
YUBIN_STORE_CONFORMANCE(SqliteFixture);

TEST_CASE("store: open_store rejects bad specs with Config") {
    TempDir dir;
    struct Case { std::string spec; };
    const Case cases[] = {
        {""}, {"sqlite:"}, {"sqlite:relative.db"}, {"mysql://localhost/yubin"},
        {"SQLITE:/tmp/x.db"}, {"sqlite:" + dir.path() + "/"},
        {"sqlite:" + dir.path() + "/missing-dir/store.db"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.spec);
        auto s = open_store(c.spec, {});
        CHECK(kind(s) == "configuration error");
    }
    auto s = open_store("sqlite:" + dir.path() + "/missing-dir/store.db", {});
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().what.find("does not exist") != std::string::npos);
}

TEST_CASE("store: sqlite creates the file with mode 0640 whatever the umask") {
    for (mode_t mask : {mode_t{0}, mode_t{077}, mode_t{022}}) {
        CAPTURE(mask);
        TempDir dir;
        mode_t old = ::umask(mask);
        auto s = open_at(dir.file("new.db"));
        ::umask(old);
        REQUIRE_MESSAGE(s.has_value(), outcome(s));
        struct stat st {};
        REQUIRE(::stat(dir.file("new.db").c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0640);
    }
}

TEST_CASE("store: sqlite data persists and a read-only store can read but not write") {
    TempDir dir;
    const std::string file = dir.file("store.db");
    {
        auto rw = must_open(file);
        add_domains(*rw, {"example.com"});
        add_mailboxes(*rw, {"Taro@example.com"});
    }
    auto ro = must_open(file, StoreOptions{.read_only = true});
    auto m = ro->get_mailbox("taro@example.com");
    REQUIRE_MESSAGE(m.has_value(), outcome(m));
    CHECK(m->address == "Taro@example.com");
    auto w = ro->add_domain(Domain{.name = "example.org"});
    CHECK(kind(w) == "permanent failure");
    CHECK(kind(ro->delete_mailbox("taro@example.com")) == "permanent failure");
    // A read-only transaction is a consistent snapshot, not an error.
    CHECK(outcome(ro->transaction([](Store& t) -> Status {
              auto d = t.get_domain("example.com");
              if (!d) return fail(d.error());
              return {};
          })) == "ok");
    CHECK(outcome(ro->get_mailbox("taro@example.com")) == "ok");
}

TEST_CASE("store: sqlite data_version changes when another connection commits") {
    TempDir dir;
    const std::string file = dir.file("store.db");
    auto rw = must_open(file);
    add_domains(*rw, {"example.com"});
    auto ro = must_open(file, StoreOptions{.read_only = true});
    auto v1 = ro->data_version();
    REQUIRE(v1.has_value());
    CHECK(ro->data_version() == v1);  // nothing changed
    REQUIRE(ro->begin_read());
    CHECK(ro->data_version() == v1);
    ro->end_read();
    add_mailboxes(*rw, {"taro@example.com"});
    auto v2 = ro->data_version();
    REQUIRE(v2.has_value());
    CHECK(v2 != v1);
    // Inside a read batch: the batch's snapshot, taken by the first read.
    REQUIRE(ro->begin_read());
    CHECK(ro->data_version() == v2);
    add_mailboxes(*rw, {"hanako@example.com"});
    CHECK(ro->data_version() == v2);
    CHECK(kind(ro->get_mailbox("hanako@example.com")) == "not found");
    ro->end_read();
    CHECK(ro->data_version() != v2);
    CHECK(outcome(ro->get_mailbox("hanako@example.com")) == "ok");
}

TEST_CASE("store: sqlite outages are Temp, never NotFound") {
    TempDir dir;
    struct Case { const char* name; std::string path; bool read_only; };
    ::mkdir(dir.file("a-directory.db").c_str(), 0755);
    write_file(dir.file("garbage.db"), std::string(4096, 'x'));
    write_file(dir.file("short-garbage.db"), "not a database");
    const Case cases[] = {
        {"missing file, read-only", dir.file("missing.db"), true},
        {"path is a directory, read-only", dir.file("a-directory.db"), true},
        {"path is a directory, read-write", dir.file("a-directory.db"), false},
        {"not a database, read-only", dir.file("garbage.db"), true},
        {"not a database, read-write", dir.file("garbage.db"), false},
        {"short garbage, read-only", dir.file("short-garbage.db"), true},
        {"short garbage, read-write", dir.file("short-garbage.db"), false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        auto s = open_at(c.path, StoreOptions{.read_only = c.read_only});
        CHECK(kind(s) == "temporary failure");
    }
    // The missing file was not created by the read-only attempt.
    CHECK_FALSE(std::filesystem::exists(dir.file("missing.db")));
}

TEST_CASE("store: sqlite file unreadable for the process is Temp") {
    TempDir dir;
    const std::string file = dir.file("store.db");
    {
        auto rw = must_open(file);
        add_domains(*rw, {"example.com"});
    }
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    REQUIRE(::chmod(file.c_str(), 0) == 0);
    for (const auto& f : {file + "-wal", file + "-shm"}) (void)::chmod(f.c_str(), 0);
    // Root reads through mode 000, so the check runs as nobody in a child.
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::geteuid() == 0 && (::setresgid(65534, 65534, 65534) != 0 ||
                                 ::setresuid(65534, 65534, 65534) != 0))
            ::_exit(10);
        if (::access(file.c_str(), R_OK) == 0) ::_exit(11);  // the premise of the test
        int code = 0;
        for (bool ro : {true, false}) {
            auto s = open_store("sqlite:" + file, StoreOptions{.read_only = ro});
            if (s) code |= 1;
            else if (s.error().kind != ErrorKind::Temp) code |= 2;
        }
        ::_exit(code);
    }
    int code = wait_child(pid);
    CAPTURE(code);  // 1: opened, 2: a kind other than Temp, 10/11: setup failed
    CHECK(code == 0);
}

TEST_CASE("store: sqlite schema version is checked") {
    TempDir dir;
    const std::string file = dir.file("store.db");

    SUBCASE("an empty file is no schema: read-only refuses (Temp), read-write creates it") {
        write_file(file, "");
        auto ro = open_at(file, StoreOptions{.read_only = true});
        CHECK(kind(ro) == "temporary failure");
        if (!ro) CHECK(ro.error().what.find("schema version 0") != std::string::npos);
        CHECK(outcome(open_at(file)) == "ok");
        CHECK(outcome(open_at(file, StoreOptions{.read_only = true})) == "ok");
    }
    SUBCASE("a newer schema is a Config error for both modes") {
        (void)must_open(file);
        raw_exec(file.c_str(), "PRAGMA user_version = 99");
        for (bool ro : {true, false}) {
            CAPTURE(ro);
            auto s = open_at(file, StoreOptions{.read_only = ro});
            CHECK(kind(s) == "configuration error");
            if (!s) CHECK(s.error().what.find("newer") != std::string::npos);
        }
    }
    SUBCASE("WAL mode, foreign keys and the version are set") {
        (void)must_open(file);
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "wal");
        sqlite3_finalize(st);
        REQUIRE(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        CHECK(sqlite3_column_int(st, 0) == SqliteStore::kSchemaVersion);
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
}

TEST_CASE("store: sqlite two processes writing at once both succeed") {
    TempDir dir;
    const std::string file = dir.file("store.db");
    {
        auto s = must_open(file);
        add_domains(*s, {"example.com"});
    }
    // The children start together when the parent closes the pipe.
    int gate[2];
    REQUIRE(::pipe(gate) == 0);
    pid_t pids[2];
    for (int i = 0; i < 2; ++i) {
        pids[i] = ::fork();
        REQUIRE(pids[i] >= 0);
        if (pids[i] == 0) {
            ::close(gate[1]);
            char c;
            (void)::read(gate[0], &c, 1);
            auto s = open_store("sqlite:" + file, {});
            if (!s) ::_exit(2);
            for (int n = 0; n < 200; ++n) {
                std::string a = "c" + std::to_string(i) + "-" + std::to_string(n) + "@example.com";
                auto r = (*s)->add_mailbox(Mailbox{.address = a});
                if (!r) {
                    std::fprintf(stderr, "child %d: %s\n", i, r.error().what.c_str());
                    ::_exit(3);
                }
                if (n % 10 == 0 &&
                    !(*s)->add_alias(Alias{"l" + std::to_string(i) + "-" + std::to_string(n) +
                                               "@example.com",
                                           a}))
                    ::_exit(4);
            }
            s->reset();  // close cleanly; _exit skips destructors
            ::_exit(0);
        }
    }
    ::close(gate[0]);
    ::close(gate[1]);
    CHECK(wait_child(pids[0]) == 0);
    CHECK(wait_child(pids[1]) == 0);

    auto s = must_open(file);
    auto all = s->list_mailboxes("example.com");
    REQUIRE(all.has_value());
    CHECK(all->size() == 400);
    auto aliases = s->list_aliases("");
    REQUIRE(aliases.has_value());
    CHECK(aliases->size() == 40);
    auto* sql = dynamic_cast<SqliteStore*>(s.get());
    REQUIRE(sql != nullptr);
    CHECK(outcome(sql->check_integrity()) == "ok");
}

TEST_CASE("store: sqlite writer blocked by a long transaction gets Temp after busy_timeout") {
    TempDir dir;
    const std::string file = dir.file("store.db");
    {
        auto s = must_open(file);
        add_domains(*s, {"example.com"});
    }
    int locked[2], release[2];
    REQUIRE(::pipe(locked) == 0);
    REQUIRE(::pipe(release) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(locked[0]);
        ::close(release[1]);
        auto s = open_store("sqlite:" + file, {});
        if (!s) ::_exit(2);
        auto r = (*s)->transaction([&](Store& t) -> Status {
            if (auto st = t.add_domain(Domain{.name = "holder.example"}); !st) return st;
            (void)::write(locked[1], "x", 1);
            char c;
            (void)::read(release[0], &c, 1);  // hold the write lock until told
            return {};
        });
        s->reset();
        ::_exit(r ? 0 : 3);
    }
    ::close(locked[1]);
    ::close(release[0]);
    UniqueFd release_w(release[1]);
    char c;
    REQUIRE(::read(locked[0], &c, 1) == 1);
    ::close(locked[0]);

    auto s = open_at(file, StoreOptions{.busy_timeout = std::chrono::milliseconds(200)});
    REQUIRE_MESSAGE(s.has_value(), outcome(s));  // opening needs no write lock
    // Readers are not blocked by the writer (WAL) and see the last commit.
    CHECK(outcome((*s)->get_domain("example.com")) == "ok");
    CHECK(kind((*s)->get_domain("holder.example")) == "not found");

    auto t0 = std::chrono::steady_clock::now();
    auto w = (*s)->add_domain(Domain{.name = "waiter.example"});
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    CHECK(kind(w) == "temporary failure");
    if (!w) CHECK(w.error().what.find("database is locked") != std::string::npos);
    CAPTURE(waited.count());
    CHECK(waited.count() >= 150);
    CHECK(waited.count() < 3000);

    release_w.reset();  // EOF lets the holder commit
    CHECK(wait_child(pid) == 0);

    CHECK(outcome((*s)->get_domain("holder.example")) == "ok");
    CHECK(kind((*s)->get_domain("waiter.example")) == "not found");
    CHECK(outcome((*s)->add_domain(Domain{.name = "waiter.example"})) == "ok");
    auto* sql = dynamic_cast<SqliteStore*>(s->get());
    REQUIRE(sql != nullptr);
    CHECK(outcome(sql->check_integrity()) == "ok");
}

// A database as yubin's schema version 1 left it (the SQL of migration 1,
// frozen here so that a later edit of the store cannot change what "old"
// means), with rows in it.
TEST_CASE("store: sqlite version 1 database upgrades in place, rows kept") {
    TempDir dir;
    const std::string file = dir.file("store.db");
    raw_exec(file, R"sql(
CREATE TABLE domains (
    name             TEXT    NOT NULL COLLATE NOCASE PRIMARY KEY,
    active           INTEGER NOT NULL DEFAULT 1,
    max_message_size INTEGER NOT NULL DEFAULT 0,
    quota_bytes      INTEGER NOT NULL DEFAULT 0,
    created          TEXT    NOT NULL
);
CREATE TABLE mailboxes (
    address          TEXT    NOT NULL COLLATE NOCASE PRIMARY KEY,
    local_part       TEXT    NOT NULL,
    domain           TEXT    NOT NULL COLLATE NOCASE REFERENCES domains(name),
    password         TEXT    NOT NULL DEFAULT '',
    active           INTEGER NOT NULL DEFAULT 1,
    max_message_size INTEGER NOT NULL DEFAULT 0,
    quota_bytes      INTEGER NOT NULL DEFAULT 0,
    quota_messages   INTEGER NOT NULL DEFAULT 0,
    maildir          TEXT    NOT NULL,
    created          TEXT    NOT NULL,
    updated          TEXT    NOT NULL
);
CREATE INDEX mailboxes_domain ON mailboxes(domain);
CREATE TABLE aliases (
    source  TEXT    NOT NULL COLLATE NOCASE,
    target  TEXT    NOT NULL COLLATE NOCASE,
    domain  TEXT    NOT NULL COLLATE NOCASE REFERENCES domains(name),
    active  INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (source, target)
);
CREATE INDEX aliases_domain ON aliases(domain);
INSERT INTO domains VALUES ('example.com', 1, 1000, 2000, '2026-01-02T03:04:05Z');
INSERT INTO mailboxes VALUES ('Taro@example.com', 'Taro', 'example.com', '{PLAIN}x', 0, 10,
    20, 30, 'example.com/taro/Maildir/', '2026-01-02T03:04:05Z', '2026-01-03T03:04:05Z');
INSERT INTO aliases VALUES ('info@example.com', 'Taro@example.com', 'example.com', 1);
PRAGMA user_version = 1;
)sql");

    // Daemons open read-only and cannot upgrade: a temporary failure that
    // says what to do, and the file is left as it was.
    auto ro = open_at(file, StoreOptions{.read_only = true});
    CHECK(kind(ro) == "temporary failure");
    if (!ro) CHECK(ro.error().what.find("schema version 1, need 2") != std::string::npos);

    auto s = must_open(file);  // read-write (yubinctl): upgrades
    auto d = s->get_domain("example.com");
    REQUIRE_MESSAGE(d.has_value(), outcome(d));
    CHECK(d->max_message_size == 1000);
    CHECK(d->quota_bytes == 2000);
    CHECK(d->created == "2026-01-02T03:04:05Z");
    CHECK(d->rate_limit == "");
    CHECK(d->recipient_limit == 0);
    CHECK(d->spam_filter == SpamFilter::Inherit);
    auto m = s->get_mailbox("taro@example.com");
    REQUIRE_MESSAGE(m.has_value(), outcome(m));
    CHECK(m->address == "Taro@example.com");
    CHECK(m->password == "{PLAIN}x");
    CHECK_FALSE(m->active);
    CHECK(m->quota_messages == 30);
    CHECK(m->updated == "2026-01-03T03:04:05Z");
    CHECK(m->rate_limit == "");
    CHECK(m->recipient_limit == 0);
    CHECK(m->spam_filter == SpamFilter::Inherit);
    CHECK(join(*s->alias_targets("info@example.com")) == "Taro@example.com");

    // The new fields work on the upgraded file, and daemons can open it now.
    m->spam_filter = SpamFilter::Off;
    m->rate_limit = "messages:5/1h";
    CHECK(outcome(s->update_mailbox(*m)) == "ok");
    s.reset();
    auto ro2 = must_open(file, StoreOptions{.read_only = true});
    CHECK(ro2->get_mailbox("taro@example.com")->spam_filter == SpamFilter::Off);
    CHECK(ro2->get_mailbox("taro@example.com")->rate_limit == "messages:5/1h");

    // The column's CHECK keeps out what the store would never write.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "UPDATE domains SET spam_filter = 'maybe'", nullptr, nullptr,
                       nullptr) == SQLITE_CONSTRAINT);
    sqlite3_close(db);
}
