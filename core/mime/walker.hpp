// Bounded, iterative MIME walker: the decoded text parts of a message, for
// body rules.
//
// One forward pass over the lines of the message with an explicit stack of
// open multipart boundaries: no recursion, however deep the nesting.
// Multipart containers are entered up to max_mime_depth; deeper ones, and
// parts past max_mime_parts, are skipped as opaque, and the result says it
// was truncated. message/rfc822 parts are walked as nested messages (their
// text is body text; their Subject is not a header of this message).
//
// SECURITY: input is the raw message. Work is linear in its size times the
// boundary stack depth, paid only on lines starting with "--". Decoded text
// is cut at max_body_text_bytes over all parts; each part header at
// max_part_header_bytes; boundaries longer than max_boundary_bytes are not
// honoured (the part is then opaque).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/mime/limits.hpp"

namespace yubin::mime {

struct ContentType {
    std::string type;  // "text/plain", lower case; empty when absent
    std::string boundary;  // bytes, RFC 2231 sections joined (params.hpp)
    std::string charset;
};

[[nodiscard]] ContentType parse_content_type(std::string_view value);

struct TextPart {
    std::string content_type;  // "text/plain", "text/html", ...
    std::string text;          // decoded to valid UTF-8, not normalized
    std::size_t depth = 0;     // 0 = the top-level body
};

struct WalkResult {
    std::vector<TextPart> parts;
    std::size_t entities = 0;  // entities seen, text or not
    bool truncated = false;
};

[[nodiscard]] WalkResult text_parts(std::string_view message, const Limits& limits = {});

}  // namespace yubin::mime
