// libFuzzer target: the LMTP session (lda/lmtp_session.cpp) on arbitrary
// client bytes, fed in pieces whose sizes the input also chooses, so that
// every split of a command or of the end-of-data dot is tried.
//
// Invariants checked besides memory safety (ASan/UBSan):
//  - every reply is one or more lines "DDD text\r\n" / "DDD-text\r\n" with a
//    code of 2xx-5xx, and nothing else;
//  - after DATA the session asks the backend to deliver to exactly the
//    recipients it accepted with 250, and the message it hands over is never
//    longer than the size limit and ends with LF (line ends are LF);
//  - the same bytes fed in one piece or in the pieces give the same replies
//    and the same deliveries (the state machine does not depend on reads).
//
// Input layout: byte 0 picks the piece size pattern; the rest is the stream.
// A mailbox named "bad@..." is refused (550), "temp@..." deferred (451).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "lda/lmtp_session.hpp"

namespace {

using namespace yubin::lda;

class RecordingBackend final : public LmtpBackend {
public:
    std::variant<Mailbox, Outcome> lookup(std::string_view address) override {
        if (address.substr(0, 4) == "bad@") return perm_failure("5.1.1", "user unknown");
        if (address.substr(0, 5) == "temp@") return temp_failure("4.3.0", "store down");
        Mailbox m;
        m.maildir = "/nonexistent/" + std::string(address);
        return m;
    }
    std::vector<Outcome> deliver(const Envelope& env, const std::vector<Recipient>& rcpts,
                                 std::string_view message) override {
        std::string log = env.sender + "|";
        for (const auto& r : rcpts) log += r.address + ",";
        log += "|" + std::to_string(message.size()) + "|" + std::string(message.substr(0, 64));
        deliveries.push_back(std::move(log));
        if (message.size() > kLimit) std::abort();
        // Every data line ends in LF (its CRLF turned into LF).
        if (!message.empty() && message.back() != '\n') std::abort();
        std::vector<Outcome> out;
        for (std::size_t i = 0; i < rcpts.size(); ++i)
            out.push_back(i % 3 == 2 ? temp_failure("4.2.2", "mailbox full")
                                     : delivered("INBOX", "/x"));
        return out;
    }
    static constexpr std::size_t kLimit = 4096;
    std::vector<std::string> deliveries;
};

void check_replies(std::string_view r) {
    while (!r.empty()) {
        auto end = r.find("\r\n");
        if (end == std::string_view::npos) std::abort();
        auto line = r.substr(0, end);
        if (line.size() < 4) std::abort();
        if (line[0] < '2' || line[0] > '5') std::abort();
        if (line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9') std::abort();
        if (line[3] != ' ' && line[3] != '-') std::abort();
        if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos)
            std::abort();
        r.remove_prefix(end + 2);
    }
}

struct Run {
    std::string replies;
    std::vector<std::string> deliveries;
};

Run run(std::string_view stream, unsigned pattern, bool whole) {
    RecordingBackend backend;
    LmtpLimits limits;
    limits.max_message_bytes = RecordingBackend::kLimit;
    limits.max_recipients = 5;
    LmtpSession session(backend, "fuzz.example", limits);
    Run out;
    std::size_t i = 0, step = 0;
    while (i < stream.size() && !session.closed()) {
        std::size_t n = whole ? stream.size() : 1 + ((pattern >> (step % 8)) & 7) * (step % 5 + 1);
        n = std::min(n, stream.size() - i);
        std::string r = session.feed(stream.substr(i, n));
        check_replies(r);
        out.replies += r;
        i += n;
        ++step;
    }
    out.deliveries = std::move(backend.deliveries);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const unsigned pattern = data[0];
    const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
    Run pieces = run(stream, pattern, false);
    Run whole = run(stream, pattern, true);
    // One piece stops at QUIT like the pieces do, so both saw the same bytes
    // up to there; what follows QUIT is never read.
    if (pieces.replies != whole.replies) std::abort();
    if (pieces.deliveries != whole.deliveries) std::abort();
    return 0;
}
