#include "core/passwd/cram_md5.hpp"

#include <openssl/crypto.h>

#include <cstring>

namespace yubin::passwd {
namespace {

// floor(abs(sin(i + 1)) * 2^32), RFC 1321 section 3.4.
constexpr std::array<std::uint32_t, 64> kSine = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

constexpr std::array<int, 16> kShift = {7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21};

constexpr std::uint32_t rotl(std::uint32_t x, int c) {
    return (x << c) | (x >> (32 - c));
}

std::uint32_t load_le32(const unsigned char* p) {
    return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
           (std::uint32_t{p[3]} << 24);
}

void store_le32(unsigned char* p, std::uint32_t v) {
    p[0] = static_cast<unsigned char>(v);
    p[1] = static_cast<unsigned char>(v >> 8);
    p[2] = static_cast<unsigned char>(v >> 16);
    p[3] = static_cast<unsigned char>(v >> 24);
}

void store_state(unsigned char* out, const Md5State& s) {
    for (int i = 0; i < 4; ++i) store_le32(out + 4 * i, s[i]);
}

}  // namespace

void md5_compress(Md5State& state, const unsigned char* block) {
    std::uint32_t m[16];
    for (int i = 0; i < 16; ++i) m[i] = load_le32(block + 4 * i);
    std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    for (int i = 0; i < 64; ++i) {
        std::uint32_t f = 0;
        int g = 0;
        switch (i / 16) {
            case 0:
                f = (b & c) | (~b & d);
                g = i;
                break;
            case 1:
                f = (d & b) | (~d & c);
                g = (5 * i + 1) % 16;
                break;
            case 2:
                f = b ^ c ^ d;
                g = (3 * i + 5) % 16;
                break;
            default:
                f = c ^ (b | ~d);
                g = (7 * i) % 16;
                break;
        }
        f += a + kSine[i] + m[g];
        a = d;
        d = c;
        c = b;
        b += rotl(f, kShift[(i / 16) * 4 + i % 4]);
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    OPENSSL_cleanse(m, sizeof m);
}

std::array<unsigned char, 16> md5_digest(std::string_view data) {
    Md5State s = kMd5InitialState;
    auto p = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t n = data.size();
    for (; n >= kMd5BlockBytes; n -= kMd5BlockBytes, p += kMd5BlockBytes) md5_compress(s, p);
    // Tail: 0x80, zeros, then the bit length little-endian, in one or two blocks.
    unsigned char tail[2 * kMd5BlockBytes] = {};
    std::memcpy(tail, p, n);
    tail[n] = 0x80;
    std::size_t tail_len = (n + 1 + 8 <= kMd5BlockBytes) ? kMd5BlockBytes : 2 * kMd5BlockBytes;
    std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
    for (int i = 0; i < 8; ++i)
        tail[tail_len - 8 + i] = static_cast<unsigned char>(bits >> (8 * i));
    for (std::size_t off = 0; off < tail_len; off += kMd5BlockBytes) md5_compress(s, tail + off);
    std::array<unsigned char, 16> out{};
    store_state(out.data(), s);
    return out;
}

std::array<unsigned char, kCramContextBytes> cram_md5_context(std::string_view key) {
    unsigned char k[kMd5BlockBytes] = {};
    std::array<unsigned char, 16> long_key{};
    if (key.size() > kMd5BlockBytes) {
        long_key = md5_digest(key);
        std::memcpy(k, long_key.data(), long_key.size());
    } else {
        std::memcpy(k, key.data(), key.size());
    }
    unsigned char ipad[kMd5BlockBytes];
    unsigned char opad[kMd5BlockBytes];
    for (std::size_t i = 0; i < kMd5BlockBytes; ++i) {
        ipad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
        opad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
    }
    Md5State inner = kMd5InitialState;
    Md5State outer = kMd5InitialState;
    md5_compress(inner, ipad);
    md5_compress(outer, opad);

    std::array<unsigned char, kCramContextBytes> out{};
    store_state(out.data(), outer);
    store_state(out.data() + 16, inner);
    // These all let an attacker answer CRAM-MD5 as the user; do not leave
    // them on the stack.
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(long_key.data(), long_key.size());
    OPENSSL_cleanse(ipad, sizeof ipad);
    OPENSSL_cleanse(opad, sizeof opad);
    OPENSSL_cleanse(inner.data(), sizeof inner);
    OPENSSL_cleanse(outer.data(), sizeof outer);
    return out;
}

}  // namespace yubin::passwd
