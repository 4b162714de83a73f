#include "core/mime/transfer.hpp"

#include <array>

namespace yubin::mime {
namespace {

constexpr std::array<signed char, 256> make_b64_table() {
    std::array<signed char, 256> t{};
    for (auto& v : t) v = -1;
    const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(a[i])] = static_cast<signed char>(i);
    // URL-safe alphabet too: some broken mailers use it.
    t[static_cast<unsigned char>('-')] = 62;
    t[static_cast<unsigned char>('_')] = 63;
    return t;
}
constexpr auto kB64 = make_b64_table();

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// True when in[i] and in[i+1] are two hex digits.
bool hex_pair(std::string_view in, std::size_t i) {
    return i + 1 < in.size() && hex(in[i]) >= 0 && hex(in[i + 1]) >= 0;
}

}  // namespace

void Base64Decoder::feed(std::string_view in, std::string& out) {
    // Room for the most this input can give, written through a pointer and
    // trimmed after: a push_back per byte was most of the cost.
    const std::size_t start = out.size();
    out.resize(start + in.size() * 3 / 4 + 2);
    char* w = out.data() + start;
    std::size_t i = 0;
    while (i < in.size()) {
        // Whole groups of four alphabet characters on a group boundary: the
        // common case, three bytes at a time.
        if (nbits_ == 0 && i + 4 <= in.size()) {
            const int a = kB64[static_cast<unsigned char>(in[i])];
            const int b = kB64[static_cast<unsigned char>(in[i + 1])];
            const int c = kB64[static_cast<unsigned char>(in[i + 2])];
            const int d = kB64[static_cast<unsigned char>(in[i + 3])];
            if ((a | b | c | d) >= 0) {
                const auto v = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6) | d);
                *w++ = static_cast<char>(v >> 16);
                *w++ = static_cast<char>((v >> 8) & 0xFF);
                *w++ = static_cast<char>(v & 0xFF);
                i += 4;
                continue;
            }
        }
        const char ch = in[i++];
        if (ch == '=') {
            reset();
            continue;
        }
        const int v = kB64[static_cast<unsigned char>(ch)];
        if (v < 0) continue;
        bits_ = (bits_ << 6) | static_cast<std::uint32_t>(v);
        nbits_ += 6;
        if (nbits_ >= 8) {
            nbits_ -= 8;
            *w++ = static_cast<char>((bits_ >> nbits_) & 0xFF);
        }
        bits_ &= (1u << nbits_) - 1;
    }
    out.resize(static_cast<std::size_t>(w - out.data()));
}

std::string decode_base64(std::string_view in) {
    std::string out;
    out.reserve(in.size() / 4 * 3 + 3);
    Base64Decoder d;
    d.feed(in, out);
    return out;
}

std::string decode_quoted_printable(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c != '=') {
            out.push_back(c);
            continue;
        }
        if (hex_pair(in, i + 1)) {
            out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
            i += 2;
            continue;
        }
        // Soft line break: "=", optional trailing white space, LF or CRLF
        // (or the end of the text).
        std::size_t j = i + 1;
        while (j < in.size() && (in[j] == ' ' || in[j] == '\t')) ++j;
        if (j == in.size()) {
            i = j;
            continue;
        }
        if (in[j] == '\n') {
            i = j;
            continue;
        }
        if (in[j] == '\r' && j + 1 < in.size() && in[j + 1] == '\n') {
            i = j + 1;
            continue;
        }
        out.push_back('=');
    }
    return out;
}

void decode_q(std::string_view in, std::string& out) {
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '_') {
            out.push_back(' ');
        } else if (c == '=' && hex_pair(in, i + 1)) {
            out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
}

}  // namespace yubin::mime
