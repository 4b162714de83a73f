#include "core/store/ldap_store.hpp"

#include <fcntl.h>
#include <ldap.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <random>

#include "core/config/config.hpp"
#include "core/store/address.hpp"
#include "core/store/ldap_escape.hpp"
#include "core/store/validate.hpp"
#include "core/util/fd.hpp"
#include "core/util/limits.hpp"
#include "core/util/strings.hpp"

namespace yubin::store {
namespace {

constexpr std::size_t kMaxCacheEntries = 10000;  // per kind; a full cache is emptied
constexpr std::size_t kMaxPasswordFileBytes = 4096;

// The schema's names (contrib/ldap/yubin.schema).
constexpr const char* kDomainClass = "yubinDomain";
constexpr const char* kAliasClass = "yubinAlias";
constexpr const char* kDomainName = "yubinDomainName";
constexpr const char* kActive = "yubinActive";
constexpr const char* kMaxSize = "yubinMaxMessageSize";
constexpr const char* kQuotaBytes = "yubinQuotaBytes";
constexpr const char* kQuotaMessages = "yubinQuotaMessages";
constexpr const char* kMaildir = "yubinMaildir";
constexpr const char* kAliasId = "yubinAliasId";
constexpr const char* kAliasSource = "yubinAliasSource";
constexpr const char* kAliasTarget = "yubinAliasTarget";
constexpr const char* kCreated = "yubinCreated";

Error not_found(std::string what) {
    return Error{ErrorKind::NotFound, std::move(what)};
}
Error perm(std::string what) {
    return Error{ErrorKind::Perm, std::move(what)};
}

// SQLite's COLLATE NOCASE order, which the SQLite backend lists in.
bool nocase_less(std::string_view a, std::string_view b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return static_cast<unsigned char>(ascii_lower(x)) <
               static_cast<unsigned char>(ascii_lower(y));
    });
}

// An attribute or object class name as RFC 4512 "descr": it is put into
// filters and DNs unescaped, so nothing else is accepted from the config.
bool is_descr(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z'))) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-';
    });
}

std::string generalized_now() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
    return std::string(buf, n);
}

// "20261129190211Z" (or with a fraction) -> "2026-11-29T19:02:11Z"; "" if not
// a generalized time.
std::string iso8601(std::string_view g) {
    if (g.size() < 15) return {};
    for (std::size_t i = 0; i < 14; ++i)
        if (g[i] < '0' || g[i] > '9') return {};
    std::string s(g.substr(0, 14));
    return s.substr(0, 4) + "-" + s.substr(4, 2) + "-" + s.substr(6, 2) + "T" + s.substr(8, 2) +
           ":" + s.substr(10, 2) + ":" + s.substr(12, 2) + "Z";
}

std::int64_t to_int(const std::string& s) {
    std::int64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return (r.ec == std::errc{} && r.ptr == s.data() + s.size() && v > 0) ? v : 0;
}

// Absent means TRUE: entries of an existing tree need not carry the flag.
bool to_bool(const std::string& s) {
    return !iequals(s, "FALSE");
}

std::vector<std::string> number(std::int64_t v) {
    if (v == 0) return {};
    return {std::to_string(v)};
}
std::vector<std::string> boolean(bool b) {
    return {b ? "TRUE" : "FALSE"};
}

// Alias rows are named by an id that sorts in the order they were added:
// microseconds since the epoch (strictly increasing within a process), then
// a per-process random part against collisions between hosts.
std::string next_alias_id() {
    static std::atomic<std::uint64_t> last{0};
    static const std::uint32_t salt = std::random_device{}();
    auto us = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
    std::uint64_t prev = last.load();
    std::uint64_t id;
    do {
        id = std::max(us, prev + 1);
    } while (!last.compare_exchange_weak(prev, id));
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016llx-%08x", static_cast<unsigned long long>(id),
                  static_cast<unsigned>(salt));
    return buf;
}

