#include "core/store/store.hpp"

#include "core/store/address.hpp"
#include "core/store/ldap_backend.hpp"
#include "core/store/sqlite_store.hpp"
#include "core/util/strings.hpp"

namespace yubin::store {

std::string_view to_string(SpamFilter f) {
    switch (f) {
        case SpamFilter::On:
            return "on";
        case SpamFilter::Off:
            return "off";
        case SpamFilter::Inherit:
            break;
    }
    return "inherit";
}

std::optional<SpamFilter> parse_spam_filter(std::string_view s) {
    if (iequals(s, "inherit")) return SpamFilter::Inherit;
    if (iequals(s, "on") || iequals(s, "yes")) return SpamFilter::On;
    if (iequals(s, "off") || iequals(s, "no")) return SpamFilter::Off;
    return std::nullopt;
}

EffectiveOverrides effective_overrides(const Mailbox* m, const Domain* d) {
    EffectiveOverrides e;
    if (m) {
        e.rate_limit = m->rate_limit;
        e.recipient_limit = m->recipient_limit;
        e.spam_filter = m->spam_filter;
    }
    if (d) {
        if (e.rate_limit.empty()) e.rate_limit = d->rate_limit;
        if (e.recipient_limit == 0) e.recipient_limit = d->recipient_limit;
        if (e.spam_filter == SpamFilter::Inherit) e.spam_filter = d->spam_filter;
    }
    return e;
}

std::string_view strip_extension(std::string_view local, std::string_view delimiters) {
    if (delimiters.empty() || local.size() < 2) return {};
    // A delimiter at position 0 is part of the name ("+owner"), as in Postfix:
    // stripping it would leave an empty user.
    std::size_t pos = local.find_first_of(delimiters, 1);
    if (pos == std::string_view::npos) return {};
    return local.substr(0, pos);
}

Result<Mailbox> find_mailbox(Store& store, std::string_view address, std::string_view delimiters) {
    auto exact = store.get_mailbox(address);
    if (exact || exact.error().kind != ErrorKind::NotFound) return exact;
    auto addr = parse_address(address);
    if (!addr) return exact;
    std::string_view user = strip_extension(addr->local, delimiters);
    if (user.empty()) return exact;
    auto bare = store.get_mailbox(std::string(user) + "@" + addr->domain);
    if (bare || bare.error().kind != ErrorKind::NotFound) return bare;
    return exact;  // report the address that was asked for
}

namespace {

// "@other" -> "<local>@other"; anything else unchanged.
std::string rewrite_domain_alias(const std::string& target, std::string_view local) {
    if (!target.empty() && target.front() == '@') return std::string(local) + target;
    return target;
}

}  // namespace

Result<std::vector<std::string>> resolve_alias(Store& store, std::string_view address,
                                               std::string_view delimiters) {
    std::vector<std::string> out;
    auto addr = parse_address(address);
    if (!addr) return out;
    const std::string domain = to_lower(addr->domain);
    const std::string& local = addr->local;

    auto exact = store.alias_targets(local + "@" + domain);
    if (!exact) return exact;
    if (!exact->empty()) {
        for (auto& t : *exact) out.push_back(rewrite_domain_alias(t, local));
        return out;
    }

    std::string_view user = strip_extension(local, delimiters);
    if (!user.empty()) {
        std::string_view extension = std::string_view(local).substr(user.size());
        auto bare = store.alias_targets(std::string(user) + "@" + domain);
        if (!bare) return bare;
        if (!bare->empty()) {
            for (auto& t : *bare) {
                if (!t.empty() && t.front() == '@') {
                    // Postfix prepends the whole original local part and
                    // does not propagate the extension a second time.
                    out.push_back(rewrite_domain_alias(t, local));
                } else {
                    std::size_t at = t.rfind('@');
                    out.push_back(at == std::string::npos
                                      ? t + std::string(extension)
                                      : t.substr(0, at) + std::string(extension) + t.substr(at));
                }
            }
            return out;
        }
    }

    auto catchall = store.alias_targets("@" + domain);
    if (!catchall) return catchall;
    for (auto& t : *catchall) out.push_back(rewrite_domain_alias(t, local));
    return out;
}

Result<std::unique_ptr<Store>> open_store(std::string_view spec, const StoreOptions& options) {
    constexpr std::string_view kSqlite = "sqlite:";
    if (spec.substr(0, kSqlite.size()) == kSqlite) {
        auto s = SqliteStore::open(std::string(spec.substr(kSqlite.size())), options);
        if (!s) return fail(s.error());
        return std::unique_ptr<Store>(std::move(*s));
    }
    constexpr std::string_view kLdap = "ldap:";
    if (spec.substr(0, kLdap.size()) == kLdap) {
        return open_ldap_backend(std::string(spec.substr(kLdap.size())), options);
    }
    return fail(ErrorKind::Config, "unknown store \"" + sanitize_for_log(spec) +
                                       "\" (expected sqlite:/path/to/file.db or "
                                       "ldap:/path/to/yubin.cf)");
}

}  // namespace yubin::store
