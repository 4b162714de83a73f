// The fast paths of the transfer decoders and the header unfolder give the
// answers of the plain byte-at-a-time definitions, on random input fed in
// random pieces.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "core/mime/header.hpp"
#include "core/mime/transfer.hpp"

using namespace yubin::mime;

namespace {

// Lenient base64 as specified in transfer.hpp, one character at a time.
class ReferenceBase64 {
public:
    void feed(std::string_view in, std::string& out) {
        for (char c : in) {
            if (c == '=') {
                bits_ = 0;
                nbits_ = 0;
                continue;
            }
            int v = -1;
            if (c >= 'A' && c <= 'Z') v = c - 'A';
            if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
            if (c >= '0' && c <= '9') v = c - '0' + 52;
            if (c == '+' || c == '-') v = 62;
            if (c == '/' || c == '_') v = 63;
            if (v < 0) continue;
            bits_ = (bits_ << 6) | static_cast<std::uint32_t>(v);
            nbits_ += 6;
            if (nbits_ >= 8) {
                nbits_ -= 8;
                out.push_back(static_cast<char>((bits_ >> nbits_) & 0xFF));
            }
            bits_ &= (1u << nbits_) - 1;
        }
    }

private:
    std::uint32_t bits_ = 0;
    int nbits_ = 0;
};

std::string unfold_reference(std::string_view v) {
    std::string s;
    for (char c : v) {
        if (c != '\r' && c != '\n') s.push_back(c);
    }
    std::size_t b = 0, e = s.size();
    const auto space = [](char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
    };
    while (b < e && space(s[b])) ++b;
    while (e > b && space(s[e - 1])) --e;
    return s.substr(b, e - b);
}

}  // namespace

TEST_CASE("mime fast paths: base64 in random pieces equals the one-by-one decoder") {
    const std::string alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_"
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        "= \r\n\t.*\x80\xFF";
    std::mt19937 rng(42);
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::uniform_int_distribution<int> len(0, 64);
    for (int n = 0; n < 20000; ++n) {
        std::string in;
        const int k = len(rng);
        for (int i = 0; i < k; ++i) in.push_back(alphabet[pick(rng)]);
        std::string want, got;
        ReferenceBase64 ref;
        ref.feed(in, want);
        Base64Decoder dec;
        std::size_t pos = 0;
        while (pos < in.size()) {
            std::uniform_int_distribution<std::size_t> piece(0, in.size() - pos);
            const std::size_t p = piece(rng);
            dec.feed(std::string_view(in).substr(pos, p), got);
            pos += p;
        }
        if (got != want) {
            CAPTURE(in);
            CHECK(got == want);
            break;
        }
    }
    CHECK(decode_base64("5pyq5om/6Ku+5bqD5ZGK") == "未承諾広告");
}

TEST_CASE("mime fast paths: unfold equals removing CR and LF, then trimming") {
    const std::string alphabet = "ab \t\r\n\v:";
    std::mt19937 rng(3);
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::uniform_int_distribution<int> len(0, 20);
    for (int n = 0; n < 20000; ++n) {
        std::string in;
        const int k = len(rng);
        for (int i = 0; i < k; ++i) in.push_back(alphabet[pick(rng)]);
        CAPTURE(in);
        REQUIRE(unfold(in) == unfold_reference(in));
        std::string reused = "left over from before";
        unfold_into(in, reused);
        REQUIRE(reused == unfold_reference(in));
    }
}
