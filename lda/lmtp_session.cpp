#include "lda/lmtp_session.hpp"

#include <fmt/format.h>

#include "core/mime/header.hpp"
#include "core/util/limits.hpp"
#include "core/util/strings.hpp"

namespace yubin::lda {
namespace {

// "FROM:<addr> params" -> addr and params; false if malformed.
bool parse_path(std::string_view arg, std::string_view keyword, std::string& addr,
                std::string_view& params) {
    if (!istarts_with(arg, keyword)) return false;
    arg.remove_prefix(keyword.size());
    arg = trim(arg);
    if (arg.empty() || arg.front() != '<') return false;
    auto close = arg.find('>');
    if (close == std::string_view::npos) return false;
    addr = std::string(arg.substr(1, close - 1));
    if (addr.size() > limits::kMaxAddressBytes) return false;
    for (char c : addr)
        if (static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>') return false;
    params = trim(arg.substr(close + 1));
    return true;
}

}  // namespace

std::string queue_id_from_received(std::string_view message) {
    mime::Limits lim;
    lim.max_header_bytes = 64 * 1024;
    lim.max_header_fields = 200;
    mime::HeaderReader reader(message, lim);
    mime::HeaderField f;
    while (reader.next(f)) {
        if (!iequals(f.name, "Received")) continue;
        auto v = mime::unfold(f.value);
        auto words = split_any(v, " \t;");
        for (std::size_t i = 0; i + 1 < words.size(); ++i) {
            if (words[i] != "id") continue;
            auto id = words[i + 1];
            if (id.size() > 32) return "";
            for (char c : id)
                if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
                    return "";
            return std::string(id);
        }
        return "";  // only the first (newest) Received field says where it was queued
    }
    return "";
}

LmtpSession::LmtpSession(LmtpBackend& backend, std::string hostname, LmtpLimits limits)
    : backend_(backend), hostname_(std::move(hostname)), limits_(limits) {}

std::string LmtpSession::greeting() const {
    return fmt::format("220 {} LMTP yubin-lda\r\n", hostname_);
}

void LmtpSession::reset_transaction() {
    have_mail_ = false;
    sender_.clear();
    rcpts_.clear();
    message_.clear();
    too_big_ = false;
}

std::string LmtpSession::feed(std::string_view bytes) {
    buf_.append(bytes);
    replies_.clear();
    std::size_t pos = 0;
    while (!closed_) {
        if (state_ == State::Data) {
            buf_.erase(0, pos);
            pos = 0;
            if (!data_step()) break;
            continue;
        }
        auto nl = buf_.find('\n', pos);
        if (nl == std::string::npos) {
            // +1: a CR may still be waiting for its LF; the line without
            // it can be exactly at the bound, whatever the split.
            if (buf_.size() - pos > kMaxCommandLine + 1) {
                // Over-long: answer once, then drop bytes until its end.
                if (!skipping_) replies_ += "500 5.5.2 Line too long\r\n";
                skipping_ = true;
                pos = buf_.size();
            }
            break;
        }
        std::string_view line(buf_.data() + pos, nl - pos);
        pos = nl + 1;
        if (skipping_) {
            skipping_ = false;
            continue;
        }
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() > kMaxCommandLine) {
            replies_ += "500 5.5.2 Line too long\r\n";
            continue;
        }
        replies_ += command(line);
    }
    if (state_ == State::Command) buf_.erase(0, pos);
    return std::move(replies_);
}

std::string LmtpSession::command(std::string_view line) {
    auto sp = line.find(' ');
    std::string verb = to_lower(line.substr(0, sp));
    std::string_view arg = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);

