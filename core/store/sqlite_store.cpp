#include "core/store/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/store/address.hpp"
#include "core/store/validate.hpp"
#include "core/util/fd.hpp"
#include "core/util/limits.hpp"
#include "core/util/strings.hpp"

namespace yubin::store {
namespace {

// Migration N (1-based) takes the schema from version N-1 to N. Append only:
// a released migration is never edited, since databases in the field already
// ran it.
//
// Keys are COLLATE NOCASE (ASCII folding, as Postfix tables and Dovecot %Lu)
// while the stored text keeps the case it was created with. Foreign keys are
// a backstop: the store checks and reports missing domains itself.
constexpr const char* kMigrations[] = {
    R"sql(
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
)sql",
    // 2: policy overrides (yubin-policyd) and the filter opt-out (yubin-milter).
    R"sql(
ALTER TABLE domains ADD COLUMN rate_limit TEXT NOT NULL DEFAULT '';
ALTER TABLE domains ADD COLUMN recipient_limit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE domains ADD COLUMN spam_filter TEXT NOT NULL DEFAULT 'inherit'
    CHECK (spam_filter IN ('inherit', 'on', 'off'));
ALTER TABLE mailboxes ADD COLUMN rate_limit TEXT NOT NULL DEFAULT '';
ALTER TABLE mailboxes ADD COLUMN recipient_limit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN spam_filter TEXT NOT NULL DEFAULT 'inherit'
    CHECK (spam_filter IN ('inherit', 'on', 'off'));
)sql",
};
static_assert(std::size(kMigrations) == SqliteStore::kSchemaVersion);

// What callers do with a failure depends only on its kind, so this table is
// the important part: anything that may pass (lock, I/O, full disk, a file
// that cannot be opened or read right now) is Temp; never NotFound.
ErrorKind kind_of(int rc) {
    switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_IOERR:
        case SQLITE_FULL:
        case SQLITE_CANTOPEN:
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
        case SQLITE_PROTOCOL:
        case SQLITE_NOMEM:
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_NOLFS:
        case SQLITE_AUTH:
            return ErrorKind::Temp;
        case SQLITE_CONSTRAINT:
            return ErrorKind::Perm;
        default:
            return ErrorKind::Internal;
    }
}

std::string now_iso8601() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf, n);
}

Error not_found(std::string what) { return Error{ErrorKind::NotFound, std::move(what)}; }
Error perm(std::string what) { return Error{ErrorKind::Perm, std::move(what)}; }

}  // namespace

// A cached statement borrowed for one use: bindings in order, reset on scope
// exit so the statement releases its read snapshot promptly.
class SqliteStore::Query {
public:
    explicit Query(sqlite3_stmt* s) : s_(s) {}
    Query(Query&& o) noexcept : s_(std::exchange(o.s_, nullptr)), next_(o.next_), rc_(o.rc_) {}
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;
    Query& operator=(Query&&) = delete;
    ~Query() {
        if (s_) {
            sqlite3_reset(s_);
            sqlite3_clear_bindings(s_);
        }
    }
    Query& bind(std::string_view v) {
        // A null data pointer would bind SQL NULL, not the empty string.
        int rc = sqlite3_bind_text(s_, ++next_, v.data() ? v.data() : "",
                                   static_cast<int>(v.size()), SQLITE_TRANSIENT);
        if (rc != SQLITE_OK && rc_ == SQLITE_OK) rc_ = rc;
        return *this;
    }
    Query& bind(std::int64_t v) {
        int rc = sqlite3_bind_int64(s_, ++next_, v);
        if (rc != SQLITE_OK && rc_ == SQLITE_OK) rc_ = rc;
        return *this;
    }
    Query& bind(bool v) { return bind(static_cast<std::int64_t>(v ? 1 : 0)); }
    // SQLITE_ROW, SQLITE_DONE or an error code.
    int step() { return rc_ != SQLITE_OK ? rc_ : sqlite3_step(s_); }
    std::string text(int col) const {
        const auto* p = sqlite3_column_text(s_, col);
        int n = sqlite3_column_bytes(s_, col);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
                 : std::string();
    }
    std::int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }

private:
    sqlite3_stmt* s_;
    int next_ = 0;
    int rc_ = SQLITE_OK;
};

