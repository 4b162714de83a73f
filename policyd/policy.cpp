#include "policyd/policy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <limits>

#include "core/store/address.hpp"
#include "core/util/strings.hpp"
#include "policyd/maildirsize.hpp"

namespace yubin::policyd {
namespace {

constexpr std::int64_t kStateWarningIntervalMs = 60'000;
constexpr std::size_t kMaxCachedLimits = 10'000;

Mode parse_mode(const std::string& v) {
    if (v == "off") return Mode::Off;
    if (v == "warn") return Mode::Warn;
    return Mode::Enforce;
}

std::string_view class_name(RateClass c) {
    switch (c) {
        case RateClass::SaslUser:
            return "sasl_username";
        case RateClass::Sender:
            return "sender";
        case RateClass::SenderDomain:
            return "sender_domain";
        case RateClass::Client:
            return "client";
        case RateClass::Global:
            return "server";
    }
    return "server";
}

std::string domain_of(std::string_view address) {
    auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string() : to_lower(address.substr(at + 1));
}

// The code of a rate or greylist action: DEFER_IF_PERMIT and DEFER carry a
// 4.x.x text, REJECT a 5.x.x one.
std::string with_code(const std::string& action, std::string_view text) {
    return action + (action == "REJECT" ? " 5.7.1 " : " 4.7.1 ") + std::string(text);
}

}  // namespace

Result<PolicySettings> PolicySettings::from_config(const config::Config& cfg) {
    PolicySettings s;
    s.dry_run = cfg.get_bool("policyd_check");
    s.rate_mode = parse_mode(cfg.get("policyd_rate_mode"));
    s.rate_action = cfg.get("policyd_rate_action");
    constexpr std::array<std::pair<RateClass, std::string_view>, kRateClasses> params{{
        {RateClass::SaslUser, "policyd_rate_sasl_user"},
        {RateClass::Sender, "policyd_rate_sender"},
        {RateClass::SenderDomain, "policyd_rate_sender_domain"},
        {RateClass::Client, "policyd_rate_client"},
        {RateClass::Global, "policyd_rate_global"},
    }};
    for (auto [cls, name] : params) {
        auto rules = parse_rate_rules(cfg.get(name));
        if (!rules)
            return fail(ErrorKind::Config, cfg.path() + ": parameter " + std::string(name) + ": " +
                                               rules.error().what);
        s.rates[static_cast<std::size_t>(cls)] = std::move(*rules);
    }
    s.sender_login_mode = parse_mode(cfg.get("policyd_sender_login_mode"));
    s.quota_mode = parse_mode(cfg.get("policyd_quota_mode"));
    s.quota_defer = cfg.get("policyd_quota_action") == "defer";
    s.mailbox_base = cfg.get("virtual_mailbox_base");
    s.default_quota = cfg.get_int("default_quota");
    s.recipient_limit_mode = parse_mode(cfg.get("policyd_recipient_limit_mode"));
    s.recipient_limit_authenticated = cfg.get_int("policyd_recipient_limit_authenticated");
    s.recipient_limit_unauthenticated = cfg.get_int("policyd_recipient_limit_unauthenticated");
    s.greylist_mode = parse_mode(cfg.get("policyd_greylist_mode"));
    s.greylist_times.delay_ms = cfg.get_int("policyd_greylist_delay") * 1000;
    s.greylist_times.retry_window_ms = cfg.get_int("policyd_greylist_retry_window") * 1000;
    s.greylist_times.max_age_ms = cfg.get_int("policyd_greylist_max_age") * 1000;
    s.greylist_auto_whitelist = cfg.get_int("policyd_greylist_auto_whitelist");
    auto wl = GreylistWhitelist::parse(cfg.get_list("policyd_greylist_whitelist"));
    if (!wl)
        return fail(ErrorKind::Config,
                    cfg.path() + ": parameter policyd_greylist_whitelist: " + wl.error().what);
    s.greylist_whitelist = std::move(*wl);
    s.state_failure_action = cfg.get("policyd_state_failure_action");
    s.recipient_delimiter = cfg.get("recipient_delimiter");
    return s;
}

Result<store::Store*> StoreHandle::get() {
    if (store_) return store_.get();
    std::int64_t now = clock_.now_ms();
    if (now < next_try_ms_) return fail(ErrorKind::Temp, "store unavailable: " + last_error_);
    auto s = opener_();
    if (!s) {
        next_try_ms_ = now + retry_ms_;
        last_error_ = s.error().what;
        return fail(ErrorKind::Temp, "store unavailable: " + last_error_);
    }
    store_ = std::move(*s);
    ++opened_;
    return store_.get();
}

std::string client_group(std::string_view address, bool v4_prefix24) {
    if (address.empty() || address.size() > 64) return {};
    std::string a(address);
    unsigned char buf[16];
    if (::inet_pton(AF_INET, a.c_str(), buf) == 1) {
        if (v4_prefix24) {
            char out[INET_ADDRSTRLEN];
            buf[3] = 0;
            ::inet_ntop(AF_INET, buf, out, sizeof out);
            return std::string(out) + "/24";
        }
        return a;
    }
    if (::inet_pton(AF_INET6, a.c_str(), buf) == 1) {
        // An IPv4-mapped address is the IPv4 client it names.
        static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::equal(kMapped, kMapped + 12, buf)) {
            char out[INET_ADDRSTRLEN];
            if (v4_prefix24) buf[15] = 0;
            ::inet_ntop(AF_INET, buf + 12, out, sizeof out);
            return std::string(out) + (v4_prefix24 ? "/24" : "");
        }
        std::fill(buf + 8, buf + 16, 0);
        char out[INET6_ADDRSTRLEN];
        ::inet_ntop(AF_INET6, buf, out, sizeof out);
        return std::string(out) + "/64";
    }
    return {};
}

