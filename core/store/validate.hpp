// The store's rules for what a row may hold, applied by every backend
// (SqliteStore and LdapStore) before it writes: one copy of the checks and
// messages, so the conformance suite sees one behaviour.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/store/address.hpp"
#include "core/store/store.hpp"
#include "core/util/result.hpp"

namespace yubin::store::validate {

// BadInput if any value is negative.
[[nodiscard]] Status sizes(std::initializer_list<std::int64_t> values);
// Empty, or "{SCHEME}data" without control bytes (no plaintext by mistake).
[[nodiscard]] Status password(std::string_view p);
// The given maildir checked (relative, no "." / "..", trailing '/'), or the
// default "<domain>/<lower-case local>/Maildir/".
[[nodiscard]] Result<std::string> maildir_for(const Address& a, std::string_view given);
// "local@domain" with the domain lower-cased: how mailboxes are stored.
[[nodiscard]] std::string canonical(const Address& a);
// Everything of a domain a backend writes: sizes not negative, overrides.
[[nodiscard]] Status domain_fields(const Domain& d);
// A mailbox row as every backend writes it: the parsed address, its
// canonical form, the lower-case domain and the maildir to store (the
// default one when Mailbox::maildir is empty).
struct MailboxRow {
    Address addr;
    std::string address;
    std::string domain;
    std::string maildir;
};
// Add: a malformed address is the parser's BadInput. Update: it is NotFound
// ("no mailbox ..."), as for any mailbox that does not exist.
enum class MailboxWrite { Add, Update };
// Everything of a mailbox a backend writes, checked the same for every
// backend: address, sizes not negative, overrides, password empty or
// "{SCHEME}...", maildir safe.
[[nodiscard]] Result<MailboxRow> mailbox(const Mailbox& m, MailboxWrite w);
// The policy overrides of a domain or mailbox: rate_limit empty, "none" or a
// rate list (rate_limit.hpp) of at most kMaxRateRules items, one line;
// recipient_limit not negative. BadInput naming the field.
inline constexpr std::size_t kMaxRateRules = 16;
[[nodiscard]] Status overrides(std::string_view rate_limit, std::int64_t recipient_limit);
// "local@domain" or "@domain" canonicalised; the lower-case domain through
// `domain` when not null.
[[nodiscard]] Result<std::string> alias_side(std::string_view s, std::string* domain);

}  // namespace yubin::store::validate
