// Reading the message from Postfix.
//
// SECURITY: standard input is the message, hostile content but from
// Postfix, which already bounded it by message_size_limit; this read has its
// own bound (lda_message_size_limit) so a misconfigured Postfix cannot make
// the agent eat memory. Past the bound the read stops with Perm (5.3.4), so
// nothing is delivered truncated.
#pragma once

#include <cstddef>
#include <string>

#include "core/util/result.hpp"

namespace yubin::lda {

// Everything up to EOF. Perm "message too big" past `limit` bytes (0 = no
// limit); errno-based errors otherwise.
[[nodiscard]] Result<std::string> read_message(int fd, std::size_t limit);

}  // namespace yubin::lda
