// Base64 and hex as Dovecot's password schemes store them.
//
// SECURITY: the decoders read stored hashes, which may come from an imported
// file. They accept only the exact alphabets (no whitespace, no line breaks),
// never read past the input, and the output is at most 3/4 (base64) or 1/2
// (hex) of the input, so a caller's bound on the input bounds the output.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace yubin::passwd {

enum class Padding { With, Without };

// RFC 4648 section 4 (standard alphabet, "+/").
[[nodiscard]] std::string base64_encode(std::string_view bytes, Padding padding = Padding::With);
// Accepts the input with its "=" padding or without any (Argon2's encoded
// form has none); rejects other characters, padding in the middle, and a
// length no encoder produces (one leftover character).
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);

// Lower-case hex, as doveadm prints HMAC-MD5.
[[nodiscard]] std::string hex_encode(std::string_view bytes);
// Either case; odd length or any non-hex character -> nullopt.
[[nodiscard]] std::optional<std::string> hex_decode(std::string_view text);

}  // namespace yubin::passwd
