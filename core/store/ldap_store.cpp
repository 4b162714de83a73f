#include "core/store/ldap_store.hpp"

#include <fcntl.h>
#include <ldap.h>
#include <sys/time.h>
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
#include "core/store/ldap_validate.hpp"
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

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_lower(x) == ascii_lower(y);
           });
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
    return !iequal(s, "FALSE");
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

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

// The failures that mean the connection is unusable: drop it, reconnect.
bool connection_lost(int rc) {
    return LDAP_API_ERROR(rc) || rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY ||
           rc == LDAP_PROTOCOL_ERROR;
}

// Owns the bervals and LDAPMod arrays one add or modify request points into.
class ModList {
public:
    ModList(const LdapStore::Attrs& attrs, int op) {
        values_.reserve(attrs.size());
        mods_.reserve(attrs.size());
        for (const auto& [name, vals] : attrs) {
            auto& bv = values_.emplace_back();
            for (const auto& v : vals)
                bv.push_back(berval{static_cast<ber_len_t>(v.size()), const_cast<char*>(v.data())});
            auto& ptrs = ptrs_.emplace_back();
            for (auto& b : bv) ptrs.push_back(&b);
            ptrs.push_back(nullptr);
            mods_.push_back(LDAPMod{});
            mods_.back().mod_op = op | LDAP_MOD_BVALUES;
            mods_.back().mod_type = const_cast<char*>(name.c_str());
        }
        for (std::size_t i = 0; i < mods_.size(); ++i) {
            mods_[i].mod_bvalues = ptrs_[i].data();
            list_.push_back(&mods_[i]);
        }
        list_.push_back(nullptr);
    }
    LDAPMod** get() { return list_.data(); }

private:
    std::vector<std::vector<berval>> values_;
    std::vector<std::vector<berval*>> ptrs_;
    std::vector<LDAPMod> mods_;
    std::vector<LDAPMod*> list_;
};

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
    o.timeout = std::chrono::seconds(cfg.get_int("store_ldap_timeout"));
    o.cache_ttl = std::chrono::seconds(cfg.get_int("store_ldap_cache_ttl"));
    o.negative_cache_ttl = std::chrono::seconds(cfg.get_int("store_ldap_negative_cache_ttl"));
    o.mail_attribute = cfg.get("store_ldap_mail_attribute");
    o.password_attribute = cfg.get("store_ldap_password_attribute");
    o.mailbox_object_class = cfg.get("store_ldap_mailbox_object_class");
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

// ---- entries ----

const std::vector<std::string>* LdapStore::Entry::values(std::string_view name) const {
    for (const auto& [n, v] : attrs)
        if (iequal(n, name)) return &v;
    return nullptr;
}