std::optional<Policy::Verdict> Policy::apply(Mode mode, const Request& req,
                                             std::optional<Verdict> v) {
    if (!v) return v;
    bool enforce = mode == Mode::Enforce && !s_.dry_run;
    std::string word =
        v->action.starts_with("REJECT") || v->action.starts_with("5") ? "reject" : "defer";
    std::string sasl = req.sasl_username.empty()
                           ? ""
                           : " sasl_username=" + sanitize_for_log(req.sasl_username, 100);
    log_.info("{}{}{}: {} from {}[{}]: {}; from=<{}> to=<{}>{}", log::queue_prefix(req.queue_id),
              enforce ? "" : "warn: would ", word, sanitize_for_log(req.protocol_state, 20),
              sanitize_for_log(req.client_name, 100), sanitize_for_log(req.client_address, 64),
              v->what, sanitize_for_log(req.sender, 100), sanitize_for_log(req.recipient, 100),
              sasl);
    if (!enforce) return std::nullopt;
    return v;
}

std::optional<Policy::Verdict> Policy::state_failure(const Error& e) {
    std::int64_t now = clock_.now_ms();
    if (now - last_state_warning_ms_ >= kStateWarningIntervalMs) {
        last_state_warning_ms_ = now;
        log_.warning("policy state unavailable: {}; answering {} (logged once per minute)", e.what,
                     s_.state_failure_action);
    }
    if (s_.state_failure_action == "DUNNO") return std::nullopt;
    return Verdict{"DEFER_IF_PERMIT 4.3.0 Temporary policy state failure, try again later",
                   "state failure"};
}

std::optional<Policy::Verdict> Policy::store_failure(const Error& e) {
    log_.warning("store lookup failed: {}", e.what);
    if (is_temporary(e.kind)) store_.reset();
    return Verdict{"DEFER_IF_PERMIT 4.3.0 Temporary lookup failure, try again later",
                   "store failure"};
}