namespace {

template <class Q>
Domain read_domain(const Q& q) {
    Domain d;
    d.name = q.text(0);
    d.active = q.int64(1) != 0;
    d.max_message_size = q.int64(2);
    d.quota_bytes = q.int64(3);
    d.created = q.text(4);
    d.rate_limit = q.text(5);
    d.recipient_limit = q.int64(6);
    d.spam_filter = parse_spam_filter(q.text(7)).value_or(SpamFilter::Inherit);
    return d;
}

template <class Q>
Mailbox read_mailbox(const Q& q) {
    Mailbox m;
    m.address = q.text(0);
    m.local_part = q.text(1);
    m.domain = q.text(2);
    m.password = q.text(3);
    m.active = q.int64(4) != 0;
    m.max_message_size = q.int64(5);
    m.quota_bytes = q.int64(6);
    m.quota_messages = q.int64(7);
    m.maildir = q.text(8);
    m.created = q.text(9);
    m.updated = q.text(10);
    m.rate_limit = q.text(11);
    m.recipient_limit = q.int64(12);
    m.spam_filter = parse_spam_filter(q.text(13)).value_or(SpamFilter::Inherit);
    return m;
}

#define YUBIN_MAILBOX_COLS                                                                \
    "address, local_part, domain, password, active, max_message_size, quota_bytes, " \
    "quota_messages, maildir, created, updated, rate_limit, recipient_limit, spam_filter"
#define YUBIN_DOMAIN_COLS                                                           \
    "name, active, max_message_size, quota_bytes, created, rate_limit, recipient_limit, " \
    "spam_filter"

}  // namespace

void SqliteStore::DbCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void SqliteStore::StmtFinalizer::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }

SqliteStore::SqliteStore(sqlite3* db, std::string path, StoreOptions options)
    : db_(db), path_(std::move(path)), options_(std::move(options)) {}

SqliteStore::~SqliteStore() {
    cache_.clear();  // statements before the connection
}

Error SqliteStore::db_error(int rc, std::string_view what) const {
    return Error{kind_of(rc), "sqlite " + path_ + ": " + std::string(what) + ": " +
                                  sqlite3_errmsg(db_.get())};
}

auto SqliteStore::prepare(std::string_view sql) -> Result<Query> {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        sqlite3_stmt* s = nullptr;
        int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &s, nullptr);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(s);
            return fail(db_error(rc, "prepare"));
        }
        it = cache_.emplace(sql, std::unique_ptr<sqlite3_stmt, StmtFinalizer>(s)).first;
    }
    return Query(it->second.get());
}

// Only for fixed SQL (transaction control, pragmas, migrations): data is
// always bound through prepare().
Status SqliteStore::exec(const std::string& sql) {
    int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return fail(db_error(rc, sql.substr(0, sql.find('\n'))));
    return {};
}

Result<int> SqliteStore::user_version() {
    auto q = prepare("PRAGMA user_version");
    if (!q) return fail(q.error());
    int rc = q->step();
    if (rc != SQLITE_ROW) return fail(db_error(rc, "read schema version"));
    return static_cast<int>(q->int64(0));
}

