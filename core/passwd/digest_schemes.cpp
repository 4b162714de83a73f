// SHA512, SSHA512, CRAM-MD5/HMAC-MD5 and PLAIN: the schemes that are a digest
// (or no digest) of the password, in Dovecot's encodings.
//
// SECURITY: the stored strings are decoded with the strict decoders of
// codec.hpp and must have their scheme's exact decoded length (SHA512: 64
// bytes, base64 or 128 hex digits as Dovecot also accepts; SSHA512: more than
// 64 bytes, base64; CRAM-MD5: 64 hex digits); anything else is BadInput.
// Comparisons go through ct_equal (CRYPTO_memcmp); PLAIN compares SHA-512
// digests so that not even the length of the stored password leaks.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <initializer_list>
#include <memory>

#include "core/passwd/codec.hpp"
#include "core/passwd/cram_md5.hpp"
#include "core/passwd/schemes.hpp"

namespace yubin::passwd {
namespace {

struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// SHA-512 over the concatenation of `parts`, without building it in memory.
Result<std::string> sha512(std::initializer_list<std::string_view> parts) {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha512(), nullptr) != 1)
        return fail(ErrorKind::Internal, "EVP SHA-512 init failed");
    for (std::string_view p : parts)
        if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1)
            return fail(ErrorKind::Internal, "EVP SHA-512 update failed");
    std::string out(kSha512Bytes, '\0');
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
        len != kSha512Bytes)
        return fail(ErrorKind::Internal, "EVP SHA-512 final failed");
    return out;
}

}  // namespace

bool ct_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::string> random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
        return fail(ErrorKind::Internal, "RAND_bytes failed");
    return out;
}

Result<std::string> ssha512_create(std::string_view plain) {
    auto salt = random_bytes(kSsha512SaltBytes);
    if (!salt) return fail(salt.error());
    auto digest = sha512({plain, *salt});
    if (!digest) return fail(digest.error());
    return base64_encode(*digest + *salt);
}

Result<bool> ssha512_check(std::string_view plain, std::string_view stored) {
    auto raw = base64_decode(stored);
    if (!raw) return fail(ErrorKind::BadInput, "bad base64 in SSHA512 hash");
    if (raw->size() <= kSha512Bytes) return fail(ErrorKind::BadInput, "SSHA512 hash too short");
    std::string_view bytes = *raw;
    auto digest = sha512({plain, bytes.substr(kSha512Bytes)});
    if (!digest) return fail(digest.error());
    return ct_equal(*digest, bytes.substr(0, kSha512Bytes));
}

Result<bool> sha512_check(std::string_view plain, std::string_view stored) {
    // Dovecot reads a string of exactly twice the digest length as hex,
    // anything else as base64.
    auto raw = stored.size() == 2 * kSha512Bytes ? hex_decode(stored) : base64_decode(stored);
    if (!raw) return fail(ErrorKind::BadInput, "bad encoding in SHA512 hash");
    if (raw->size() != kSha512Bytes)
        return fail(ErrorKind::BadInput, "SHA512 hash of wrong length");
    auto digest = sha512({plain});
    if (!digest) return fail(digest.error());
    return ct_equal(*digest, *raw);
}

Result<bool> cram_md5_check(std::string_view plain, std::string_view stored) {
    if (stored.size() != 2 * kCramContextBytes)
        return fail(ErrorKind::BadInput, "CRAM-MD5 hash of wrong length");
    auto raw = hex_decode(stored);
    if (!raw) return fail(ErrorKind::BadInput, "bad hex in CRAM-MD5 hash");
    auto context = cram_md5_context(plain);
    bool match = ct_equal(
        std::string_view(reinterpret_cast<const char*>(context.data()), context.size()), *raw);
    OPENSSL_cleanse(context.data(), context.size());
    return match;
}

Result<bool> plain_check(std::string_view plain, std::string_view stored) {
    auto a = sha512({plain});
    auto b = sha512({stored});
    if (!a || !b) return fail(ErrorKind::Internal, "EVP SHA-512 failed");
    return ct_equal(*a, *b);
}

}  // namespace yubin::passwd
