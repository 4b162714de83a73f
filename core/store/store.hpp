// The one user store every yubin part reads: domains, mailboxes, aliases.
//
// Store is the backend-neutral interface (SQLite now, LDAP later); the
// Postfix-table semantics (address extensions, catch-alls, domain aliases)
// live above it in find_mailbox and resolve_alias so every backend shares them.
//
// Error kinds are the contract callers depend on: NotFound means "no such
// thing" (user unknown), Temp/Internal mean the store could not answer (try
// again). A database fault is never NotFound.
//
// Lookups (get_*, alias_targets, find_mailbox, resolve_alias) treat a key that
// is not a valid address or domain as absent (NotFound / empty), as a Postfix
// table would, so a hostile key cannot turn into a table error. Writes that
// create something validate it and answer BadInput.
//
// A Store object is used by one thread at a time; several processes (and
// several Store objects) may use the same database at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.hpp"

namespace yubin::store {

// Whether yubin-milter's filter runs for mail to a mailbox or domain.
// Inherit: the mailbox takes its domain's setting, the domain the default
// (on). Stored as "inherit" / "on" / "off" (SQLite) or absent / TRUE / FALSE
// (LDAP).
enum class SpamFilter { Inherit, On, Off };
[[nodiscard]] std::string_view to_string(SpamFilter);
// "inherit", "on", "off" (also "yes"/"no"); nullopt otherwise.
[[nodiscard]] std::optional<SpamFilter> parse_spam_filter(std::string_view);

// Per-user and per-domain policy overrides (yubin-policyd), on Domain and
// Mailbox alike; the mailbox's wins, then its domain's, then yubin.cf:
//   rate_limit       replaces policyd_rate_sasl_user for a client logged in
//                    as the mailbox: "" = not set here, "none" = no rate
//                    limit, else the same syntax ("messages:500/1h
//                    recipients:5000/1d", see rate_limit.hpp). On a domain
//                    it is the limit of each of its mailboxes, not a sum.
//   recipient_limit  replaces policyd_recipient_limit_authenticated for that
//                    client: recipients per message, 0 = not set here.

struct Domain {
    std::string name{};                    // stored lower-case
    bool active = true;
    std::int64_t max_message_size = 0;   // bytes; 0 = not set here
    std::int64_t quota_bytes = 0;        // default quota for its mailboxes; 0 = not set
    std::string rate_limit{};              // default of its mailboxes; "" = not set
    std::int64_t recipient_limit = 0;    // default of its mailboxes; 0 = not set
    SpamFilter spam_filter = SpamFilter::Inherit;  // Inherit = the default (on)
    std::string created{};                 // ISO 8601 UTC, filled by the store
};

struct Mailbox {
    std::string address{};                 // as created, e.g. "Taro@example.com" (domain lower-cased)
    std::string local_part{};              // as created (derived from address by the store)
    std::string domain{};                  // lower-case (derived from address by the store)
    std::string password{};                // "{SCHEME}hash"; empty = no login possible
    bool active = true;
    std::int64_t max_message_size = 0;   // 0 = not set (domain / global default apply)
    std::int64_t quota_bytes = 0;        // 0 = not set
    std::int64_t quota_messages = 0;     // 0 = not set
    // Relative to virtual_mailbox_base, ending in '/' (Maildir). The store
    // fills "<domain>/<lower-case local>/Maildir/" if empty.
    std::string maildir{};
    std::string rate_limit{};              // "" = not set (domain / yubin.cf apply)
    std::int64_t recipient_limit = 0;    // 0 = not set
    SpamFilter spam_filter = SpamFilter::Inherit;  // Inherit = the domain's
    std::string created{};                 // ISO 8601 UTC, filled by the store
    std::string updated{};                 // ISO 8601 UTC, filled by the store
};

// One row per (source, target). source: "user@domain" or "@domain" (catch-all /
// whole-domain alias); target: an address, or "@otherdomain" for a domain alias
// (user@old -> user@other). Domains are stored lower-case, local parts as given.
struct Alias {
    std::string source{};
    std::string target{};
    bool active = true;
};

struct StoreOptions {
    // Any of these chars separates user from extension. The store keeps it
    // for its callers, who pass it to find_mailbox / resolve_alias; a Store
    // itself only ever matches exact keys.
    std::string recipient_delimiter = "+";
    std::chrono::milliseconds busy_timeout{5000};
    bool read_only = false;                 // daemons open read-only; yubinctl read-write
};

// Every member has a default initializer so that designated initializers
// (Mailbox{.address = "a@b.example"}) compile warning-free under -Wextra.

class Store {
public:
    virtual ~Store() = default;