Result<std::string> read_password_file(const std::string& path) {
    if (path.empty() || path.front() != '/')
        return fail(ErrorKind::Config, "store_ldap_bind_pw_file must be an absolute path");
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd)
        return fail(ErrorKind::Config,
                    "store_ldap_bind_pw_file " + path + ": " + std::strerror(errno));
    std::string pw(kMaxPasswordFileBytes + 1, '\0');
    std::size_t got = 0;
    while (got < pw.size()) {
        ssize_t n = ::read(fd.get(), pw.data() + got, pw.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return fail(ErrorKind::Config,
                        "store_ldap_bind_pw_file " + path + ": " + std::strerror(errno));
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    if (got > kMaxPasswordFileBytes)
        return fail(ErrorKind::Config, "store_ldap_bind_pw_file " + path + " is too long");
    pw.resize(got);
    // One trailing line end is not part of the password (echo pw > file).
    if (!pw.empty() && pw.back() == '\n') pw.pop_back();
    if (!pw.empty() && pw.back() == '\r') pw.pop_back();
    if (pw.empty()) return fail(ErrorKind::Config, "store_ldap_bind_pw_file " + path + " is empty");
    return pw;
}

}  // namespace

// ---- options ----

Result<LdapOptions> ldap_options_from_config(const config::Config& cfg) {
    LdapOptions o;
    o.uri = cfg.get("store_ldap_uri");
    o.base_dn = cfg.get("store_ldap_base_dn");
    o.bind_dn = cfg.get("store_ldap_bind_dn");
    o.start_tls = cfg.get_bool("store_ldap_start_tls");
    o.tls_ca_file = cfg.get("store_ldap_tls_ca_file");
    o.timeout = std::chrono::seconds(cfg.get_int("store_ldap_timeout"));
    o.cache_ttl = std::chrono::seconds(cfg.get_int("store_ldap_cache_ttl"));
    o.negative_cache_ttl = std::chrono::seconds(cfg.get_int("store_ldap_negative_cache_ttl"));
    o.mail_attribute = cfg.get("store_ldap_mail_attribute");
    o.password_attribute = cfg.get("store_ldap_password_attribute");
    o.mailbox_object_class = cfg.get("store_ldap_mailbox_object_class");
    o.rate_limit_attribute = cfg.get("store_ldap_rate_limit_attribute");
    o.recipient_limit_attribute = cfg.get("store_ldap_recipient_limit_attribute");
    o.spam_filter_attribute = cfg.get("store_ldap_spam_filter_attribute");
    if (!o.bind_dn.empty()) {
        auto pw = read_password_file(cfg.get("store_ldap_bind_pw_file"));
        if (!pw) return fail(pw.error());
        o.bind_password = std::move(*pw);
    }
    return o;
}

Result<std::unique_ptr<LdapStore>> open_ldap_store(const std::string& config_path,
                                                   const StoreOptions& options) {
    if (config_path.empty() || config_path.front() != '/')
        return fail(ErrorKind::Config,
                    "store ldap: needs the absolute path of a file with the store_ldap_* "
                    "parameters, e.g. ldap:/etc/yubin/yubin.cf");
    auto cfg = config::Config::load_file(config_path);
    if (!cfg) return fail(cfg.error());
    auto o = ldap_options_from_config(*cfg);
    if (!o) return fail(o.error());
    return LdapStore::open(std::move(*o), options);
}

// ---- connection ----

LdapStore::LdapStore(LdapOptions ldap, StoreOptions options)
    : ldap_(std::move(ldap)), options_(std::move(options)) {}

LdapStore::~LdapStore() {
    disconnect();
}

