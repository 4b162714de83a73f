// Escaping for the two places where text becomes LDAP syntax: search filter
// values (RFC 4515) and attribute values inside a DN (RFC 4514).
//
// SECURITY: every value that LdapStore puts into a filter or a DN passes
// through one of these, also values that were already parsed as addresses or
// domains (defence in depth: a key like "*)(uid=*" must match nothing, not
// everything). Both functions accept any bytes, NUL and 8-bit included, and
// never fail; their output is printable ASCII only, at most three times the
// input's length.
#pragma once

#include <string>
#include <string_view>

namespace yubin::store {

// A value for an equality or substring assertion: '*', '(', ')', '\', NUL and
// every byte outside printable ASCII become "\XX" (two lower-case hex digits).
[[nodiscard]] std::string ldap_filter_escape(std::string_view value);

// An attribute value for a DN's RDN: the RFC 4514 specials ('"', '+', ',',
// ';', '<', '>', '\', '=' and a leading '#') and a leading or trailing space
// get a backslash; NUL, control bytes and 8-bit bytes become "\XX".
[[nodiscard]] std::string ldap_dn_escape(std::string_view value);

}  // namespace yubin::store
