// The LMTP protocol (RFC 2033) as a pure state machine: bytes in, reply text
// out, no sockets, so every split of the input can be tested.
//
// Extensions: PIPELINING (replies are produced in order, whatever arrives
// in one read), 8BITMIME, ENHANCEDSTATUSCODES, SIZE. After DATA one reply
// per accepted recipient, in RCPT order (RFC 2033 4.2).
//
// SECURITY: the peer is Postfix's lmtp client, but the bytes in DATA are the
// hostile message. Command lines are bounded (kMaxCommandLine; a longer one
// is answered 500 and skipped to its end, staying in sync); recipients per
// transaction are bounded (max_recipients, 452 4.5.3 past it); the message is
// bounded by max_message_bytes: past it the rest of DATA is read and
// dropped, and every recipient gets 552 5.3.4, so nothing is delivered cut
// short. Data lines have no length bound of their own (only the total), so
// a 1 MB line is delivered whole. Line ends become LF in the delivered file
// (Maildir convention); dot-stuffing is removed.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lda/delivery.hpp"
#include "lda/outcome.hpp"

namespace yubin::lda {

inline constexpr std::size_t kMaxCommandLine = 2048;
inline constexpr std::size_t kDefaultMaxRecipients = 1000;

// What the session needs from the rest of the agent (a narrow seam: tests
// use a fake).
class LmtpBackend {
public:
    virtual ~LmtpBackend() = default;
    // At MAIL, before the transaction starts: nothing, or why it cannot
    // (4.3.0: e.g. the store cannot be opened after a reload).
    virtual std::optional<Outcome> begin_transaction() { return std::nullopt; }
    // At RCPT: the recipient's mailbox, or why not (5.1.1, 4.3.0, ...).
    virtual std::variant<Mailbox, Outcome> lookup(std::string_view address) = 0;
    // After DATA: one Outcome per recipient, in order.
    virtual std::vector<Outcome> deliver(const Envelope& env, const std::vector<Recipient>& rcpts,
                                         std::string_view message) = 0;
};

struct LmtpLimits {
    std::size_t max_message_bytes = 100u << 20;  // 0 = none
    std::size_t max_recipients = kDefaultMaxRecipients;
};

class LmtpSession {
public:
    LmtpSession(LmtpBackend& backend, std::string hostname, LmtpLimits limits = {});

    [[nodiscard]] std::string greeting() const;
    // Consumes bytes, returns the replies they caused (possibly none).
    [[nodiscard]] std::string feed(std::string_view bytes);
    // QUIT was answered: the caller sends the reply and closes.
    [[nodiscard]] bool closed() const { return closed_; }
    // The connection may be dropped without losing anything acknowledged.
    [[nodiscard]] bool idle() const { return state_ != State::Data; }

private:
    enum class State { Command, Data };
    std::string command(std::string_view line);
    std::string finish_data();
    void reset_transaction();
    bool data_step();  // consumes data bytes from buf_; false when it needs more

    LmtpBackend& backend_;
    std::string hostname_;
    LmtpLimits limits_;
    State state_ = State::Command;
    bool greeted_ = false;
    bool closed_ = false;
    bool skipping_ = false;  // inside an over-long command line
    std::string buf_;
    std::string replies_;

    bool have_mail_ = false;
    std::string sender_;
    std::vector<Recipient> rcpts_;
    std::string message_;
    bool too_big_ = false;
    bool line_start_ = true;
};

// The Postfix queue id from the first Received field ("... with ESMTP id
// 4F9D18340B ..."), for log lines; empty if there is none.
[[nodiscard]] std::string queue_id_from_received(std::string_view message);

}  // namespace yubin::lda
