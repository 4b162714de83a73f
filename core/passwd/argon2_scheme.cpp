// ARGON2ID (create and verify) and ARGON2I (verify) in the PHC string form
// Dovecot writes through libsodium: $argon2id$v=19$m=65536,t=3,p=1$SALT$HASH
// with SALT and HASH in unpadded base64.
//
// SECURITY: a stored hash names its own cost, and verifying runs that cost.
// The string is parsed here, strictly (six '$' fields, version 19, m/t/p as
// plain decimals in that order, salt and hash within kArgon2{Min,Max}*Bytes),
// and m, t, p are bounded by kArgon2Max* before libargon2 allocates anything.
// The hash is then recomputed with argon2_hash and compared with
// CRYPTO_memcmp, instead of argon2_verify, so that the comparison is the one
// every other scheme uses.
#include <argon2.h>
#include <openssl/crypto.h>

#include <cstring>
#include <optional>
#include <vector>

#include "core/passwd/codec.hpp"
#include "core/passwd/schemes.hpp"

namespace yubin::passwd {
namespace {

struct Argon2Params {
    std::uint32_t t = 0;
    std::uint32_t m = 0;
    std::uint32_t p = 0;
    std::string salt;
    std::string hash;
};

// "name=digits" with nothing else; at most 10 digits so it fits before the
// bound check.
std::optional<std::uint64_t> parse_param(std::string_view field, std::string_view name) {
    if (field.size() <= name.size() + 1 || field.substr(0, name.size()) != name ||
        field[name.size()] != '=')
        return std::nullopt;
    std::string_view digits = field.substr(name.size() + 1);
    if (digits.size() > 10) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        std::size_t i = s.find(sep, start);
        if (i == std::string_view::npos) {
            out.push_back(s.substr(start));
            return out;
        }
        out.push_back(s.substr(start, i - start));
        start = i + 1;
    }
}

Result<Argon2Params> parse(std::string_view stored, Argon2Variant variant) {
    auto bad = [](const char* why) { return fail(ErrorKind::BadInput, why); };
    auto f = split(stored, '$');
    if (f.size() != 6 || !f[0].empty()) return bad("malformed Argon2 hash");
    std::string_view want = variant == Argon2Variant::Argon2id ? "argon2id" : "argon2i";
    if (f[1] != want) return bad("Argon2 hash of another variant than its scheme");
    if (f[2] != "v=19") return bad("unsupported Argon2 version");
    auto mtp = split(f[3], ',');
    if (mtp.size() != 3) return bad("malformed Argon2 parameters");
    auto m = parse_param(mtp[0], "m");
    auto t = parse_param(mtp[1], "t");
    auto p = parse_param(mtp[2], "p");
    if (!m || !t || !p) return bad("malformed Argon2 parameters");
    if (*t < 1 || *t > kArgon2MaxTimeCost) return bad("Argon2 t out of range");
    if (*p < 1 || *p > kArgon2MaxLanes) return bad("Argon2 p out of range");
    if (*m < 8 * *p || *m > kArgon2MaxMemoryKiB) return bad("Argon2 m out of range");
    auto salt = base64_decode(f[4]);
    auto hash = base64_decode(f[5]);
    if (!salt || !hash) return bad("bad base64 in Argon2 hash");
    if (salt->size() < kArgon2MinSaltBytes || salt->size() > kArgon2MaxSaltBytes)
        return bad("Argon2 salt length out of range");
    if (hash->size() < kArgon2MinHashBytes || hash->size() > kArgon2MaxHashBytes)
        return bad("Argon2 hash length out of range");
    return Argon2Params{static_cast<std::uint32_t>(*t), static_cast<std::uint32_t>(*m),
                        static_cast<std::uint32_t>(*p), std::move(*salt), std::move(*hash)};
}

}  // namespace

Result<std::string> argon2id_create(std::string_view plain) {
    auto salt = random_bytes(kArgon2SaltBytes);
    if (!salt) return fail(salt.error());
    std::string encoded(argon2_encodedlen(kArgon2TimeCost, kArgon2MemoryKiB, kArgon2Lanes,
                                          kArgon2SaltBytes, kArgon2HashBytes, Argon2_id),
                        '\0');
    int rc = argon2id_hash_encoded(kArgon2TimeCost, kArgon2MemoryKiB, kArgon2Lanes, plain.data(),
                                   plain.size(), salt->data(), salt->size(), kArgon2HashBytes,
                                   encoded.data(), encoded.size());
    if (rc != ARGON2_OK)
        return fail(ErrorKind::Internal, std::string("argon2: ") + argon2_error_message(rc));
    encoded.resize(std::strlen(encoded.c_str()));
    return encoded;
}

Result<bool> argon2_check(std::string_view plain, std::string_view stored, Argon2Variant variant) {
    auto params = parse(stored, variant);
    if (!params) return fail(params.error());
    std::string computed(params->hash.size(), '\0');
    int rc = argon2_hash(params->t, params->m, params->p, plain.data(), plain.size(),
                         params->salt.data(), params->salt.size(), computed.data(), computed.size(),
                         nullptr, 0, variant == Argon2Variant::Argon2id ? Argon2_id : Argon2_i,
                         ARGON2_VERSION_13);
    if (rc != ARGON2_OK)
        return fail(ErrorKind::Internal, std::string("argon2: ") + argon2_error_message(rc));
    bool match = ct_equal(computed, params->hash);
    OPENSSL_cleanse(computed.data(), computed.size());
    return match;
}

}  // namespace yubin::passwd
