// The checkpassword protocol (qmail's, with Dovecot's extensions) over
// auth::Service: what yubin-checkpassword does, as functions a test can call.
//
// Dovecot (passdb/userdb driver = checkpassword) runs
//     yubin-checkpassword [-c FILE] REPLY-PROGRAM
// and writes "user\0password\0timestamp\0" (at most 512 bytes) on fd 3. The
// program answers by its exit status, or by exec'ing REPLY-PROGRAM
// (Dovecot's checkpassword-reply) with the userdb fields in its environment.
// A lookup without password comes with AUTHORIZED=1 in the environment
// (userdb lookup), plus CREDENTIALS_LOOKUP=1 when Dovecot wants the stored
// credentials (passdb lookup for CRAM-MD5 and the like).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/auth/service.hpp"
#include "core/passwd/secret.hpp"
#include "core/util/result.hpp"

namespace yubin::checkpassword {

// Dovecot's CHECKPASSWORD_MAX_REQUEST_LEN; qmail's checkpassword reads 512 too.
inline constexpr std::size_t kMaxRequestBytes = 512;

// Exit statuses Dovecot 2.3 understands.
inline constexpr int kExitOk = 0;           // (checkpassword-reply's, after exec)
inline constexpr int kExitFail = 1;         // authentication failed
inline constexpr int kExitMisuse = 2;       // bad request (Dovecot: internal failure)
inline constexpr int kExitUnknownUser = 3;  // lookup mode: no such user
inline constexpr int kExitTempFail = 111;   // try again later

struct Request {
    std::string user;
    passwd::Secret password;
};

// SECURITY: `data` is what arrived on fd 3, already bounded by the caller to
// kMaxRequestBytes + 1 bytes. It must hold at least "user\0password\0"; the
// timestamp (APOP) and anything after it are ignored. An empty user, a user
// longer than limits::kMaxAddressBytes, or a missing terminator is BadInput.
[[nodiscard]] Result<Request> parse_request(std::string data);

enum class Mode { Authenticate, UserLookup, CredentialsLookup };

// From the environment Dovecot sets: AUTHORIZED=1 -> a lookup, and with
// CREDENTIALS_LOOKUP=1 a credentials lookup.
[[nodiscard]] Mode mode_from_env(const char* authorized, const char* credentials_lookup);

struct Answer {
    // exec the reply program with `env` set (true), or exit with exit_code.
    bool exec_reply = false;
    int exit_code = kExitTempFail;
    std::vector<std::pair<std::string, std::string>> env;
    // For the log; empty when there is nothing to say. error: log as error.
    std::string log;
    bool error = false;
};

// The whole decision, and the one place outcomes become exit statuses:
//   Authenticate:      Ok -> exec (reply exits 0); unknown, mismatch,
//                      disabled -> 1; temporary failure -> 111
//   UserLookup:        Ok or disabled (the mailbox exists) -> exec with
//                      AUTHORIZED=2 (reply exits 2); unknown -> 3; temp -> 111
//   CredentialsLookup: Ok -> exec with the stored hash as field "password";
//                      disabled -> 1; unknown -> 3; temp -> 111
// The environment: USER, HOME, EXTRA naming userdb_uid, userdb_gid,
// userdb_mail (userdb_quota_rule, password) and each of those variables.
[[nodiscard]] Answer answer(auth::Service& service, Mode mode, const Request& request);

}  // namespace yubin::checkpassword
