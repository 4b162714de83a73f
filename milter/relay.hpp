// The relay decision: may this client hand us mail for this recipient?
//
// Defense in depth behind Postfix's own smtpd_relay_restrictions: even a
// Postfix configured as an open relay (mynetworks = 0.0.0.0/0) must not relay
// through yubin-milter. The decision is a pure function of the RCPT argument
// exactly as the client typed it, of who the client is (authenticated,
// trusted network) and of a "is this domain ours" predicate.
//
// How the address is read, as Postfix would route it (not the text after the
// last '@'):
//   - surrounding white space and one pair of angle brackets are dropped
//     (missing brackets are accepted, as Postfix does by default);
//   - a source route ("@a,@b:user@d") makes the recipient routed: Postfix
//     strips the route and flags the address, and allow_untrusted_routing=no
//     refuses to relay such an address even for a local final domain;
//   - the domain is what follows the last '@' that is neither quoted nor
//     backslash-escaped; one trailing dot is dropped, case is ignored, an IP
//     literal ("[192.0.2.1]") is passed to the predicate as written;
//   - a local part holding a routing operator ('@', '%', '!') in any form -
//     bare, quoted ("a@b"@local) or escaped (a\@b@local) - is relaying: the
//     percent hack, bang paths and nested addresses would make Postfix (or a
//     downstream MTA) forward the mail elsewhere;
//   - an address without a domain is Postfix's "user@$myorigin": only
//     "postmaster" is accepted (RFC 5321 4.5.1 requires it), any other
//     unqualified recipient is refused, since $myorigin is not ours to judge;
//   - anything unparsable (unbalanced quotes or brackets, an empty domain,
//     two trailing dots, over kMaxRcptBytes) is refused.
// Authenticated clients and clients in the trusted networks may relay: the
// address is not examined for them.
//
// SECURITY: the RCPT argument is peer input. It is scanned once, left to
// right, without recursion or allocation beyond its own length; longer than
// kMaxRcptBytes is refused without being examined further.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "core/util/result.hpp"

namespace yubin::milter {

inline constexpr std::size_t kMaxRcptBytes = 2048;

// What parse_recipient() makes of the argument.
struct ParsedRecipient {
    std::string local;          // as typed between route and the final '@' (quotes kept)
    std::string domain;         // lower case, one trailing dot removed; empty if none
    bool source_route = false;  // "@a,@b:" present
    bool routing = false;       // '@', '%' or '!' in the local part, in any form
    bool malformed = false;
};

[[nodiscard]] ParsedRecipient parse_recipient(std::string_view raw);

enum class RelayVerdict { Accept, Reject, TempFail };

struct RelayDecision {
    RelayVerdict verdict = RelayVerdict::Reject;
    std::string reason;  // for the log: "local domain example.jp", "source route", ...
};

struct RelayClient {
    bool authenticated = false;
    bool trusted = false;
};

// true: the domain is ours; false: it is not; an error: cannot tell now
// (TempFail). Receives the lower-cased domain or IP literal as typed.
using LocalDomainFn = std::function<Result<bool>(std::string_view domain)>;

[[nodiscard]] RelayDecision decide_relay(std::string_view raw_rcpt, const RelayClient& client,
                                         const LocalDomainFn& is_local);

}  // namespace yubin::milter
