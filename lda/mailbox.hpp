// Where a recipient's mail goes, per mode: a local user's ~/Maildir
// (mailbox_command) or a virtual mailbox from the store (pipe, LMTP).
#pragma once

#include <string_view>

#include "core/config/config.hpp"
#include "core/store/store.hpp"
#include "lda/delivery.hpp"
#include "lda/outcome.hpp"

namespace yubin::lda {

// mailbox_command: lda_mailbox under home (or as is when absolute). Config
// error when home is empty or not absolute.
[[nodiscard]] Result<Mailbox> local_mailbox(const config::Config& cfg, std::string_view home,
                                            std::string_view extension);

// pipe / LMTP: the store's mailbox for `recipient` (with Postfix's extension
// rule): <virtual_mailbox_base>/<its maildir>, created on first delivery;
// quota from the mailbox, else its domain, else default_quota; the filter
// opt-out (spam_filter) from the mailbox, else its domain. NotFound: no
// such user; Perm: the mailbox is disabled; Temp/Internal: the store failed.
[[nodiscard]] Result<Mailbox> virtual_mailbox(store::Store& store, const config::Config& cfg,
                                              std::string_view recipient);

// A lookup failure as the sender should see it: 5.1.1 unknown user, 5.2.1
// disabled mailbox, otherwise temporary.
[[nodiscard]] Outcome lookup_failure(const Error& e, std::string_view recipient);

}  // namespace yubin::lda
