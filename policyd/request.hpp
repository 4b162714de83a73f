// The SMTPD access policy delegation protocol (Postfix SMTPD_POLICY_README):
// a request is "name=value" lines ended by an empty line; the reply is one
// "action=..." line and an empty line. Connections are persistent.
//
// RequestParser is incremental and pure: it is fed whatever read() returned
// and yields whole requests, so a request split at any byte parses the same.
//
// SECURITY: the input is the peer's (normally Postfix's smtpd, but anything
// that can connect to the socket). Bounds: at most max_request_bytes per
// request (lines, terminators and the blank line included) and at most
// max_attributes lines; NUL, a line without '=', an empty name, a duplicate
// known attribute, a non-numeric count, size or port, and a request without
// request=smtpd_access_policy are errors. After an error the parser stays
// failed: the caller logs and closes the connection without a reply (Postfix
// then retries), so garbage never gets an answer, least of all OK. A CR before
// LF is dropped (CRLF tolerance); any other control byte stays in the value
// and is sanitised only when logged. Unknown attributes are ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace yubin::policyd {

inline constexpr std::size_t kDefaultMaxRequestBytes = 16384;
inline constexpr std::size_t kDefaultMaxAttributes = 100;

// Every attribute Postfix 3.7 sends. Numbers are kept as text here and have
// been checked to be decimal digits (or empty) by the parser.
struct Request {
    std::string request;
    std::string protocol_state;  // CONNECT EHLO HELO MAIL RCPT DATA END-OF-MESSAGE VRFY ETRN
    std::string protocol_name;   // SMTP ESMTP LMTP
    std::string helo_name;
    std::string queue_id;
    std::string sender;
    std::string recipient;
    std::string recipient_count;
    std::string client_address;
    std::string client_name;
    std::string client_port;
    std::string reverse_client_name;
    std::string instance;
    std::string sasl_method;
    std::string sasl_username;
    std::string sasl_sender;
    std::string size;
    std::string ccert_subject;
    std::string ccert_issuer;
    std::string ccert_fingerprint;
    std::string ccert_pubkey_fingerprint;
    std::string encryption_protocol;
    std::string encryption_cipher;
    std::string encryption_keysize;
    std::string etrn_domain;
    std::string stress;
    std::string policy_context;
    std::string server_address;
    std::string server_port;
    std::string compatibility_level;
    std::string mail_version;

    // recipient_count / size as numbers; 0 when empty. The parser has
    // checked the digits; a value beyond int64 saturates.
    [[nodiscard]] std::int64_t recipient_count_value() const;
    [[nodiscard]] std::int64_t size_value() const;
};

// The member for a known attribute name, nullptr for an unknown one.
[[nodiscard]] std::string Request::*attribute_member(std::string_view name);
// Number of attributes Request knows (for tests).
[[nodiscard]] std::size_t known_attribute_count();
// The name of the i-th known attribute (i < known_attribute_count()).
[[nodiscard]] std::string_view known_attribute_name(std::size_t i);

struct ParserLimits {
    std::size_t max_request_bytes = kDefaultMaxRequestBytes;
    std::size_t max_attributes = kDefaultMaxAttributes;
};

class RequestParser {
public:
    enum class Status { NeedMore, Complete, Error };
    struct Step {
        Status status;
        std::size_t consumed;  // bytes of the input used; the rest is the next request's
    };

    explicit RequestParser(ParserLimits limits = {}) : limits_(limits) {}

    // Consumes input up to the end of one request at most. After Complete,
    // take() the request and feed the unconsumed rest again. After Error,
    // error() says why and every further feed() returns Error.
    Step feed(std::string_view data);
    // The finished request; the parser is then ready for the next one.
    Request take();
    // The same into `out` (overwriting it), reusing its buffers.
    void take_into(Request& out);
    [[nodiscard]] const std::string& error() const { return error_; }
    // True while part of a request has been received (for idle-close logs).
    [[nodiscard]] bool in_request() const { return bytes_ > 0; }

private:
    bool finish_line(std::string_view line);
    bool fail(std::string why);

    ParserLimits limits_;
    Request current_;
    std::string line_;
    std::size_t bytes_ = 0;       // bytes of the current request so far
    std::size_t attributes_ = 0;  // lines of the current request
    std::uint64_t seen_ = 0;      // bit i: known attribute i already given
    bool complete_ = false;
    bool failed_ = false;
    std::string error_;
};

// "action=<action>\n\n". The action must be one line; any CR/LF in it is
// replaced with a space so a reply can never be split.
[[nodiscard]] std::string format_reply(std::string_view action);
// The same appended to `out`.
void append_reply(std::string& out, std::string_view action);

}  // namespace yubin::policyd
