// The one grammar for listening addresses, as Postfix names milter and policy
// endpoints:
//
//   unix:/var/spool/postfix/private/yubin-policy
//   inet:127.0.0.1:10025   inet:[::1]:10025   inet:localhost:10025
//
// Both the config layer (typed `*_listen` parameters, where "" disables a
// listener) and the daemon layer (which binds the socket) read addresses with
// parse_listen_address, so a value the config check accepts is one the daemon
// can bind, and the two can never disagree.
//
// SECURITY: the text comes from yubin.cf (root-owned, but still parsed
// strictly): the unix path must be absolute, free of control bytes and fit
// sun_path; the port is plain decimal; an IPv6 host must be bracketed and
// valid; an all-digit host must be a valid IPv4 address; a host name is
// letters, digits, '-', '_' in dot-separated labels of at most 63 bytes.
// Error messages quote the input sanitised and cut (sanitize_for_log).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/result.hpp"

namespace yubin {

struct ListenAddress {
    enum class Kind { Disabled, Unix, Inet };
    Kind kind = Kind::Disabled;
    std::string path;        // Unix: absolute socket path
    std::string host;        // Inet: IPv4 address, IPv6 address without [], or name
    std::uint16_t port = 0;  // Inet

    // The canonical text form ("" when disabled), which parse_listen_address
    // reads back unchanged: lower-case transport, IPv6 hosts in brackets.
    [[nodiscard]] std::string to_string() const;
};

enum class ListenPortZero {
    Refuse,  // configuration: a listener needs a fixed port
    Allow,   // tests: port 0 lets the kernel choose
};

// "" gives Kind::Disabled. Anything malformed: a Config error
// `invalid listen address "TEXT": REASON`, on one line.
[[nodiscard]] Result<ListenAddress> parse_listen_address(
    std::string_view text, ListenPortZero port_zero = ListenPortZero::Refuse);

}  // namespace yubin