Status SqliteStore::migrate() {
    auto v = user_version();
    if (!v) return fail(v.error());
    if (*v > kSchemaVersion)
        return fail(ErrorKind::Config,
                    "sqlite " + path_ + ": schema version " + std::to_string(*v) +
                        " is newer than this yubin supports (" + std::to_string(kSchemaVersion) +
                        ")");
    if (options_.read_only) {
        if (*v < kSchemaVersion)
            return fail(ErrorKind::Temp,
                        "sqlite " + path_ + ": schema version " + std::to_string(*v) +
                            ", need " + std::to_string(kSchemaVersion) +
                            "; open it read-write once (yubinctl) to create or upgrade it");
        return {};
    }
    if (*v == kSchemaVersion) return {};  // the common case takes no write lock
    return in_transaction([&]() -> Status {
        // Re-read under the write lock: another process may have migrated.
        auto now = user_version();
        if (!now) return fail(now.error());
        for (int i = *now; i < kSchemaVersion; ++i)
            if (auto st = exec(kMigrations[i]); !st) return st;
        return exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    }, true);
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       const StoreOptions& options) {
    if (path.empty() || path.front() != '/')
        return fail(ErrorKind::Config, "sqlite path \"" + sanitize_for_log(path) +
                                           "\" must be absolute");
    if (path.find('\0') != std::string::npos)
        return fail(ErrorKind::Config, "sqlite path contains a NUL byte");
    if (path.back() == '/')
        return fail(ErrorKind::Config, "sqlite path " + path + " names a directory");

    if (!options.read_only) {
        std::string dir = path.substr(0, path.rfind('/'));
        if (dir.empty()) dir = "/";
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            return fail(ErrorKind::Config,
                        "sqlite " + path + ": directory " + dir + " does not exist");
        // Create the file ourselves so its mode is 0640 whatever the umask;
        // SQLite gives its -wal and -shm files the same mode.
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                           0640));
        if (fd) {
            if (::fchmod(fd.get(), 0640) != 0)
                return fail(ErrorKind::Temp,
                            "sqlite " + path + ": fchmod: " + std::strerror(errno));
        } else if (errno != EEXIST) {
            return fail(ErrorKind::Temp, "sqlite " + path + ": create: " + std::strerror(errno));
        }
    }

    int flags = (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    std::unique_ptr<SqliteStore> store(new SqliteStore(raw, path, options));
    if (rc != SQLITE_OK) {
        if (!raw) return fail(ErrorKind::Temp, "sqlite " + path + ": out of memory");
        return fail(store->db_error(rc, "open"));
    }
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, static_cast<int>(options.busy_timeout.count()));
    if (auto st = store->exec("PRAGMA foreign_keys = ON"); !st) return fail(st.error());

    if (!options.read_only) {
        auto q = store->prepare("PRAGMA journal_mode = WAL");
        if (!q) return fail(q.error());
        rc = q->step();
        if (rc != SQLITE_ROW) return fail(store->db_error(rc, "set WAL mode"));
        if (!iequals(q->text(0), "wal"))
            return fail(ErrorKind::Temp, "sqlite " + path + ": cannot switch to WAL mode (got " +
                                             q->text(0) + ")");
        // Keep -wal and -shm when the last writer closes, so read-only
        // daemons never need to create them (they may lack write access to
        // the directory).
        int persist = 1;
        sqlite3_file_control(raw, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    }
    if (auto st = store->migrate(); !st) return fail(st.error());
    return store;
}

Status SqliteStore::in_transaction(const std::function<Status()>& body, bool for_write) {
    const bool outer = depth_ == 0;
    const std::string savepoint = "yubin_" + std::to_string(depth_);
    // Writers take the write lock up front so they wait (busy_timeout) at
    // BEGIN rather than fail half-way; readers, and every read-only
    // connection, only need one consistent snapshot.
    const char* begin = for_write && !options_.read_only ? "BEGIN IMMEDIATE" : "BEGIN";
    if (auto st = exec(outer ? std::string(begin) : "SAVEPOINT " + savepoint); !st) return st;
    ++depth_;
    bool committed = false;
    ScopeExit undo([&] {
        --depth_;
        if (committed) return;
        // Errors here are ignored: SQLite may already have rolled back (a
        // failed COMMIT), and the body's error is the one to report.
        if (outer)
            (void)exec("ROLLBACK");
        else
            (void)exec("ROLLBACK TO " + savepoint + "; RELEASE " + savepoint);
    });
    if (auto st = body(); !st) return st;
    if (auto st = exec(outer ? std::string("COMMIT") : "RELEASE " + savepoint); !st) return st;
    committed = true;
    return {};
}

Status SqliteStore::write(const std::function<Status()>& body) {
    if (options_.read_only) return fail(perm("sqlite " + path_ + ": store is open read-only"));
    return in_transaction(body, true);
}

Status SqliteStore::transaction(const std::function<Status(Store&)>& body) {
    return in_transaction([&] { return body(*this); }, true);
}

// Prepared BEGIN and COMMIT: sqlite3_exec would compile them again each batch.
Status SqliteStore::begin_read() {
    if (depth_ != 0) return {};  // already inside a transaction: its snapshot serves
    auto q = prepare("BEGIN");
    if (!q) return fail(q.error());
    if (int rc = q->step(); rc != SQLITE_DONE) return fail(db_error(rc, "begin read"));
    depth_ = 1;
    read_batch_ = true;
    return {};
}

