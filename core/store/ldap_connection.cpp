// LdapStore's side that speaks LDAP: the connection, the one error mapping,
// searches and the three writes, and the undo log that makes transaction()
// (ldap_store.hpp explains the model). The store semantics are in
// ldap_store.cpp.
#include <ldap.h>
#include <sys/time.h>

#include <utility>

#include "core/store/ldap_store.hpp"
#include "core/util/strings.hpp"

namespace yubin::store {
namespace {

Error not_found(std::string what) {
    return Error{ErrorKind::NotFound, std::move(what)};
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

}  // namespace

// ---- entries ----

const std::vector<std::string>* LdapStore::Entry::values(std::string_view name) const {
    for (const auto& [n, v] : attrs)
        if (iequals(n, name)) return &v;
    return nullptr;
}

std::string LdapStore::Entry::first(std::string_view name) const {
    const auto* v = values(name);
    return v && !v->empty() ? v->front() : std::string();
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
    if (!ldap_.tls_ca_file.empty()) {
        // Per handle: a new TLS context with only this CA, certificates
        // demanded (whatever TLS_REQCERT in ldap.conf says).
        int demand = LDAP_OPT_X_TLS_DEMAND, is_server = 0;
        if (ldap_set_option(ld_, LDAP_OPT_X_TLS_CACERTFILE, ldap_.tls_ca_file.c_str()) !=
                LDAP_OPT_SUCCESS ||
            ldap_set_option(ld_, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
            ldap_set_option(ld_, LDAP_OPT_X_TLS_NEWCTX, &is_server) != LDAP_OPT_SUCCESS) {
            disconnect();
            return fail(ErrorKind::Temp, "store_ldap_tls_ca_file " +
                                             sanitize_for_log(ldap_.tls_ca_file) +
                                             ": cannot be used as CA certificates");
        }
    }
    // libldap reports a certificate that does not verify only as "Connect
    // error" / "Can't contact LDAP server": name the likely cause.
    const bool tls = ldap_.start_tls || ldap_.uri.find("ldaps://") != std::string::npos;
    auto tls_hint = [&](Error& e, int rc) {
        if (tls && (rc == LDAP_CONNECT_ERROR || rc == LDAP_SERVER_DOWN))
            e.what += " (or the server's TLS certificate did not verify: store_ldap_tls_ca_file, "
                      "host name in store_ldap_uri)";
    };
    if (ldap_.start_tls) {
        if (int rc = ldap_start_tls_s(ld_, nullptr, nullptr); rc != LDAP_SUCCESS) {
            Error e = ldap_error(rc, "StartTLS", false);
            tls_hint(e, rc);
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
            tls_hint(e, rc);
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
    if (options_.read_only)
        return fail(ErrorKind::Perm, "ldap " + ldap_.uri + ": store is open read-only");
    return {};
}

// One store-level change: several LDAP operations undone together if one of
// them fails.
Status LdapStore::write(const std::function<Status()>& body) {
    if (auto st = writable(); !st) return st;
    invalidate_cache();
    return transaction([&](Store&) { return body(); });
}

}  // namespace yubin::store
