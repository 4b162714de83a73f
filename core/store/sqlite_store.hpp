// The embedded Store backend: one SQLite file, no server.
//
// WAL journal so daemons read while yubinctl writes; every write runs in
// BEGIN IMMEDIATE ... COMMIT (a savepoint when nested in transaction()), so a
// writer waits for the write lock up to busy_timeout and then fails with Temp
// ("database is locked") instead of failing half-way through. The schema
// version lives in PRAGMA user_version; a read-write open applies the missing
// migrations in one transaction, a read-only open refuses any other version.
//
// SECURITY: keys reach this class from peers (socketmap, auth, policy
// requests). They are parsed as addresses or domains first (a key that does
// not parse is simply not found) and then only ever bound as statement
// parameters, never spliced into SQL. The database path is opened with
// O_NOFOLLOW (a symlink is refused and reported as Temp, "unable to open").
//
// One SqliteStore is used by one thread at a time (the connection is opened
// with SQLITE_OPEN_NOMUTEX and caches its prepared statements); give each
// thread its own. Any number of processes may open the same file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/store/store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace yubin::store {

class SqliteStore final : public Store {
public:
    static constexpr int kSchemaVersion = 2;

    // `path` must be absolute. Read-write: creates the file (mode 0640) if
    // missing; its directory must exist (Config otherwise). Read-only: the
    // file must exist with the current schema (Temp otherwise, Config if it
    // is newer than this build).
    [[nodiscard]] static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                                   const StoreOptions& options);
    ~SqliteStore() override;
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;

    Status add_domain(const Domain&) override;
    Status update_domain(const Domain&) override;
    Status delete_domain(std::string_view name, bool cascade) override;
    Result<Domain> get_domain(std::string_view name) override;
    Result<std::vector<Domain>> list_domains() override;

    Status add_mailbox(const Mailbox&) override;
    Status update_mailbox(const Mailbox&) override;
    Status set_password(std::string_view address, std::string_view stored_hash) override;
    Status delete_mailbox(std::string_view address) override;
    Result<Mailbox> get_mailbox(std::string_view address) override;
    Result<std::vector<Mailbox>> list_mailboxes(std::string_view domain) override;

    Status add_alias(const Alias&) override;
    Status delete_alias(std::string_view source, std::string_view target) override;
    Result<std::vector<Alias>> list_aliases(std::string_view domain) override;
    Result<std::vector<std::string>> alias_targets(std::string_view source) override;

    Status transaction(const std::function<Status(Store&)>& body) override;
    Status begin_read() override;
    void end_read() override;
    std::optional<std::uint64_t> data_version() override;

    // PRAGMA integrity_check; Internal with SQLite's report unless "ok".
    [[nodiscard]] Status check_integrity();
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    class Query;
    struct DbCloser {
        void operator()(sqlite3* db) const;
    };
    struct StmtFinalizer {
        void operator()(sqlite3_stmt* s) const;
    };

    SqliteStore(sqlite3* db, std::string path, StoreOptions options);

    [[nodiscard]] Error db_error(int rc, std::string_view what) const;
    [[nodiscard]] Result<Query> prepare(std::string_view sql);
    [[nodiscard]] Status exec(const std::string& sql);
    [[nodiscard]] Status migrate();
    [[nodiscard]] Result<int> user_version();
    [[nodiscard]] Status write(const std::function<Status()>& body);
    [[nodiscard]] Status in_transaction(const std::function<Status()>& body, bool for_write);
    [[nodiscard]] Result<bool> domain_exists(std::string_view name);
    [[nodiscard]] Result<std::int64_t> count(std::string_view sql, std::string_view key);

    std::unique_ptr<sqlite3, DbCloser> db_;
    std::string path_;
    StoreOptions options_;
    int depth_ = 0;  // transaction nesting: 0 = none, 1 = BEGIN, >1 = savepoints
    bool read_batch_ = false;  // between begin_read() and end_read()
    // Keyed by the SQL text, which is always a string literal in this file.
    std::unordered_map<std::string_view, std::unique_ptr<sqlite3_stmt, StmtFinalizer>> cache_;
};

}  // namespace yubin::store
