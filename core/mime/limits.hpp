// Every bound the mail text engine puts on a message. The defaults admit any
// sane message whole (Postfix's own header_size_limit is 100 KB per field);
// past a bound the engine stops reading that part, says so (`truncated`),
// and still gives a verdict on what it read.
#pragma once

#include <cstddef>

namespace yubin::mime {

inline constexpr std::size_t kMaxHeaderBytes = 4u << 20;        // whole header block scanned
inline constexpr std::size_t kMaxHeaderFields = 100000;         // fields looked at
inline constexpr std::size_t kMaxFieldBytes = 1u << 20;         // one field decoded
inline constexpr std::size_t kMaxEncodedWords = 20000;          // per field; the rest is raw text
inline constexpr std::size_t kMaxDecodedFieldBytes = 2u << 20;  // UTF-8 out of one field
inline constexpr std::size_t kMaxMimeDepth = 64;                // nested multipart / message
inline constexpr std::size_t kMaxMimeParts = 2000;              // entities walked
inline constexpr std::size_t kMaxPartHeaderBytes = 64u << 10;   // header of one body part
inline constexpr std::size_t kMaxBodyTextBytes = 8u << 20;      // decoded body text, all parts
inline constexpr std::size_t kMaxBoundaryBytes = 200;           // RFC 2046 says 70

struct Limits {
    std::size_t max_header_bytes = kMaxHeaderBytes;
    std::size_t max_header_fields = kMaxHeaderFields;
    std::size_t max_field_bytes = kMaxFieldBytes;
    std::size_t max_encoded_words = kMaxEncodedWords;
    std::size_t max_decoded_field_bytes = kMaxDecodedFieldBytes;
    std::size_t max_mime_depth = kMaxMimeDepth;
    std::size_t max_mime_parts = kMaxMimeParts;
    std::size_t max_part_header_bytes = kMaxPartHeaderBytes;
    std::size_t max_body_text_bytes = kMaxBodyTextBytes;
    std::size_t max_boundary_bytes = kMaxBoundaryBytes;
};

}  // namespace yubin::mime