    if (verb == "lhlo") {
        if (trim(arg).empty()) return "501 5.5.4 Syntax: LHLO hostname\r\n";
        reset_transaction();
        greeted_ = true;
        std::string r = fmt::format("250-{}\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                                    "250-ENHANCEDSTATUSCODES\r\n",
                                    hostname_);
        if (limits_.max_message_bytes) return r + fmt::format("250 SIZE {}\r\n", limits_.max_message_bytes);
        return r + "250 SIZE\r\n";
    }
    if (verb == "helo" || verb == "ehlo") return "500 5.5.1 This is LMTP: use LHLO\r\n";
    if (verb == "quit") {
        closed_ = true;
        return "221 2.0.0 Bye\r\n";
    }
    if (verb == "noop") return "250 2.0.0 Ok\r\n";
    if (verb == "rset") {
        reset_transaction();
        return "250 2.0.0 Ok\r\n";
    }
    if (verb == "vrfy") return "252 2.5.2 Send some mail, I'll try my best\r\n";
    if (verb == "mail") {
        if (!greeted_) return "503 5.5.1 Send LHLO first\r\n";
        if (have_mail_) return "503 5.5.1 Nested MAIL command\r\n";
        std::string addr;
        std::string_view params;
        if (!parse_path(arg, "FROM:", addr, params)) return "501 5.5.4 Syntax: MAIL FROM:<address>\r\n";
        for (auto p : split_any(params, " ")) {
            if (istarts_with(p, "SIZE=")) {
                auto n = parse_int(p.substr(5));
                if (!n || *n < 0) return "501 5.5.4 Bad SIZE parameter\r\n";
                if (limits_.max_message_bytes &&
                    static_cast<std::uint64_t>(*n) > limits_.max_message_bytes)
                    return "552 5.3.4 Message size exceeds fixed limit\r\n";
            } else if (iequals(p, "BODY=8BITMIME") || iequals(p, "BODY=7BIT")) {
            } else {
                return "555 5.5.4 Unsupported parameter\r\n";
            }
        }
        if (auto o = backend_.begin_transaction()) return lmtp_reply(*o) + "\r\n";
        have_mail_ = true;
        sender_ = std::move(addr);
        return "250 2.1.0 Ok\r\n";
    }
    if (verb == "rcpt") {
        if (!have_mail_) return "503 5.5.1 Need MAIL command\r\n";
        std::string addr;
        std::string_view params;
        if (!parse_path(arg, "TO:", addr, params) || addr.empty())
            return "501 5.5.4 Syntax: RCPT TO:<address>\r\n";
        if (!params.empty()) return "555 5.5.4 Unsupported parameter\r\n";
        if (rcpts_.size() >= limits_.max_recipients) return "452 4.5.3 Too many recipients\r\n";
        auto r = backend_.lookup(addr);
        if (auto* o = std::get_if<Outcome>(&r)) return lmtp_reply(*o) + "\r\n";
        rcpts_.push_back({std::move(addr), std::move(std::get<Mailbox>(r))});
        return "250 2.1.5 Ok\r\n";
    }
    if (verb == "data") {
        if (!have_mail_) return "503 5.5.1 Need MAIL command\r\n";
        if (rcpts_.empty()) return "503 5.5.1 No valid recipients\r\n";
        state_ = State::Data;
        line_start_ = true;
        message_.clear();
        too_big_ = false;
        return "354 End data with <CR><LF>.<CR><LF>\r\n";
    }
    if (line.empty()) return "500 5.5.2 Empty command\r\n";
    return "500 5.5.2 Command not recognized\r\n";
}

bool LmtpSession::data_step() {
    auto append = [this](std::string_view s) {
        if (too_big_) return;
        if (limits_.max_message_bytes && message_.size() + s.size() > limits_.max_message_bytes) {
            too_big_ = true;
            message_.clear();
            message_.shrink_to_fit();
            return;
        }
        message_.append(s);
    };
    std::string_view b = buf_;
    std::size_t used = 0;
    while (used < b.size()) {
        std::string_view rest = b.substr(used);
        if (line_start_ && rest.front() == '.') {
            // Need to see what follows the dot: end of data or stuffing.
            if (rest.size() < 2) break;
            if (rest[1] == '\n') {
                used += 2;
                buf_.erase(0, used);
                replies_ += finish_data();
                return true;
            }
            if (rest[1] == '\r') {
                if (rest.size() < 3) break;
                if (rest[2] == '\n') {
                    used += 3;
                    buf_.erase(0, used);
                    replies_ += finish_data();
                    return true;
                }
            }
            ++used;  // a stuffed dot
            line_start_ = false;
            continue;
        }
        auto nl = rest.find('\n');
        if (nl == std::string_view::npos) {
            // Keep a final CR back: it may be the first half of CRLF.
            std::size_t take = rest.size();
            if (rest.back() == '\r') --take;
            if (take == 0) break;
            append(rest.substr(0, take));
            used += take;
            line_start_ = false;
            continue;
        }
        std::string_view line = rest.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        append(line);
        append("\n");
        used += nl + 1;
        line_start_ = true;
    }
    buf_.erase(0, used);
    return false;
}

std::string LmtpSession::finish_data() {
    state_ = State::Command;
    std::string out;
    if (too_big_) {
        for (std::size_t i = 0; i < rcpts_.size(); ++i)
            out += "552 5.3.4 Message size exceeds fixed limit\r\n";
    } else {
        Envelope env{sender_, "", queue_id_from_received(message_)};
        auto results = backend_.deliver(env, rcpts_, message_);
        for (std::size_t i = 0; i < rcpts_.size(); ++i) {
            Outcome o = i < results.size() ? results[i] : temp_failure("4.3.0", "internal error");
            out += lmtp_reply(o) + "\r\n";
        }
    }
    reset_transaction();
    return out;
}

}  // namespace yubin::lda