std::string LdapStore::Entry::first(std::string_view name) const {
    const auto* v = values(name);
    return v && !v->empty() ? v->front() : std::string();
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
         {&ldap.mail_attribute, &ldap.password_attribute, &ldap.mailbox_object_class}) {
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

Error LdapStore::ldap_error(int rc, std::string_view what, bool write) const {
    std::string text = "ldap " + ldap_.uri + ": " + std::string(what) + ": " + ldap_err2string(rc);
    if (ld_) {
        char* diag = nullptr;
        if (ldap_get_option(ld_, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) == LDAP_OPT_SUCCESS && diag) {
            if (*diag) text += " (" + sanitize_for_log(diag) + ")";
            ldap_memfree(diag);
        }
    }
    switch (rc) {
        case LDAP_ALREADY_EXISTS:
        case LDAP_OBJECT_CLASS_VIOLATION:
        case LDAP_UNDEFINED_TYPE:
        case LDAP_INVALID_SYNTAX:
        case LDAP_NAMING_VIOLATION:
        case LDAP_CONSTRAINT_VIOLATION:
        case LDAP_NOT_ALLOWED_ON_NONLEAF:
        case LDAP_NOT_ALLOWED_ON_RDN:
        case LDAP_INVALID_DN_SYNTAX:
        case LDAP_TYPE_OR_VALUE_EXISTS:
            // A change the directory's schema refuses: retrying cannot help.
            return Error{write ? ErrorKind::Perm : ErrorKind::Temp, std::move(text)};
        case LDAP_INSUFFICIENT_ACCESS:
        case LDAP_UNWILLING_TO_PERFORM:
            // The service DN may not write here (a read-only bind for
            // yubinctl); for a read it is a configuration fault: defer mail.
            return Error{write ? ErrorKind::Perm : ErrorKind::Temp, std::move(text)};
        default:
            // Down, timeout, busy, bind refused, base DN missing, anything
            // new: the directory cannot answer now.
            return Error{ErrorKind::Temp, std::move(text)};
    }
}

// The error of a failed operation: the connect error if it never got to
// send, else the result code's; a dead connection is dropped.
Error LdapStore::op_error(int rc, std::string_view what, bool write) {
    if (connect_error_) return *std::exchange(connect_error_, std::nullopt);
    Error e = ldap_error(rc, what, write);
    if (connection_lost(rc)) disconnect();
    return e;
}

void LdapStore::disconnect() {
    if (ld_) ldap_unbind_ext_s(ld_, nullptr, nullptr);
    ld_ = nullptr;
}

Status LdapStore::connect() {
    if (ld_) return {};
    LDAP* ld = nullptr;
    if (int rc = ldap_initialize(&ld, ldap_.uri.c_str()); rc != LDAP_SUCCESS || !ld)
        return fail(ErrorKind::Config, "store_ldap_uri \"" + sanitize_for_log(ldap_.uri) +
                                           "\": " + ldap_err2string(rc));
    ld_ = ld;
    int version = LDAP_VERSION3;
    timeval tv = to_timeval(ldap_.timeout);
    ldap_set_option(ld_, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld_, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    ldap_set_option(ld_, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(ld_, LDAP_OPT_TIMEOUT, &tv);
    if (ldap_.start_tls) {
        if (int rc = ldap_start_tls_s(ld_, nullptr, nullptr); rc != LDAP_SUCCESS) {
            Error e = ldap_error(rc, "StartTLS", false);
            disconnect();
            return fail(std::move(e));
        }
    }
    if (!ldap_.bind_dn.empty()) {
        berval cred{static_cast<ber_len_t>(ldap_.bind_password.size()),
                    const_cast<char*>(ldap_.bind_password.data())};
        int rc = ldap_sasl_bind_s(ld_, ldap_.bind_dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr,
                                  nullptr, nullptr);
        if (rc != LDAP_SUCCESS) {
            Error e = ldap_error(rc, "bind as " + sanitize_for_log(ldap_.bind_dn), false);
            disconnect();
            return fail(std::move(e));
        }
    }
    ++stats_.connects;
    return {};
}

// Runs op(ld) on the connection; when the connection turns out to be dead
// and was an old one (the server restarted since), once more on a new one.
template <class Op>
int LdapStore::run(Op&& op) {
    connect_error_.reset();
    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool reused = ld_ != nullptr;
        if (auto st = connect(); !st) {
            connect_error_ = st.error();
            return LDAP_SERVER_DOWN;
        }
        int rc = op(ld_);
        if (!connection_lost(rc)) return rc;
        if (!reused || attempt == 1) return rc;  // the caller reports it, then drops
        disconnect();
    }
    return LDAP_SERVER_DOWN;
}

Result<std::vector<LdapStore::Entry>> LdapStore::search(const std::string& base, int scope,
                                                        const std::string& filter,
                                                        const std::vector<std::string>& attrs,
                                                        int size_limit, bool base_may_be_absent) {
    std::vector<char*> attr_ptrs;
    for (const auto& a : attrs) attr_ptrs.push_back(const_cast<char*>(a.c_str()));
    attr_ptrs.push_back(nullptr);
    LDAPMessage* res = nullptr;
    Status conn_status;
    int rc = run([&](LDAP* ld) {
        if (res) ldap_msgfree(res);
        res = nullptr;
        ++stats_.searches;
        timeval tv = to_timeval(ldap_.timeout);
        return ldap_search_ext_s(ld, base.c_str(), scope, filter.c_str(), attr_ptrs.data(), 0,
                                 nullptr, nullptr, &tv, size_limit, &res);
    });
    std::unique_ptr<LDAPMessage, int (*)(LDAPMessage*)> guard(res, ldap_msgfree);
    if (rc == LDAP_NO_SUCH_OBJECT && base_may_be_absent) {
        // The entry is absent; but if the store's base is missing too (a
        // consumer not replicated yet, a wrong base DN) that is not an answer.
        auto top = search(ldap_.base_dn, LDAP_SCOPE_BASE, "(objectClass=*)", {"1.1"}, 1, false);
        if (!top) return fail(top.error());
        return std::vector<Entry>{};
    }
    if (rc == LDAP_SIZELIMIT_EXCEEDED && size_limit == 0)
        return fail(ErrorKind::Temp, "ldap " + ldap_.uri + ": search " + sanitize_for_log(base) +
                                         ": the server's size limit cut the answer short (allow "
                                         "the bind DN unlimited size, olcLimits)");
    if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED)
        return fail(op_error(rc, "search " + sanitize_for_log(base), false));
    std::vector<Entry> out;
    for (LDAPMessage* m = ldap_first_entry(ld_, res); m; m = ldap_next_entry(ld_, m)) {
        Entry e;
        if (char* dn = ldap_get_dn(ld_, m)) {
            e.dn = dn;
            ldap_memfree(dn);
        }
        BerElement* ber = nullptr;
        for (char* a = ldap_first_attribute(ld_, m, &ber); a;
             a = ldap_next_attribute(ld_, m, ber)) {
            std::vector<std::string> vals;
            if (berval** bv = ldap_get_values_len(ld_, m, a)) {
                for (berval** p = bv; *p; ++p) vals.emplace_back((*p)->bv_val, (*p)->bv_len);
                ldap_value_free_len(bv);
            }
            e.attrs.emplace_back(a, std::move(vals));
            ldap_memfree(a);
        }
        if (ber) ber_free(ber, 0);
        out.push_back(std::move(e));
    }
    return out;
}

Status LdapStore::raw_add(const std::string& dn, const Attrs& attrs) {
    ModList mods(attrs, LDAP_MOD_ADD);
    int rc =
        run([&](LDAP* ld) { return ldap_add_ext_s(ld, dn.c_str(), mods.get(), nullptr, nullptr); });
    if (rc == LDAP_SUCCESS) return {};
    return fail(op_error(rc, "add " + sanitize_for_log(dn), true));
}

Status LdapStore::raw_replace(const std::string& dn, const Attrs& attrs) {
    ModList mods(attrs, LDAP_MOD_REPLACE);  // no values: the attribute goes
    int rc = run(
        [&](LDAP* ld) { return ldap_modify_ext_s(ld, dn.c_str(), mods.get(), nullptr, nullptr); });
    if (rc == LDAP_SUCCESS) return {};
    if (rc == LDAP_NO_SUCH_OBJECT) return fail(not_found("no entry " + sanitize_for_log(dn)));
    return fail(op_error(rc, "modify " + sanitize_for_log(dn), true));
}

Status LdapStore::raw_delete(const std::string& dn) {
    int rc = run([&](LDAP* ld) { return ldap_delete_ext_s(ld, dn.c_str(), nullptr, nullptr); });
    if (rc == LDAP_SUCCESS) return {};
    if (rc == LDAP_NO_SUCH_OBJECT) return fail(not_found("no entry " + sanitize_for_log(dn)));
    return fail(op_error(rc, "delete " + sanitize_for_log(dn), true));
}

// ---- writes with undo ----

Status LdapStore::add_entry(const std::string& dn, const Attrs& attrs) {
    if (auto st = raw_add(dn, attrs); !st) return st;
    if (depth_ > 0 && !replaying_) undo_.push_back(Undo{Undo::Kind::Delete, dn, {}});
    return {};
}

Status LdapStore::replace_attrs(const Entry& before, const Attrs& attrs) {
    if (auto st = raw_replace(before.dn, attrs); !st) return st;
    if (depth_ > 0 && !replaying_) {
        Attrs old;
        for (const auto& [name, vals] : attrs) {
            const auto* v = before.values(name);
            old.emplace_back(name, v ? *v : std::vector<std::string>{});
        }
        undo_.push_back(Undo{Undo::Kind::Replace, before.dn, std::move(old)});
    }
    return {};
}

Status LdapStore::delete_entry(const Entry& before) {
    if (auto st = raw_delete(before.dn); !st) return st;
    if (depth_ > 0 && !replaying_) undo_.push_back(Undo{Undo::Kind::Add, before.dn, before.attrs});
    return {};
}

Status LdapStore::rollback_to(std::size_t mark) {
    invalidate_cache();
    replaying_ = true;
    Status result;
    while (undo_.size() > mark) {
        Undo u = std::move(undo_.back());
        undo_.pop_back();
        Status st;
        switch (u.kind) {
            case Undo::Kind::Delete:
                st = raw_delete(u.dn);
                break;
            case Undo::Kind::Add:
                st = raw_add(u.dn, u.attrs);
                break;
            case Undo::Kind::Replace:
                st = raw_replace(u.dn, u.attrs);
                break;
        }
        if (!st && result)
            result = fail(ErrorKind::Temp, "rollback incomplete at " + sanitize_for_log(u.dn) +
                                               ": " + st.error().what);
    }
    replaying_ = false;
    return result;
}

Status LdapStore::transaction(const std::function<Status(Store&)>& body) {
    const std::size_t mark = undo_.size();
    ++depth_;
    Status r;
    try {
        r = body(*this);
    } catch (...) {
        --depth_;
        (void)rollback_to(mark);
        if (depth_ == 0) undo_.clear();
        throw;
    }
    --depth_;
    if (!r) {
        auto rb = rollback_to(mark);
        if (depth_ == 0) undo_.clear();
        if (!rb) return fail(ErrorKind::Temp, r.error().what + "; " + rb.error().what);
        return r;
    }
    if (depth_ == 0) undo_.clear();
    return r;
}

Status LdapStore::writable() {
    if (options_.read_only) return fail(perm("ldap " + ldap_.uri + ": store is open read-only"));
    return {};
}

// One store-level change: several LDAP operations undone together if one of
// them fails.
Status LdapStore::write(const std::function<Status()>& body) {
    if (auto st = writable(); !st) return st;
    invalidate_cache();
    return transaction([&](Store&) { return body(); });
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

std::vector<std::string> domain_attrs() {
    return {kDomainName, kActive, kMaxSize, kQuotaBytes, kCreated, "createTimestamp"};
}

std::string created_of(const LdapStore::Entry& e) {
    std::string c = iso8601(e.first(kCreated));
    return c.empty() ? iso8601(e.first("createTimestamp")) : c;
}

Domain to_domain(const LdapStore::Entry& e) {
    Domain d;
    d.name = to_lower(e.first(kDomainName));
    d.active = to_bool(e.first(kActive));
    d.max_message_size = to_int(e.first(kMaxSize));
    d.quota_bytes = to_int(e.first(kQuotaBytes));
    d.created = created_of(e);
    return d;
}

}  // namespace

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
    if (auto st = validate::sizes({in.max_message_size, in.quota_bytes}); !st) return st;
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
        auto st = add_entry(domain_dn(*name), attrs);
        if (!st && st.error().kind == ErrorKind::Perm)
            return fail(perm("domain " + *name + " already exists"));
        return st;
    });
}

