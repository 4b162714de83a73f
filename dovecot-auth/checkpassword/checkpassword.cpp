// SECURITY: parse_request reads the request Dovecot passes on fd 3, which
// carries a client's user name and password: bounded to kMaxRequestBytes by
// the reader, split on NUL bytes only, the user bounded again here. The
// password never reaches a log line or the environment; the stored hash goes
// into the environment of checkpassword-reply only for a credentials lookup,
// which is what Dovecot asked for.
#include "dovecot-auth/checkpassword/checkpassword.hpp"

#include <cstring>

#include "core/util/limits.hpp"

namespace yubin::checkpassword {

Result<Request> parse_request(std::string data) {
    if (data.size() > kMaxRequestBytes)
        return fail(ErrorKind::BadInput,
                    "request longer than " + std::to_string(kMaxRequestBytes) + " bytes");
    const std::size_t user_end = data.find('\0');
    if (user_end == std::string::npos)
        return fail(ErrorKind::BadInput, "request without a NUL after the user name");
    const std::size_t pass_end = data.find('\0', user_end + 1);
    if (pass_end == std::string::npos)
        return fail(ErrorKind::BadInput, "request without a NUL after the password");
    if (user_end == 0) return fail(ErrorKind::BadInput, "empty user name");
    if (user_end > limits::kMaxAddressBytes) return fail(ErrorKind::BadInput, "user name too long");
    Request r;
    r.user = data.substr(0, user_end);
    r.password = passwd::Secret(data.substr(user_end + 1, pass_end - user_end - 1));
    passwd::Secret wipe(std::move(data));  // the copy in `data` is wiped too
    return r;
}

Mode mode_from_env(const char* authorized, const char* credentials_lookup) {
    if (authorized == nullptr || std::strcmp(authorized, "1") != 0) return Mode::Authenticate;
    if (credentials_lookup != nullptr && std::strcmp(credentials_lookup, "1") == 0)
        return Mode::CredentialsLookup;
    return Mode::UserLookup;
}

namespace {

void put_userdb_env(Answer& a, const auth::Service& service, const auth::AuthResult& r,
                    std::string_view user) {
    std::string extra;
    a.env.emplace_back("USER", std::string(user));
    for (const auto& [name, value] : service.userdb_fields(r)) {
        if (name == "home") {
            a.env.emplace_back("HOME", value);
            continue;
        }
        std::string var = "userdb_" + name;
        extra += (extra.empty() ? "" : " ") + var;
        a.env.emplace_back(std::move(var), value);
    }
    a.env.emplace_back("EXTRA", std::move(extra));
}

void add_extra(Answer& a, const std::string& var, const std::string& value) {
    for (auto& [k, v] : a.env)
        if (k == "EXTRA") v += " " + var;
    a.env.emplace_back(var, value);
}

}  // namespace

Answer answer(auth::Service& service, Mode mode, const Request& request) {
    using auth::Outcome;
    Answer a;
    auth::AuthResult r = mode == Mode::Authenticate
                             ? service.verify_plain(request.user, request.password.view())
                             : service.lookup(request.user);
    if (r.outcome == Outcome::TempFail) {
        a.exit_code = kExitTempFail;
        a.log = "temporary failure: " + r.reason;
        a.error = true;
        return a;
    }
    if (r.outcome == Outcome::UserUnknown) {
        a.exit_code = mode == Mode::Authenticate ? kExitFail : kExitUnknownUser;
        a.log = "unknown user";
        return a;
    }
    if (mode == Mode::Authenticate) {
        if (r.outcome != Outcome::Ok) {
            a.exit_code = kExitFail;
            a.log = r.outcome == Outcome::Disabled ? "login refused: " + r.reason : r.reason;
            a.error = r.alert;
            return a;
        }
        a.log = r.reason;  // a rehash, or why one failed
        a.error = r.alert;
    } else if (mode == Mode::CredentialsLookup) {
        if (r.outcome == Outcome::Disabled || r.mailbox.password.empty()) {
            a.exit_code = kExitFail;
            a.log =
                r.outcome == Outcome::Disabled ? "login refused: " + r.reason : "no password set";
            return a;
        }
    }
    // Ok; or, for a user lookup, Disabled: the mailbox exists (delivery,
    // doveadm), only logins are refused, by the passdb.
    a.exec_reply = true;
    a.exit_code = kExitOk;
    put_userdb_env(a, service, r, request.user);
    if (mode == Mode::CredentialsLookup) add_extra(a, "password", r.mailbox.password);
    if (mode != Mode::Authenticate) a.env.emplace_back("AUTHORIZED", "2");
    return a;
}

}  // namespace yubin::checkpassword