Result<std::unique_ptr<LdapStore>> LdapStore::open(LdapOptions ldap, const StoreOptions& options) {
    if (ldap.base_dn.empty()) return fail(ErrorKind::Config, "store_ldap_base_dn is not set");
    for (const auto* name :
         {&ldap.mail_attribute, &ldap.password_attribute, &ldap.mailbox_object_class,
          &ldap.rate_limit_attribute, &ldap.recipient_limit_attribute,
          &ldap.spam_filter_attribute}) {
        if (!is_descr(*name))
            return fail(ErrorKind::Config, "LDAP attribute or class name \"" +
                                               sanitize_for_log(*name) +
                                               "\" is not a plain name (letters, digits, '-')");
    }
    if (ldap.timeout.count() <= 0) return fail(ErrorKind::Config, "store_ldap_timeout must be > 0");
    // Parses the URI list without connecting, so a typo is a Config error now.
    LDAP* probe = nullptr;
    if (int rc = ldap_initialize(&probe, ldap.uri.c_str()); rc != LDAP_SUCCESS || !probe)
        return fail(ErrorKind::Config, "store_ldap_uri \"" + sanitize_for_log(ldap.uri) +
                                           "\": " + ldap_err2string(rc));
    ldap_unbind_ext_s(probe, nullptr, nullptr);
    return std::unique_ptr<LdapStore>(new LdapStore(std::move(ldap), options));
}

// ---- cache ----

std::chrono::steady_clock::time_point LdapStore::now() const {
    return ldap_.clock ? ldap_.clock() : std::chrono::steady_clock::now();
}

void LdapStore::invalidate_cache() {
    domains_.clear();
    mailboxes_.clear();
    aliases_.clear();
}

template <class V>
void LdapStore::remember(std::unordered_map<std::string, Cached<V>>& map, const std::string& key,
                         bool found, V value) {
    auto ttl = found ? ldap_.cache_ttl : ldap_.negative_cache_ttl;
    if (ttl.count() <= 0 || depth_ > 0) return;
    const auto t = now();
    if (map.size() >= kMaxCacheEntries) {
        std::erase_if(map, [&](const auto& kv) { return kv.second.expires <= t; });
        if (map.size() >= kMaxCacheEntries) map.clear();
    }
    map.insert_or_assign(key, Cached<V>{t + ttl, found, std::move(value)});
}

// ---- domains ----

std::string LdapStore::domain_dn(std::string_view domain) const {
    return std::string(kDomainName) + "=" + ldap_dn_escape(domain) + "," + ldap_.base_dn;
}

namespace {

std::string created_of(const LdapStore::Entry& e) {
    std::string c = iso8601(e.first(kCreated));
    return c.empty() ? iso8601(e.first("createTimestamp")) : c;
}

// TRUE / FALSE as the schema writes them; a site's own attribute may say
// on / off or yes / no. Anything else (absent) inherits.
SpamFilter to_spam_filter(const std::string& s) {
    if (iequals(s, "TRUE") || iequals(s, "on") || iequals(s, "yes")) return SpamFilter::On;
    if (iequals(s, "FALSE") || iequals(s, "off") || iequals(s, "no")) return SpamFilter::Off;
    return SpamFilter::Inherit;
}

}  // namespace

std::vector<std::string> LdapStore::domain_attrs() const {
    return {kDomainName,
            kActive,
            kMaxSize,
            kQuotaBytes,
            kCreated,
            "createTimestamp",
            ldap_.rate_limit_attribute,
            ldap_.recipient_limit_attribute,
            ldap_.spam_filter_attribute};
}

LdapStore::Attrs LdapStore::override_attrs(const std::string& rate_limit,
                                           std::int64_t recipient_limit,
                                           SpamFilter spam_filter) const {
    return {{ldap_.rate_limit_attribute,
             rate_limit.empty() ? std::vector<std::string>{} : std::vector{rate_limit}},
            {ldap_.recipient_limit_attribute, number(recipient_limit)},
            {ldap_.spam_filter_attribute, spam_filter == SpamFilter::Inherit
                                              ? std::vector<std::string>{}
                                              : boolean(spam_filter == SpamFilter::On)}};
}

template <class T>
void LdapStore::read_overrides(const Entry& e, T& out) const {
    out.rate_limit = e.first(ldap_.rate_limit_attribute);
    out.recipient_limit = to_int(e.first(ldap_.recipient_limit_attribute));
    out.spam_filter = to_spam_filter(e.first(ldap_.spam_filter_attribute));
}

