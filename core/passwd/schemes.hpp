// The individual password schemes behind passwd.hpp's hash() and verify().
// Callers outside core/passwd use passwd.hpp; this header exists so the
// scheme table and the tests can reach each scheme and its parameters.
//
// Every *_create returns the stored form WITHOUT the "{SCHEME}" prefix.
// Every *_check returns true/false for match/mismatch, BadInput when the
// stored form is malformed (so a broken hash is never a silent "no match"),
// Internal when a library fails. The plaintext reaching these has already
// been checked (length bound, no NUL) by passwd.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/result.hpp"

namespace yubin::passwd {

// ARGON2ID parameters: what Dovecot 2.3 (through libsodium) writes by
// default, so hashes made by yubin and by `doveadm pw -s ARGON2ID` are alike.
inline constexpr std::uint32_t kArgon2TimeCost = 3;       // t=3 passes
inline constexpr std::uint32_t kArgon2MemoryKiB = 65536;  // m=65536 (64 MiB)
inline constexpr std::uint32_t kArgon2Lanes = 1;          // p=1
inline constexpr std::size_t kArgon2SaltBytes = 16;
inline constexpr std::size_t kArgon2HashBytes = 32;
// Bounds on what a stored Argon2 hash may ask of us, so one imported line
// cannot make every login allocate gigabytes or spin for minutes. They admit
// everything libsodium's "sensitive" level (t=4, 1 GiB) produces.
inline constexpr std::uint32_t kArgon2MaxTimeCost = 32;
inline constexpr std::uint32_t kArgon2MaxMemoryKiB = 1u << 20;
inline constexpr std::uint32_t kArgon2MaxLanes = 16;
inline constexpr std::size_t kArgon2MinSaltBytes = 8;  // libargon2's minimum
inline constexpr std::size_t kArgon2MaxSaltBytes = 64;
inline constexpr std::size_t kArgon2MinHashBytes = 16;
inline constexpr std::size_t kArgon2MaxHashBytes = 64;

// SHA512-CRYPT: libxcrypt's default of 5000 rounds, which is also Dovecot's
// and is written without a "rounds=" field, so every crypt() reads it.
inline constexpr unsigned long kSha512CryptRounds = 0;  // 0 = library default (5000)
// BLF-CRYPT: cost 10 (2^10 rounds). Dovecot's own default is 5, which is a
// 2000s-era cost; 10 is the usual floor today and still ~50-100 ms per login.
inline constexpr unsigned long kBlfCryptCost = 10;
// Stored SHA-crypt "rounds=" and bcrypt costs above these are refused as
// malformed rather than run (libxcrypt would accept up to 999,999,999 rounds).
inline constexpr unsigned long kMaxShaCryptRounds = 1'000'000;
inline constexpr unsigned long kMaxBlfCryptCost = 16;
// libxcrypt refuses passphrases of CRYPT_MAX_PASSPHRASE_SIZE (512) bytes or
// more, NUL included; the crypt schemes therefore stop below
// limits::kMaxPasswordBytes (longer -> BadInput).
inline constexpr std::size_t kMaxCryptPasswordBytes = 511;

inline constexpr std::size_t kSsha512SaltBytes = 16;  // Dovecot writes 4; any length verifies
inline constexpr std::size_t kSha512Bytes = 64;

// Constant-time equality (CRYPTO_memcmp). Lengths are compared first: they
// are fixed by the scheme and not secret (PLAIN compares digests instead).
[[nodiscard]] bool ct_equal(std::string_view a, std::string_view b);
// n bytes from OpenSSL's CSPRNG; Internal if it fails.
[[nodiscard]] Result<std::string> random_bytes(std::size_t n);

enum class Argon2Variant { Argon2id, Argon2i };
[[nodiscard]] Result<std::string> argon2id_create(std::string_view plain);
[[nodiscard]] Result<bool> argon2_check(std::string_view plain, std::string_view stored,
                                        Argon2Variant variant);

enum class CryptFamily {
    Sha512,    // $6$
    Sha256,    // $5$
    Md5,       // $1$
    Blowfish,  // $2y$ (also $2a$ and $2b$ on verify)
    Any,       // {CRYPT}: whatever crypt_r understands
};
[[nodiscard]] Result<std::string> crypt_create(std::string_view plain, CryptFamily family);
[[nodiscard]] Result<bool> crypt_check(std::string_view plain, std::string_view stored,
                                       CryptFamily family);

[[nodiscard]] Result<std::string> ssha512_create(std::string_view plain);
[[nodiscard]] Result<bool> ssha512_check(std::string_view plain, std::string_view stored);
[[nodiscard]] Result<bool> sha512_check(std::string_view plain, std::string_view stored);
[[nodiscard]] Result<bool> cram_md5_check(std::string_view plain, std::string_view stored);
[[nodiscard]] Result<bool> plain_check(std::string_view plain, std::string_view stored);

}  // namespace yubin::passwd
