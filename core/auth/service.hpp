// Service: what every yubin auth front end needs from yubin.cf in one
// object — the store followed live (LiveStore), the Authenticator over it, and
// the userdb fields (uid, gid, home, mail location, quota rule) Dovecot wants
// for a mailbox. The Dovecot module and yubin-checkpassword are thin
// wrappers around it.
//
// Parameters read: store, store_busy_timeout, password_scheme,
// virtual_uid, virtual_gid, auth_home, auth_mail_location.
//
// auth_home and auth_mail_location are templates ($name is already expanded
// by the config) with these placeholders, filled per mailbox:
//   %u  the address, lower case        %d  the domain
//   %n  the local part, lower case     %m  the mailbox's Maildir path relative
//   %%  a literal %                        to virtual_mailbox_base, no final /
// Any other %x is a configuration error, found when the Service is created.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/auth/authenticator.hpp"
#include "core/auth/live_store.hpp"
#include "core/config/config.hpp"
#include "core/util/result.hpp"

namespace yubin::auth {

struct ServiceOptions {
    // Write upgraded hashes (needs write access to the store and its
    // directory). Without it logins never write.
    bool rehash = true;
};

class Service {
public:
    [[nodiscard]] static Result<Service> create(const config::Config& cfg,
                                                ServiceOptions options = {});

    [[nodiscard]] AuthResult verify_plain(std::string_view user, std::string_view password);
    [[nodiscard]] AuthResult lookup(std::string_view user);
    [[nodiscard]] Result<std::vector<std::string>> list_users();

    // Dovecot userdb fields for a found mailbox, in this order: uid, gid,
    // home, mail, and quota_rule when the mailbox or its domain has a quota
    // ("*:storage=<bytes>B[:messages=<n>]", the unit given since Dovecot's
    // default unit is kilobytes).
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> userdb_fields(
        const AuthResult& found) const;

    [[nodiscard]] const std::string& password_scheme() const { return scheme_; }

private:
    Service(LiveStore reader, LiveStore writer, std::string scheme, bool rehash);
    LiveStore reader_;
    LiveStore writer_;
    std::string scheme_;
    bool rehash_ = true;
    std::int64_t uid_ = 0;
    std::int64_t gid_ = 0;
    std::string home_;
    std::string mail_;
};

// The template expansion above, exposed for tests. Config error on an unknown
// or trailing '%'.
[[nodiscard]] Result<std::string> expand_user_template(std::string_view tmpl,
                                                       const store::Mailbox& mailbox);

}  // namespace yubin::auth