Domain LdapStore::to_domain(const Entry& e) const {
    Domain d;
    d.name = to_lower(e.first(kDomainName));
    d.active = to_bool(e.first(kActive));
    d.max_message_size = to_int(e.first(kMaxSize));
    d.quota_bytes = to_int(e.first(kQuotaBytes));
    read_overrides(e, d);
    d.created = created_of(e);
    return d;
}

Result<LdapStore::Entry> LdapStore::read_domain(const std::string& domain, bool all_attrs) {
    auto found = search(domain_dn(domain), LDAP_SCOPE_BASE,
                        std::string("(objectClass=") + kDomainClass + ")",
                        all_attrs ? std::vector<std::string>{"*"} : domain_attrs(), 2, true);
    if (!found) return fail(found.error());
    if (found->empty()) return fail(not_found("unknown domain " + domain));
    return std::move(found->front());
}

Status LdapStore::add_domain(const Domain& in) {
    auto name = parse_domain(in.name);
    if (!name) return fail(name.error());
    if (auto st = validate::domain_fields(in); !st) return st;
    return write([&]() -> Status {
        auto existing = read_domain(*name, false);
        if (existing) return fail(perm("domain " + *name + " already exists"));
        if (existing.error().kind != ErrorKind::NotFound) return fail(existing.error());
        Attrs attrs{{"objectClass", {kDomainClass}},
                    {kDomainName, {*name}},
                    {kActive, boolean(in.active)},
                    {kCreated, {generalized_now()}}};
        if (in.max_message_size) attrs.emplace_back(kMaxSize, number(in.max_message_size));
        if (in.quota_bytes) attrs.emplace_back(kQuotaBytes, number(in.quota_bytes));
        for (auto& a : override_attrs(in.rate_limit, in.recipient_limit, in.spam_filter))
            if (!a.second.empty()) attrs.push_back(std::move(a));
        auto st = add_entry(domain_dn(*name), attrs);
        if (!st && st.error().kind == ErrorKind::Perm)
            return fail(perm("domain " + *name + " already exists"));
        return st;
    });
}

Status LdapStore::update_domain(const Domain& in) {
    auto name = parse_domain(in.name);
    if (!name) return fail(not_found("unknown domain " + sanitize_for_log(in.name)));
    if (auto st = validate::domain_fields(in); !st) return st;
    return write([&]() -> Status {
        auto e = read_domain(*name, false);
        if (!e) return fail(e.error());
        Attrs attrs{{kActive, boolean(in.active)},
                    {kMaxSize, number(in.max_message_size)},
                    {kQuotaBytes, number(in.quota_bytes)}};
        // An unset override is only written (deleted) where the entry has
        // it, so a directory with an older yubin schema keeps working.
        for (auto& a : override_attrs(in.rate_limit, in.recipient_limit, in.spam_filter))
            if (!a.second.empty() || e->values(a.first)) attrs.push_back(std::move(a));
        return replace_attrs(*e, attrs);
    });
}

Status LdapStore::delete_domain(std::string_view raw, bool cascade) {
    auto name = parse_domain(raw);
    if (!name) return fail(not_found("unknown domain " + sanitize_for_log(raw)));
    return write([&]() -> Status {
        auto domain = read_domain(*name, true);
        if (!domain) return fail(domain.error());
        auto mailboxes = mailbox_entries("@" + *name, true, 0, true);
        if (!mailboxes) return fail(mailboxes.error());
        auto aliases = search(domain->dn, LDAP_SCOPE_ONELEVEL,
                              std::string("(objectClass=") + kAliasClass + ")", {"*"}, 0, false);
        if (!aliases) return fail(aliases.error());
        if (!cascade && (!mailboxes->empty() || !aliases->empty()))
            return fail(perm("domain " + *name + " still has " + std::to_string(mailboxes->size()) +
                             " mailbox(es) and " + std::to_string(aliases->size()) + " alias(es)"));
        for (const auto& group : {&*mailboxes, &*aliases})
            for (const auto& e : *group)
                if (auto st = delete_entry(e); !st) return st;
        return delete_entry(*domain);
    });
}