std::optional<Policy::Verdict> Policy::check_sender_login(const Request& req) {
    if (s_.sender_login_mode == Mode::Off || req.sasl_username.empty() || req.sender.empty())
        return std::nullopt;
    const std::string& login = req.sasl_username;
    if (iequals(req.sender, login)) return std::nullopt;
    auto st = store_.get();
    if (!st) return store_failure(st.error());
    store::Store& db = **st;
    const std::string& delim = s_.recipient_delimiter;
    auto owned_by_login = [&](std::string_view address) -> Result<bool> {
        if (iequals(address, login)) return true;
        auto mb = store::find_mailbox(db, address, delim);
        if (mb) return iequals(mb->address, login);
        if (mb.error().kind != ErrorKind::NotFound) return fail(mb.error());
        return false;
    };
    auto own = owned_by_login(req.sender);
    if (!own) return store_failure(own.error());
    if (*own) return std::nullopt;
    auto targets = store::resolve_alias(db, req.sender, delim);
    if (!targets) return store_failure(targets.error());
    for (const auto& t : *targets) {
        auto o = owned_by_login(t);
        if (!o) return store_failure(o.error());
        if (*o) return std::nullopt;
    }
    // Postfix puts "<address>: Sender address rejected: " (MAIL) or
    // "<recipient>: Recipient address rejected: " (RCPT) before the text.
    std::string sender = sanitize_for_log(req.sender, 200);
    std::string user = sanitize_for_log(login, 200);
    std::string text = req.protocol_state == "MAIL"
                           ? "not owned by user " + user
                           : "Sender address <" + sender + "> not owned by user " + user;
    return apply(s_.sender_login_mode, req,
                 Verdict{"553 5.7.1 " + text, "sender address not owned by user " + user});
}

std::optional<Policy::Verdict> Policy::check_quota(const Request& req) {
    if (s_.quota_mode == Mode::Off || req.recipient.empty()) return std::nullopt;
    auto st = store_.get();
    if (!st) return store_failure(st.error());
    auto mb = store::find_mailbox(**st, req.recipient, s_.recipient_delimiter);
    if (!mb) {
        if (mb.error().kind == ErrorKind::NotFound) return std::nullopt;  // not ours to judge
        return store_failure(mb.error());
    }
    std::int64_t limit_bytes = mb->quota_bytes;
    if (limit_bytes == 0) {
        auto dom = (*st)->get_domain(mb->domain);
        if (dom)
            limit_bytes = dom->quota_bytes;
        else if (dom.error().kind != ErrorKind::NotFound)
            return store_failure(dom.error());
    }
    if (limit_bytes == 0) limit_bytes = s_.default_quota;
    std::int64_t limit_messages = mb->quota_messages;
    if (limit_bytes == 0 && limit_messages == 0) return std::nullopt;
    std::string dir = s_.mailbox_base;
    if (!dir.empty() && dir.back() != '/') dir += '/';
    dir += mb->maildir;
    auto used = read_maildirsize(dir);
    if (!used) {
        if (used.error().kind != ErrorKind::NotFound)
            log_.warning("quota of {}: {}", sanitize_for_log(mb->address, 100), used.error().what);
        return std::nullopt;  // unknown use: let delivery decide
    }
    std::int64_t incoming = std::max<std::int64_t>(req.size_value(), 1);
    bool over = (limit_bytes > 0 && used->used_bytes > limit_bytes - incoming) ||
                (limit_messages > 0 && used->used_messages >= limit_messages);
    if (!over) return std::nullopt;
    // Postfix puts "<recipient>: Recipient address rejected: " before the text.
    std::string code = s_.quota_defer ? "452 4.2.2 " : "552 5.2.2 ";
    return apply(
        s_.quota_mode, req,
        Verdict{code + "Mailbox full", "mailbox full (" + std::to_string(used->used_bytes) +
                                           " of " + std::to_string(limit_bytes) + " bytes, " +
                                           std::to_string(used->used_messages) + " messages)"});
}

