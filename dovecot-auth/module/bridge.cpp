// The C++ side of libauthdb_yubin.so: parses the module args, loads yubin.cf
// and answers the shim's calls through auth::Service. Every entry point is
// noexcept and catches everything, since an exception must never unwind
// into Dovecot's C stack: whatever goes wrong becomes YUBIN_AUTHDB_TEMPFAIL
// (Dovecot: internal failure, IMAP [UNAVAILABLE]).
//
// SECURITY: user names and passwords come from IMAP/POP3/SMTP clients via
// Dovecot, as NUL-terminated strings Dovecot has already bounded; they go to
// auth::Service, which bounds and checks them again (see authenticator.cpp).
// Passwords and hashes are never logged; log lines carry Service's reasons.
#include "dovecot-auth/module/bridge.h"

#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <string>

#include "core/auth/module_args.hpp"
#include "core/auth/service.hpp"
#include "core/config/config.hpp"

using yubin::auth::AuthResult;
using yubin::auth::Outcome;

struct yubin_authdb {
    yubin::auth::ModuleArgs args;
    std::unique_ptr<yubin::auth::Service> service;
};

namespace {

void set_error(char* buf, unsigned size, const std::string& what) {
    if (buf != nullptr && size > 0) std::snprintf(buf, size, "%s", what.c_str());
}

yubin_authdb_result to_c(Outcome o) {
    switch (o) {
        case Outcome::Ok:
            return YUBIN_AUTHDB_OK;
        case Outcome::UserUnknown:
            return YUBIN_AUTHDB_USER_UNKNOWN;
        case Outcome::PasswordMismatch:
            return YUBIN_AUTHDB_MISMATCH;
        case Outcome::Disabled:
            return YUBIN_AUTHDB_DISABLED;
        case Outcome::TempFail:
            return YUBIN_AUTHDB_TEMPFAIL;
    }
    return YUBIN_AUTHDB_TEMPFAIL;
}

void log(const yubin_authdb_sink* sink, yubin_authdb_level level, const std::string& msg) {
    if (sink->log != nullptr) sink->log(sink->ctx, level, msg.c_str());
}

// The one place that decides which outcomes are logged how. Unknown users and
// wrong passwords are left to the shim, which uses Dovecot's own helpers so
// auth_verbose / auth_verbose_passwords behave as for any other driver.
yubin_authdb_result report(const AuthResult& r, const yubin_authdb_sink* sink) {
    if (r.outcome == Outcome::TempFail)
        log(sink, YUBIN_AUTHDB_ERROR, "temporary failure: " + r.reason);
    else if (r.outcome == Outcome::Disabled)
        log(sink, YUBIN_AUTHDB_INFO, "login refused: " + r.reason);
    else if (r.alert)
        log(sink, YUBIN_AUTHDB_ERROR, r.reason);
    else if (r.rehashed)
        log(sink, YUBIN_AUTHDB_INFO, r.reason);
    return to_c(r.outcome);
}

template <class F>
yubin_authdb_result guarded(const yubin_authdb_sink* sink, F&& body) noexcept {
    try {
        return body();
    } catch (const std::exception& e) {
        try {
            log(sink, YUBIN_AUTHDB_ERROR,
                std::string("temporary failure: internal error: ") + e.what());
        } catch (...) {
        }
    } catch (...) {
    }
    return YUBIN_AUTHDB_TEMPFAIL;
}

}  // namespace

extern "C" {

yubin_authdb* yubin_authdb_create(const char* args, char* error_buf, unsigned error_size) noexcept {
    try {
        auto parsed = yubin::auth::parse_module_args(args == nullptr ? "" : args);
        if (!parsed) {
            set_error(error_buf, error_size, "args: " + parsed.error().what);
            return nullptr;
        }
        auto cfg = yubin::config::Config::load_file(parsed->config_path);
        if (!cfg) {
            set_error(error_buf, error_size, cfg.error().what);
            return nullptr;
        }
        auto svc = yubin::auth::Service::create(*cfg, {.rehash = parsed->rehash});
        if (!svc) {
            set_error(error_buf, error_size, parsed->config_path + ": " + svc.error().what);
            return nullptr;
        }
        auto db = std::make_unique<yubin_authdb>();
        db->args = std::move(*parsed);
        db->service = std::make_unique<yubin::auth::Service>(std::move(*svc));
        return db.release();
    } catch (const std::exception& e) {
        set_error(error_buf, error_size, std::string("internal error: ") + e.what());
    } catch (...) {
        set_error(error_buf, error_size, "internal error");
    }
    return nullptr;
}

void yubin_authdb_destroy(yubin_authdb* db) noexcept {
    delete db;
}

int yubin_authdb_blocking(const yubin_authdb* db) noexcept {
    return db->args.blocking ? 1 : 0;
}

yubin_authdb_result yubin_authdb_verify_plain(yubin_authdb* db, const char* user,
                                              const char* password,
                                              const yubin_authdb_sink* sink) noexcept {
    return guarded(sink, [&] { return report(db->service->verify_plain(user, password), sink); });
}

yubin_authdb_result yubin_authdb_lookup_credentials(yubin_authdb* db, const char* user,
                                                    const yubin_authdb_sink* sink) noexcept {
    return guarded(sink, [&] {
        AuthResult r = db->service->lookup(user);
        if (r.outcome == Outcome::Ok) {
            if (r.mailbox.password.empty()) {
                r.outcome = Outcome::PasswordMismatch;  // no credentials: nothing can match
                return report(r, sink);
            }
            sink->field(sink->ctx, "password", r.mailbox.password.c_str());
        }
        return report(r, sink);
    });
}

yubin_authdb_result yubin_authdb_userdb_lookup(yubin_authdb* db, const char* user,
                                               const yubin_authdb_sink* sink) noexcept {
    return guarded(sink, [&] {
        AuthResult r = db->service->lookup(user);
        // A disabled mailbox still exists for Dovecot's userdb (delivery,
        // doveadm): the passdb is what keeps its owner out.
        if (r.outcome == Outcome::Disabled) r.outcome = Outcome::Ok;
        if (r.outcome == Outcome::Ok)
            for (const auto& [name, value] : db->service->userdb_fields(r))
                sink->field(sink->ctx, name.c_str(), value.c_str());
        return report(r, sink);
    });
}

yubin_authdb_result yubin_authdb_iterate(yubin_authdb* db, const yubin_authdb_sink* sink) noexcept {
    return guarded(sink, [&] {
        auto users = db->service->list_users();
        if (!users) {
            log(sink, YUBIN_AUTHDB_ERROR, "temporary failure: store: " + users.error().what);
            return YUBIN_AUTHDB_TEMPFAIL;
        }
        for (const auto& u : *users) sink->field(sink->ctx, "user", u.c_str());
        return YUBIN_AUTHDB_OK;
    });
}

}  // extern "C"
