// The scheme table and the checks every scheme shares.
//
// SECURITY: verify() reads a stored "{SCHEME}hash" that may come from an
// imported file and a plaintext from a client. The stored string is bounded
// by kMaxStoredBytes before anything else reads it, the plaintext by
// limits::kMaxPasswordBytes and refused if it holds a NUL; past either bound
// the answer is BadInput. Each scheme's own parser (see schemes.hpp) bounds
// the rest, and a malformed hash is always an error, never "no match", so a
// broken entry shows up instead of silently locking its user out.
#include "core/passwd/passwd.hpp"

#include <array>

#include "core/passwd/schemes.hpp"
#include "core/util/limits.hpp"
#include "core/util/strings.hpp"

namespace yubin::passwd {
namespace {

using CreateFn = Result<std::string> (*)(std::string_view plain);
using CheckFn = Result<bool> (*)(std::string_view plain, std::string_view stored);

// One row per scheme, as Dovecot registers its schemes by name. `create` is
// null for the verify-only ones.
struct Scheme {
    std::string_view name;
    CreateFn create;
    CheckFn check;
};

constexpr std::array kSchemes = {
    Scheme{"ARGON2ID", argon2id_create,
           [](std::string_view p, std::string_view s) {
               return argon2_check(p, s, Argon2Variant::Argon2id);
           }},
    Scheme{"SHA512-CRYPT", [](std::string_view p) { return crypt_create(p, CryptFamily::Sha512); },
           [](std::string_view p, std::string_view s) {
               return crypt_check(p, s, CryptFamily::Sha512);
           }},
    Scheme{"BLF-CRYPT", [](std::string_view p) { return crypt_create(p, CryptFamily::Blowfish); },
           [](std::string_view p, std::string_view s) {
               return crypt_check(p, s, CryptFamily::Blowfish);
           }},
    Scheme{"SSHA512", ssha512_create, ssha512_check},
    Scheme{"ARGON2I", nullptr,
           [](std::string_view p, std::string_view s) {
               return argon2_check(p, s, Argon2Variant::Argon2i);
           }},
    Scheme{"SHA256-CRYPT", nullptr,
           [](std::string_view p, std::string_view s) {
               return crypt_check(p, s, CryptFamily::Sha256);
           }},
    Scheme{
        "MD5-CRYPT", nullptr,
        [](std::string_view p, std::string_view s) { return crypt_check(p, s, CryptFamily::Md5); }},
    Scheme{
        "CRYPT", nullptr,
        [](std::string_view p, std::string_view s) { return crypt_check(p, s, CryptFamily::Any); }},
    Scheme{"SHA512", nullptr, sha512_check},
    Scheme{"CRAM-MD5", nullptr, cram_md5_check},
    Scheme{"HMAC-MD5", nullptr, cram_md5_check},
    Scheme{"PLAIN", nullptr, plain_check},
    Scheme{"CLEARTEXT", nullptr, plain_check},
};

const Scheme* find_scheme(std::string_view name) {
    for (const Scheme& s : kSchemes)
        if (iequals(s.name, name)) return &s;
    return nullptr;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

Status check_password(std::string_view plain) {
    if (plain.size() > limits::kMaxPasswordBytes)
        return fail(ErrorKind::BadInput, "password too long");
    if (plain.find('\0') != std::string_view::npos)
        return fail(ErrorKind::BadInput, "NUL byte in password");
    return {};
}

}  // namespace

bool can_create(std::string_view scheme) {
    const Scheme* s = find_scheme(scheme);
    return s != nullptr && s->create != nullptr;
}

bool can_verify(std::string_view scheme) {
    return find_scheme(scheme) != nullptr;
}

std::string scheme_of(std::string_view stored) {
    if (stored.empty() || stored.front() != '{') return {};
    std::size_t close = stored.find('}');
    if (close == std::string_view::npos) return {};
    return upper(stored.substr(1, close - 1));
}

Result<std::string> hash(std::string_view plain, std::string_view scheme) {
    const Scheme* s = find_scheme(scheme);
    if (s == nullptr) return fail(ErrorKind::BadInput, "unknown password scheme");
    if (s->create == nullptr) return fail(ErrorKind::BadInput, "password scheme is verify-only");
    if (auto st = check_password(plain); !st) return fail(st.error());
    if (plain.empty()) return fail(ErrorKind::BadInput, "empty password");
    auto h = s->create(plain);
    if (!h) return fail(h.error());
    std::string out;
    out.reserve(s->name.size() + 2 + h->size());
    out += '{';
    out += s->name;
    out += '}';
    out += *h;
    return out;
}

Result<Verification> verify(std::string_view plain, std::string_view stored,
                            std::string_view default_scheme) {
    if (stored.size() > kMaxStoredBytes) return fail(ErrorKind::BadInput, "stored hash too long");
    std::string name = scheme_of(stored);
    if (name.empty()) return fail(ErrorKind::BadInput, "stored hash has no {SCHEME} prefix");
    const Scheme* s = find_scheme(name);
    if (s == nullptr) return fail(ErrorKind::BadInput, "unknown password scheme");
    if (auto st = check_password(plain); !st) return fail(st.error());
    auto matched = s->check(plain, stored.substr(name.size() + 2));
    if (!matched) return fail(matched.error());
    Verification v;
    // An empty password never logs in, whatever is stored (an empty {PLAIN}
    // entry is an account without a password, not one with an empty one).
    // The check above still ran, so a malformed hash is reported either way.
    v.match = *matched && !plain.empty();
    v.needs_rehash = v.match && (s->create == nullptr || !iequals(s->name, default_scheme));
    return v;
}

}  // namespace yubin::passwd
