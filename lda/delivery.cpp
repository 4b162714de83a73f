#include "lda/delivery.hpp"

#include <exception>
#include <optional>
#include <vector>

#include "core/config/config.hpp"
#include "core/maildir/maildir.hpp"
#include "core/rules/classify.hpp"
#include "core/util/strings.hpp"
#include "lda/message.hpp"

namespace yubin::lda {

using maildir::Maildir;

Result<Settings> Settings::from_config(const config::Config& cfg) {
    Settings s;
    s.junk_folder = cfg.get("lda_junk_folder");
    if (!Maildir::valid_folder_name(s.junk_folder))
        return fail(ErrorKind::Config, "lda_junk_folder: invalid folder name \"" +
                                           sanitize_for_log(s.junk_folder, 64) + "\"");
    s.folder_from_extension = cfg.get_bool("lda_folder_from_extension");
    s.quota_full_temporary = cfg.get("lda_quota_full_action") == "defer";
    s.reject_bounces = cfg.get("lda_reject_action") == "bounce";
    if (cfg.get_bool("lda_filter")) {
        auto file = cfg.get("lda_rules_file");
        if (file.empty()) {
            s.rules = std::make_shared<const rules::RuleSet>(rules::RuleSet::defaults());
        } else {
            auto rs = rules::RuleSet::load_file(file);
            if (!rs) return fail(ErrorKind::Config, "lda_rules_file: " + rs.error().what);
            s.rules = std::make_shared<const rules::RuleSet>(std::move(*rs));
        }
    }
    return s;
}

namespace {

// Where one recipient's copy goes: the root (for quota) and the folder.
struct Target {
    Maildir root;
    std::optional<Maildir> sub;
    std::string folder;  // "" = INBOX
    [[nodiscard]] const Maildir& dir() const { return sub ? *sub : root; }
};

}  // namespace

std::vector<Outcome> Deliverer::deliver(const Envelope& env, const std::vector<Recipient>& rcpts,
                                        std::string_view raw) {
    return deliver_all(env, rcpts, raw, nullptr);
}

Outcome Deliverer::deliver_stream(const Envelope& env, const Mailbox& mbox, std::string_view head,
                                  maildir::StreamTail& tail) {
    return deliver_all(env, {Recipient{env.recipient, mbox}}, head, &tail).front();
}

std::vector<Outcome> Deliverer::deliver_all(const Envelope& env,
                                            const std::vector<Recipient>& rcpts,
                                            std::string_view raw, maildir::StreamTail* tail) {
    std::vector<Outcome> out;
    try {
        out = deliver_checked(env, rcpts, raw, tail);
    } catch (const std::exception& e) {
        out.assign(rcpts.size(), temp_failure("4.3.0", std::string("internal error: ") + e.what()));
    } catch (...) {
        out.assign(rcpts.size(), temp_failure("4.3.0", "internal error"));
    }
    for (std::size_t i = 0; i < rcpts.size(); ++i) {
        Envelope e = env;
        e.recipient = rcpts[i].address;
        log_outcome(e, out[i], raw.size() + (tail ? tail->read : 0));
    }
    return out;
}

Outcome Deliverer::deliver(const Envelope& env, const Mailbox& mbox, std::string_view raw) {
    return deliver(env, {Recipient{env.recipient, mbox}}, raw).front();
}

std::vector<Outcome> Deliverer::deliver_checked(const Envelope& env,
                                                const std::vector<Recipient>& rcpts,
                                                std::string_view raw, maildir::StreamTail* tail) {
    if (tail && rcpts.size() != 1)
        return std::vector<Outcome>(rcpts.size(), temp_failure("4.3.0", "internal error: stream"));
    // One recipient gets its own Delivered-To; several share one file (hard
    // links), so none gets it, as Dovecot's LMTP does.
    const bool single = rcpts.size() == 1;
    MessageInfo info = inspect_message(raw, single ? rcpts[0].address : "", settings_.limits.mime);

    std::string junk;  // folder chosen by a rule
    std::string filter_header, subject_tag;
    std::optional<Outcome> verdict;  // reject or discard: the same for everyone
    // Recipients may opt out (spam_filter = off in the store), as with
    // yubin-milter: all opted out, no filter; none, the rule's action; mixed,
    // one file for everyone with only the X-Yubin-Filter field, which the
    // opted-in can sort on (no reject, discard, Junk or Subject tag).
    std::size_t off = 0;
    for (const auto& r : rcpts)
        if (!r.mailbox.filter) ++off;
    const bool mixed = off > 0 && off < rcpts.size();
    if (settings_.rules && off == rcpts.size() && !rcpts.empty()) {
        log_.debug("{}filter: skipped, every recipient opted out", log::queue_prefix(env.queue_id));
    } else if (settings_.rules) {
        rules::Verdict v = rules::classify(*settings_.rules, info.message, settings_.limits);
        // After Postfix accepted the message, a bounce goes to the envelope
        // sender, for spam mostly a forged one (backscatter): unless told
        // otherwise, a reject becomes junk here; the milter rejects at SMTP time.
        if (v.matched && v.action == "reject" && !settings_.reject_bounces) v.action = "junk";
        if (v.matched && mixed) {
            log_.info("{}filter: rule={} action {} not applied: {} of {} recipients opted out "
                      "of the filter",
                      log::queue_prefix(env.queue_id), sanitize_for_log(v.rule, 80),
                      sanitize_for_log(v.action, 20), off, rcpts.size());
            filter_header = "X-Yubin-Filter: " + header_safe(v.action) + "; rule=" +
                            header_safe(v.rule) + std::string(info.eol);
        } else if (v.matched) {
            if (v.action == "reject") {
                verdict = perm_failure("5.7.1", v.text.empty() ? "message refused by rule " + v.rule
                                                               : v.text);
            } else if (v.action == "discard") {
                Outcome o;
                o.dsn = "2.0.0";
                o.discarded = true;
                o.text = "discarded by rule " + v.rule;
                verdict = o;
            }
            if (v.action == "junk" || v.action == "quarantine") junk = settings_.junk_folder;
            if (v.action == "tag") subject_tag = header_safe(v.text);
            filter_header = "X-Yubin-Filter: " + header_safe(v.action) + "; rule=" +
                            header_safe(v.rule) + std::string(info.eol);
        }
    }

    std::string prefix =
        added_headers(info, env.sender, single ? rcpts[0].address : "") + filter_header;
    auto parts = message_parts(info, prefix, subject_tag);
    std::int64_t size = 0;
    for (auto p : parts) size += static_cast<std::int64_t>(p.size());

    std::vector<Outcome> out;
    std::optional<maildir::StagedFile> staged;
    for (std::size_t i = 0; i < rcpts.size(); ++i) {
        const Recipient& r = rcpts[i];
        if (!single && inspect_message(raw, r.address, settings_.limits.mime).loop) {
            out.push_back(perm_failure("5.4.6", "mail forwarding loop for " + r.address));
        } else if (single && info.loop) {
            out.push_back(perm_failure("5.4.6", "mail forwarding loop for " + r.address));
        } else if (verdict) {
            out.push_back(*verdict);
        } else {
            out.push_back(deliver_to(env.queue_id, r, junk, parts, size, i + 1 < rcpts.size(),
                                     staged, tail));
        }
        if (out.back().ok() && !out.back().discarded && !filter_header.empty())
            out.back().text += " (" + std::string(trim(filter_header)) + ")";
    }
    return out;
}

Outcome Deliverer::deliver_to(std::string_view queue_id, const Recipient& r,
                              const std::string& junk,
                              const std::vector<std::string_view>& parts, std::int64_t size,
                              bool more_follow, std::optional<maildir::StagedFile>& staged,
                              maildir::StreamTail* tail) {
    const Mailbox& mbox = r.mailbox;
    auto root = Maildir::open(mbox.maildir, {.create = true,
                                             .create_parents = mbox.create_parents,
                                             .mode = 0700});
    if (!root) return from_error(root.error());
    Target t{std::move(*root), std::nullopt, ""};
    if (!junk.empty()) {
        auto f = t.root.folder(junk, true);
        if (!f) return from_error(f.error());
        t.sub = std::move(*f);
        t.folder = junk;
        if (auto st = t.root.subscribe(junk); !st)
            log_.warning("{}cannot subscribe {} in {}: {}", log::queue_prefix(queue_id), junk,
                         t.root.path(), st.error().what);
    } else if (settings_.folder_from_extension && !mbox.extension.empty() &&
               Maildir::valid_folder_name(mbox.extension)) {
        // Only into a folder the user made: an extension must not create
        // folders for whoever writes to user+anything.
        if (auto f = t.root.folder(mbox.extension, false)) {
            t.sub = std::move(*f);
            t.folder = mbox.extension;
        } else if (f.error().kind != ErrorKind::NotFound) {
            return from_error(f.error());
        }
    }

    // Nothing, or why a message of `bytes` does not fit.
    auto quota_refusal = [&](std::int64_t bytes) -> std::optional<Outcome> {
        if (!mbox.quota.any()) return std::nullopt;
        auto usage = maildir::quota_usage(t.root, mbox.quota);
        if (!usage) return from_error(usage.error());
        if (!maildir::over_quota(*usage, mbox.quota, bytes)) return std::nullopt;
        if (settings_.quota_full_temporary)
            return temp_failure("4.2.2", "mailbox full: " + r.address);
        return perm_failure("5.2.2", "mailbox full: " + r.address);
    };
    if (auto refused = quota_refusal(size)) return *refused;

    Result<maildir::Delivered> d;
    if (tail) {
        // The size is known only once the rest is read: write, then check
        // the quota again before anything is visible in new/.
        auto s = writer_.stage_stream(t.dir(), parts, *tail);
        if (!s && s.error().kind == ErrorKind::Perm) return perm_failure("5.3.4", s.error().what);
        if (!s) return from_error(s.error());
        size = static_cast<std::int64_t>(s->size());
        if (auto refused = quota_refusal(size)) return *refused;
        d = writer_.commit_move(std::move(*s), t.dir());
    } else if (staged) {
        d = writer_.commit_link(*staged, t.dir());
        // Another filesystem (EXDEV) or a link limit: write this copy anew.
        if (!d) d = writer_.deliver(t.dir(), parts);
    } else if (more_follow) {
        auto s = writer_.stage(t.dir(), parts);
        if (!s) return from_error(s.error());
        staged.emplace(std::move(*s));
        d = writer_.commit_link(*staged, t.dir());
    } else {
        d = writer_.deliver(t.dir(), parts);
    }
    if (!d) return from_error(d.error());
    if (mbox.quota.any()) {
        if (auto st = maildir::quota_add(t.root, size, 1); !st)
            log_.warning("{}maildirsize not updated: {}", log::queue_prefix(queue_id),
                         st.error().what);
    }
    return delivered(t.folder.empty() ? "INBOX" : t.folder, d->path);
}

void Deliverer::log_outcome(const Envelope& env, const Outcome& o, std::size_t size) {
    const char* status = o.ok() ? "sent" : o.temporary() ? "deferred" : "bounced";
    log_.info("{}to=<{}>, from=<{}>, size={}, dsn={}, status={} ({})",
              log::queue_prefix(env.queue_id), env.recipient, env.sender, size, o.dsn, status,
              o.text);
}

}  // namespace yubin::lda
