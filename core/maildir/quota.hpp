// Maildir++ quota: the "maildirsize" file in the Maildir root, kept the way
// Dovecot's quota plugin (backend "maildir") reads and writes it, so IMAP
// GETQUOTAROOT shows what the delivery agent enforces.
//
//   line 1:  "<bytes>S,<count>C"   the limits (either part left out when 0)
//   then:    "<bytes> <count>"     one line per change, may be negative
//
// Usage is the sum of the lines after the first. The file is rebuilt from
// the Maildir (every message in new/ and cur/ of the root and of each
// ".folder") when it is missing, unreadable as numbers, larger than 5120
// bytes (the Maildir++ rule; it keeps appends cheap), or when its limits are
// not the configured ones (Dovecot does the same on a limit change).
//
// SECURITY: maildirsize is written by the mailbox owner (and Dovecot), so it
// is read with a size bound, parsed with range checks, and anything
// unexpected only triggers a rebuild.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/maildir/maildir.hpp"
#include "core/util/result.hpp"

namespace yubin::maildir {

inline constexpr std::size_t kMaildirsizeMaxBytes = 5120;

struct QuotaLimits {
    std::int64_t bytes = 0;     // 0 = no byte limit
    std::int64_t messages = 0;  // 0 = no message-count limit
    [[nodiscard]] bool any() const { return bytes > 0 || messages > 0; }
    bool operator==(const QuotaLimits&) const = default;
};

struct QuotaUsage {
    std::int64_t bytes = 0;
    std::int64_t messages = 0;
};

struct ParsedMaildirsize {
    QuotaLimits limits;
    QuotaUsage usage;
};

// Parses the file's text; nullopt-like BadInput if it is not the format above.
[[nodiscard]] Result<ParsedMaildirsize> parse_maildirsize(std::string_view text);
[[nodiscard]] std::string format_limits(const QuotaLimits& limits);

// The current usage of root (a Maildir root, not a folder), rebuilding the
// file first when needed (see above).
[[nodiscard]] Result<QuotaUsage> quota_usage(const Maildir& root, const QuotaLimits& limits);

// Counts the messages and their sizes from the directories (the rebuild).
[[nodiscard]] Result<QuotaUsage> scan_usage(const Maildir& root);

// Would adding one message of `size` bytes go over a limit?
[[nodiscard]] bool over_quota(const QuotaUsage& usage, const QuotaLimits& limits,
                              std::int64_t size);

// Appends "<bytes> <count>\n" in one O_APPEND write (atomic with respect to
// other appenders), after a delivery.
[[nodiscard]] Status quota_add(const Maildir& root, std::int64_t bytes, std::int64_t messages);

}  // namespace yubin::maildir
