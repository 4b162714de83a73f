// The policies of yubin-policyd and the one function that answers a request.
//
// Each policy is off, warn (log what it would do, answer DUNNO) or enforce;
// policyd_check = yes turns every enforce into warn (a dry run). A request
// that passes every policy gets DUNNO, never OK: policyd only ever
// restricts, the decision to accept stays with Postfix's other restrictions.
//
// Where each policy looks (protocol_state):
//   MAIL, RCPT             sender/login: an authenticated client may only use
//                          MAIL FROM addresses the store gives its login.
//   RCPT                   recipient quota (Maildir++ maildirsize).
//   RCPT, DATA             rate limits, checked without counting (an
//                          over-limit client is stopped early).
//   DATA, END-OF-MESSAGE   recipient limit per message (recipient_count).
// For an authenticated client, the store may override the SASL user's rate
// limits and recipient limit (rate_limit, recipient_limit of its mailbox,
// else of its mailbox's domain; see core/store/store.hpp).
//   END-OF-MESSAGE         rate limits, checked and counted once per message
//                          with recipient_count and size; a deferred message
//                          is not counted.
//   RCPT                   greylisting (unauthenticated clients only).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config/config.hpp"
#include "core/log/logger.hpp"
#include "core/store/rate_limit.hpp"
#include "core/store/store.hpp"
#include "core/util/result.hpp"
#include "policyd/clock.hpp"
#include "policyd/counters.hpp"
#include "policyd/request.hpp"

namespace yubin::policyd {

enum class Mode { Off, Warn, Enforce };

// One "KIND:COUNT/WINDOW" item of a policyd_rate_* parameter or of a
// mailbox's or domain's rate_limit in the store (syntax: rate_limit.hpp).
using store::RateRule;
using store::parse_rate_rules;
using store::describe;

// The classes a rate limit applies per, in the order they are checked.
enum class RateClass { SaslUser, Sender, SenderDomain, Client, Global };
inline constexpr std::size_t kRateClasses = 5;


// policyd_greylist_whitelist: who is never greylisted. Entries: an IP
// address or network (192.0.2.0/24, 2001:db8::/32) matched against the client
// address; a name (example.com) matched against the client's verified name
// and its parent domains; an address (postmaster@example.com) or "@domain"
// matched against the recipient.
class GreylistWhitelist {
public:
    // BadInput naming the bad entry.
    [[nodiscard]] static Result<GreylistWhitelist> parse(const std::vector<std::string>& entries);
    [[nodiscard]] bool matches(const Request& req) const;
    [[nodiscard]] bool empty() const {
        return nets_.empty() && names_.empty() && recipients_.empty();
    }

private:
    struct Net {
        unsigned char addr[16];  // IPv4 as IPv4-mapped IPv6
        int prefix;              // in bits of the 128
    };
    std::vector<Net> nets_;
    std::vector<std::string> names_;       // lower case
    std::vector<std::string> recipients_;  // lower case, "user@dom" or "@dom"
};

struct PolicySettings {
    bool dry_run = false;

    Mode rate_mode = Mode::Enforce;
    std::string rate_action = "DEFER_IF_PERMIT";  // DEFER_IF_PERMIT | DEFER | REJECT
    std::array<std::vector<RateRule>, kRateClasses> rates{};

    Mode sender_login_mode = Mode::Enforce;

    Mode quota_mode = Mode::Enforce;
    bool quota_defer = false;  // 452 4.2.2 instead of 552 5.2.2
    std::string mailbox_base = "/var/spool/vmail";
    std::int64_t default_quota = 0;

    Mode recipient_limit_mode = Mode::Enforce;
    std::int64_t recipient_limit_authenticated = 0;  // 0 = no limit
    std::int64_t recipient_limit_unauthenticated = 0;

