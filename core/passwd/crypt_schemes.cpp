// SHA512-CRYPT, SHA256-CRYPT, MD5-CRYPT, BLF-CRYPT and CRYPT through
// libxcrypt's crypt_r, the same function Dovecot calls for them.
//
// SECURITY: the stored string is the crypt "setting" and comes from the user
// store, possibly from an imported file. It is checked for its family's
// prefix (a {SHA512-CRYPT} entry that really holds an MD5 crypt must not pass
// as strong and escape rehashing), for a cost within kMaxShaCryptRounds /
// kMaxBlfCryptCost (so one line cannot stall every login), and for having
// exactly the length crypt_r produces for that setting (a truncated hash is
// malformed, not a mismatch). The crypt_data scratch area and the NUL-
// terminated copy of the password are wiped after use.
#include <crypt.h>
#include <openssl/crypto.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "core/passwd/schemes.hpp"
#include "core/util/fd.hpp"

namespace yubin::passwd {
namespace {

bool starts_with(std::string_view s, std::string_view p) {
    return s.substr(0, p.size()) == p;
}

// Parses a run of at least one decimal digit at the front of `s`, at most
// `max_digits` long, and removes it. nullopt if there is none.
std::optional<unsigned long> take_number(std::string_view& s, std::size_t max_digits) {
    std::size_t n = 0;
    unsigned long v = 0;
    while (n < s.size() && n < max_digits && s[n] >= '0' && s[n] <= '9') {
        v = v * 10 + static_cast<unsigned long>(s[n] - '0');
        ++n;
    }
    if (n == 0) return std::nullopt;
    s.remove_prefix(n);
    return v;
}

// Cost fields of the methods that have them; other methods pass unchanged.
Status check_cost(std::string_view stored) {
    if (starts_with(stored, "$5$rounds=") || starts_with(stored, "$6$rounds=")) {
        std::string_view rest = stored.substr(10);
        auto rounds = take_number(rest, 10);
        if (!rounds || rest.empty() || rest.front() != '$')
            return fail(ErrorKind::BadInput, "malformed rounds= in SHA-crypt hash");
        if (*rounds > kMaxShaCryptRounds)
            return fail(ErrorKind::BadInput, "SHA-crypt rounds above the allowed maximum");
    }
    if (stored.size() >= 4 && stored[0] == '$' && stored[1] == '2' && stored[3] == '$') {
        std::string_view rest = stored.substr(4);
        auto cost = take_number(rest, 2);
        if (!cost || rest.empty() || rest.front() != '$')
            return fail(ErrorKind::BadInput, "malformed bcrypt cost");
        if (*cost > kMaxBlfCryptCost)
            return fail(ErrorKind::BadInput, "bcrypt cost above the allowed maximum");
    }
    return {};
}

bool has_family_prefix(std::string_view stored, CryptFamily family) {
    switch (family) {
        case CryptFamily::Sha512:
            return starts_with(stored, "$6$");
        case CryptFamily::Sha256:
            return starts_with(stored, "$5$");
        case CryptFamily::Md5:
            return starts_with(stored, "$1$");
        case CryptFamily::Blowfish:
            return starts_with(stored, "$2y$") || starts_with(stored, "$2b$") ||
                   starts_with(stored, "$2a$");
        case CryptFamily::Any:
            return true;
    }
    return false;
}

// crypt_r(plain, setting) -> the full crypt string. `bad_setting` is the
// kind to report when libxcrypt rejects the setting: BadInput for a stored
// hash, Internal for a setting we generated ourselves.
Result<std::string> run_crypt(std::string_view plain, const std::string& setting,
                              ErrorKind bad_setting) {
    if (plain.size() > kMaxCryptPasswordBytes)
        return fail(ErrorKind::BadInput, "password too long for crypt (511 bytes at most)");
    std::string phrase(plain);
    auto data = std::make_unique<crypt_data>();  // value-initialised: zeroed, as crypt_r needs
    ScopeExit wipe([&] {
        OPENSSL_cleanse(phrase.data(), phrase.size());
        OPENSSL_cleanse(data.get(), sizeof(crypt_data));
    });
    errno = 0;
    const char* out = crypt_r(phrase.c_str(), setting.c_str(), data.get());
    // libxcrypt signals failure with NULL or a "*"-prefixed failure token.
    if (out == nullptr || out[0] == '*') {
        int err = errno;
        if (err == EINVAL || err == 0)
            return fail(bad_setting, "crypt() rejected the hash setting");
        return fail(errno_error("crypt", err));
    }
    return std::string(out);
}

}  // namespace

Result<std::string> crypt_create(std::string_view plain, CryptFamily family) {
    const char* prefix = nullptr;
    unsigned long count = 0;
    switch (family) {
        case CryptFamily::Sha512:
            prefix = "$6$";
            count = kSha512CryptRounds;
            break;
        case CryptFamily::Blowfish:
            prefix = "$2y$";
            count = kBlfCryptCost;
            break;
        default:
            return fail(ErrorKind::BadInput, "this crypt scheme is verify-only");
    }
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    // NULL random bytes: libxcrypt draws the salt from the kernel (getrandom).
    errno = 0;
    if (crypt_gensalt_rn(prefix, count, nullptr, 0, setting, sizeof setting) == nullptr) {
        int err = errno;
        return fail(ErrorKind::Internal,
                    std::string("crypt_gensalt failed: ") + std::strerror(err));
    }
    return run_crypt(plain, std::string(setting), ErrorKind::Internal);
}

Result<bool> crypt_check(std::string_view plain, std::string_view stored, CryptFamily family) {
    if (stored.empty()) return fail(ErrorKind::BadInput, "empty crypt hash");
    if (stored.find('\0') != std::string_view::npos)
        return fail(ErrorKind::BadInput, "NUL byte in crypt hash");
    if (!has_family_prefix(stored, family))
        return fail(ErrorKind::BadInput, "crypt hash does not belong to its scheme");
    if (auto st = check_cost(stored); !st) return fail(st.error());
    std::string setting(stored);
    auto out = run_crypt(plain, setting, ErrorKind::BadInput);
    if (!out) return fail(out.error());
    // The output length depends only on the setting, never on the password,
    // so a different length means the stored string is cut or padded.
    if (out->size() != stored.size())
        return fail(ErrorKind::BadInput, "crypt hash has the wrong length for its method");
    return ct_equal(*out, stored);
}

}  // namespace yubin::passwd
