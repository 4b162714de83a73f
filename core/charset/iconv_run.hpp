// Internal to core/charset: glibc iconv with per-thread cached descriptors
// and replacement instead of failure.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace yubin::charset::detail {

// Converts `in` from charset `from` (a glibc name) to UTF-8 appended to
// `out`, always valid UTF-8. Each byte sequence glibc rejects becomes one
// U+FFFD and skips `skip_on_error` bytes; invalid UTF-8 that glibc lets
// through is replaced too, and counted. Returns the number of replacements, or nullopt when
// glibc does not know `from` (then `out` is unchanged).
std::optional<std::size_t> iconv_append(const std::string& from, std::string_view in,
                                        std::string& out, std::size_t skip_on_error = 1);

}  // namespace yubin::charset::detail
