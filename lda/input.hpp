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
    friend class MessageReader;
    char* data_ = nullptr;
    std::size_t size_ = 0, capacity_ = 0;
};

// Reads a message from `fd` in two steps, so command mode can look at the
// header and then copy the body to the file as it arrives (lda/delivery.hpp,
// Deliverer::deliver_stream) instead of holding the whole message.
class MessageReader {
public:
    MessageReader(int fd, std::size_t limit) : fd_(fd), limit_(limit) {}

    // Reads until the header is complete (an empty line seen), EOF, or
    // `head_max` bytes. Perm "message too big" past `limit` bytes (0 = no
    // limit); errno-based errors otherwise (Temp).
    [[nodiscard]] Status read_head(std::size_t head_max);
    // Reads everything that is left, to EOF, into the buffer.
    [[nodiscard]] Status read_rest();

    [[nodiscard]] std::string_view view() const { return buf_.view(); }
    [[nodiscard]] bool eof() const { return eof_; }
    // The buffer holds the whole top-level header and its empty line.
    [[nodiscard]] bool header_complete() const { return header_complete_; }
    [[nodiscard]] int fd() const { return fd_; }
    [[nodiscard]] std::size_t limit() const { return limit_; }

private:
    friend Result<MessageBuffer> read_message(int fd, std::size_t limit);
    Status fill(std::size_t stop_at);
    void scan_header_end();

    int fd_;
    std::size_t limit_;
    MessageBuffer buf_;
    bool eof_ = false;
    bool header_complete_ = false;
    std::size_t scanned_ = 0;  // bytes searched for the empty line so far
};

// Everything up to EOF. Perm "message too big" past `limit` bytes (0 = no
// limit); errno-based errors otherwise (Temp).
[[nodiscard]] Result<MessageBuffer> read_message(int fd, std::size_t limit);

// The message-too-big error both readers give (Perm; 5.3.4 for Postfix).
[[nodiscard]] Error message_too_big(std::size_t limit);

}  // namespace yubin::lda
