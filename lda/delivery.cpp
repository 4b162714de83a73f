#include "lda/delivery.hpp"

#include <exception>
#include <optional>

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

Outcome Deliverer::deliver(const Envelope& env, const Mailbox& mbox, std::string_view raw) {
    Outcome o;
    try {
        o = deliver_checked(env, mbox, raw);
    } catch (const std::exception& e) {
        o = temp_failure("4.3.0", std::string("internal error: ") + e.what());
    } catch (...) {
        o = temp_failure("4.3.0", "internal error");
    }
    log_outcome(env, o, raw.size());
    return o;
}

Outcome Deliverer::deliver_checked(const Envelope& env, const Mailbox& mbox,
                                   std::string_view raw) {
    MessageInfo info = inspect_message(raw, env.recipient, settings_.limits.mime);
    if (info.loop) return perm_failure("5.4.6", "mail forwarding loop for " + env.recipient);

    std::string folder;  // empty: INBOX
    std::string filter_header, subject_tag;
    if (settings_.rules) {
        rules::Verdict v = rules::classify(*settings_.rules, info.message, settings_.limits);
        if (v.matched) {
            // After Postfix accepted the message, a bounce goes to the envelope
            // sender, for spam mostly a forged one (backscatter): unless told
            // otherwise, a reject becomes junk here; the milter rejects at SMTP time.
            if (v.action == "reject" && !settings_.reject_bounces) v.action = "junk";
            if (v.action == "reject")
                return perm_failure("5.7.1", v.text.empty() ? "message refused by rule " + v.rule
                                                            : v.text);
            if (v.action == "discard") {
                Outcome o;
                o.dsn = "2.0.0";
                o.discarded = true;
                o.text = "discarded by rule " + v.rule;
                return o;
            }
            if (v.action == "junk" || v.action == "quarantine") folder = settings_.junk_folder;
            if (v.action == "tag") subject_tag = header_safe(v.text);
            filter_header = "X-Yubin-Filter: " + header_safe(v.action) + "; rule=" +
                            header_safe(v.rule) + std::string(info.eol);
        }
    }

    auto root = Maildir::open(mbox.maildir, {.create = true,
                                             .create_parents = mbox.create_parents,
                                             .mode = 0700});
    if (!root) return from_error(root.error());
    std::optional<Maildir> sub;
    if (!folder.empty()) {
        auto f = root->folder(folder, true);
        if (!f) return from_error(f.error());
        sub = std::move(*f);
        if (auto st = root->subscribe(folder); !st)
            log_.warning("{}cannot subscribe {} in {}: {}", log::queue_prefix(env.queue_id), folder,
                         root->path(), st.error().what);
    } else if (settings_.folder_from_extension && !mbox.extension.empty() &&
               Maildir::valid_folder_name(mbox.extension)) {
        // Only into a folder the user made: an extension must not create
        // folders for whoever writes to user+anything.
        if (auto f = root->folder(mbox.extension, false)) {
            sub = std::move(*f);
            folder = mbox.extension;
        } else if (f.error().kind != ErrorKind::NotFound) {
            return from_error(f.error());
        }
    }
    const Maildir& target = sub ? *sub : *root;

    std::string prefix = added_headers(info, env.sender, env.recipient) + filter_header;
    auto parts = message_parts(info, prefix, subject_tag);
    std::int64_t size = 0;
    for (auto p : parts) size += static_cast<std::int64_t>(p.size());

    if (mbox.quota.any()) {
        auto usage = maildir::quota_usage(*root, mbox.quota);
        if (!usage) return from_error(usage.error());
        if (maildir::over_quota(*usage, mbox.quota, size)) {
            if (settings_.quota_full_temporary)
                return temp_failure("4.2.2", "mailbox full: " + env.recipient);
            return perm_failure("5.2.2", "mailbox full: " + env.recipient);
        }
    }
    auto d = writer_.deliver(target, parts);
    if (!d) return from_error(d.error());
    if (mbox.quota.any()) {
        if (auto st = maildir::quota_add(*root, size, 1); !st)
            log_.warning("{}maildirsize not updated: {}", log::queue_prefix(env.queue_id),
                         st.error().what);
    }
    Outcome o = delivered(folder.empty() ? "INBOX" : folder, d->path);
    if (!filter_header.empty()) o.text += " (" + std::string(trim(filter_header)) + ")";
    return o;
}

void Deliverer::log_outcome(const Envelope& env, const Outcome& o, std::size_t size) {
    const char* status = o.ok() ? "sent" : o.temporary() ? "deferred" : "bounced";
    log_.info("{}to=<{}>, from=<{}>, size={}, dsn={}, status={} ({})",
              log::queue_prefix(env.queue_id), env.recipient, env.sender, size, o.dsn, status,
              o.text);
}

}  // namespace yubin::lda
