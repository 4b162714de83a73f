// Copying one store into another: `yubinctl store migrate --from sqlite:PATH
// --to ldap:FILE` (and any other pair of backends).
#pragma once

#include <cstddef>
#include <ostream>

#include "core/store/store.hpp"
#include "core/util/result.hpp"

namespace yubin::store {

// Copies every domain, then every mailbox (with its password hash, limits and
// Maildir path), then every alias row (with its active flag) from `from` into
// `to`. Idempotent: what the target already has (same domain name, same
// address, same source and target, compared without regard to case) is
// skipped and left as it is, so an interrupted run is finished by running it
// again. A row the target refuses (BadInput, Perm) is written to `report` as
// "migrate: <what>: <why>" and the others are still copied. Timestamps are
// the target's (created = when migrated).
//
// Each row is its own write (no transaction around the whole run: an LDAP
// target has none, and a rerun completes a partial copy). Writes `report`
// lines "domains: N added, M skipped, K failed" (and for mailboxes,
// aliases). Temp/Internal from either store stops the run
// at once and is returned (rerun later); if any row failed the result is
// BadInput "N rows were not copied" after everything else was copied.
//
// `summary`, when given, receives the counts (also on failure: what was done
// before the run stopped), so a caller can say "nothing to do".
struct MigrateCounts {
    std::size_t added = 0;
    std::size_t skipped = 0;  // already in the target: left as it is there
    std::size_t failed = 0;   // refused by the target (reported), the rest goes on
};
struct MigrateSummary {
    MigrateCounts domains, mailboxes, aliases;
    [[nodiscard]] std::size_t added() const { return domains.added + mailboxes.added + aliases.added; }
};
[[nodiscard]] Status migrate_store(Store& from, Store& to, std::ostream& report,
                                   MigrateSummary* summary = nullptr);

}  // namespace yubin::store
