// The Postfix socketmap tables yubin-authd serves from the store.
//
//   domain KEY        virtual_mailbox_domains: "OK KEY" for an active domain.
//   mailbox KEY       virtual_mailbox_maps: "OK domain/user/Maildir/" (relative to
//                     virtual_mailbox_base) for an active mailbox of an active
//                     domain; user+ext@domain falls back to user@domain.
//   alias KEY         virtual_alias_maps: the targets, comma-separated, by
//                     Postfix's virtual(5) order (exact, without extension,
//                     @domain); "@old -> @new" domain aliases rewrite the
//                     domain. A catch-all never captures an address that is an
//                     active mailbox (as if each mailbox had the identity alias
//                     the old how-to adds by hand).
//   sender_login KEY  smtpd_sender_login_maps: the SASL logins that may use KEY
//                     as MAIL FROM, comma-separated: the mailbox KEY itself
//                     (extension stripped) and the active mailboxes that the
//                     alias KEY points to (exact or without extension, and
//                     domain aliases; never a catch-all: it would let one
//                     user send as everybody of the domain).
//
// Anything of a disabled domain, a disabled mailbox or a disabled alias is
// NOTFOUND, so mail to it is refused at RCPT time as unknown.
//
// Postfix does not try partial keys for socketmap tables (socketmap_table(5):
// no extension stripping, no @domain): the server does what Postfix's
// table semantics expect, above.
//
// Replies: "OK value", "NOTFOUND ", "TEMP reason" (the store cannot answer:
// Postfix defers, 4xx), "PERM reason" (a request Postfix never sends: unknown
// map name, no key). Every error kind maps in to_reply(); anything unknown
// becomes TEMP.
//
// SECURITY: requests are peer input (any local process that can reach the
// socket). The map name is compared against four fixed names; keys are parsed
// by core/store (parse_address / parse_domain) and a key that does not parse is
// NOTFOUND; replies are bounded by kSocketmapMaxPayload (an answer that would
// be longer is TEMP and logged, never cut: a cut alias list would lose mail).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/log/logger.hpp"
#include "core/store/store.hpp"
#include "core/util/result.hpp"
#include "dovecot-auth/authd/reply_cache.hpp"

namespace yubin::authd {

// A store opened lazily and reopened after a failure, so that an outage (file
// unreadable, replaced, not a database) heals without restarting the daemon.
// Between attempts at most one open per retry interval; meanwhile get()
// answers Temp at once. One thread at a time.
//
// An open SQLite connection keeps reading the file it opened even after a
// restore has renamed another file into its place: `identity`, if given,
// names the file behind the store (device and inode); it is checked at most
// once per retry interval and a change reopens the store.
class StoreSource {
public:
    using Opener = std::function<Result<std::unique_ptr<store::Store>>()>;
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    using Identity = std::function<std::string()>;

    StoreSource(Opener opener, std::chrono::milliseconds retry_interval, Clock clock = {},
                Identity identity = {});

    [[nodiscard]] Result<store::Store*> get();
    // The open store, if any, without opening or checking anything.
    [[nodiscard]] store::Store* current() const { return store_.get(); }
    // Counts the stores opened: a different number is a different handle
    // (whose data_version() starts afresh).
    [[nodiscard]] std::uint64_t generation() const { return generation_; }
    // Drop the open store (after it answered Temp or Internal).
    void reset();
    // Replace the opener (SIGHUP with a new store spec) and close the store.
    void reopen_with(Opener opener, Identity identity = {});

private:
    Opener opener_;
    std::chrono::milliseconds retry_;
    Clock clock_;
    Identity identity_;
    std::string opened_identity_;
    std::chrono::steady_clock::time_point last_check_{};
    std::unique_ptr<store::Store> store_;
    std::uint64_t generation_ = 0;
    bool tried_ = false;
    std::chrono::steady_clock::time_point last_try_{};
    Error last_error_{};
};

enum class ReplyKind { Ok, NotFound, Temp, Perm };

struct Reply {
    ReplyKind kind = ReplyKind::Temp;
    std::string text;  // Ok: the value; Temp/Perm: the reason
};

// "OK value", "NOTFOUND ", "TEMP reason", "PERM reason".
[[nodiscard]] std::string format_reply(const Reply& r);

// The one mapping of lookup results to socketmap replies: a value is OK,
// NotFound and BadInput are NOTFOUND, everything else TEMP.
[[nodiscard]] Reply to_reply(const Result<std::string>& r);

// The maps over one store. NotFound error when absent.
[[nodiscard]] Result<std::string> lookup_domain(store::Store& s, std::string_view key);
[[nodiscard]] Result<std::string> lookup_mailbox(store::Store& s, std::string_view key,
                                                 std::string_view delimiters);
[[nodiscard]] Result<std::string> lookup_alias(store::Store& s, std::string_view key,
                                               std::string_view delimiters);
[[nodiscard]] Result<std::string> lookup_sender_login(store::Store& s, std::string_view key,
                                                      std::string_view delimiters);

struct SocketmapStats {
    std::uint64_t requests = 0;
    std::uint64_t temp = 0;
    std::uint64_t cached = 0;  // answered from the reply cache
};

// Answers one request payload ("name key") with one reply payload. Resets the
// StoreSource when the store fails, logs TEMP answers as warnings and each
// lookup at debug level.
//
// Inside a batch, OK and NOTFOUND replies are kept in a ReplyCache of
// cache_entries entries (0 = none) and a repeated request is answered from
// it, as long as the store's data_version, read in the batch's snapshot at
// its first lookup, is the one the cache was filled under: a change committed
// before a request arrived is seen by it, with or without the cache. A store
// without a data_version (LDAP: it has its own cache) is never cached here,
// nor is a lookup outside a batch.
class SocketmapService {
public:
    SocketmapService(StoreSource& source, std::string recipient_delimiter, log::Logger& log,
                     std::size_t cache_entries = 0)
        : source_(source),
          delimiters_(std::move(recipient_delimiter)),
          log_(log),
          cache_(cache_entries) {}

    [[nodiscard]] std::string answer(std::string_view request);
    // Brackets the requests of one event-loop round: they are answered from
    // one store snapshot (Store::begin_read), taken when the first of them is
    // looked up, which is after every one of them was received, so nothing
    // committed before a request arrived is missed. A failed begin is
    // ignored: the lookups then fail or succeed on their own.
    void begin_batch();
    void end_batch();
    void set_recipient_delimiter(std::string d) {
        delimiters_ = std::move(d);
        cache_.clear();
    }
    [[nodiscard]] const SocketmapStats& stats() const { return stats_; }

private:
    Reply lookup(std::string_view map, std::string_view key);
    // At the first request of a batch: may the cache answer in this batch?
    bool cache_usable();

    StoreSource& source_;
    std::string delimiters_;
    log::Logger& log_;
    SocketmapStats stats_;
    ReplyCache cache_;
    std::uint64_t cache_generation_ = 0;  // the store handle the cache answers for
    enum class CacheState { Unchecked, Usable, Off } cache_state_ = CacheState::Off;
};

}  // namespace yubin::authd