Policy::UserLimits Policy::user_limits(const Request& req) {
    UserLimits out;
    if (req.sasl_username.empty()) return out;
    if (s_.rate_mode == Mode::Off && s_.recipient_limit_mode == Mode::Off) return out;
    if (cache_on_)
        if (auto it = limits_cache_.find(req.sasl_username); it != limits_cache_.end())
            return it->second;
    auto login = store::parse_address(req.sasl_username);
    if (!login) return out;  // a login that is no address has no mailbox
    auto st = store_.get();
    auto failed = [&](const Error& e) {
        // Once per interval: a store outage must not cost a log line (and its
        // write) per request.
        std::int64_t now = clock_.now_ms();
        if (now - last_limits_warning_ms_ >= kStateWarningIntervalMs) {
            last_limits_warning_ms_ = now;
            log_.warning(
                "store lookup of the limits of {} failed: {}; using the yubin.cf defaults "
                "(logged once per minute)",
                sanitize_for_log(req.sasl_username, 100), e.what);
        }
        if (is_temporary(e.kind)) store_.reset();
        return UserLimits{};
    };
    if (!st) return failed(st.error());
    auto mb = (*st)->get_mailbox(req.sasl_username);
    if (!mb && mb.error().kind != ErrorKind::NotFound) return failed(mb.error());
    std::optional<store::Domain> dom;
    if (!mb || mb->rate_limit.empty() || mb->recipient_limit == 0) {
        auto d = (*st)->get_domain(login->domain);
        if (!d && d.error().kind != ErrorKind::NotFound) return failed(d.error());
        if (d) dom = std::move(*d);
    }
    auto eff = store::effective_overrides(mb ? &*mb : nullptr, dom ? &*dom : nullptr);
    out.recipient_limit = eff.recipient_limit;
    if (!eff.rate_limit.empty()) {
        auto rules = parse_rate_rules(eff.rate_limit);
        if (rules)
            out.rates = std::move(*rules);
        else  // written around yubinctl (LDAP): the defaults, and say so
            log_.warning("rate_limit of {} in the store: {}; using policyd_rate_sasl_user",
                         sanitize_for_log(req.sasl_username, 100), rules.error().what);
    }
    if (cache_on_) {
        if (limits_cache_.size() >= kMaxCachedLimits) limits_cache_.clear();
        limits_cache_.emplace(req.sasl_username, out);
    }
    return out;
}

std::optional<Policy::Verdict> Policy::check_recipient_limit(const Request& req,
                                                             const UserLimits& user) {
    if (s_.recipient_limit_mode == Mode::Off) return std::nullopt;
    std::int64_t limit = req.sasl_username.empty() ? s_.recipient_limit_unauthenticated
                         : user.recipient_limit > 0 ? user.recipient_limit
                                                    : s_.recipient_limit_authenticated;
    std::int64_t n = req.recipient_count_value();
    if (limit == 0 || n <= limit) return std::nullopt;
    return apply(
        s_.recipient_limit_mode, req,
        Verdict{
            "REJECT 5.5.3 Too many recipients (at most " + std::to_string(limit) + " per message)",
            "too many recipients: " + std::to_string(n) + " > " + std::to_string(limit)});
}

void Policy::rate_limits(const Request& req, std::vector<CounterLimit>& limits,
                         std::vector<std::pair<RateClass, const RateRule*>>& origin,
                         const UserLimits* user) const {
    std::int64_t rcpts = std::max<std::int64_t>(req.recipient_count_value(), 1);
    std::int64_t bytes = req.size_value();
    for (std::size_t c = 0; c < kRateClasses; ++c) {
        auto cls = static_cast<RateClass>(c);
        const auto& rules =
            cls == RateClass::SaslUser && user && user->rates ? *user->rates : s_.rates[c];
        if (rules.empty()) continue;
        std::string id;
        switch (cls) {
            case RateClass::SaslUser:
                id = to_lower(req.sasl_username);
                break;
            case RateClass::Sender:
                id = to_lower(req.sender);
                break;
            case RateClass::SenderDomain:
                id = domain_of(req.sender);
                break;
            case RateClass::Client:
                id = client_group(req.client_address, false);
                break;
            case RateClass::Global:
                id = "*";
                break;
        }
        if (id.empty()) continue;
        for (const auto& r : rules) {
            std::int64_t amount = r.kind == RateRule::Kind::Messages     ? 1
                                  : r.kind == RateRule::Kind::Recipients ? rcpts
                                                                         : bytes;
            // "r:CLASS:ID:KIND:WINDOW", built in place (every request builds several).
            std::string_view cname = class_name(cls), kname = store::kind_name(r.kind);
            char num[24];
            auto end = std::to_chars(num, num + sizeof num, r.window_s).ptr;
            std::string key;
            key.reserve(6 + cname.size() + id.size() + kname.size() + (end - num));
            key.append("r:").append(cname).append(":").append(id).append(":");
            key.append(kname).append(":").append(num, end);
            limits.push_back(CounterLimit{std::move(key), r.window_s * 1000, r.max, amount});
            origin.emplace_back(cls, &r);
        }
    }
}

