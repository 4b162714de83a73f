// ISO-2022-JP family decoder (RFC 1468, -2 partially, CP50220/CP50221).
//
// glibc's ISO-2022-JP converter rejects the NEC row-13 and NEC-selected IBM
// characters (①, ㈱, 髙) that Japanese mailers have always sent, and stops
// at the first bad byte. We track the escape state ourselves and hand each
// JIS X 0208 run, moved to Shift_JIS by arithmetic, to glibc's CP932
// converter, which knows those characters.
//
// SECURITY: input is message bytes; one linear pass. A run that never shifts
// back to ASCII ends at the end of the input; bytes that fit no state become
// U+FFFD and are counted as errors.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace yubin::charset {

// Appends the UTF-8 decoding of `bytes` to `out`; returns the error count.
std::size_t decode_iso2022jp(std::string_view bytes, std::string& out);

// True when `bytes` holds an ISO-2022-JP designation (ESC $ @, ESC $ B,
// ESC $ ( ..., ESC ( I, ESC ( J, ESC ( B followed by such).
[[nodiscard]] bool has_iso2022_escape(std::string_view bytes);

}  // namespace yubin::charset
