// Netstrings (D. J. Bernstein): "LEN:DATA," with LEN in decimal. The framing
// of Postfix's socketmap protocol (socketmap_table(5)), one request and one
// reply per netstring, many per connection.
//
// SECURITY: parse_netstring reads untrusted bytes from a socketmap client. It
// looks at no more than the length prefix until the whole declared payload is
// buffered, and refuses, before buffering anything, a length prefix of more
// than kMaxLengthDigits digits or a declared length above `max_payload`; so a
// connection never holds more than max_payload + kMaxLengthDigits + 2 bytes
// of one request. A malformed frame (non-digit in the prefix, empty prefix,
// missing ',') is an error: the stream cannot be resynchronised after it, and
// the caller closes the connection.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace yubin::authd {

inline constexpr std::size_t kMaxLengthDigits = 10;
// Postfix's socketmap client refuses replies longer than this (socketmap_table(5));
// requests are bounded by the same number by default (authd_socketmap_max_request).
inline constexpr std::size_t kSocketmapMaxPayload = 100000;

struct NetstringParse {
    enum class State { NeedMore, Done, Error };
    State state = State::NeedMore;
    std::string_view payload{};  // Done: points into the input
    std::size_t consumed = 0;    // Done: bytes of the whole frame
    std::string_view error{};    // Error: why (static text)
};

// Looks for one complete netstring at the start of `in`.
[[nodiscard]] NetstringParse parse_netstring(std::string_view in, std::size_t max_payload);

// Appends "LEN:payload," to `out`.
void append_netstring(std::string& out, std::string_view payload);

}  // namespace yubin::authd
