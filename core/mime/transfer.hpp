// Lenient content-transfer decoders shared by RFC 2047 words and MIME parts.
//
// SECURITY: input is message text; linear, output never longer than input.
// Characters outside the alphabet are skipped (base64) or kept (QP), as
// every MUA does, so damaged mail still reads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace yubin::mime {

// Base64 that can be fed in pieces: bits left over at the end of one piece
// carry into the next (mailers that split a base64 run across encoded-words
// without regard to 4-character groups). '=' ends a group.
class Base64Decoder {
public:
    void feed(std::string_view in, std::string& out);
    // Drops leftover bits (an incomplete final group) and starts afresh.
    void reset() {
        bits_ = 0;
        nbits_ = 0;
    }
    [[nodiscard]] bool at_boundary() const { return nbits_ == 0; }

private:
    std::uint32_t bits_ = 0;
    int nbits_ = 0;
};

[[nodiscard]] std::string decode_base64(std::string_view in);

// RFC 2045 quoted-printable: "=XX" (either case), soft line breaks, a bad
// "=" kept literally.
[[nodiscard]] std::string decode_quoted_printable(std::string_view in);

// RFC 2047 Q: as QP plus "_" for space, no line breaks.
void decode_q(std::string_view in, std::string& out);

}  // namespace yubin::mime
