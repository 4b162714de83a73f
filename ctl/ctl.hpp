// The logic of every yubinctl command, apart from option parsing, so that the
// unit tests can run each command against a temporary store with string
// streams. Each command returns the process exit status.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/passwd/passwd.hpp"
#include "core/store/store.hpp"
#include "core/util/result.hpp"

namespace yubin::ctl {

// sysexits(3) values, as Postfix and Dovecot tools use them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFail = 1;         // a negative answer (auth test) or a refused change
inline constexpr int kExitUsage = 64;       // EX_USAGE
inline constexpr int kExitDataErr = 65;     // EX_DATAERR: malformed address, bad import line
inline constexpr int kExitNoUser = 67;      // EX_NOUSER: unknown domain, user or alias
inline constexpr int kExitSoftware = 70;    // EX_SOFTWARE
inline constexpr int kExitTempFail = 75;    // EX_TEMPFAIL: store locked or unavailable, retry
inline constexpr int kExitConfig = 78;      // EX_CONFIG

int exit_code_for(ErrorKind);

// Where a command reads its password from.
struct PasswordSource {
    bool from_stdin = false;     // --password-stdin: one line from standard input
    bool confirm = true;         // prompt twice (new passwords)
};

struct Io {
    std::istream& in;
    std::ostream& out;
    std::ostream& err;
    bool interactive = false;    // standard input is a terminal (prompt without echo)
};

// The policy overrides and the filter opt-out, alike for domains and
// mailboxes. rate_limit "" and recipient_limit 0 mean "inherit" (unset).
struct OverrideSettings {
    std::optional<std::string> rate_limit;
    std::optional<std::int64_t> recipient_limit;
    std::optional<store::SpamFilter> spam_filter;
};
struct DomainSettings {
    std::optional<std::int64_t> max_message_size;
    std::optional<std::int64_t> quota_bytes;
    std::optional<bool> active;
    OverrideSettings overrides;
};
struct MailboxSettings {
    std::optional<std::int64_t> max_message_size;
    std::optional<std::int64_t> quota_bytes;
    std::optional<std::int64_t> quota_messages;
    std::optional<bool> active;
    OverrideSettings overrides;
};

struct ImportFiles {
    std::string virtual_domains, virtual_mailboxes, aliases, dovecot_passwd;
    bool strict = false;
    bool dry_run = false;
};

class Ctl {
public:
    Ctl(config::Config cfg, Io io);

    int config_show(bool only_non_default, bool expand);

    int domain_add(const std::string& name, const DomainSettings&);
    int domain_set(const std::string& name, const DomainSettings&);
    int domain_del(const std::string& name, bool force);
    int domain_list();
    int domain_show(const std::string& name);

    int user_add(const std::string& address, const MailboxSettings&, const PasswordSource&,
                 bool no_password);
    int user_set(const std::string& address, const MailboxSettings&);
    int user_del(const std::string& address);
    int user_list(const std::string& domain);
    int user_show(const std::string& address);
    int user_passwd(const std::string& address, const PasswordSource&);

    int alias_add(const std::string& source, const std::vector<std::string>& targets);
    int alias_del(const std::string& source, const std::string& target);
    int alias_list(const std::string& domain);

    int auth_test(const std::string& address);

    int import(const ImportFiles&);

    // Copies the store `from` into the store `to` (specs as the "store"
    // parameter; `to` empty = the configured store) with store::migrate_store.
    int store_migrate(const std::string& from, const std::string& to);

    // Brings the configured store's schema up to this version of yubin (what
    // any read-write open does): the step to run after installing a new
    // yubin, since the daemons open the store read-only and answer temporary
    // failures until it is done. A SQLite file that does not exist yet is
    // left alone (exit 0).
    int store_upgrade();

private:
    [[nodiscard]] Result<store::Store*> store();
    // Opens the store named by `spec` (creating a new SQLite file and its
    // directory unless read_only).
    [[nodiscard]] Result<std::unique_ptr<store::Store>> open_spec(const std::string& spec,
                                                                  bool read_only);
    // Parses ADDRESS, opens the store and fetches the mailbox: NotFound, BadInput or Temp.
    [[nodiscard]] Result<store::Mailbox> existing_mailbox(const std::string& address);
    [[nodiscard]] Result<passwd::Secret> read_password(const PasswordSource&);
    int report(const Error&);   // prints "yubinctl: ..." and maps the kind to an exit code

    config::Config cfg_;
    Io io_;
    std::unique_ptr<store::Store> store_;
};

}  // namespace yubin::ctl
