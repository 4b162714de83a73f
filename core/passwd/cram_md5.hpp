// The HMAC-MD5 "CRAM context" that Dovecot stores for {CRAM-MD5} and
// {HMAC-MD5}: not a digest of the password but the two MD5 chaining states
// after the first block of HMAC-MD5 (key ^ opad, then key ^ ipad), which is
// all a server needs to answer CRAM-MD5 without the plaintext.
//
// Reading those states needs the MD5 compression function itself, which
// OpenSSL 3 only offers through deprecated low-level calls (MD5_Transform),
// so the 64-step function of RFC 1321 is written out here; the tests check it
// against OpenSSL's EVP MD5 on the RFC 1321 vectors.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace yubin::passwd {

inline constexpr std::size_t kMd5BlockBytes = 64;
inline constexpr std::size_t kCramContextBytes = 32;

using Md5State = std::array<std::uint32_t, 4>;
inline constexpr Md5State kMd5InitialState = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

// One MD5 compression of a 64-byte block into `state`.
void md5_compress(Md5State& state, const unsigned char* block);

// Whole MD5 (padding included) built on md5_compress: only for the tests
// that pin md5_compress against OpenSSL.
[[nodiscard]] std::array<unsigned char, 16> md5_digest(std::string_view data);

// The 32 bytes doveadm prints in hex for {HMAC-MD5}: the opad state, then
// the ipad state, each as four little-endian 32-bit words. A key longer than
// one block is first replaced by its MD5, as HMAC (RFC 2104) requires.
[[nodiscard]] std::array<unsigned char, kCramContextBytes> cram_md5_context(std::string_view key);

}  // namespace yubin::passwd
