#include "milter/session.hpp"

#include <algorithm>
#include <utility>

#include "core/rules/classify.hpp"
#include "core/util/strings.hpp"
#include "milter/relay.hpp"

namespace yubin::milter {
namespace {

constexpr std::string_view kTempText = "Temporary failure, try again later";
constexpr std::string_view kSizeText = "Message size exceeds fixed limit";

// Reply text must be one line; '%' would be read as a format by some MTAs.
std::string reply_safe(std::string_view s) {
    std::string out = sanitize_for_log(s, 400);
    std::replace(out.begin(), out.end(), '%', '?');
    return out;
}

std::int64_t min_limit(std::int64_t a, std::int64_t b) {
    if (a <= 0) return b;
    if (b <= 0) return a;
    return std::min(a, b);
}

// SIZE=n among the MAIL parameters (RFC 1870); 0 if absent or malformed
// (Postfix has already refused a malformed one).
std::int64_t declared_size(std::span<const std::string_view> args) {
    for (auto a : args) {
        if (!istarts_with(a, "SIZE=")) continue;
        auto n = parse_int(a.substr(5));
        if (n && *n > 0) return *n;
    }
    return 0;
}

bool is_yubin_header(std::string_view name) {
    return istarts_with(name, "X-Yubin-");
}

}  // namespace

bool Settings::wants_body() const {
    return count_body || (filter && rules && rules->needs_body());
}

std::string Reply::to_string() const {
    return code + " " + xcode + " " + text;
}

Reply temp_failure() {
    return {Reply::Kind::TempFail, "451", "4.3.0", std::string(kTempText)};
}

Session::Session(std::shared_ptr<const Settings> settings, std::shared_ptr<Directory> directory,
                 log::Logger& log)
    : settings_(std::move(settings)), dir_(std::move(directory)), log_(log) {
    const auto& s = *settings_;
    if (!s.filter || !s.rules) return;
    kept_names_.insert("subject");
    keep_mime_ = s.rules->needs_body();
    for (const auto& r : s.rules->rules())
        if (r.target == rules::Target::Header) kept_names_.insert(to_lower(r.header));
}

void Session::connect(std::string_view client_name, std::string_view client_ip) {
    client_name_ = client_name.empty() ? "unknown" : sanitize_for_log(client_name, 255);
    client_ip_ = client_ip.empty() ? "unknown" : sanitize_for_log(client_ip, 64);
    trusted_ = !client_ip.empty() && settings_->trusted.contains(client_ip);
    local_cache_.clear();
    limit_cache_.clear();
}

Result<bool> Session::is_local(std::string_view domain) {
    for (const auto& [d, v] : local_cache_)
        if (d == domain) return v;
    auto got = dir_->is_local_domain(domain);
    if (got && local_cache_.size() < kMaxCachedLookups)
        local_cache_.emplace_back(std::string(domain), *got);
    return got;
}

Result<RecipientSettings> Session::recipient(std::string_view local, std::string_view domain) {
    // A foreign domain has no limit of its own; whether it is ours is
    // usually known already from the relay check.
    auto ours = is_local(domain);
    if (!ours) return fail(ours.error());
    if (!*ours) return RecipientSettings{};
    std::string key = std::string(local) + "@" + std::string(domain);
    for (const auto& [k, v] : limit_cache_)
        if (k == key) return v;
    auto got = dir_->recipient(local, domain);
    if (got && limit_cache_.size() < kMaxCachedLookups) limit_cache_.emplace_back(std::move(key), *got);
    return got;
}

void Session::set_queue_id(std::string_view qid) {
    if (!qid.empty()) qid_ = sanitize_for_log(qid, 64);
}

std::string Session::client() const {
    return client_name_ + "[" + client_ip_ + "]";
}

std::string Session::envelope() const {
    std::string s = "from=<" + sanitize_for_log(sender_, 320) + ">";
    for (const auto& r : rcpts_) s += " to=<" + r + ">";
    if (rcpt_count_ > rcpts_.size()) s += " (" + std::to_string(rcpt_count_) + " recipients)";
    return s;
}

Reply Session::reject(std::string_view stage, std::string code, std::string xcode, std::string text,
                      std::string_view detail) {
    Reply r{code[0] == '4' ? Reply::Kind::TempFail : Reply::Kind::Reject, std::move(code),
            std::move(xcode), reply_safe(text)};
    log_.info("{}{}: {} from {}: {}; {}{}{}", log::queue_prefix(qid_),
              r.kind == Reply::Kind::TempFail ? "defer" : "reject", stage, client(), r.to_string(),
              envelope(), detail.empty() ? "" : " ", detail);
    return r;
}

void Session::abort() {
    sender_.clear();
    in_message_ = false;
    authenticated_ = false;
    declared_size_ = 0;
    limit_ = 0;
    rcpts_.clear();
    rcpt_count_ = 0;
    filter_off_ = 0;
    kept_.clear();
    kept_.shrink_to_fit();
    kept_truncated_ = false;
    in_body_ = false;
    subject_.clear();
    have_subject_ = false;
    forged_.clear();
    forged_total_ = 0;
    header_bytes_ = 0;
    body_bytes_ = 0;
    failed_.clear();
    qid_.clear();
}

void Session::fail_later(std::string_view why) {
    if (failed_.empty()) failed_ = std::string(why);
}

Reply Session::size_check(std::string_view stage, std::int64_t limit) {
    if (limit > 0 && declared_size_ > limit)
        return reject(
            stage, "552", "5.3.4", std::string(kSizeText),
            "(SIZE=" + std::to_string(declared_size_) + " limit " + std::to_string(limit) + ")");
    return {};
}

Reply Session::mail(std::string_view sender, std::span<const std::string_view> args,
                    std::string_view auth_login) {
    std::string qid = std::move(qid_);  // set for this MAIL event already
    abort();
    qid_ = std::move(qid);
    in_message_ = true;
    const auto p = parse_recipient(sender);
    sender_ = p.malformed ? std::string{} : std::string(trim(sender));
    if (sender_.size() >= 2 && sender_.front() == '<')
        sender_ = sender_.substr(1, sender_.size() - 2);
    authenticated_ = !auth_login.empty();
    declared_size_ = declared_size(args);

    if (authenticated_ && settings_->sender_login_mismatch != LoginMismatch::Off &&
        !sender_.empty()) {
        auto owns = dir_->owns_sender(auth_login, sender_);
        if (!owns) return reject("MAIL", "451", "4.3.0", std::string(kTempText), owns.error().what);
        if (!*owns) {
            const std::string login = sanitize_for_log(auth_login, 320);
            if (settings_->sender_login_mismatch == LoginMismatch::Reject)
                return reject(
                    "MAIL", "553", "5.7.1",
                    "<" + sender_ + ">: Sender address rejected: not owned by user " + login,
                    "sasl_username=" + login);
            log_.info("{}warn: MAIL from {}: sender <{}> not owned by user {}; {}",
                      log::queue_prefix(qid_), client(), sanitize_for_log(sender_, 320), login,
                      envelope());
        }
    }

    limit_ = settings_->max_message_size;
    if (!p.malformed && !p.domain.empty() && !p.routing && !p.source_route) {
        auto own = recipient(p.local, p.domain);
        if (!own) return reject("MAIL", "451", "4.3.0", std::string(kTempText), own.error().what);
        limit_ = min_limit(limit_, own->size_limit);
    }
    return size_check("MAIL", limit_);
}

Reply Session::rcpt(std::string_view rcpt, std::span<const std::string_view>) {
    if (!in_message_)
        in_message_ = true;  // RCPT without MAIL: a raw client; Postfix never does this
    const std::string shown = sanitize_for_log(trim(rcpt), 320);
    const auto logged = [&] {
        std::string r = shown;
        if (r.size() >= 2 && r.front() == '<' && r.back() == '>') r = r.substr(1, r.size() - 2);
        return r;
    }();

    auto decision = decide_relay(rcpt, {.authenticated = authenticated_, .trusted = trusted_},
                                 [this](std::string_view d) { return is_local(d); });
    switch (decision.verdict) {
        case RelayVerdict::TempFail:
            return reject("RCPT", "451", "4.3.0", std::string(kTempText),
                          "to=<" + logged + "> (" + decision.reason + ")");
        case RelayVerdict::Reject:
            return reject("RCPT", "554", "5.7.1", "<" + logged + ">: Relay access denied",
                          "to=<" + logged + "> (" + decision.reason + ")");
        case RelayVerdict::Accept:
            break;
    }

    std::int64_t limit = settings_->max_message_size;
    bool filter = true;
    const auto p = parse_recipient(rcpt);
    if (!p.malformed && !p.domain.empty() && !p.routing && !p.source_route) {
        auto own = recipient(p.local, p.domain);
        if (!own)
            return reject("RCPT", "451", "4.3.0", std::string(kTempText),
                          "to=<" + logged + "> (" + own.error().what + ")");
        limit = min_limit(limit, own->size_limit);
        filter = own->filter;
    }
    if (limit > 0 && declared_size_ > limit)
        return reject("RCPT", "552", "5.3.4", std::string(kSizeText),
                      "to=<" + logged + "> (SIZE=" + std::to_string(declared_size_) + " limit " +
                          std::to_string(limit) + ")");
    limit_ = min_limit(limit_, limit);
    ++rcpt_count_;
    if (!filter) ++filter_off_;
    if (rcpts_.size() < kMaxLoggedRcpts) rcpts_.push_back(logged);
    log_.debug("{}accept: RCPT from {}: to=<{}> ({}) limit={}", log::queue_prefix(qid_), client(),
               logged, decision.reason, limit_);
    return {};
}

bool Session::keep_header(std::string_view name) const {
    if (kept_names_.empty()) return false;
    if (keep_mime_ && (istarts_with(name, "Content-") || iequals(name, "MIME-Version")))
        return true;
    return kept_names_.count(to_lower(name)) != 0;
}

void Session::header(std::string_view name, std::string_view value) {
    if (!failed_.empty()) return;  // the message gets a tempfail at EOM anyway
    header_bytes_ += name.size() + value.size() + 4;  // ": " and CRLF
    if (is_yubin_header(name)) {
        ++forged_total_;
        auto it = std::find_if(forged_.begin(), forged_.end(),
                               [&](const Forged& f) { return iequals(f.name, name); });
        if (it != forged_.end()) {
            ++it->count;
        } else if (forged_.size() < kMaxForgedFields) {
            forged_.push_back({std::string(name), 1});
        }
    }
    if (iequals(name, "Subject") && !have_subject_) {
        have_subject_ = true;
        subject_ = std::string(value.substr(0, std::min(value.size(), mime::kMaxFieldBytes)));
    }
    if (!keep_header(name)) return;
    const std::size_t need = name.size() + value.size() + 4;
    if (kept_.size() + need > kMaxKeptBytes) {
        kept_truncated_ = true;
        return;
    }
    kept_.append(name).append(": ").append(value).append("\r\n");
}

void Session::body(std::string_view chunk) {
    if (!in_body_) {
        in_body_ = true;
        if (settings_->filter && settings_->rules && settings_->rules->needs_body())
            kept_.append("\r\n");
    }
    body_bytes_ += chunk.size();
    if (!settings_->filter || !settings_->rules || !settings_->rules->needs_body()) return;
    const std::size_t room = kMaxKeptBytes + kMaxKeptBodyBytes > kept_.size()
                                 ? kMaxKeptBytes + kMaxKeptBodyBytes - kept_.size()
                                 : 0;
    if (chunk.size() > room) kept_truncated_ = true;
    kept_.append(chunk.substr(0, std::min(room, chunk.size())));
}

EomResult Session::eom() {
    EomResult out;
    if (!failed_.empty()) {
        out.reply = reject("END-OF-MESSAGE", "451", "4.3.0", std::string(kTempText), failed_);
        return out;
    }
    if (forged_total_ > kMaxForgedFields) {
        out.reply = reject("END-OF-MESSAGE", "550", "5.7.1", "Too many X-Yubin header fields",
                           "(" + std::to_string(forged_total_) + " fields)");
        return out;
    }
    const std::uint64_t size = header_bytes_ + 2 + body_bytes_;
    if (settings_->count_body && limit_ > 0 && size > static_cast<std::uint64_t>(limit_)) {
        out.reply =
            reject("END-OF-MESSAGE", "552", "5.3.4", std::string(kSizeText),
                   "(size " + std::to_string(size) + " limit " + std::to_string(limit_) + ")");
        return out;
    }
    // Only yubin may write X-Yubin-*: a forged one could steer the LDA into
    // filing (or not filing) the message as junk. Delete every instance,
    // highest index first so that the lower indexes stay valid.
    for (const auto& f : forged_) {
        for (int i = f.count; i >= 1; --i)
            out.edits.push_back({HeaderEdit::Op::Delete, f.name, i, {}});
        log_.info("{}warning: removed {} forged {} header field(s); {}", log::queue_prefix(qid_),
                  f.count, sanitize_for_log(f.name, 80), envelope());
    }
    filter(out);
    return out;
}

void Session::filter(EomResult& out) {
    const auto& s = *settings_;
    if (!s.filter || !s.rules) return;
    if (authenticated_ && !s.filter_authenticated) return;
    // Recipients may opt out (spam_filter = off in the store). One message
    // cannot be refused for some recipients and kept for others, so: all
    // opted out, no filter; all in, the rule's action; mixed, the message
    // goes to everyone with the X-Yubin-* fields only (no Subject change, no
    // reject, hold or discard), which the opted-in can sort on.
    if (rcpt_count_ > 0 && filter_off_ == rcpt_count_) {
        log_.debug("{}filter: skipped, every recipient opted out; {}", log::queue_prefix(qid_),
                   envelope());
        return;
    }
    const bool mixed = filter_off_ > 0;
    const auto v = rules::classify(*s.rules, kept_);
    if (!v.matched) {
        if (kept_truncated_ || v.truncated)
            log_.info("{}filter: clean (truncated at a bound); {}", log::queue_prefix(qid_),
                      envelope());
        return;
    }
    const std::string rule = sanitize_for_log(v.rule, 80);
    const std::string detail = "rule=" + rule + " score=" + std::to_string(v.score) +
                               (v.truncated || kept_truncated_ ? " truncated" : "");
    auto add = [&](std::string name, std::string value) {
        out.edits.push_back({HeaderEdit::Op::Add, std::move(name), 0, std::move(value)});
    };
    std::string action = v.action;
    if (mixed) {
        add("X-Yubin-Spam", "yes");
        add("X-Yubin-Rule", rule);
        log_.info("{}tag: END-OF-MESSAGE from {}: {}; {} (action {} not applied: {} of {} "
                  "recipients opted out of the filter)",
                  log::queue_prefix(qid_), client(), envelope(), detail,
                  sanitize_for_log(action, 20), filter_off_, rcpt_count_);
        return;
    }
    if (action == "discard" && !s.allow_discard) {
        log_.info(
            "{}filter: discard not allowed (milter_allow_discard = no), quarantining "
            "instead; {}",
            log::queue_prefix(qid_), detail);
        action = "quarantine";
    }
    if (action == "reject") {
        out.reply =
            reject("END-OF-MESSAGE", "550", "5.7.1",
                   v.text.empty() ? "Message refused by filter rule " + rule : v.text, detail);
        return;
    }
    if (action == "discard") {
        out.reply = {Reply::Kind::Discard, "", "", ""};
        log_.info("{}discard: END-OF-MESSAGE from {}: {}; {}", log::queue_prefix(qid_), client(),
                  envelope(), detail);
        return;
    }
    if (action == "quarantine") {
        out.quarantine = "yubin rule " + rule;
        add("X-Yubin-Rule", rule);
        log_.info("{}hold: END-OF-MESSAGE from {}: {}; {}", log::queue_prefix(qid_), client(),
                  envelope(), detail);
        return;
    }
    if (action == "junk") {
        add("X-Yubin-Spam", "junk");
        add("X-Yubin-Rule", rule);
        log_.info("{}junk: END-OF-MESSAGE from {}: {}; {}", log::queue_prefix(qid_), client(),
                  envelope(), detail);
        return;
    }
    // "tag" (and any action this version does not know: the mildest)
    add("X-Yubin-Spam", "yes");
    add("X-Yubin-Rule", rule);
    if (!v.text.empty()) {
        const std::string prefix = reply_safe(v.text);
        if (have_subject_)
            out.edits.push_back({HeaderEdit::Op::Change, "Subject", 1, prefix + " " + subject_});
        else
            add("Subject", prefix);
    }
    log_.info("{}tag: END-OF-MESSAGE from {}: {}; {}", log::queue_prefix(qid_), client(),
              envelope(), detail);
}

}  // namespace yubin::milter
