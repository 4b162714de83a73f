// Authenticator: the one password check every yubin front end uses — the
// Dovecot auth module, yubin-checkpassword, yubin-authd's saslauthd server
// and `yubinctl auth test` — so they all answer the same for the same user.
//
// Outcomes are named by kind, as Dovecot's passdb results are, because each
// front end answers them differently and a store fault must never be taken
// for a wrong password:
//
//   Ok                the password matches, mailbox and domain are active
//   UserUnknown       no mailbox has this exact login (case-insensitive);
//                     a login that is not a valid address is unknown too
//   PasswordMismatch  wrong password, no password set, a password the schemes
//                     refuse (NUL byte, over-long), or a stored hash that
//                     cannot be used (see below)
//   Disabled          the password matches but the mailbox or its domain is
//                     disabled (front ends refuse it like a wrong password
//                     and log the reason)
//   TempFail          the store could not answer, or a library failed: the
//                     client should try again later (IMAP [UNAVAILABLE],
//                     SMTP 454, checkpassword 111)
//
// A stored hash that cannot be used (unknown scheme, malformed) is a
// PasswordMismatch with `alert` set: it must never let anyone in, retrying
// cannot repair it, and the administrator has to see it — front ends log
// `reason` as an error when `alert` is set. The password is checked before
// the active flags, so "disabled" is only ever reported (and logged) to
// someone who knew the password.
//
// Logins are exact addresses: no +extension stripping (an extension is a
// delivery feature, not a second login name).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/store/store.hpp"
#include "core/util/result.hpp"

namespace yubin::auth {

enum class Outcome { Ok, UserUnknown, PasswordMismatch, Disabled, TempFail };

// "ok", "user unknown", "password mismatch", "disabled", "temporary failure"
[[nodiscard]] std::string_view to_string(Outcome o);

struct AuthResult {
    Outcome outcome = Outcome::TempFail;
    // Filled whenever the mailbox was found (every outcome but UserUnknown and
    // TempFail), with domain its domain row.
    store::Mailbox mailbox{};
    store::Domain domain{};
    // Why, for the log: never contains a password or hash. Empty on a plain Ok.
    std::string reason{};
    // reason names something the administrator must fix (an unusable stored
    // hash, a failed rehash): log it as an error, not as a routine failure.
    bool alert = false;
    // Ok only: the stored hash was replaced by one in the default scheme.
    bool rehashed = false;
};

class Authenticator {
public:
    // rehash_store may be null (read-only front ends): then no rehash is
    // written. It may be the same object as `store`. Both must outlive this.
    Authenticator(store::Store& store, std::string default_scheme,
                  store::Store* rehash_store = nullptr);

    // On Ok with a hash that needs rehash (verify-only or non-default scheme)
    // and a rehash_store: writes a new hash in default_scheme, but only if the
    // stored hash is still the one just verified (a password changed in
    // between by yubinctl is never overwritten). A failed rehash leaves the
    // outcome Ok and sets reason and alert.
    [[nodiscard]] AuthResult verify_plain(std::string_view user, std::string_view password);

    // For userdb and credential lookups: Ok with the mailbox, Disabled with
    // the mailbox (mailbox or domain inactive), UserUnknown, or TempFail.
    [[nodiscard]] AuthResult lookup(std::string_view user);

    // Every mailbox address, active or not, for user iteration (doveadm user '*').
    [[nodiscard]] Result<std::vector<std::string>> list_users();

    // The rehash verify_plain does, for callers that open the rehash store
    // only when it is needed: `r` must be the Ok result of verify_plain with
    // this password. Needs a rehash_store (does nothing without one).
    void rehash(AuthResult& r, std::string_view password);

private:
    store::Store& store_;
    std::string default_scheme_;
    store::Store* rehash_store_;
};

// Whether a matching password stored as `stored` would be rehashed into
// default_scheme: its scheme is verify-only or another one.
[[nodiscard]] bool wants_rehash(std::string_view stored, std::string_view default_scheme);

}  // namespace yubin::auth
