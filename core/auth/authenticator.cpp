// SECURITY: user names and passwords arrive from clients (IMAP/POP3 logins
// through Dovecot, SMTP AUTH through saslauthd, checkpassword's fd 3). The
// user name reaches the store only as a lookup key (the store parses it as an
// address and binds it as a statement parameter; a key that does not parse is
// not found). The password is bounded here (limits::kMaxPasswordBytes, no
// NUL) before any scheme sees it, so that passwd::verify's BadInput can only
// mean "the stored hash is unusable". Neither is ever put into `reason`
// verbatim except the user name, which front ends sanitise when they log it.
#include "core/auth/authenticator.hpp"

#include <utility>

#include "core/passwd/passwd.hpp"
#include "core/util/limits.hpp"
#include "core/util/strings.hpp"

namespace yubin::auth {
namespace {

AuthResult result(Outcome o, std::string reason) {
    AuthResult r;
    r.outcome = o;
    r.reason = std::move(reason);
    return r;
}

// NotFound is the only kind that means "no such user"; everything else a
// store answers on a lookup means it could not answer.
AuthResult from_store_error(const Error& e) {
    if (e.kind == ErrorKind::NotFound) return result(Outcome::UserUnknown, "unknown user");
    return result(Outcome::TempFail, "store: " + e.what);
}

bool acceptable_password(std::string_view pw) {
    return !pw.empty() && pw.size() <= limits::kMaxPasswordBytes &&
           pw.find('\0') == std::string_view::npos;
}

}  // namespace

std::string_view to_string(Outcome o) {
    switch (o) {
        case Outcome::Ok:
            return "ok";
        case Outcome::UserUnknown:
            return "user unknown";
        case Outcome::PasswordMismatch:
            return "password mismatch";
        case Outcome::Disabled:
            return "disabled";
        case Outcome::TempFail:
            return "temporary failure";
    }
    return "temporary failure";
}

Authenticator::Authenticator(store::Store& store, std::string default_scheme,
                             store::Store* rehash_store)
    : store_(store), default_scheme_(std::move(default_scheme)), rehash_store_(rehash_store) {}

AuthResult Authenticator::lookup(std::string_view user) {
    auto mb = store_.get_mailbox(user);
    if (!mb) return from_store_error(mb.error());
    auto dom = store_.get_domain(mb->domain);
    if (!dom) {
        // The store keeps a mailbox's domain while it has mailboxes, so a
        // missing one is a store fault, not an unknown user.
        if (dom.error().kind == ErrorKind::NotFound)
            return result(Outcome::TempFail,
                          "store: domain " + mb->domain + " of mailbox is missing");
        return result(Outcome::TempFail, "store: " + dom.error().what);
    }
    AuthResult r;
    r.mailbox = std::move(*mb);
    r.domain = std::move(*dom);
    if (!r.mailbox.active) {
        r.outcome = Outcome::Disabled;
        r.reason = "mailbox is disabled";
    } else if (!r.domain.active) {
        r.outcome = Outcome::Disabled;
        r.reason = "domain " + r.domain.name + " is disabled";
    } else {
        r.outcome = Outcome::Ok;
    }
    return r;
}

AuthResult Authenticator::verify_plain(std::string_view user, std::string_view password) {
    AuthResult r = lookup(user);
    if (r.outcome == Outcome::UserUnknown || r.outcome == Outcome::TempFail) return r;
    const Outcome if_match = r.outcome;  // Ok or Disabled
    std::string if_match_reason = std::move(r.reason);
    r.reason.clear();

    auto mismatch = [&](std::string why, bool alert = false) {
        r.outcome = Outcome::PasswordMismatch;
        r.reason = std::move(why);
        r.alert = alert;
        return std::move(r);
    };
    if (r.mailbox.password.empty()) return mismatch("no password set");
    if (!acceptable_password(password))
        return mismatch("password empty, too long or with NUL byte");

    auto v = passwd::verify(password, r.mailbox.password, default_scheme_);
    if (!v) {
        if (v.error().kind == ErrorKind::BadInput)
            return mismatch("stored password hash is unusable (" +
                                passwd::scheme_of(r.mailbox.password) + "): " + v.error().what,
                            true);
        r.outcome = Outcome::TempFail;
        r.reason = "password check: " + v.error().what;
        return r;
    }
    if (!v->match) return mismatch("password mismatch");

    r.outcome = if_match;
    r.reason = std::move(if_match_reason);
    if (r.outcome == Outcome::Ok && v->needs_rehash && rehash_store_ != nullptr)
        rehash(r, password);
    return r;
}

bool wants_rehash(std::string_view stored, std::string_view default_scheme) {
    const std::string scheme = passwd::scheme_of(stored);
    return !passwd::can_create(scheme) || !iequals(scheme, default_scheme);
}

void Authenticator::rehash(AuthResult& r, std::string_view password) {
    if (rehash_store_ == nullptr || r.outcome != Outcome::Ok) return;
    const std::string old_scheme = passwd::scheme_of(r.mailbox.password);
    auto fresh = passwd::hash(password, default_scheme_);
    if (!fresh) {
        r.reason = "rehash from " + old_scheme + " to " + default_scheme_ +
                   " failed: " + fresh.error().what;
        r.alert = true;
        return;
    }
    bool written = false;
    // Compare and set in one transaction: only replace the hash just
    // verified, never one changed since by yubinctl.
    auto st = rehash_store_->transaction([&](store::Store& s) -> Status {
        auto now = s.get_mailbox(r.mailbox.address);
        if (!now) return fail(now.error());
        if (now->password != r.mailbox.password) return {};
        if (auto set = s.set_password(r.mailbox.address, *fresh); !set) return set;
        written = true;
        return {};
    });
    if (!st) {
        r.reason =
            "rehash from " + old_scheme + " to " + default_scheme_ + " failed: " + st.error().what;
        r.alert = true;
        return;
    }
    if (written) {
        r.mailbox.password = std::move(*fresh);
        r.rehashed = true;
        r.reason = "password rehashed from " + old_scheme + " to " + default_scheme_;
    }
}

Result<std::vector<std::string>> Authenticator::list_users() {
    auto all = store_.list_mailboxes("");
    if (!all) return fail(all.error());
    std::vector<std::string> users;
    users.reserve(all->size());
    for (auto& m : *all) users.push_back(std::move(m.address));
    return users;
}

}  // namespace yubin::auth
