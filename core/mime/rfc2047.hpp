// RFC 2047 encoded-word decoding of header values, to valid UTF-8.
//
// Lenient where mail is broken in practice: B and Q in any letter case,
// RFC 2231 "charset*lang", encoded-words glued to text, spaces inside Q
// text, bad base64 padding and stray characters. White space between two
// encoded-words is dropped (RFC 2047 6.2); adjacent words in the same charset
// are joined as bytes before the charset is decoded, so a character or an
// ISO-2022-JP escape split across two words still decodes. Text outside
// encoded-words (raw 8-bit, raw JIS) goes through charset detection.
//
// SECURITY: input is an unfolded header value from the network. Linear time:
// a failed "=?" attempt scans at most a bounded charset token and then stops
// at the next "?", so a flood of "=?" costs O(n). At most max_encoded_words
// words are decoded, the rest is kept as raw text; the output is cut at
// max_decoded_field_bytes.
#pragma once

#include <string>
#include <string_view>

#include "core/mime/limits.hpp"

namespace yubin::mime {

struct DecodedHeader {
    std::string text;        // valid UTF-8
    std::size_t words = 0;   // encoded-words decoded
    bool truncated = false;  // a bound was reached
};

[[nodiscard]] DecodedHeader decode_header_value(std::string_view value, const Limits& limits = {});

// Convenience: unfold, then decode.
[[nodiscard]] std::string decode_field(std::string_view raw_value, const Limits& limits = {});

}  // namespace yubin::mime
