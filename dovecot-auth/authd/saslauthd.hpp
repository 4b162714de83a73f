// The saslauthd wire protocol, as Cyrus SASL's pwcheck_method "saslauthd"
// speaks it (lib/checkpw.c, saslauthd/ipc_unix.c): one request per
// connection, four counted strings — login, password, service, realm — each
// a 2-byte big-endian length and that many bytes; the reply is one counted
// string, "OK" or "NO reason". Cyrus takes anything but "OK" as a wrong
// password; there is no "try again" answer, so a store outage is answered by
// closing the connection without a reply, which Cyrus reports as SASL_FAIL
// and Postfix as a temporary failure (454 4.7.0).
//
// SECURITY: parse_saslauthd_request reads untrusted bytes (any local process
// that can reach the socket). Each declared length is checked against
// max_field before its bytes are buffered, so a request never holds more than
// 4 * (2 + max_field) bytes; a longer field is an error and the connection is
// closed. Field contents are not interpreted here: the login goes to the store
// as an address (parse_address) and the password only to the password schemes.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/auth/authenticator.hpp"

namespace yubin::authd {

inline constexpr std::size_t kSaslauthdMaxField = 1024;

struct SaslauthdParse {
    enum class State { NeedMore, Done, Error };
    State state = State::NeedMore;
    std::array<std::string_view, 4>
        fields{};  // Done: login, password, service, realm (into the input)
    std::size_t consumed = 0;
    std::string_view error{};
};

[[nodiscard]] SaslauthdParse parse_saslauthd_request(std::string_view in, std::size_t max_field);

// Appends the counted string `s` (at most 65535 bytes; longer is cut).
void append_counted(std::string& out, std::string_view s);

// The login the store is asked for: `login` if it holds an '@', else
// "login@realm" when a realm is given, else `login`.
[[nodiscard]] std::string saslauthd_login(std::string_view login, std::string_view realm);

// What the server does with an authentication outcome.
struct SaslauthdAnswer {
    bool reply = true;    // false: close without replying (temporary failure)
    std::string payload;  // "OK" or "NO ..."
};

// The one mapping of Authenticator outcomes to saslauthd answers.
[[nodiscard]] SaslauthdAnswer to_saslauthd_answer(auth::Outcome o);

}  // namespace yubin::authd
