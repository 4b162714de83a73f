// The directory Store backend: users, domains and aliases in an LDAP server
// (OpenLDAP slapd), for sites that run several mail hosts from one replicated
// directory. Selected with `store = ldap:FILE`, FILE being a yubin.cf-syntax
// file that holds the store_ldap_* parameters (usually yubin.cf itself).
//
// Layout below store_ldap_base_dn (schema: contrib/ldap/yubin.schema):
//   yubinDomainName=example.com,BASE                       a domain
//   mail=Taro@example.com,yubinDomainName=example.com,BASE  a mailbox
//   yubinAliasId=ID,yubinDomainName=example.com,BASE       one alias row
// Mailboxes are found anywhere below BASE by store_ldap_mailbox_object_class
// and store_ldap_mail_attribute, so an existing tree of person entries works
// once they carry the auxiliary class yubinMailbox; the password lives in
// store_ldap_password_attribute in Dovecot's "{SCHEME}hash" form.
//
// Connection: one per LdapStore (a Store is used by one thread at a time),
// opened on first use, simple bind with the service DN, optional StartTLS.
// Every operation has store_ldap_timeout. A connection that fails (slapd
// restarted, network gone) is dropped and the operation tried once more on a
// fresh one; if that fails too the answer is Temp, so the next call
// reconnects. A directory that cannot answer is Temp everywhere, never
// NotFound (a missing base DN is Temp too: a consumer not yet replicated).
//
// Cache: get_domain, get_mailbox and alias_targets answers are kept for
// store_ldap_cache_ttl (found) and store_ldap_negative_cache_ttl (not found)
// inside this LdapStore object; Temp answers are never kept. Invalidation:
// every write made through this object empties its cache at once (so
// yubinctl and a transaction read their own writes); changes made by other
// processes or on other hosts become visible after at most the TTL.
//
// Transactions: LDAP has no multi-entry transactions that also let a client
// read its own pending writes, so transaction() applies each write at once
// and keeps an undo log (the old entry or old attribute values); a failing
// body (or a throw) is undone in reverse order, nested levels act as
// savepoints. Other readers can see the intermediate states, and a crash or
// outage in the middle leaves what was done so far (an incomplete rollback is
// reported as Temp naming what is left).
//
// SECURITY: keys reach this class from peers (socketmap, auth, policy
// requests). They are parsed as addresses or domains first (a key that does
// not parse is not found) and then only ever put into a filter through
// ldap_filter_escape (RFC 4515) and into a DN through ldap_dn_escape (RFC
// 4514). Attribute and class names from the configuration are checked to be
// plain LDAP descriptors. Lookups ask for at most 2 entries; an ambiguous
// answer (two mailboxes with one address) is an Internal error, not a guess.
// The bind password is read from a file (store_ldap_bind_pw_file), never from
// yubin.cf, and never logged.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/store/store.hpp"

namespace yubin::config {
class Config;
}

typedef struct ldap LDAP;

namespace yubin::store {

struct LdapOptions {
    std::string uri = "ldap://127.0.0.1/";  // one or more URIs, space separated
    std::string base_dn{};
    std::string bind_dn{};        // empty = anonymous
    std::string bind_password{};  // the contents of store_ldap_bind_pw_file
    bool start_tls = false;
    std::string tls_ca_file{};    // CA certificates for StartTLS / ldaps; empty = ldap.conf's
    std::chrono::milliseconds timeout{5000};
    std::chrono::milliseconds cache_ttl{30000};           // 0 = no positive cache
    std::chrono::milliseconds negative_cache_ttl{10000};  // 0 = no negative cache
    std::string mail_attribute = "mail";
    std::string password_attribute = "userPassword";
    std::string mailbox_object_class = "yubinMailbox";
    // The policy overrides and the filter opt-out, on domains and mailboxes.
    std::string rate_limit_attribute = "yubinRateLimit";
    std::string recipient_limit_attribute = "yubinRecipientLimit";
    std::string spam_filter_attribute = "yubinSpamFilter";
    // Where the cache reads the time (tests); empty = steady_clock::now.
    std::function<std::chrono::steady_clock::time_point()> clock{};
};

// The store_ldap_* parameters of a config, with the bind password read from
// store_ldap_bind_pw_file. Config error naming the parameter if one is
// missing or unusable (unreadable password file, base DN empty).
[[nodiscard]] Result<LdapOptions> ldap_options_from_config(const config::Config& cfg);

class LdapStore;

// What open_store does with "ldap:PATH": loads PATH (yubin.cf syntax, the
// one schema) for its store_ldap_* parameters and opens an LdapStore.
[[nodiscard]] Result<std::unique_ptr<LdapStore>> open_ldap_store(const std::string& config_path,
                                                                 const StoreOptions& options);

class LdapStore final : public Store {
public:
    // Checks the options (Config if unusable) but does not connect: a
    // directory that is down now makes each operation Temp, not the open.
    [[nodiscard]] static Result<std::unique_ptr<LdapStore>> open(LdapOptions ldap,
                                                                 const StoreOptions& options);
    ~LdapStore() override;
    LdapStore(const LdapStore&) = delete;
    LdapStore& operator=(const LdapStore&) = delete;

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

