// Pure parsers for what yubinctl check reads from a server: SMTP replies
// (multi-line), EHLO keywords, IMAP response lines, POP3 status lines, and
// the SMTP banner test. No I/O here, so each is tested with split input and
// garbage.
//
// SECURITY: every function reads server output, which is untrusted: lines
// arrive already cut at kMaxReplyLine by the connection; a reply holds at
// most kMaxReplyLines lines; numbers are parsed with range checks; anything
// malformed is an error, never a guess.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.hpp"

namespace yubin::ctl::check {

inline constexpr std::size_t kMaxReplyLine = 4096;   // bytes per line (RFC 5321 says 512)
inline constexpr std::size_t kMaxReplyLines = 200;   // lines per multi-line reply

struct SmtpReply {
    int code = 0;
    std::vector<std::string> lines;  // the text of each line, after "250-" / "250 "
    [[nodiscard]] std::string text() const;  // lines joined by " / "
    [[nodiscard]] bool positive() const { return code >= 200 && code < 400; }
};

// Collects the lines of one SMTP reply (RFC 5321 4.2.1). feed() takes one
// line without CRLF and returns true when the reply is complete.
class SmtpReplyReader {
public:
    [[nodiscard]] Result<bool> feed(std::string_view line);
    [[nodiscard]] SmtpReply take();

private:
    SmtpReply reply_;
};

// EHLO keywords (upper case) with their parameters.
struct Ehlo {
    std::map<std::string, std::string> keywords;
    [[nodiscard]] bool has(std::string_view kw) const;
    [[nodiscard]] std::optional<std::uint64_t> size() const;       // SIZE n; nullopt if absent/0/bad
    [[nodiscard]] std::vector<std::string> auth_mechanisms() const;  // upper case
};
[[nodiscard]] Ehlo parse_ehlo(const SmtpReply&);

// What an SMTP banner text (after "220 ") gives away: a software name or a
// version number after the host name. nullopt when it reveals nothing.
[[nodiscard]] std::optional<std::string> banner_reveals(std::string_view banner_text);

// One IMAP response line (RFC 9051 7): "* ..." untagged, "+ ..." continuation,
// "TAG OK|NO|BAD ..." tagged.
struct ImapLine {
    enum class Kind { Untagged, Continuation, Tagged, Malformed } kind = Kind::Malformed;
    std::string tag;      // Tagged only
    std::string status;   // OK, NO, BAD, PREAUTH, BYE (upper case); empty for other untagged data
    std::string text;     // the rest
};
[[nodiscard]] ImapLine parse_imap_line(std::string_view line);
// The length of a literal announced at the end of a line ("{123}" or
// "{123+}"): nullopt if none; BadInput if absurd (over max).
[[nodiscard]] Result<std::optional<std::size_t>> imap_literal_length(std::string_view line,
                                                                      std::size_t max);
// An IMAP quoted string for a LOGIN argument; nullopt when the value cannot
// be quoted (CR, LF, NUL or 8-bit: send it as a literal instead).
[[nodiscard]] std::optional<std::string> imap_quote(std::string_view s);
// The numbers of an untagged "* SEARCH 1 2 3" line ("SEARCH 1 2 3" as text).
[[nodiscard]] std::vector<std::uint32_t> imap_search_numbers(std::string_view untagged_text);

// A POP3 status line (RFC 1939 3).
struct Pop3Status {
    enum class Kind { Ok, Err, Continuation, Malformed } kind = Kind::Malformed;
    std::string text;
};
[[nodiscard]] Pop3Status parse_pop3_status(std::string_view line);

// Base64 (RFC 4648) for SASL; decode returns nullopt on malformed input.
[[nodiscard]] std::string base64_encode(std::string_view);
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view);

}  // namespace yubin::ctl::check