void SqliteStore::end_read() {
    if (!read_batch_) return;
    read_batch_ = false;
    depth_ = 0;
    // A failed read may have rolled the transaction back already.
    if (sqlite3_get_autocommit(db_.get()) != 0) return;
    if (auto q = prepare("COMMIT"); q && q->step() == SQLITE_DONE) return;
    (void)exec("ROLLBACK");
}

std::optional<std::uint64_t> SqliteStore::data_version() {
    auto q = prepare("PRAGMA data_version");
    if (!q || q->step() != SQLITE_ROW) return std::nullopt;
    return static_cast<std::uint64_t>(q->int64(0));
}

Result<bool> SqliteStore::domain_exists(std::string_view name) {
    auto n = count("SELECT count(*) FROM domains WHERE name = ?", name);
    if (!n) return fail(n.error());
    return *n > 0;
}

Result<std::int64_t> SqliteStore::count(std::string_view sql, std::string_view key) {
    auto q = prepare(sql);
    if (!q) return fail(q.error());
    q->bind(key);
    int rc = q->step();
    if (rc != SQLITE_ROW) return fail(db_error(rc, "count"));
    return q->int64(0);
}

// ---- domains ----

Status SqliteStore::add_domain(const Domain& in) {
    auto name = parse_domain(in.name);
    if (!name) return fail(name.error());
    if (auto st = validate::domain_fields(in); !st) return st;
    return write([&]() -> Status {
        auto exists = domain_exists(*name);
        if (!exists) return fail(exists.error());
        if (*exists) return fail(perm("domain " + *name + " already exists"));
        auto q = prepare("INSERT INTO domains (" YUBIN_DOMAIN_COLS
                         ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        if (!q) return fail(q.error());
        q->bind(*name).bind(in.active).bind(in.max_message_size).bind(in.quota_bytes).bind(
            now_iso8601());
        q->bind(in.rate_limit).bind(in.recipient_limit).bind(to_string(in.spam_filter));
        if (int rc = q->step(); rc != SQLITE_DONE) return fail(db_error(rc, "add domain"));
        return {};
    });
}

Status SqliteStore::update_domain(const Domain& in) {
    auto name = parse_domain(in.name);
    if (!name) return fail(not_found("unknown domain " + sanitize_for_log(in.name)));
    if (auto st = validate::domain_fields(in); !st) return st;
    return write([&]() -> Status {
        auto q = prepare(
            "UPDATE domains SET active = ?, max_message_size = ?, quota_bytes = ?, "
            "rate_limit = ?, recipient_limit = ?, spam_filter = ? WHERE name = ?");
        if (!q) return fail(q.error());
        q->bind(in.active).bind(in.max_message_size).bind(in.quota_bytes);
        q->bind(in.rate_limit).bind(in.recipient_limit).bind(to_string(in.spam_filter));
        q->bind(*name);
        if (int rc = q->step(); rc != SQLITE_DONE) return fail(db_error(rc, "update domain"));
        if (sqlite3_changes(db_.get()) == 0) return fail(not_found("unknown domain " + *name));
        return {};
    });
}

Status SqliteStore::delete_domain(std::string_view raw, bool cascade) {
    auto name = parse_domain(raw);
    if (!name) return fail(not_found("unknown domain " + sanitize_for_log(raw)));
    return write([&]() -> Status {
        auto exists = domain_exists(*name);
        if (!exists) return fail(exists.error());
        if (!*exists) return fail(not_found("unknown domain " + *name));
        auto mailboxes = count("SELECT count(*) FROM mailboxes WHERE domain = ?", *name);
        if (!mailboxes) return fail(mailboxes.error());
        auto aliases = count("SELECT count(*) FROM aliases WHERE domain = ?", *name);
        if (!aliases) return fail(aliases.error());
        if (!cascade && (*mailboxes > 0 || *aliases > 0))
            return fail(perm("domain " + *name + " still has " + std::to_string(*mailboxes) +
                             " mailbox(es) and " + std::to_string(*aliases) + " alias(es)"));
        for (std::string_view sql : {"DELETE FROM aliases WHERE domain = ?",
                                     "DELETE FROM mailboxes WHERE domain = ?",
                                     "DELETE FROM domains WHERE name = ?"}) {
            auto q = prepare(sql);
            if (!q) return fail(q.error());
            q->bind(*name);
            if (int rc = q->step(); rc != SQLITE_DONE) return fail(db_error(rc, "delete domain"));
        }
        return {};
    });
}

Result<Domain> SqliteStore::get_domain(std::string_view raw) {
    auto name = parse_domain(raw);
    if (!name) return fail(not_found("unknown domain " + sanitize_for_log(raw)));
    auto q = prepare("SELECT " YUBIN_DOMAIN_COLS " FROM domains WHERE name = ?");
    if (!q) return fail(q.error());
    q->bind(*name);
    int rc = q->step();
    if (rc == SQLITE_DONE) return fail(not_found("unknown domain " + *name));
    if (rc != SQLITE_ROW) return fail(db_error(rc, "get domain"));
    return read_domain(*q);
}

Result<std::vector<Domain>> SqliteStore::list_domains() {
    auto q = prepare("SELECT " YUBIN_DOMAIN_COLS " FROM domains ORDER BY name");
    if (!q) return fail(q.error());
    std::vector<Domain> out;
    int rc;
    while ((rc = q->step()) == SQLITE_ROW) out.push_back(read_domain(*q));
    if (rc != SQLITE_DONE) return fail(db_error(rc, "list domains"));
    return out;
}

// ---- mailboxes ----

Status SqliteStore::add_mailbox(const Mailbox& in) {
    auto row = validate::mailbox(in, validate::MailboxWrite::Add);
    if (!row) return fail(row.error());
    const auto& [addr, address, domain, maildir] = *row;
    return write([&]() -> Status {
        auto exists = domain_exists(domain);
        if (!exists) return fail(exists.error());
        if (!*exists) return fail(not_found("unknown domain " + domain));
        auto n = count("SELECT count(*) FROM mailboxes WHERE address = ?", address);
        if (!n) return fail(n.error());
        if (*n > 0) return fail(perm("mailbox " + address + " already exists"));
        auto q = prepare("INSERT INTO mailboxes (" YUBIN_MAILBOX_COLS
                         ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (!q) return fail(q.error());
        const std::string now = now_iso8601();
        q->bind(address).bind(addr.local).bind(domain).bind(in.password).bind(in.active);
        q->bind(in.max_message_size).bind(in.quota_bytes).bind(in.quota_messages).bind(maildir);
        q->bind(now).bind(now);
        q->bind(in.rate_limit).bind(in.recipient_limit).bind(to_string(in.spam_filter));
        if (int rc = q->step(); rc != SQLITE_DONE) return fail(db_error(rc, "add mailbox"));
        return {};
    });
}

Status SqliteStore::update_mailbox(const Mailbox& in) {
    auto row = validate::mailbox(in, validate::MailboxWrite::Update);
    if (!row) return fail(row.error());
    const auto& [addr, address, domain, maildir] = *row;
    return write([&]() -> Status {
        auto q = prepare(
            "UPDATE mailboxes SET password = ?, active = ?, max_message_size = ?, "
            "quota_bytes = ?, quota_messages = ?, maildir = ?, rate_limit = ?, "
            "recipient_limit = ?, spam_filter = ?, updated = ? WHERE address = ?");
        if (!q) return fail(q.error());
        q->bind(in.password).bind(in.active).bind(in.max_message_size).bind(in.quota_bytes);
        q->bind(in.quota_messages).bind(maildir);
        q->bind(in.rate_limit).bind(in.recipient_limit).bind(to_string(in.spam_filter));
        q->bind(now_iso8601()).bind(address);
        if (int rc = q->step(); rc != SQLITE_DONE) return fail(db_error(rc, "update mailbox"));
        if (sqlite3_changes(db_.get()) == 0) return fail(not_found("no mailbox " + address));
        return {};
    });
}

Status SqliteStore::set_password(std::string_view raw, std::string_view hash) {
    auto addr = parse_address(raw);
    if (!addr) return fail(not_found("no mailbox " + sanitize_for_log(raw)));
    if (auto st = validate::password(hash); !st) return st;
    const std::string address = validate::canonical(*addr);
    return write([&]() -> Status {
        auto q = prepare("UPDATE mailboxes SET password = ?, updated = ? WHERE address = ?");
        if (!q) return fail(q.error());
        q->bind(hash).bind(now_iso8601()).bind(address);
        if (int rc = q->step(); rc != SQLITE_DONE) return fail(db_error(rc, "set password"));
        if (sqlite3_changes(db_.get()) == 0) return fail(not_found("no mailbox " + address));
        return {};
    });
}

Status SqliteStore::delete_mailbox(std::string_view raw) {
    auto addr = parse_address(raw);
    if (!addr) return fail(not_found("no mailbox " + sanitize_for_log(raw)));
    const std::string address = validate::canonical(*addr);
    return write([&]() -> Status {
        auto q = prepare("DELETE FROM mailboxes WHERE address = ?");
        if (!q) return fail(q.error());
        q->bind(address);
        if (int rc = q->step(); rc != SQLITE_DONE) return fail(db_error(rc, "delete mailbox"));
        if (sqlite3_changes(db_.get()) == 0) return fail(not_found("no mailbox " + address));
        return {};
    });
}

Result<Mailbox> SqliteStore::get_mailbox(std::string_view raw) {
    auto addr = parse_address(raw);
    if (!addr) return fail(not_found("no mailbox " + sanitize_for_log(raw)));
    const std::string address = validate::canonical(*addr);
    auto q = prepare("SELECT " YUBIN_MAILBOX_COLS " FROM mailboxes WHERE address = ?");
    if (!q) return fail(q.error());
    q->bind(address);
    int rc = q->step();
    if (rc == SQLITE_DONE) return fail(not_found("no mailbox " + address));
    if (rc != SQLITE_ROW) return fail(db_error(rc, "get mailbox"));
    return read_mailbox(*q);
}

Result<std::vector<Mailbox>> SqliteStore::list_mailboxes(std::string_view raw_domain) {
    std::string domain;
    if (!raw_domain.empty()) {
        auto d = parse_domain(raw_domain);
        if (!d) return fail(not_found("unknown domain " + sanitize_for_log(raw_domain)));
        domain = *d;
    }
    std::vector<Mailbox> out;
    // One snapshot for the existence check and the rows.
    auto st = in_transaction([&]() -> Status {
        if (!domain.empty()) {
            auto exists = domain_exists(domain);
            if (!exists) return fail(exists.error());
            if (!*exists) return fail(not_found("unknown domain " + domain));
        }
        auto q = domain.empty()
                     ? prepare("SELECT " YUBIN_MAILBOX_COLS
                               " FROM mailboxes ORDER BY domain, address")
                     : prepare("SELECT " YUBIN_MAILBOX_COLS
                               " FROM mailboxes WHERE domain = ? ORDER BY address");
        if (!q) return fail(q.error());
        if (!domain.empty()) q->bind(domain);
        int rc;
        while ((rc = q->step()) == SQLITE_ROW) out.push_back(read_mailbox(*q));
        if (rc != SQLITE_DONE) return fail(db_error(rc, "list mailboxes"));
        return {};
    }, false);
    if (!st) return fail(st.error());
    return out;
}

// ---- aliases ----

Status SqliteStore::add_alias(const Alias& in) {
    std::string domain;
    auto source = validate::alias_side(in.source, &domain);
    if (!source) return fail(source.error());
    auto target = validate::alias_side(in.target, nullptr);
    if (!target) return fail(target.error());
    return write([&]() -> Status {
        auto exists = domain_exists(domain);
        if (!exists) return fail(exists.error());
        if (!*exists) return fail(not_found("unknown domain " + domain));
        auto n = count("SELECT count(*) FROM aliases WHERE source = ?", *source);
        if (!n) return fail(n.error());
        if (static_cast<std::size_t>(*n) >= limits::kMaxAliasTargets)
            return fail(perm("alias " + *source + " already has " + std::to_string(*n) +
                             " targets, the limit"));
        auto dup = prepare("SELECT count(*) FROM aliases WHERE source = ? AND target = ?");
        if (!dup) return fail(dup.error());
        dup->bind(*source).bind(*target);
        if (int rc = dup->step(); rc != SQLITE_ROW) return fail(db_error(rc, "add alias"));
        if (dup->int64(0) > 0)
            return fail(perm("alias " + *source + " -> " + *target + " already exists"));
        auto q = prepare("INSERT INTO aliases (source, target, domain, active) VALUES (?, ?, ?, ?)");
        if (!q) return fail(q.error());
        q->bind(*source).bind(*target).bind(domain).bind(in.active);
        if (int rc = q->step(); rc != SQLITE_DONE) return fail(db_error(rc, "add alias"));
        return {};
    });
}

Status SqliteStore::delete_alias(std::string_view raw_source, std::string_view raw_target) {
    auto source = validate::alias_side(raw_source, nullptr);
    if (!source) return fail(not_found("no alias " + sanitize_for_log(raw_source)));
    std::string target;
    if (!raw_target.empty()) {
        auto t = validate::alias_side(raw_target, nullptr);
        if (!t) return fail(not_found("no alias " + *source + " -> " + sanitize_for_log(raw_target)));
        target = *t;
    }
    return write([&]() -> Status {
        auto q = target.empty() ? prepare("DELETE FROM aliases WHERE source = ?")
                                : prepare("DELETE FROM aliases WHERE source = ? AND target = ?");
        if (!q) return fail(q.error());
        q->bind(*source);
        if (!target.empty()) q->bind(target);
        if (int rc = q->step(); rc != SQLITE_DONE) return fail(db_error(rc, "delete alias"));
        if (sqlite3_changes(db_.get()) == 0)
            return fail(not_found("no alias " + *source + (target.empty() ? "" : " -> " + target)));
        return {};
    });
}

Result<std::vector<Alias>> SqliteStore::list_aliases(std::string_view raw_domain) {
    std::string domain;
    if (!raw_domain.empty()) {
        auto d = parse_domain(raw_domain);
        if (!d) return fail(not_found("unknown domain " + sanitize_for_log(raw_domain)));
        domain = *d;
    }
    std::vector<Alias> out;
    auto st = in_transaction([&]() -> Status {
        if (!domain.empty()) {
            auto exists = domain_exists(domain);
            if (!exists) return fail(exists.error());
            if (!*exists) return fail(not_found("unknown domain " + domain));
        }
        auto q = domain.empty()
                     ? prepare("SELECT source, target, active FROM aliases ORDER BY source, rowid")
                     : prepare("SELECT source, target, active FROM aliases WHERE domain = ? "
                               "ORDER BY source, rowid");
        if (!q) return fail(q.error());
        if (!domain.empty()) q->bind(domain);
        int rc;
        while ((rc = q->step()) == SQLITE_ROW)
            out.push_back(Alias{q->text(0), q->text(1), q->int64(2) != 0});
        if (rc != SQLITE_DONE) return fail(db_error(rc, "list aliases"));
        return {};
    }, false);
    if (!st) return fail(st.error());
    return out;
}

Result<std::vector<std::string>> SqliteStore::alias_targets(std::string_view raw_source) {
    std::vector<std::string> out;
    auto source = validate::alias_side(raw_source, nullptr);
    if (!source) return out;
    auto q = prepare("SELECT target FROM aliases WHERE source = ? AND active = 1 ORDER BY rowid");
    if (!q) return fail(q.error());
    q->bind(*source);
    int rc;
    while ((rc = q->step()) == SQLITE_ROW) out.push_back(q->text(0));
    if (rc != SQLITE_DONE) return fail(db_error(rc, "alias targets"));
    return out;
}

Status SqliteStore::check_integrity() {
    auto q = prepare("PRAGMA integrity_check");
    if (!q) return fail(q.error());
    std::string report;
    int rc;
    while ((rc = q->step()) == SQLITE_ROW) {
        if (!report.empty()) report += "; ";
        report += q->text(0);
    }
    if (rc != SQLITE_DONE) return fail(db_error(rc, "integrity check"));
    if (report != "ok")
        return fail(ErrorKind::Internal, "sqlite " + path_ + ": integrity check: " + report);
    return {};
}

}  // namespace yubin::store
