// The IMAP and POP3 sides of yubinctl check: login (plain, after
// STARTTLS/STLS, or over implicit TLS) and looking for the test message.
//
// SECURITY: server output is read through Connection (bounded lines); IMAP
// literals in untagged data are read only up to kMaxImapLiteral bytes and a
// command's untagged lines are limited to kMaxImapUntagged.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ctl/check_conn.hpp"
#include "ctl/check_reply.hpp"

namespace yubin::ctl::check {

inline constexpr std::size_t kMaxImapLiteral = 1 << 20;
inline constexpr std::size_t kMaxImapUntagged = 10000;

struct ImapResponse {
    ImapLine tagged;                     // status OK / NO / BAD
    std::vector<ImapLine> untagged;
    [[nodiscard]] bool ok() const { return tagged.status == "OK"; }
};

class ImapSession {
public:
    explicit ImapSession(Connection c) : conn_(std::move(c)) {}
    [[nodiscard]] Result<ImapLine> greeting();
    // Sends "TAG COMMAND" (COMMAND without CRLF) and reads to the tagged reply.
    [[nodiscard]] Result<ImapResponse> command(std::string_view cmd);
    [[nodiscard]] Status starttls(const TlsContext&, const std::string& name);
    // LOGIN with quoted strings, or synchronizing literals for values that
    // cannot be quoted.
    [[nodiscard]] Result<ImapResponse> login(const std::string& user, const std::string& pass);
    void logout();  // best effort
    [[nodiscard]] Connection& conn() { return conn_; }

private:
    [[nodiscard]] Result<ImapLine> read_response_line();
    [[nodiscard]] Result<ImapResponse> finish(const std::string& tag);
    Connection conn_;
    unsigned next_tag_ = 1;
};

class Pop3Session {
public:
    explicit Pop3Session(Connection c) : conn_(std::move(c)) {}
    [[nodiscard]] Result<Pop3Status> greeting();
    [[nodiscard]] Result<Pop3Status> command(std::string_view line);
    [[nodiscard]] Status stls(const TlsContext&, const std::string& name);
    // USER and PASS: the final status.
    [[nodiscard]] Result<Pop3Status> login(const std::string& user, const std::string& pass);
    // The lines of a multi-line response after its +OK, dot-unstuffed, at most MAX.
    [[nodiscard]] Result<std::vector<std::string>> multiline(std::size_t max);
    void quit();  // best effort
    [[nodiscard]] Connection& conn() { return conn_; }

private:
    Connection conn_;
};

}  // namespace yubin::ctl::check
