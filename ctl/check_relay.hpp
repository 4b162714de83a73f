// The open-relay probes of yubinctl check: every classic way of sneaking a
// foreign recipient past a mail server's relay check, built for one server.
// Drawn from the relay-test lists of the late 1990s (the MAPS/ORBS style
// 19-test checkers, Sendmail's and Claus Assmann's notes, rlytest, nmap's
// smtp-open-relay) plus the variants Postfix's own documentation warns about.
// A probe only ever goes as far as RCPT TO, followed by RSET: no message is
// sent.
#pragma once

#include <string>
#include <vector>

namespace yubin::ctl::check {

struct RelayTarget {
    std::string relay_domain = "relay-test.example.net";  // the foreign destination
    std::string local_domain;  // a domain the server receives for; empty = unknown
    std::string server_name;   // the host name from the banner; empty = unknown
    std::string server_ip;     // the address connected to (IPv4 or IPv6)
};

struct RelayProbe {
    std::string name;       // what the trick is called
    std::string mail_from;  // the whole argument of MAIL FROM:, e.g. "<spamtest@example.net>"
    std::string rcpt_to;    // the whole argument of RCPT TO:
};

// The probes for TARGET; variants that need an unknown local domain or
// server name are left out. Each (mail_from, rcpt_to) pair is distinct.
[[nodiscard]] std::vector<RelayProbe> relay_probes(const RelayTarget&);

// "[192.0.2.1]" or "[IPv6:2001:db8::1]".
[[nodiscard]] std::string address_literal(const std::string& ip);

}  // namespace yubin::ctl::check
