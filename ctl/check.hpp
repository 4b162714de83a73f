// yubinctl check: tests a running mail server from outside, as the old
// how-to did by hand with telnet and openssl -- banner, EHLO, STARTTLS,
// SMTPS, the certificate, SMTP AUTH, the open-relay test, IMAP and POP3
// with and without implicit TLS, delivery of a test message, the size limit
// and the 未承諾広告 filter -- and prints one result line per check.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "ctl/check_conn.hpp"
#include "ctl/check_report.hpp"

namespace yubin::ctl::check {

struct CheckOptions {
    std::string host = "127.0.0.1";
    int smtp_port = 25, submission_port = 587, smtps_port = 465;
    int imap_port = 143, imaps_port = 993, pop3_port = 110, pop3s_port = 995;
    std::string user;          // test account (SMTP AUTH, IMAP, POP3)
    std::string password;
    std::string local_rcpt;    // an address the server receives for; default user
    std::optional<std::uint64_t> max_size;  // the configured message_size_limit
    std::string cafile;        // trust anchors; default the system store
    std::string tls_name;      // name the certificate must carry; default the banner's host name
    std::string relay_domain = "relay-test.example.net";
    std::string helo;          // EHLO name; default this host's name
    std::string bind;          // local address to connect from
    std::chrono::milliseconds timeout{10000};      // every network operation
    std::chrono::milliseconds delivery_wait{30000};  // polling IMAP for the test message
    bool stream_oversize = false;  // also send a message over the limit
    bool json = false;
    std::vector<std::string> skip;  // check names or their first word ("relay", "auth")
};

// The known check names (for --skip); a name also skips "name-...".
[[nodiscard]] const std::vector<std::string>& check_names();

// Judges the certificate seen in a TLS handshake: name, chain, expiry.
[[nodiscard]] CheckResult judge_certificate(const TlsInfo&, bool have_cafile);

// Runs every check not skipped; prints lines (or JSON) to OUT. Exit status:
// 0 nothing failed, 1 a check failed, 78 bad options (CA file unreadable).
int run_check(const CheckOptions&, std::ostream& out, std::ostream& err);

}  // namespace yubin::ctl::check