Status LdapStore::update_domain(const Domain& in) {
    auto name = parse_domain(in.name);
    if (!name) return fail(not_found("unknown domain " + sanitize_for_log(in.name)));
    if (auto st = validate::sizes({in.max_message_size, in.quota_bytes}); !st) return st;
    return write([&]() -> Status {
        auto e = read_domain(*name, false);
        if (!e) return fail(e.error());
        return replace_attrs(*e, {{kActive, boolean(in.active)},
                                  {kMaxSize, number(in.max_message_size)},
                                  {kQuotaBytes, number(in.quota_bytes)}});
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
    return {ldap_.mail_attribute, ldap_.password_attribute, kActive,  kMaxSize,
            kQuotaBytes,          kQuotaMessages,           kMaildir, kCreated,
            "createTimestamp",    "modifyTimestamp"};
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
    auto addr = parse_address(in.address);
    if (!addr) return fail(addr.error());
    if (auto st = validate::sizes({in.max_message_size, in.quota_bytes, in.quota_messages}); !st)
        return st;
    if (auto st = validate::password(in.password); !st) return st;
    auto maildir = validate::maildir_for(*addr, in.maildir);
    if (!maildir) return fail(maildir.error());
    const std::string address = validate::canonical(*addr);
    const std::string domain = to_lower(addr->domain);
    return write([&]() -> Status {
        auto d = read_domain(domain, false);
        if (!d) return fail(d.error());
        auto existing = mailbox_entries(address, false, 2, false);
        if (!existing) return fail(existing.error());
        if (!existing->empty()) return fail(perm("mailbox " + address + " already exists"));
        Attrs attrs{{"objectClass", {"inetOrgPerson", ldap_.mailbox_object_class}},
                    {"cn", {address}},
                    {"sn", {addr->local}},
                    {ldap_.mail_attribute, {address}},
                    {kActive, boolean(in.active)},
                    {kMaildir, {*maildir}},
                    {kCreated, {generalized_now()}}};
        if (!in.password.empty())
            attrs.emplace_back(ldap_.password_attribute, std::vector{in.password});
        if (in.max_message_size) attrs.emplace_back(kMaxSize, number(in.max_message_size));
        if (in.quota_bytes) attrs.emplace_back(kQuotaBytes, number(in.quota_bytes));
        if (in.quota_messages) attrs.emplace_back(kQuotaMessages, number(in.quota_messages));
        auto st =
            add_entry(ldap_.mail_attribute + "=" + ldap_dn_escape(address) + "," + d->dn, attrs);
        if (!st && st.error().kind == ErrorKind::Perm &&
            st.error().what.find(ldap_err2string(LDAP_ALREADY_EXISTS)) != std::string::npos)
            return fail(perm("mailbox " + address + " already exists"));
        return st;
    });
}

Status LdapStore::update_mailbox(const Mailbox& in) {
    auto addr = parse_address(in.address);
    if (!addr) return fail(not_found("no mailbox " + sanitize_for_log(in.address)));
    if (auto st = validate::sizes({in.max_message_size, in.quota_bytes, in.quota_messages}); !st)
        return st;
    if (auto st = validate::password(in.password); !st) return st;
    auto maildir = validate::maildir_for(*addr, in.maildir);
    if (!maildir) return fail(maildir.error());
    const std::string address = validate::canonical(*addr);
    return write([&]() -> Status {
        auto found = one_mailbox(address, false);
        if (!found) return fail(found.error());
        return replace_attrs(
            *found, {{ldap_.password_attribute,
                      in.password.empty() ? std::vector<std::string>{} : std::vector{in.password}},
                     {kActive, boolean(in.active)},
                     {kMaxSize, number(in.max_message_size)},
                     {kQuotaBytes, number(in.quota_bytes)},
                     {kQuotaMessages, number(in.quota_messages)},
                     {kMaildir, {*maildir}}});
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
        if (!iequal(a.domain, b.domain)) return nocase_less(a.domain, b.domain);
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
            if (iequal(e.first(kAliasTarget), *target))
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
        if (!iequal(a.alias.source, b.alias.source))
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
