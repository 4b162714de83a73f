#include "core/passwd/cram_md5.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <string>

#include "core/passwd/codec.hpp"

using namespace yubin::passwd;

namespace {

std::string as_string(const unsigned char* p, std::size_t n) {
    return std::string(reinterpret_cast<const char*>(p), n);
}

std::string openssl_md5(const std::string& data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    REQUIRE(EVP_Digest(data.data(), data.size(), out, &len, EVP_md5(), nullptr) == 1);
    return as_string(out, len);
}

}  // namespace

TEST_CASE("passwd: md5 of the RFC 1321 test suite") {
    struct Case {
        std::string in, want_hex;
    };
    const Case cases[] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "57edf4a22be3c955ac49da2e2107b67a"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        auto d = md5_digest(c.in);
        std::string got = hex_encode(as_string(d.data(), d.size()));
        CHECK_MESSAGE(got == c.want_hex, "got ", got, ", want ", c.want_hex);
    }
}

TEST_CASE("passwd: md5 agrees with OpenSSL at every length around the block edges") {
    // Lengths 0..200 cross the one-block / two-block padding boundary at
    // 55/56 and 119/120 bytes, and several whole blocks.
    std::string data;
    for (int n = 0; n <= 200; ++n) {
        CAPTURE(n);
        auto d = md5_digest(data);
        CHECK(hex_encode(as_string(d.data(), d.size())) == hex_encode(openssl_md5(data)));
        data += static_cast<char>((n * 37 + 11) & 0xff);
    }
}

TEST_CASE("passwd: cram-md5 context matches doveadm pw -s HMAC-MD5") {
    // Golden values printed by `doveadm pw -s HMAC-MD5 -p ...` (Dovecot 2.3.19).
    struct Case {
        std::string key, want_hex;
    };
    const Case cases[] = {
        {"secret", "cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56"},
        {"Pa55 w\xc3\xb6rd/\xe6\x97\xa5\xe6\x9c\xac",
         "014a39c800917d0ad5cd3995d5e68932d060b051046fc11ec393be1fc4091473"},
        // 70 bytes: longer than a block, so HMAC first replaces the key by its MD5.
        {std::string(70, 'x'), "8103bb3a2a4b96a9ca9cce4efecc8d22ebe7163dff7401afb5aa16d4edcf9f1f"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.key);
        auto ctx = cram_md5_context(c.key);
        std::string got = hex_encode(as_string(ctx.data(), ctx.size()));
        CHECK_MESSAGE(got == c.want_hex, "got ", got, ", want ", c.want_hex);
    }
}

TEST_CASE("passwd: cram-md5 context of a 64-byte key uses the key as is") {
    // HMAC hashes a key only when it is longer than a block: 64 bytes are used
    // as they are, 65 bytes are replaced by their MD5.
    std::string k64(64, 'k');
    auto d64 = md5_digest(k64);
    CHECK(cram_md5_context(k64) != cram_md5_context(as_string(d64.data(), d64.size())));
    std::string k65(65, 'k');
    auto d65 = md5_digest(k65);
    CHECK(cram_md5_context(k65) == cram_md5_context(as_string(d65.data(), d65.size())));
}