Result<Domain> LdapStore::get_domain(std::string_view raw) {
    auto name = parse_domain(raw);
    if (!name) return fail(not_found("unknown domain " + sanitize_for_log(raw)));
    if (auto it = domains_.find(*name); it != domains_.end() && it->second.expires > now()) {
        ++stats_.cache_hits;
        if (!it->second.found) return fail(not_found("unknown domain " + *name));
        return it->second.value;
    }
    auto e = read_domain(*name, false);
    if (!e) {
        if (e.error().kind == ErrorKind::NotFound) remember(domains_, *name, false, Domain{});
        return fail(e.error());
    }
    Domain d = to_domain(*e);
    remember(domains_, *name, true, d);
    return d;
}

Result<std::vector<Domain>> LdapStore::list_domains() {
    auto found =
        search(ldap_.base_dn, LDAP_SCOPE_SUBTREE, std::string("(objectClass=") + kDomainClass + ")",
               domain_attrs(), 0, false);
    if (!found) return fail(found.error());
    std::vector<Domain> out;
    for (const auto& e : *found) {
        Domain d = to_domain(e);
        if (parse_domain(d.name)) out.push_back(std::move(d));  // skip malformed entries
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Domain& a, const Domain& b) { return nocase_less(a.name, b.name); });
    return out;
}

// ---- mailboxes ----

std::vector<std::string> LdapStore::mailbox_attrs() const {
    return {ldap_.mail_attribute,
            ldap_.password_attribute,
            kActive,
            kMaxSize,
            kQuotaBytes,
            kQuotaMessages,
            kMaildir,
            kCreated,
            "createTimestamp",
            "modifyTimestamp",
            ldap_.rate_limit_attribute,
            ldap_.recipient_limit_attribute,
            ldap_.spam_filter_attribute};
}

// value: an address (equality) or "@domain" (substring "*@domain").
Result<std::vector<LdapStore::Entry>> LdapStore::mailbox_entries(const std::string& value,
                                                                 bool substring, int size_limit,
                                                                 bool all_attrs) {
    std::string filter = "(&(objectClass=" + ldap_.mailbox_object_class + ")(" +
                         ldap_.mail_attribute + "=" + (substring ? "*" : "") +
                         ldap_filter_escape(value) + "))";
    // all_attrs: user attributes only, what an undo must put back.
    auto attrs = all_attrs ? std::vector<std::string>{"*"} : mailbox_attrs();
    return search(ldap_.base_dn, LDAP_SCOPE_SUBTREE, filter, attrs, size_limit, false);
}

// The one entry with this address: NotFound if none, Internal if several
// (two entries claiming one address is a directory fault, not a guess).
Result<LdapStore::Entry> LdapStore::one_mailbox(const std::string& address, bool all_attrs) {
    auto found = mailbox_entries(address, false, 2, all_attrs);
    if (!found) return fail(found.error());
    if (found->empty()) return fail(not_found("no mailbox " + address));
    if (found->size() > 1)
        return fail(ErrorKind::Internal, "ldap: more than one entry for mailbox " + address);
    return std::move(found->front());
}

Result<Mailbox> LdapStore::to_mailbox(const Entry& e) const {
    auto addr = parse_address(e.first(ldap_.mail_attribute));
    if (!addr)
        return fail(ErrorKind::Internal,
                    "ldap entry " + sanitize_for_log(e.dn) + ": unusable " + ldap_.mail_attribute);
    Mailbox m;
    m.address = validate::canonical(*addr);
    m.local_part = addr->local;
    m.domain = to_lower(addr->domain);
    m.password = e.first(ldap_.password_attribute);
    m.active = to_bool(e.first(kActive));
    m.max_message_size = to_int(e.first(kMaxSize));
    m.quota_bytes = to_int(e.first(kQuotaBytes));
    m.quota_messages = to_int(e.first(kQuotaMessages));
    read_overrides(e, m);
    m.maildir = e.first(kMaildir);
    if (m.maildir.empty()) {
        auto d = validate::maildir_for(*addr, "");
        m.maildir = d ? *d : std::string();
    }
    m.created = created_of(e);
    m.updated = iso8601(e.first("modifyTimestamp"));
    if (m.updated.empty()) m.updated = m.created;
    return m;
}

