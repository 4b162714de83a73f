// ASCII string helpers shared by every part. Mail syntax is ASCII-case-
// insensitive where it is case-insensitive at all, so no locale is involved.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace yubin {

[[nodiscard]] constexpr char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
[[nodiscard]] std::string to_lower(std::string_view s);
[[nodiscard]] bool iequals(std::string_view a, std::string_view b);
[[nodiscard]] bool istarts_with(std::string_view s, std::string_view prefix);
[[nodiscard]] constexpr bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}
[[nodiscard]] std::string_view trim(std::string_view s);
// Splits on any of `seps`, dropping empty fields (as Postfix parses lists).
[[nodiscard]] std::vector<std::string_view> split_any(std::string_view s, std::string_view seps);
// Parses a whole string as a decimal integer, nothing else allowed.
[[nodiscard]] std::optional<std::int64_t> parse_int(std::string_view s);
// Peer text made safe for a log line: control and 8-bit bytes become "?" and
// the result is cut at `max` bytes with "..." appended.
[[nodiscard]] std::string sanitize_for_log(std::string_view s, std::size_t max = 200);

}  // namespace yubin
