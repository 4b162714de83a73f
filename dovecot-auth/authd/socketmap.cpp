#include "dovecot-auth/authd/socketmap.hpp"

#include <algorithm>
#include <vector>

#include "core/store/address.hpp"
#include "core/util/strings.hpp"
#include "dovecot-auth/authd/netstring.hpp"

namespace yubin::authd {

StoreSource::StoreSource(Opener opener, std::chrono::milliseconds retry_interval, Clock clock,
                         Identity identity)
    : opener_(std::move(opener)),
      retry_(retry_interval),
      clock_(std::move(clock)),
      identity_(std::move(identity)) {
    if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

Result<store::Store*> StoreSource::get() {
    const auto now = clock_();
    if (store_) {
        if (!identity_ || now - last_check_ < retry_) return store_.get();
        last_check_ = now;
        if (identity_() == opened_identity_) return store_.get();
        store_.reset();  // replaced on disk: open the new file
        tried_ = false;
    }
    if (tried_ && now - last_try_ < retry_) return fail(last_error_);
    tried_ = true;
    last_try_ = now;
    // Identify before opening: if the file is replaced in between, the next
    // check sees a difference and reopens once more, never the other way.
    std::string id = identity_ ? identity_() : std::string();
    auto s = opener_();
    if (!s) {
        last_error_ = s.error();
        return fail(last_error_);
    }
    store_ = std::move(*s);
    ++generation_;
    opened_identity_ = std::move(id);
    last_check_ = now;
    return store_.get();
}

void StoreSource::reset() {
    store_.reset();
}

void StoreSource::reopen_with(Opener opener, Identity identity) {
    opener_ = std::move(opener);
    identity_ = std::move(identity);
    store_.reset();
    tried_ = false;
}

std::string format_reply(const Reply& r) {
    switch (r.kind) {
        case ReplyKind::Ok:
            return "OK " + r.text;
        case ReplyKind::NotFound:
            return "NOTFOUND ";
        case ReplyKind::Perm:
            return "PERM " + r.text;
        case ReplyKind::Temp:
            break;
    }
    return "TEMP " + r.text;
}

Reply to_reply(const Result<std::string>& r) {
    if (r) return Reply{ReplyKind::Ok, *r};
    switch (r.error().kind) {
        case ErrorKind::NotFound:
        case ErrorKind::BadInput:
            return Reply{ReplyKind::NotFound, {}};
        case ErrorKind::Temp:
        case ErrorKind::Perm:
        case ErrorKind::Config:
        case ErrorKind::Internal:
            break;
    }
    return Reply{ReplyKind::Temp, "lookup failed: " + sanitize_for_log(r.error().what)};
}

namespace {

tl::unexpected<Error> not_found() {
    return fail(ErrorKind::NotFound, "not found");
}

// An active domain by name; NotFound if absent or disabled.
Status domain_active(store::Store& s, std::string_view domain) {
    auto d = s.get_domain(domain);
    if (!d) return fail(d.error());
    if (!d->active) return not_found();
    return {};
}

// find_mailbox, counting a disabled mailbox or domain as absent.
Result<store::Mailbox> active_mailbox(store::Store& s, std::string_view address,
                                      std::string_view delimiters) {
    auto mb = store::find_mailbox(s, address, delimiters);
    if (!mb) return mb;
    if (!mb->active) return not_found();
    if (auto st = domain_active(s, mb->domain); !st) return fail(st.error());
    return mb;
}

// A list joined with ',' for Postfix, bounded by what its client accepts.
Result<std::string> join_bounded(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        if (!out.empty()) out += ',';
        out += i;
    }
    if (out.size() + 3 > kSocketmapMaxPayload)  // "OK " + value
        return fail(ErrorKind::Temp, "answer longer than the socketmap reply limit");
    return out;
}

}  // namespace

Result<std::string> lookup_domain(store::Store& s, std::string_view key) {
    auto name = store::parse_domain(key);
    if (!name) return not_found();
    if (auto st = domain_active(s, *name); !st) return fail(st.error());
    return *name;
}

Result<std::string> lookup_mailbox(store::Store& s, std::string_view key,
                                   std::string_view delimiters) {
    auto mb = active_mailbox(s, key, delimiters);
    if (!mb) return fail(mb.error());
    return mb->maildir;
}

Result<std::string> lookup_alias(store::Store& s, std::string_view key,
                                 std::string_view delimiters) {
    auto addr = store::parse_address(key);
    if (!addr) return not_found();
    if (auto st = domain_active(s, addr->domain); !st) return fail(st.error());
    auto targets = store::resolve_alias(s, key, delimiters);
    if (!targets) return fail(targets.error());
    if (targets->empty()) return not_found();

    // A catch-all must not capture an existing mailbox: if neither the exact
    // address nor the address without its extension has an alias of its own,
    // the targets came from "@domain".
    auto mb = active_mailbox(s, key, delimiters);
    if (mb) {
        const std::string domain = to_lower(addr->domain);
        auto exact = s.alias_targets(addr->local + "@" + domain);
        if (!exact) return fail(exact.error());
        bool own = !exact->empty();
        std::string_view user = store::strip_extension(addr->local, delimiters);
        if (!own && !user.empty()) {
            auto bare = s.alias_targets(std::string(user) + "@" + domain);
            if (!bare) return fail(bare.error());
            own = !bare->empty();
        }
        if (!own) return not_found();
    } else if (mb.error().kind != ErrorKind::NotFound) {
        return fail(mb.error());
    }
    return join_bounded(*targets);
}

Result<std::string> lookup_sender_login(store::Store& s, std::string_view key,
                                        std::string_view delimiters) {
    auto addr = store::parse_address(key);
    if (!addr) return not_found();
    if (auto st = domain_active(s, addr->domain); !st) return fail(st.error());
    const std::string domain = to_lower(addr->domain);

    std::vector<std::string> logins;
    auto add = [&](const std::string& login) {
        for (const auto& l : logins)
            if (iequals(l, login)) return;
        logins.push_back(login);
    };

    auto own = active_mailbox(s, key, delimiters);
    if (own)
        add(own->address);
    else if (own.error().kind != ErrorKind::NotFound)
        return fail(own.error());

    // Alias targets by exact source, then without extension, then only the
    // domain aliases ("@old" -> "@new") of the catch-all row.
    std::vector<std::string> targets;
    auto exact = s.alias_targets(addr->local + "@" + domain);
    if (!exact) return fail(exact.error());
    targets = std::move(*exact);
    std::string_view user = store::strip_extension(addr->local, delimiters);
    if (targets.empty() && !user.empty()) {
        auto bare = s.alias_targets(std::string(user) + "@" + domain);
        if (!bare) return fail(bare.error());
        targets = std::move(*bare);
    }
    if (targets.empty()) {
        auto all = s.alias_targets("@" + domain);
        if (!all) return fail(all.error());
        for (auto& t : *all)
            if (!t.empty() && t.front() == '@') targets.push_back(std::move(t));
    }
    for (const auto& t : targets) {
        std::string target = !t.empty() && t.front() == '@' ? addr->local + t : t;
        auto mb = active_mailbox(s, target, delimiters);
        if (mb)
            add(mb->address);
        else if (mb.error().kind != ErrorKind::NotFound && mb.error().kind != ErrorKind::BadInput)
            return fail(mb.error());
    }
    if (logins.empty()) return not_found();
    return join_bounded(logins);
}

std::string SocketmapService::answer(std::string_view request) {
    ++stats_.requests;
    const bool cache = cache_usable();
    if (cache) {
        if (const std::string* hit = cache_.find(request)) {
            ++stats_.cached;
            if (log_.verbose())
                log_.debug("socketmap {}: {} (cached)", sanitize_for_log(request, 100),
                           sanitize_for_log(*hit, 200));
            return *hit;
        }
    }
    Reply r;
    auto sp = request.find(' ');
    if (sp == std::string_view::npos) {
        r = Reply{ReplyKind::Perm, "malformed request: want \"name key\""};
    } else {
        r = lookup(request.substr(0, sp), request.substr(sp + 1));
    }
    std::string reply = format_reply(r);
    if (r.kind == ReplyKind::Temp) {
        ++stats_.temp;
        cache_state_ = CacheState::Off;  // the store was dropped: no snapshot to trust
        log_.warning("socketmap {}: TEMP {}", sanitize_for_log(request, 100), r.text);
        return reply;
    }
    if (log_.verbose())  // not even formatted otherwise: this is the hot path
        log_.debug("socketmap {}: {}", sanitize_for_log(request, 100),
                   sanitize_for_log(reply, 200));
    // (A store reopened in the middle of the batch answered from another
    // snapshot: not cached under this one's version.)
    if (cache && (r.kind == ReplyKind::Ok || r.kind == ReplyKind::NotFound) &&
        source_.generation() == cache_generation_)
        cache_.insert(request, reply);
    return reply;
}

bool SocketmapService::cache_usable() {
    if (cache_state_ != CacheState::Unchecked) return cache_state_ == CacheState::Usable;
    cache_state_ = CacheState::Off;
    auto* s = source_.current();
    if (s == nullptr) return false;
    // Read in the batch's transaction, this takes its snapshot: the version
    // and every lookup of the batch see the same state of the store.
    auto v = s->data_version();
    if (!v) {
        cache_.clear();
        return false;
    }
    cache_generation_ = source_.generation();
    cache_.validate(ReplyCache::Version{cache_generation_, *v});
    cache_state_ = CacheState::Usable;
    return true;
}

void SocketmapService::begin_batch() {
    auto s = source_.get();
    if (!s) return;
    // Without a batch transaction the version would not belong to the
    // lookups' snapshot: then no cache.
    if ((*s)->begin_read() && cache_.enabled()) cache_state_ = CacheState::Unchecked;
}

void SocketmapService::end_batch() {
    cache_state_ = CacheState::Off;
    // The store that began the batch may be gone (reset after a failure) or
    // replaced (a new one is not in a batch): end_read() is then a no-op.
    if (auto* s = source_.current()) s->end_read();
}

Reply SocketmapService::lookup(std::string_view map, std::string_view key) {
    enum class Map { Domain, Mailbox, Alias, SenderLogin };
    Map m;
    if (map == "domain")
        m = Map::Domain;
    else if (map == "mailbox")
        m = Map::Mailbox;
    else if (map == "alias")
        m = Map::Alias;
    else if (map == "sender_login")
        m = Map::SenderLogin;
    else
        return Reply{ReplyKind::Perm, "unknown map \"" + sanitize_for_log(map, 40) + "\""};

    auto store = source_.get();
    if (!store) return to_reply(fail(store.error()));
    Result<std::string> result;
    switch (m) {
        case Map::Domain:
            result = lookup_domain(**store, key);
            break;
        case Map::Mailbox:
            result = lookup_mailbox(**store, key, delimiters_);
            break;
        case Map::Alias:
            result = lookup_alias(**store, key, delimiters_);
            break;
        case Map::SenderLogin:
            result = lookup_sender_login(**store, key, delimiters_);
            break;
    }
    Reply r = to_reply(result);
    if (r.kind == ReplyKind::Temp) source_.reset();  // reopen on the next request
    return r;
}

}  // namespace yubin::authd
