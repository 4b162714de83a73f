// Password hashing and verification in Dovecot's "{SCHEME}hash" form, so
// that Dovecot can verify what yubin stores and yubin what Dovecot (or an
// imported file) stored.
//
//   creatable and verifiable: ARGON2ID (default), SHA512-CRYPT, BLF-CRYPT,
//                             SSHA512
//   verify-only (imports; a match asks for rehash): CRAM-MD5, HMAC-MD5,
//                             PLAIN, CLEARTEXT, MD5-CRYPT, SHA256-CRYPT,
//                             CRYPT, SHA512, ARGON2I
//
// Scheme names are case-insensitive on input and upper case on output.
// Passwords: at most limits::kMaxPasswordBytes (the crypt schemes: 511, a
// libxcrypt limit), no NUL byte; otherwise BadInput. hash() refuses an empty
// password (BadInput) and verify() never matches one.
#pragma once

#include <string>
#include <string_view>

#include "core/passwd/secret.hpp"
#include "core/util/result.hpp"

namespace yubin::passwd {

inline constexpr std::string_view kDefaultScheme = "ARGON2ID";
// A stored "{SCHEME}hash" longer than this is malformed: PLAIN at the
// password bound plus a prefix, with room to spare; every real hash is far
// shorter.
inline constexpr std::size_t kMaxStoredBytes = 4096;

// Scheme names as Dovecot spells them, upper case: "ARGON2ID", "SHA512-CRYPT", ...
[[nodiscard]] bool can_create(std::string_view scheme);  // the four creatable schemes
[[nodiscard]] bool can_verify(std::string_view scheme);

// "{SHA512-CRYPT}$6$..." -> "SHA512-CRYPT" (upper-cased); no {…} prefix -> "" (caller decides)
[[nodiscard]] std::string scheme_of(std::string_view stored);

// "{SCHEME}hash" for a new password.
// BadInput: unknown/uncreatable scheme, bad password; Internal: library
// failure (random bytes, argon2, crypt).
[[nodiscard]] Result<std::string> hash(std::string_view plain, std::string_view scheme);

struct Verification {
    bool match = false;
    bool needs_rehash = false;
};

// stored in {SCHEME} form. needs_rehash: matched, and its scheme differs from
// default_scheme (case-insensitive) or is a verify-only scheme.
// BadInput: unknown scheme / malformed stored hash / bad password (never "match").
[[nodiscard]] Result<Verification> verify(std::string_view plain, std::string_view stored,
                                          std::string_view default_scheme);

}  // namespace yubin::passwd