    // Domains. add: Perm "domain example.com already exists"; delete: Perm if
    // it still has mailboxes or aliases unless cascade (then all of them go in
    // one transaction); NotFound if absent. update changes every field but
    // name and created.
    virtual Status add_domain(const Domain&) = 0;
    virtual Status update_domain(const Domain&) = 0;
    virtual Status delete_domain(std::string_view name, bool cascade) = 0;
    virtual Result<Domain> get_domain(std::string_view name) = 0;
    virtual Result<std::vector<Domain>> list_domains() = 0;

    // Mailboxes. add: NotFound "unknown domain x" if its domain is not in the
    // store; Perm if the address exists as a mailbox (case-insensitively).
    // get_mailbox: exact address only, case-insensitive. update: by address,
    // all fields except address, created.
    virtual Status add_mailbox(const Mailbox&) = 0;
    virtual Status update_mailbox(const Mailbox&) = 0;
    virtual Status set_password(std::string_view address, std::string_view stored_hash) = 0;
    virtual Status delete_mailbox(std::string_view address) = 0;
    virtual Result<Mailbox> get_mailbox(std::string_view address) = 0;
    // NotFound if a domain is given and it is not in the store.
    virtual Result<std::vector<Mailbox>> list_mailboxes(std::string_view domain /* empty = all */) = 0;

    // Aliases. add: NotFound if the source's domain is not in the store; Perm
    // on a duplicate (case-insensitively). delete with empty target removes
    // every target of source; NotFound if nothing matched.
    virtual Status add_alias(const Alias&) = 0;
    virtual Status delete_alias(std::string_view source, std::string_view target) = 0;
    // By the source's domain. NotFound if a domain is given and not in the store.
    virtual Result<std::vector<Alias>> list_aliases(std::string_view domain /* empty = all */) = 0;
    // Exact source (case-insensitive), active rows only; empty vector if none.
    virtual Result<std::vector<std::string>> alias_targets(std::string_view source) = 0;

    // Runs body as one transaction: every change or none (also if body
    // throws). Nested calls are fine (savepoints). The body must use the Store
    // it is given.
    virtual Status transaction(const std::function<Status(Store&)>& body) = 0;

    // Read batching for daemons that answer many lookups at once: between
    // begin_read() and end_read() every lookup sees one snapshot, taken at
    // the first read after begin_read(), so a change committed before that
    // read is seen and one committed after it is seen from the next batch
    // on. Only lookups in between (no writes). For SQLite this takes the
    // database's read locks once per batch instead of once per statement.
    // The default does nothing; end_read() without a batch does nothing.
    virtual Status begin_read() { return {}; }
    virtual void end_read() {}

    // For callers that cache answers: a number that changes whenever another
    // connection commits a change to the store (SQLite's PRAGMA
    // data_version); inside a read batch, the one of the batch's snapshot
    // (reading it takes the snapshot). Changes made through this Store object
    // itself do not count. nullopt when the backend has no such number (then
    // nothing may be cached) or it cannot be read.
    virtual std::optional<std::uint64_t> data_version() { return std::nullopt; }
};

// The local part of `address` cut before its first delimiter character (one
// not at position 0), or empty if there is no extension. "user+ext" -> "user".
[[nodiscard]] std::string_view strip_extension(std::string_view local, std::string_view delimiters);

// Postfix virtual_mailbox_maps semantics: the exact address; if not found and
// the local part carries an extension (see strip_extension), the address
// without it.
[[nodiscard]] Result<Mailbox> find_mailbox(Store&, std::string_view address,
                                           std::string_view delimiters);

// Postfix virtual(5) semantics with the default propagate_unmatched_extensions:
//   1. user+ext@domain  -> its targets as they are;
//   2. user@domain      -> its targets, "+ext" inserted before each target's '@';
//   3. @domain          -> its targets as they are.
// A target "@other" becomes "<local part as received, extension included>@other"
// at any step. Empty vector if nothing matched.
[[nodiscard]] Result<std::vector<std::string>> resolve_alias(Store&, std::string_view address,
                                                             std::string_view delimiters);

// The settings that apply to a mailbox (or to an address of `domain` that is
// not a mailbox, m = nullptr): each the mailbox's if set, else the domain's
// (d may be null: unknown), else unset ("" / 0 / Inherit).
struct EffectiveOverrides {
    std::string rate_limit{};
    std::int64_t recipient_limit = 0;
    SpamFilter spam_filter = SpamFilter::Inherit;
};
[[nodiscard]] EffectiveOverrides effective_overrides(const Mailbox* m, const Domain* d);

// "sqlite:/path/to/file.db". Config for a bad spec; Temp when the database
// cannot be opened or read (an outage: unreadable, not a database, missing in
// read_only mode).
[[nodiscard]] Result<std::unique_ptr<Store>> open_store(std::string_view spec, const StoreOptions&);

}  // namespace yubin::store