void Policy::prefetch(std::span<const Request* const> batch) noexcept {
    cache_on_ = false;
    if (auto st = store_.get()) {
        (void)(*st)->begin_read();
        // The batch's snapshot: cached limits stay valid while nothing changed.
        if (auto v = (*st)->data_version()) {
            if (store_.generation() != cache_generation_ || *v != cache_version_) {
                limits_cache_.clear();
                cache_generation_ = store_.generation();
                cache_version_ = *v;
            }
            cache_on_ = true;
        }
    }
    if (!counters_.prefetches()) return;
    try {
        std::vector<CounterLimit> limits;
        std::vector<std::pair<RateClass, const RateRule*>> origin;
        // END-OF-MESSAGE too: the backend may then check those from what it
        // read and queue their adds (Counters::flush()).
        if (s_.rate_mode != Mode::Off && batch.size() > 1)
            for (const Request* r : batch)
                if (r->protocol_state == "RCPT" || r->protocol_state == "DATA" ||
                    r->protocol_state == "END-OF-MESSAGE") {
                    const UserLimits user = user_limits(*r);
                    rate_limits(*r, limits, origin, &user);
                }
        counters_.prefetch(limits, clock_.now_ms());
    } catch (const std::exception&) {
        // only a hint: each check then reads for itself
    }
}

void Policy::finish_batch() noexcept {
    cache_on_ = false;
    try {
        if (auto st = counters_.flush(); !st) (void)state_failure(st.error());
    } catch (const std::exception&) {
        // logging failed: nothing else to do
    }
    // The store that began the batch may be gone (reset after a failure):
    // a new one is in no batch, and end_read() is then a no-op.
    if (auto* st = store_.current()) st->end_read();
}

std::optional<Policy::Verdict> Policy::check_rates(const Request& req, bool count,
                                                   const UserLimits& user) {
    if (s_.rate_mode == Mode::Off) return std::nullopt;
    std::vector<CounterLimit> limits;
    std::vector<std::pair<RateClass, const RateRule*>> origin;
    rate_limits(req, limits, origin, &user);
    if (limits.empty()) return std::nullopt;
    auto res = counters_.check_and_add(limits, clock_.now_ms(), count);
    if (!res) return state_failure(res.error());
    if (!res->over) return std::nullopt;
    auto [cls, rule] = origin[res->index];
    std::string action =
        with_code(s_.rate_action, "Rate limit exceeded (" + describe(*rule) + "), try again later");
    return apply(s_.rate_mode, req,
                 Verdict{action, "rate limit " + describe(*rule) + " exceeded for " +
                                     std::string(class_name(cls)) + " (" +
                                     std::to_string(res->current) + " so far)"});
}

std::optional<Policy::Verdict> Policy::check_greylist(const Request& req) {
    if (s_.greylist_mode == Mode::Off || !req.sasl_username.empty()) return std::nullopt;
    std::string client = client_group(req.client_address, true);
    if (client.empty() || s_.greylist_whitelist.matches(req)) return std::nullopt;
    // A client that retried properly often enough is a real MTA: stop
    // greylisting it while it keeps sending within max_age.
    CounterLimit known{"gw:" + client, s_.greylist_times.max_age_ms, s_.greylist_auto_whitelist, 1};
    if (s_.greylist_auto_whitelist > 0) {
        auto w = counters_.check_and_add({&known, 1}, clock_.now_ms(), false);
        if (!w) return state_failure(w.error());
        if (w->over) return std::nullopt;
    }
    std::string key = "g:" + client + "/" + to_lower(req.sender) + "/" + to_lower(req.recipient);
    auto res = counters_.greylist(key, clock_.now_ms(), s_.greylist_times);
    if (!res) return state_failure(res.error());
    if (res->verdict == GreylistResult::Verdict::Pass) {
        if (res->retried && s_.greylist_auto_whitelist > 0) {
            known.max = std::numeric_limits<std::int64_t>::max() / 2;
            auto w = counters_.check_and_add({&known, 1}, clock_.now_ms(), true);
            if (!w) return state_failure(w.error());
        }
        return std::nullopt;
    }
    return apply(s_.greylist_mode, req,
                 Verdict{"DEFER_IF_PERMIT 4.7.1 Greylisted, try again in " +
                             std::to_string(res->wait_s) + " seconds",
                         "greylisted for " + std::to_string(res->wait_s) + "s"});
}