    Mode greylist_mode = Mode::Off;
    GreylistTimes greylist_times{300'000, 86'400'000, 35LL * 86'400'000};
    std::int64_t greylist_auto_whitelist = 5;  // retries that whitelist a client; 0 = never
    GreylistWhitelist greylist_whitelist{};

    std::string state_failure_action = "DUNNO";  // DUNNO | DEFER_IF_PERMIT
    std::string recipient_delimiter = "+";

    // Config error naming the parameter for a malformed rate list.
    [[nodiscard]] static Result<PolicySettings> from_config(const config::Config& cfg);
};

// The store, opened on first use and re-opened after an outage: a policy
// daemon must not exit (Postfix would then fail every session) because the
// database is briefly unreadable. Retries at most once per retry interval.
class StoreHandle {
public:
    using Opener = std::function<Result<std::unique_ptr<store::Store>>()>;
    StoreHandle(Opener opener, const Clock& clock, std::int64_t retry_ms = 5000)
        : opener_(std::move(opener)), clock_(clock), retry_ms_(retry_ms) {}
    // Temp when it cannot be opened now.
    [[nodiscard]] Result<store::Store*> get();
    // Drops the connection after a Temp error, so the next get() reopens.
    void reset() { store_.reset(); }
    // The open store or nullptr; never tries to open one.
    [[nodiscard]] store::Store* current() const { return store_.get(); }
    // Changes whenever get() opens a new connection.
    [[nodiscard]] std::uint64_t generation() const { return opened_; }

private:
    Opener opener_;
    const Clock& clock_;
    std::int64_t retry_ms_;
    std::int64_t next_try_ms_ = 0;
    std::unique_ptr<store::Store> store_;
    std::string last_error_;
    std::uint64_t opened_ = 0;
};

class Policy {
public:
    Policy(PolicySettings settings, Counters& counters, StoreHandle& store, const Clock& clock,
           log::Logger& log)
        : s_(std::move(settings)), counters_(counters), store_(store), clock_(clock), log_(log) {}

    // The action text for one request ("DUNNO", "DEFER_IF_PERMIT 4.7.1 ...").
    // Never throws; an internal fault becomes a temporary answer.
    [[nodiscard]] std::string decide(const Request& req) noexcept;

    // A batch of requests about to be decided (Server::set_prepare): the
    // rate counters their RCPT and DATA checks read are fetched at once.
    // Also starts one store read snapshot for the batch (Store::begin_read:
    // SQLite takes its read locks once per batch, not twice per request),
    // which finish_batch() ends.
    void prefetch(std::span<const Request* const> batch) noexcept;
    // After the batch's requests were decided (Server::set_finish).
    void finish_batch() noexcept;

    [[nodiscard]] const PolicySettings& settings() const { return s_; }

private:
    struct Verdict {
        std::string action;  // access(5) action with text
        std::string what;    // for the log
    };
    std::optional<Verdict> check_sender_login(const Request& req);
    std::optional<Verdict> check_quota(const Request& req);
    // The store's overrides for the SASL user (its mailbox's, else its
    // domain's), once per request. A store that cannot answer is logged and
    // the yubin.cf defaults apply (rate limits never block mail because a
    // lookup failed).
    struct UserLimits {
        std::optional<std::vector<RateRule>> rates;  // replaces policyd_rate_sasl_user
        std::int64_t recipient_limit = 0;            // 0 = policyd_recipient_limit_authenticated
    };
    UserLimits user_limits(const Request& req);
    std::optional<Verdict> check_recipient_limit(const Request& req, const UserLimits& user);
    std::optional<Verdict> check_rates(const Request& req, bool count, const UserLimits& user);
    // The counters a rate check of this request reads, and the class and
    // rule each comes from (user: the store's overrides, null = yubin.cf's).
    void rate_limits(const Request& req, std::vector<CounterLimit>& limits,
                     std::vector<std::pair<RateClass, const RateRule*>>& origin,
                     const UserLimits* user) const;
    std::optional<Verdict> check_greylist(const Request& req);
    std::optional<Verdict> state_failure(const Error& e);
    std::optional<Verdict> store_failure(const Error& e);
    // Logs the verdict; returns it if mode is enforce (and no dry run).
    std::optional<Verdict> apply(Mode mode, const Request& req, std::optional<Verdict> v);

    PolicySettings s_;
    Counters& counters_;
    StoreHandle& store_;
    const Clock& clock_;
    log::Logger& log_;
    std::int64_t last_state_warning_ms_ = -1'000'000'000;
    std::int64_t last_limits_warning_ms_ = -1'000'000'000;
    // user_limits() of SASL users, used only between prefetch() and
    // finish_batch() and only while the store's data_version() says nothing
    // changed since they were read (a yubinctl change applies from the next
    // batch on, as without the cache); emptied when it reaches
    // kMaxCachedLimits entries.
    std::unordered_map<std::string, UserLimits> limits_cache_;
    std::uint64_t cache_generation_ = 0;
    std::uint64_t cache_version_ = 0;
    bool cache_on_ = false;
};

// The client address as policyd groups it: IPv4 as is (or its /24 when
// v4_prefix24), IPv6 as its /64 ("2001:db8:1:2::/64"). Empty for "unknown"
// or anything that is not an address.
[[nodiscard]] std::string client_group(std::string_view address, bool v4_prefix24);

}  // namespace yubin::policyd
