#include "lda/mailbox.hpp"

#include <optional>

#include "core/store/address.hpp"
#include "core/util/strings.hpp"

namespace yubin::lda {
namespace {

// A store-relative Maildir path must stay under virtual_mailbox_base.
bool safe_relative(std::string_view p) {
    if (p.empty() || p.front() == '/') return false;
    for (auto part : split_any(p, "/"))
        if (part == "..") return false;
    for (char c : p)
        if (static_cast<unsigned char>(c) < 0x20) return false;
    return true;
}

}  // namespace

Result<Mailbox> local_mailbox(const config::Config& cfg, std::string_view home,
                              std::string_view extension) {
    std::string rel = cfg.get("lda_mailbox");
    Mailbox m;
    if (!rel.empty() && rel.front() == '/') {
        m.maildir = rel;
    } else {
        if (home.empty() || home.front() != '/')
            return fail(ErrorKind::Config, "HOME is not set to an absolute path");
        m.maildir = std::string(home) + "/" + rel;
    }
    m.extension = std::string(extension);
    m.quota.bytes = cfg.get_int("default_quota");
    return m;
}

Result<Mailbox> virtual_mailbox(store::Store& st, const config::Config& cfg,
                                std::string_view recipient) {
    auto delim = cfg.get("recipient_delimiter");
    auto mb = store::find_mailbox(st, recipient, delim);
    if (!mb) return fail(mb.error());
    if (!mb->active) return fail(ErrorKind::Perm, "mailbox disabled");
    if (!safe_relative(mb->maildir))
        return fail(ErrorKind::Internal, "unsafe maildir path in store for " + mb->address);
    Mailbox m;
    m.maildir = cfg.get("virtual_mailbox_base") + "/" + mb->maildir;
    m.create_parents = true;
    m.quota.bytes = mb->quota_bytes;
    m.quota.messages = mb->quota_messages;
    // The domain supplies what the mailbox leaves unset: quota, spam_filter.
    std::optional<store::Domain> dom;
    if (m.quota.bytes == 0 || mb->spam_filter == store::SpamFilter::Inherit) {
        auto d = st.get_domain(mb->domain);
        if (!d && d.error().kind != ErrorKind::NotFound) return fail(d.error());
        if (d) dom = std::move(*d);
    }
    if (m.quota.bytes == 0 && dom) m.quota.bytes = dom->quota_bytes;
    m.filter = store::effective_overrides(&*mb, dom ? &*dom : nullptr).spam_filter !=
               store::SpamFilter::Off;
    if (m.quota.bytes == 0) m.quota.bytes = cfg.get_int("default_quota");
    // The extension is what the lookup stripped: "user+folder" -> "folder".
    auto at = recipient.rfind('@');
    std::string_view local = recipient.substr(0, at == std::string_view::npos ? 0 : at);
    if (local.size() > mb->local_part.size() + 1 && istarts_with(local, mb->local_part))
        m.extension = std::string(local.substr(mb->local_part.size() + 1));
    return m;
}

Outcome lookup_failure(const Error& e, std::string_view recipient) {
    if (e.kind == ErrorKind::NotFound)
        return perm_failure("5.1.1", "user unknown: " + std::string(recipient));
    if (e.kind == ErrorKind::Perm) return perm_failure("5.2.1", e.what);
    return temp_failure("4.3.0", e.what);
}

}  // namespace yubin::lda