namespace {

bool parse_ip16(const std::string& text, unsigned char out[16], bool* v4) {
    unsigned char b4[4];
    if (::inet_pton(AF_INET, text.c_str(), b4) == 1) {
        std::fill(out, out + 10, 0);
        out[10] = out[11] = 0xff;
        std::copy(b4, b4 + 4, out + 12);
        *v4 = true;
        return true;
    }
    *v4 = false;
    return ::inet_pton(AF_INET6, text.c_str(), out) == 1;
}

bool in_net(const unsigned char a[16], const unsigned char n[16], int prefix) {
    int full = prefix / 8, rest = prefix % 8;
    if (!std::equal(a, a + full, n)) return false;
    if (rest == 0) return true;
    unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (a[full] & mask) == (n[full] & mask);
}

}  // namespace

Result<GreylistWhitelist> GreylistWhitelist::parse(const std::vector<std::string>& entries) {
    GreylistWhitelist w;
    for (const auto& e : entries) {
        auto bad = [&] {
            return fail(ErrorKind::BadInput,
                        "bad whitelist entry \"" + sanitize_for_log(e, 80) +
                            "\" (want an address, a network, a host or domain name, or a "
                            "recipient address or @domain)");
        };
        if (e.find('@') != std::string::npos) {
            auto at = e.find('@');
            auto dom = store::parse_domain(std::string_view(e).substr(at + 1));
            if (!dom) return bad();
            if (at > 0 && !store::parse_address(e)) return bad();
            w.recipients_.push_back(to_lower(e));
            continue;
        }
        auto slash = e.find('/');
        std::string ip = e.substr(0, slash);
        Net n{};
        bool v4 = false;
        if (parse_ip16(ip, n.addr, &v4)) {
            int bits = v4 ? 32 : 128;
            if (slash != std::string::npos) {
                auto p = parse_int(std::string_view(e).substr(slash + 1));
                if (!p || *p < 0 || *p > bits) return bad();
                bits = static_cast<int>(*p);
            }
            n.prefix = v4 ? 96 + bits : bits;
            w.nets_.push_back(n);
            continue;
        }
        auto dom = store::parse_domain(e);
        if (!dom) return bad();
        w.names_.push_back(*dom);
    }
    return w;
}

bool GreylistWhitelist::matches(const Request& req) const {
    if (!nets_.empty()) {
        unsigned char a[16];
        bool v4 = false;
        if (req.client_address.size() < 64 && parse_ip16(req.client_address, a, &v4))
            for (const auto& n : nets_)
                if (in_net(a, n.addr, n.prefix)) return true;
    }
    if (!names_.empty() && !req.client_name.empty() && req.client_name != "unknown") {
        std::string name = to_lower(req.client_name);
        for (const auto& n : names_)
            if (name == n || (name.size() > n.size() && name.ends_with(n) &&
                              name[name.size() - n.size() - 1] == '.'))
                return true;
    }
    if (!recipients_.empty()) {
        std::string rcpt = to_lower(req.recipient);
        auto at = rcpt.rfind('@');
        for (const auto& r : recipients_)
            if (rcpt == r || (r.front() == '@' && at != std::string::npos && rcpt.substr(at) == r))
                return true;
    }
    return false;
}

std::string Policy::decide(const Request& req) noexcept {
    try {
        const std::string& state = req.protocol_state;
        std::optional<Verdict> v;
        if (state == "MAIL" || state == "RCPT") {
            v = check_sender_login(req);
            if (!v && state == "RCPT") v = check_quota(req);
            if (!v && state == "RCPT" && s_.rate_mode != Mode::Off)
                v = check_rates(req, false, user_limits(req));
            if (!v && state == "RCPT") v = check_greylist(req);
        } else if (state == "DATA" || state == "END-OF-MESSAGE") {
            const UserLimits user = user_limits(req);
            v = check_recipient_limit(req, user);
            if (!v) v = check_rates(req, state == "END-OF-MESSAGE", user);
        }
        return v ? v->action : "DUNNO";
    } catch (const std::exception& e) {
        log_.error("internal error: {}", e.what());
    } catch (...) {
        log_.error("internal error");
    }
    return "DEFER_IF_PERMIT 4.3.0 Temporary internal policy failure";
}

}  // namespace yubin::policyd
