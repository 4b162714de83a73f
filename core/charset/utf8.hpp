// UTF-8 validation and repair. Everything the text engine hands out is valid
// UTF-8; this is the last gate before that promise.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace yubin::charset {

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// True when every byte is below 0x80 (checked eight at a time).
[[nodiscard]] bool is_ascii(std::string_view s);

// Strict RFC 3629 validity: no overlongs, no surrogates, nothing past U+10FFFF.
[[nodiscard]] bool is_valid_utf8(std::string_view s);

// Appends `s` to `out`, each maximal invalid subsequence replaced by U+FFFD.
// Returns the number of replacements made.
std::size_t append_sanitized_utf8(std::string_view s, std::string& out);

[[nodiscard]] std::string sanitize_utf8(std::string_view s);

// Appends the UTF-8 encoding of code point `cp` (which must be a scalar value).
void append_utf8(char32_t cp, std::string& out);

// Length of the valid UTF-8 sequence starting at s[i], 0 when invalid.
[[nodiscard]] std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

}  // namespace yubin::charset
