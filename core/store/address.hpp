// Mail addresses as the store keys them: RFC 5321 mailbox syntax, ASCII only.
//
// SECURITY: parse_address and parse_domain read untrusted input (SMTP
// envelope addresses, socketmap and auth requests, admin input). Every byte is
// checked against the grammar; nothing longer than limits::kMaxAddressBytes
// (local part 64, domain 255) is accepted; 8-bit and control bytes are
// rejected, so everything the store holds is plain ASCII and can be compared
// with ASCII case folding (COLLATE NOCASE, Dovecot %Lu, Postfix tables).
#pragma once

#include <string>
#include <string_view>

#include "core/util/result.hpp"

namespace yubin::store {

struct Address {
    std::string local;   // as given (case kept)
    std::string domain;  // as given (case kept), trailing dot removed
};

// Dot-atom local part (RFC 5322 atext; no quoted strings, no leading,
// trailing or double dots), "@", domain as parse_domain. BadInput otherwise.
[[nodiscard]] Result<Address> parse_address(std::string_view s);

// LDH labels of 1..63 bytes without leading or trailing '-', at least two
// labels, a last label that is not all digits (so "1.2.3.4" is not taken for
// a name), at most 255 bytes; one trailing dot is removed. Address literals
// ("[192.0.2.1]") and UTF-8 (unencoded IDN) are rejected. Returns lower case.
[[nodiscard]] Result<std::string> parse_domain(std::string_view s);

// Lower-cased "local@domain": the form every case-insensitive lookup uses.
[[nodiscard]] std::string lookup_key(const Address& a);

}  // namespace yubin::store