Status LdapStore::add_mailbox(const Mailbox& in) {
    auto row = validate::mailbox(in, validate::MailboxWrite::Add);
    if (!row) return fail(row.error());
    const auto& [addr, address, domain, maildir] = *row;
    return write([&]() -> Status {
        auto d = read_domain(domain, false);
        if (!d) return fail(d.error());
        auto existing = mailbox_entries(address, false, 2, false);
        if (!existing) return fail(existing.error());
        if (!existing->empty()) return fail(perm("mailbox " + address + " already exists"));
        Attrs attrs{{"objectClass", {"inetOrgPerson", ldap_.mailbox_object_class}},
                    {"cn", {address}},
                    {"sn", {addr.local}},
                    {ldap_.mail_attribute, {address}},
                    {kActive, boolean(in.active)},
                    {kMaildir, {maildir}},
                    {kCreated, {generalized_now()}}};
        if (!in.password.empty())
            attrs.emplace_back(ldap_.password_attribute, std::vector{in.password});
        if (in.max_message_size) attrs.emplace_back(kMaxSize, number(in.max_message_size));
        if (in.quota_bytes) attrs.emplace_back(kQuotaBytes, number(in.quota_bytes));
        if (in.quota_messages) attrs.emplace_back(kQuotaMessages, number(in.quota_messages));
        for (auto& a : override_attrs(in.rate_limit, in.recipient_limit, in.spam_filter))
            if (!a.second.empty()) attrs.push_back(std::move(a));
        auto st =
            add_entry(ldap_.mail_attribute + "=" + ldap_dn_escape(address) + "," + d->dn, attrs);
        if (!st && st.error().kind == ErrorKind::Perm &&
            st.error().what.find(ldap_err2string(LDAP_ALREADY_EXISTS)) != std::string::npos)
            return fail(perm("mailbox " + address + " already exists"));
        return st;
    });
}

Status LdapStore::update_mailbox(const Mailbox& in) {
    auto row = validate::mailbox(in, validate::MailboxWrite::Update);
    if (!row) return fail(row.error());
    const auto& [addr, address, domain, maildir] = *row;
    return write([&]() -> Status {
        auto found = one_mailbox(address, false);
        if (!found) return fail(found.error());
        Attrs attrs{{ldap_.password_attribute,
                     in.password.empty() ? std::vector<std::string>{} : std::vector{in.password}},
                    {kActive, boolean(in.active)},
                    {kMaxSize, number(in.max_message_size)},
                    {kQuotaBytes, number(in.quota_bytes)},
                    {kQuotaMessages, number(in.quota_messages)},
                    {kMaildir, {maildir}}};
        for (auto& a : override_attrs(in.rate_limit, in.recipient_limit, in.spam_filter))
            if (!a.second.empty() || found->values(a.first)) attrs.push_back(std::move(a));
        return replace_attrs(*found, attrs);
    });
}

Status LdapStore::set_password(std::string_view raw, std::string_view hash) {
    auto addr = parse_address(raw);
    if (!addr) return fail(not_found("no mailbox " + sanitize_for_log(raw)));
    if (auto st = validate::password(hash); !st) return st;
    const std::string address = validate::canonical(*addr);
    return write([&]() -> Status {
        auto found = one_mailbox(address, false);
        if (!found) return fail(found.error());
        return replace_attrs(
            *found, {{ldap_.password_attribute,
                      hash.empty() ? std::vector<std::string>{} : std::vector{std::string(hash)}}});
    });
}

