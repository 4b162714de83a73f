#include "core/store/migrate.hpp"

#include <set>
#include <string>

#include "core/util/strings.hpp"

namespace yubin::store {
namespace {

// Temp and Internal end the run; anything else is one refused row.
bool stops_run(const Error& e) {
    return is_temporary(e.kind) || e.kind == ErrorKind::Config;
}

void print(std::ostream& report, const char* what, const MigrateCounts& c) {
    report << what << ": " << c.added << " added, " << c.skipped << " skipped, " << c.failed
           << " failed\n";
}

// One row: skipped if `exists` says so, else added; a refusal is reported.
template <class Exists, class Add>
Status copy_row(const std::string& label, MigrateCounts& counts, std::ostream& report,
                Exists&& exists, Add&& add) {
    Result<bool> there = exists();
    if (!there) return fail(there.error());
    if (*there) {
        ++counts.skipped;
        return {};
    }
    Status st = add();
    if (st) {
        ++counts.added;
        return {};
    }
    if (stops_run(st.error())) return st;
    ++counts.failed;
    report << "migrate: " << label << ": " << st.error().what << "\n";
    return {};
}

// Result<bool> from a lookup: found, not found, or the error.
template <class R>
Result<bool> found(const R& r) {
    if (r) return true;
    if (r.error().kind == ErrorKind::NotFound) return false;
    return fail(r.error());
}

}  // namespace

Status migrate_store(Store& from, Store& to, std::ostream& report, MigrateSummary* summary) {
    MigrateSummary scratch;
    MigrateSummary& out = summary ? *summary : scratch;
    out = MigrateSummary{};

    auto domains = from.list_domains();
    if (!domains) return fail(domains.error());
    for (const auto& d : *domains) {
        auto st = copy_row(
            "domain " + d.name, out.domains, report, [&] { return found(to.get_domain(d.name)); },
            [&] { return to.add_domain(d); });
        if (!st) return fail(st.error());
    }
    print(report, "domains", out.domains);

    auto mailboxes = from.list_mailboxes("");
    if (!mailboxes) return fail(mailboxes.error());
    for (const auto& m : *mailboxes) {
        auto st = copy_row(
            "mailbox " + m.address, out.mailboxes, report,
            [&] { return found(to.get_mailbox(m.address)); }, [&] { return to.add_mailbox(m); });
        if (!st) return fail(st.error());
    }
    print(report, "mailboxes", out.mailboxes);

    auto aliases = from.list_aliases("");
    if (!aliases) return fail(aliases.error());
    auto existing = to.list_aliases("");
    if (!existing) return fail(existing.error());
    std::set<std::string> have;
    auto key = [](const Alias& a) { return to_lower(a.source) + " " + to_lower(a.target); };
    for (const auto& a : *existing) have.insert(key(a));
    for (const auto& a : *aliases) {
        auto st = copy_row(
            "alias " + a.source + " -> " + a.target, out.aliases, report,
            [&]() -> Result<bool> { return have.count(key(a)) > 0; },
            [&] {
                auto r = to.add_alias(a);
                if (r) have.insert(key(a));
                return r;
            });
        if (!st) return fail(st.error());
    }
    print(report, "aliases", out.aliases);

    const std::size_t failed = out.domains.failed + out.mailboxes.failed + out.aliases.failed;
    if (failed > 0)
        return fail(ErrorKind::BadInput, std::to_string(failed) + " row(s) were not copied");
    return {};
}

}  // namespace yubin::store
