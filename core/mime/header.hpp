// RFC 5322 header block reader.
//
// SECURITY: input is the raw message from the network. One forward pass, no
// allocation per field: fields are views into the message. The block ends at
// the first empty line (LF or CRLF) or at max_header_bytes; at most
// max_header_fields fields are returned. A line that is neither a field nor a
// continuation (no colon, or a bad name) is skipped, not taken as the end of
// the header, so junk cannot hide the Subject that follows it from us while
// a lenient MUA still shows it. NUL and 8-bit bytes are ordinary bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/mime/limits.hpp"

namespace yubin::mime {

struct HeaderField {
    std::string_view name;   // trimmed, white space before the colon removed
    std::string_view value;  // raw and still folded, without the final line end
};

class HeaderReader {
public:
    explicit HeaderReader(std::string_view message, const Limits& limits = {});

    // The next field, false at the end of the header block.
    bool next(HeaderField& field);

    // Where the body starts; meaningful once next() returned false.
    [[nodiscard]] std::size_t body_offset() const { return pos_; }
    // A bound was reached: fields past it were not returned.
    [[nodiscard]] bool truncated() const { return truncated_; }

private:
    std::string_view msg_;
    std::size_t end_;  // scanning stops here (max_header_bytes)
    std::size_t pos_ = 0;
    std::size_t fields_ = 0;
    std::size_t max_fields_;
    bool done_ = false;
    bool truncated_ = false;
};

// Removes the line breaks of a folded value (RFC 5322 2.2.3) and trims it.
[[nodiscard]] std::string unfold(std::string_view value);
// The same into `out` (replacing its content), to reuse its buffer.
void unfold_into(std::string_view value, std::string& out);

// Every field of the top-level header with this name (any case), unfolded,
// not decoded.
[[nodiscard]] std::vector<std::string> header_values(std::string_view message,
                                                     std::string_view name,
                                                     const Limits& limits = {});

}  // namespace yubin::mime