    // Counters for tests and the benchmark.
    struct Stats {
        std::uint64_t searches = 0;  // search requests sent to the server
        std::uint64_t connects = 0;  // connections opened (binds)
        std::uint64_t cache_hits = 0;
    };
    [[nodiscard]] const Stats& stats() const { return stats_; }
    // Empties the lookup cache (what every write does).
    void invalidate_cache();

    // An LDAP entry as read: its DN and attributes (names as the server
    // spells them, compared case-insensitively).
    struct Entry {
        std::string dn;
        std::vector<std::pair<std::string, std::vector<std::string>>> attrs;
        [[nodiscard]] const std::vector<std::string>* values(std::string_view name) const;
        [[nodiscard]] std::string first(std::string_view name) const;  // "" if absent
    };
    using Attrs = std::vector<std::pair<std::string, std::vector<std::string>>>;

private:
    struct Undo {
        enum class Kind { Delete, Add, Replace } kind;
        std::string dn;
        Attrs attrs;  // Add: the whole entry; Replace: old values (empty = absent)
    };
    template <class V>
    struct Cached {
        std::chrono::steady_clock::time_point expires;
        bool found;
        V value;
    };

    LdapStore(LdapOptions ldap, StoreOptions options);

    // The one place LDAP result codes become error kinds.
    [[nodiscard]] Error ldap_error(int rc, std::string_view what, bool write) const;
    [[nodiscard]] Error op_error(int rc, std::string_view what, bool write);
    [[nodiscard]] Status connect();
    void disconnect();
    template <class Op>
    int run(Op&& op);  // one try, one retry on a fresh connection

    [[nodiscard]] Result<std::vector<Entry>> search(const std::string& base, int scope,
                                                    const std::string& filter,
                                                    const std::vector<std::string>& attrs,
                                                    int size_limit, bool base_may_be_absent);
    [[nodiscard]] Status raw_add(const std::string& dn, const Attrs& attrs);
    [[nodiscard]] Status raw_replace(const std::string& dn, const Attrs& attrs);
    [[nodiscard]] Status raw_delete(const std::string& dn);
    // The writes: recorded for undo while a transaction runs.
    [[nodiscard]] Status add_entry(const std::string& dn, const Attrs& attrs);
    [[nodiscard]] Status replace_attrs(const Entry& before, const Attrs& attrs);
    [[nodiscard]] Status delete_entry(const Entry& before);
    [[nodiscard]] Status rollback_to(std::size_t mark);
    [[nodiscard]] Status writable();
    [[nodiscard]] Status write(const std::function<Status()>& body);

    [[nodiscard]] std::string domain_dn(std::string_view domain) const;
    [[nodiscard]] Result<Entry> read_domain(const std::string& domain, bool all_attrs);
    [[nodiscard]] Result<std::vector<Entry>> mailbox_entries(const std::string& filter_value,
                                                             bool substring, int size_limit,
                                                             bool all_attrs);
    [[nodiscard]] Result<Entry> one_mailbox(const std::string& address, bool all_attrs);
    [[nodiscard]] Result<std::vector<Entry>> alias_entries(const std::string& source,
                                                           const std::string& target);
    [[nodiscard]] Result<Mailbox> to_mailbox(const Entry& e) const;
    [[nodiscard]] std::vector<std::string> mailbox_attrs() const;
    [[nodiscard]] std::vector<std::string> domain_attrs() const;
    [[nodiscard]] Domain to_domain(const Entry& e) const;
    // The override attributes of a domain or mailbox as written: "absent"
    // for unset values (for replace: delete; for add: left out).
    [[nodiscard]] Attrs override_attrs(const std::string& rate_limit, std::int64_t recipient_limit,
                                       SpamFilter spam_filter) const;
    template <class T>
    void read_overrides(const Entry& e, T& out) const;
    [[nodiscard]] std::chrono::steady_clock::time_point now() const;
    template <class V>
    void remember(std::unordered_map<std::string, Cached<V>>& map, const std::string& key,
                  bool found, V value);

    LdapOptions ldap_;
    StoreOptions options_;
    LDAP* ld_ = nullptr;
    std::optional<Error> connect_error_;  // why run() could not send
    int depth_ = 0;                       // transaction nesting
    bool replaying_ = false;              // applying the undo log: do not record
    std::vector<Undo> undo_;
    Stats stats_;
    std::unordered_map<std::string, Cached<Domain>> domains_;
    std::unordered_map<std::string, Cached<Mailbox>> mailboxes_;
    std::unordered_map<std::string, Cached<std::vector<std::string>>> aliases_;
};

}  // namespace yubin::store
