// The SMTP side of yubinctl check: one session over a Connection, replies
// read with SmtpReplyReader, commands refused if they would carry CR or LF.
//
// SECURITY: reads server replies: each line bounded by Connection
// (kMaxReplyLine, one deadline per line), each reply by SmtpReplyReader
// (kMaxReplyLines); nothing the server sends is executed or written anywhere
// but the report, where it is sanitized.
#pragma once

#include <string>
#include <string_view>

#include "ctl/check_conn.hpp"
#include "ctl/check_reply.hpp"

namespace yubin::ctl::check {

class SmtpSession {
public:
    explicit SmtpSession(Connection c) : conn_(std::move(c)) {}

    [[nodiscard]] Result<SmtpReply> read_reply();
    // Sends LINE plus CRLF and reads the reply.
    [[nodiscard]] Result<SmtpReply> command(std::string_view line);
    [[nodiscard]] Result<Ehlo> ehlo(const std::string& helo_name);
    // STARTTLS, a 220, then the handshake (NAME checked against the certificate).
    [[nodiscard]] Status starttls(const TlsContext&, const std::string& name);
    // AUTH PLAIN with an initial response / AUTH LOGIN with two 334 rounds:
    // the final reply (235 on success).
    [[nodiscard]] Result<SmtpReply> auth_plain(const std::string& user, const std::string& pass);
    [[nodiscard]] Result<SmtpReply> auth_login(const std::string& user, const std::string& pass);
    // DATA, the message (CRLF lines, dot-stuffed here), ".": the final reply;
    // a refused DATA command is returned as it is.
    [[nodiscard]] Result<SmtpReply> data(std::string_view message);
    void quit();  // best effort

    [[nodiscard]] Connection& conn() { return conn_; }

private:
    Connection conn_;
};

// Dot-stuffs MESSAGE and makes every line end in CRLF, adding the final
// "." line (RFC 5321 4.5.2).
[[nodiscard]] std::string smtp_data_payload(std::string_view message);

}  // namespace yubin::ctl::check
