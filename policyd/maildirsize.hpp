// Maildir++ quota file ("maildirsize", as Dovecot and the LDA keep it in the
// Maildir's root): read-only here, to refuse mail for a full mailbox at RCPT.
//
//   first line:    the quota definition, "10485760S,1000C" (either part may be absent)
//   other lines:   "bytes count" deltas, possibly negative; their sum is the use
//
// SECURITY: the file is written by the mail user's delivery agents and by
// Dovecot, i.e. not by the SMTP peer, but a mailbox owner with shell access
// could write it. It is read through a bound (kMaxMaildirsizeBytes: Maildir++
// recalculates the file long before 5120 bytes), with O_NOFOLLOW, and
// parsed with from_chars; sums saturate instead of overflowing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/result.hpp"

namespace yubin::policyd {

inline constexpr std::size_t kMaxMaildirsizeBytes = 65536;

struct MaildirSize {
    std::int64_t limit_bytes = 0;     // from the first line; 0 = none given
    std::int64_t limit_messages = 0;  // 0 = none given
    std::int64_t used_bytes = 0;
    std::int64_t used_messages = 0;
};

// BadInput for a malformed file.
[[nodiscard]] Result<MaildirSize> parse_maildirsize(std::string_view text);

// Reads <maildir>/maildirsize. NotFound when the file does not exist (no
// quota recorded yet: the mailbox is empty or quota is not in use), Temp on a
// read error, BadInput when too large or malformed.
[[nodiscard]] Result<MaildirSize> read_maildirsize(const std::string& maildir);

}  // namespace yubin::policyd
