#include "milter/directory.hpp"

#include <algorithm>

#include "core/util/strings.hpp"

namespace yubin::milter {
namespace {

constexpr std::size_t kMaxIdleStores = 16;

}  // namespace

Result<std::shared_ptr<StoreDirectory>> StoreDirectory::open(DirectoryOptions opts) {
    opts.store_options.read_only = true;
    for (auto& d : opts.local_domains) {
        d = to_lower(d);
        if (!d.empty() && d.back() == '.') d.pop_back();
    }
    std::shared_ptr<StoreDirectory> dir(new StoreDirectory(std::move(opts)));
    if (!dir->opts_.store_spec.empty()) {
        auto s = dir->acquire();
        if (!s) return fail(s.error());
        dir->release(std::move(*s));
    }
    return dir;
}

Result<std::unique_ptr<store::Store>> StoreDirectory::acquire() {
    {
        std::lock_guard lock(mu_);
        if (!idle_.empty()) {
            auto s = std::move(idle_.back());
            idle_.pop_back();
            return s;
        }
    }
    return store::open_store(opts_.store_spec, opts_.store_options);
}

void StoreDirectory::release(std::unique_ptr<store::Store> s) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdleStores) idle_.push_back(std::move(s));
}

Result<bool> StoreDirectory::is_local_domain(std::string_view domain) {
    const std::string d = to_lower(domain);
    if (std::find(opts_.local_domains.begin(), opts_.local_domains.end(), d) !=
        opts_.local_domains.end())
        return true;
    if (opts_.store_spec.empty() || d.empty() || d.front() == '[') return false;
    auto s = acquire();
    if (!s) return fail(s.error());
    auto got = (*s)->get_domain(d);
    if (got) {
        release(std::move(*s));
        return true;
    }
    if (got.error().kind == ErrorKind::NotFound) {
        release(std::move(*s));
        return false;
    }
    return fail(got.error());  // the store is dropped: a fresh one next time
}

Result<std::int64_t> StoreDirectory::size_limit(std::string_view local, std::string_view domain) {
    auto r = recipient(local, domain);
    if (!r) return fail(r.error());
    return r->size_limit;
}

Result<RecipientSettings> StoreDirectory::recipient(std::string_view local,
                                                   std::string_view domain) {
    // One domain query answers both "is it ours" and its limit; the
    // mailbox is looked up only for a domain of ours.
    const std::string d = to_lower(domain);
    const bool listed = std::find(opts_.local_domains.begin(), opts_.local_domains.end(), d) !=
                        opts_.local_domains.end();
    if (opts_.store_spec.empty() || d.empty() || d.front() == '[')
        return RecipientSettings{listed ? opts_.default_max_message_size : 0, true};
    auto s = acquire();
    if (!s) return fail(s.error());
    auto dom = (*s)->get_domain(d);
    if (!dom && dom.error().kind != ErrorKind::NotFound) return fail(dom.error());
    if (!dom && !listed) {
        release(std::move(*s));
        return RecipientSettings{};
    }
    const std::string address = std::string(local) + "@" + d;
    auto m = store::find_mailbox(**s, address, opts_.store_options.recipient_delimiter);
    if (!m && m.error().kind != ErrorKind::NotFound) return fail(m.error());
    release(std::move(*s));
    RecipientSettings out{opts_.default_max_message_size, true};
    if (m && m->max_message_size > 0)
        out.size_limit = m->max_message_size;
    else if (dom && dom->max_message_size > 0)
        out.size_limit = dom->max_message_size;
    auto eff = store::effective_overrides(m ? &*m : nullptr, dom ? &*dom : nullptr);
    out.filter = eff.spam_filter != store::SpamFilter::Off;
    return out;
}

Result<bool> StoreDirectory::owns_sender(std::string_view login, std::string_view sender) {
    if (iequals(login, sender)) return true;
    if (opts_.store_spec.empty()) return false;
    auto s = acquire();
    if (!s) return fail(s.error());
    const auto& delims = opts_.store_options.recipient_delimiter;
    // user+ext@domain is still the user's own address
    auto m = store::find_mailbox(**s, sender, delims);
    if (!m && m.error().kind != ErrorKind::NotFound) return fail(m.error());
    if (m && iequals(m->address, login)) {
        release(std::move(*s));
        return true;
    }
    auto targets = store::resolve_alias(**s, sender, delims);
    if (!targets) return fail(targets.error());
    release(std::move(*s));
    for (const auto& t : *targets)
        if (iequals(t, login)) return true;
    return false;
}

}  // namespace yubin::milter