Status LdapStore::delete_mailbox(std::string_view raw) {
    auto addr = parse_address(raw);
    if (!addr) return fail(not_found("no mailbox " + sanitize_for_log(raw)));
    const std::string address = validate::canonical(*addr);
    return write([&]() -> Status {
        auto found = one_mailbox(address, true);
        if (!found) return fail(found.error());
        return delete_entry(*found);
    });
}

Result<Mailbox> LdapStore::get_mailbox(std::string_view raw) {
    auto addr = parse_address(raw);
    if (!addr) return fail(not_found("no mailbox " + sanitize_for_log(raw)));
    const std::string address = validate::canonical(*addr);
    const std::string key = lookup_key(*addr);
    if (auto it = mailboxes_.find(key); it != mailboxes_.end() && it->second.expires > now()) {
        ++stats_.cache_hits;
        if (!it->second.found) return fail(not_found("no mailbox " + address));
        return it->second.value;
    }
    auto found = one_mailbox(address, false);
    if (!found) {
        if (found.error().kind == ErrorKind::NotFound) remember(mailboxes_, key, false, Mailbox{});
        return fail(found.error());
    }
    auto m = to_mailbox(*found);
    if (!m) return m;
    remember(mailboxes_, key, true, *m);
    return m;
}

Result<std::vector<Mailbox>> LdapStore::list_mailboxes(std::string_view raw_domain) {
    std::string domain;
    if (!raw_domain.empty()) {
        auto d = parse_domain(raw_domain);
        if (!d) return fail(not_found("unknown domain " + sanitize_for_log(raw_domain)));
        domain = *d;
        auto e = read_domain(domain, false);
        if (!e) return fail(e.error());
    }
    auto found = domain.empty() ? search(ldap_.base_dn, LDAP_SCOPE_SUBTREE,
                                         "(objectClass=" + ldap_.mailbox_object_class + ")",
                                         mailbox_attrs(), 0, false)
                                : mailbox_entries("@" + domain, true, 0, false);
    if (!found) return fail(found.error());
    std::vector<Mailbox> out;
    for (const auto& e : *found) {
        auto m = to_mailbox(e);
        if (!m) continue;  // an entry without a usable address is not a mailbox
        if (!domain.empty() && m->domain != domain) continue;
        out.push_back(std::move(*m));
    }
    std::stable_sort(out.begin(), out.end(), [](const Mailbox& a, const Mailbox& b) {
        if (!iequals(a.domain, b.domain)) return nocase_less(a.domain, b.domain);
        return nocase_less(a.address, b.address);
    });
    return out;
}

// ---- aliases ----

namespace {

struct AliasRow {
    std::string id;
    Alias alias;
};

std::vector<AliasRow> to_alias_rows(const std::vector<LdapStore::Entry>& entries) {
    std::vector<AliasRow> rows;
    for (const auto& e : entries) {
        AliasRow r{e.first(kAliasId),
                   Alias{e.first(kAliasSource), e.first(kAliasTarget), to_bool(e.first(kActive))}};
        if (r.alias.source.empty() || r.alias.target.empty()) continue;
        rows.push_back(std::move(r));
    }
    return rows;
}

}  // namespace

// Rows with this source (and target, if not empty), compared as the schema's
// caseIgnoreIA5Match does.
Result<std::vector<LdapStore::Entry>> LdapStore::alias_entries(const std::string& source,
                                                               const std::string& target) {
    std::string filter = std::string("(&(objectClass=") + kAliasClass + ")(" + kAliasSource + "=" +
                         ldap_filter_escape(source) + ")";
    if (!target.empty())
        filter += std::string("(") + kAliasTarget + "=" + ldap_filter_escape(target) + ")";
    filter += ")";
    return search(ldap_.base_dn, LDAP_SCOPE_SUBTREE, filter, {"*"}, 0, false);
}

