// Reading the message from Postfix.
//
// SECURITY: standard input is the message, hostile content but from
// Postfix, which already bounded it by message_size_limit; this read has its
// own bound (lda_message_size_limit) so a misconfigured Postfix cannot make
// the agent eat memory. Past the bound the read stops with Perm (5.3.4), so
// nothing is delivered truncated.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/util/result.hpp"

namespace yubin::lda {

// The message in memory. Anonymous pages grown with mremap: no zero-filling
// and no copying as it grows (a std::string did both, about a sixth of the
// CPU of a 1 MB delivery). Move-only.
class MessageBuffer {
public:
    MessageBuffer() = default;
    MessageBuffer(MessageBuffer&& o) noexcept;
    MessageBuffer& operator=(MessageBuffer&& o) noexcept;
    MessageBuffer(const MessageBuffer&) = delete;
    MessageBuffer& operator=(const MessageBuffer&) = delete;
    ~MessageBuffer();

    [[nodiscard]] std::string_view view() const { return {data_ ? data_ : "", size_}; }

private:
    friend Result<MessageBuffer> read_message(int fd, std::size_t limit);
    char* data_ = nullptr;
    std::size_t size_ = 0, capacity_ = 0;
};

// Everything up to EOF. Perm "message too big" past `limit` bytes (0 = no
// limit); errno-based errors otherwise (Temp).
[[nodiscard]] Result<MessageBuffer> read_message(int fd, std::size_t limit);

}  // namespace yubin::lda