Status LdapStore::add_alias(const Alias& in) {
    std::string domain;
    auto source = validate::alias_side(in.source, &domain);
    if (!source) return fail(source.error());
    auto target = validate::alias_side(in.target, nullptr);
    if (!target) return fail(target.error());
    return write([&]() -> Status {
        auto d = read_domain(domain, false);
        if (!d) return fail(d.error());
        auto rows = alias_entries(*source, "");
        if (!rows) return fail(rows.error());
        if (rows->size() >= limits::kMaxAliasTargets)
            return fail(perm("alias " + *source + " already has " + std::to_string(rows->size()) +
                             " targets, the limit"));
        for (const auto& e : *rows)
            if (iequals(e.first(kAliasTarget), *target))
                return fail(perm("alias " + *source + " -> " + *target + " already exists"));
        const std::string id = next_alias_id();
        return add_entry(std::string(kAliasId) + "=" + ldap_dn_escape(id) + "," + d->dn,
                         {{"objectClass", {kAliasClass}},
                          {kAliasId, {id}},
                          {kAliasSource, {*source}},
                          {kAliasTarget, {*target}},
                          {kActive, boolean(in.active)},
                          {kCreated, {generalized_now()}}});
    });
}

Status LdapStore::delete_alias(std::string_view raw_source, std::string_view raw_target) {
    auto source = validate::alias_side(raw_source, nullptr);
    if (!source) return fail(not_found("no alias " + sanitize_for_log(raw_source)));
    std::string target;
    if (!raw_target.empty()) {
        auto t = validate::alias_side(raw_target, nullptr);
        if (!t)
            return fail(not_found("no alias " + *source + " -> " + sanitize_for_log(raw_target)));
        target = *t;
    }
    return write([&]() -> Status {
        auto rows = alias_entries(*source, target);
        if (!rows) return fail(rows.error());
        if (rows->empty())
            return fail(not_found("no alias " + *source + (target.empty() ? "" : " -> " + target)));
        for (const auto& e : *rows)
            if (auto st = delete_entry(e); !st) return st;
        return {};
    });
}

Result<std::vector<Alias>> LdapStore::list_aliases(std::string_view raw_domain) {
    std::string base = ldap_.base_dn;
    int scope = LDAP_SCOPE_SUBTREE;
    if (!raw_domain.empty()) {
        auto d = parse_domain(raw_domain);
        if (!d) return fail(not_found("unknown domain " + sanitize_for_log(raw_domain)));
        auto e = read_domain(*d, false);
        if (!e) return fail(e.error());
        base = e->dn;
        scope = LDAP_SCOPE_ONELEVEL;
    }
    auto found = search(base, scope, std::string("(objectClass=") + kAliasClass + ")",
                        {kAliasId, kAliasSource, kAliasTarget, kActive}, 0, false);
    if (!found) return fail(found.error());
    auto rows = to_alias_rows(*found);
    std::stable_sort(rows.begin(), rows.end(), [](const AliasRow& a, const AliasRow& b) {
        if (!iequals(a.alias.source, b.alias.source))
            return nocase_less(a.alias.source, b.alias.source);
        return a.id < b.id;
    });
    std::vector<Alias> out;
    for (auto& r : rows) out.push_back(std::move(r.alias));
    return out;
}

Result<std::vector<std::string>> LdapStore::alias_targets(std::string_view raw_source) {
    std::vector<std::string> out;
    auto source = validate::alias_side(raw_source, nullptr);
    if (!source) return out;
    const std::string key = to_lower(*source);
    if (auto it = aliases_.find(key); it != aliases_.end() && it->second.expires > now()) {
        ++stats_.cache_hits;
        return it->second.value;
    }
    auto found = alias_entries(*source, "");
    if (!found) return fail(found.error());
    auto rows = to_alias_rows(*found);
    std::sort(rows.begin(), rows.end(),
              [](const AliasRow& a, const AliasRow& b) { return a.id < b.id; });
    for (auto& r : rows)
        if (r.alias.active) out.push_back(std::move(r.alias.target));
    remember(aliases_, key, !out.empty(), out);
    return out;
}

}  // namespace yubin::store
