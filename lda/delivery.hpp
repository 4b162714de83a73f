// One message to one mailbox, the same in every mode (mailbox_command, pipe,
// LMTP): loop check, filter rules, folder choice, quota, Maildir write, one
// log line. What a mode decides before (which Maildir, which quota) comes in
// a Mailbox; what happened goes out as an Outcome (outcome.hpp).
#pragma once

#include <memory>
#include <optional>
#include <vector>
#include <string>
#include <string_view>

#include "core/log/logger.hpp"
#include "core/maildir/maildir_writer.hpp"
#include "core/maildir/quota.hpp"
#include "core/rules/rule_set.hpp"
#include "lda/outcome.hpp"

namespace yubin::config {
class Config;
}

namespace yubin::lda {

struct Settings {
    std::string junk_folder = "Junk";
    bool folder_from_extension = true;  // user+folder@domain -> .folder when it exists
    bool quota_full_temporary = false;  // lda_quota_full_action = defer
    bool reject_bounces = false;        // lda_reject_action = bounce
    std::shared_ptr<const rules::RuleSet> rules;  // null: no filtering
    rules::Limits limits;

    // From yubin.cf (lda_* parameters); the rules file is loaded here.
    [[nodiscard]] static Result<Settings> from_config(const config::Config& cfg);
};

struct Envelope {
    std::string sender;     // "" for bounces
    std::string recipient;  // as Postfix gave it, extension included
    std::string queue_id;   // for log lines; "" if unknown
};

struct Mailbox {
    std::string maildir;            // the Maildir root
    bool create_parents = false;    // virtual: <base>/<domain>/<user>/ may not exist yet
    std::string extension;          // "folder" of user+folder, may be empty
    maildir::QuotaLimits quota;
    // The store's spam_filter for this mailbox (else its domain's, else on):
    // false = the recipient opted out of the filter rules. Local users
    // (mailbox_command) have no store entry and are always filtered.
    bool filter = true;
};

struct Recipient {
    std::string address;
    Mailbox mailbox;
};

class Deliverer {
public:
    Deliverer(const Settings& settings, maildir::MaildirWriter& writer, log::Logger& log)
        : settings_(settings), writer_(writer), log_(log) {}

    // One recipient (env.recipient). Never throws on message content; every
    // failure is an Outcome; one log line.
    [[nodiscard]] Outcome deliver(const Envelope& env, const Mailbox& mbox,
                                  std::string_view raw_message);

    // One recipient, the message still being read (command mode): `head`
    // is what was read of it so far and must hold the whole header (through
    // its empty line); the rest is copied from tail.fd into the file as it
    // arrives. Everything decided on the header (loop, filter verdict, added
    // fields, folder) is decided before the file is created; the quota is
    // checked again with the final size before the rename into new/. Only
    // for rules that do not need the body (RuleSet::needs_body).
    [[nodiscard]] Outcome deliver_stream(const Envelope& env, const Mailbox& mbox,
                                         std::string_view head, maildir::StreamTail& tail);

    // Several recipients of one message (LMTP): one Outcome and one log line
    // each, in order. The message is written once and hard-linked into each
    // Maildir (written again where a link fails, e.g. across filesystems);
    // with more than one recipient no Delivered-To is added, since the copies
    // are one file.
    [[nodiscard]] std::vector<Outcome> deliver(const Envelope& env,
                                               const std::vector<Recipient>& rcpts,
                                               std::string_view raw_message);

private:
    std::vector<Outcome> deliver_all(const Envelope& env, const std::vector<Recipient>& rcpts,
                                     std::string_view raw_message, maildir::StreamTail* tail);
    std::vector<Outcome> deliver_checked(const Envelope& env, const std::vector<Recipient>& rcpts,
                                         std::string_view raw_message, maildir::StreamTail* tail);
    Outcome deliver_to(std::string_view queue_id, const Recipient& r, const std::string& junk,
                       const std::vector<std::string_view>& parts, std::int64_t size,
                       bool more_follow, std::optional<maildir::StagedFile>& staged,
                       maildir::StreamTail* tail);
    void log_outcome(const Envelope& env, const Outcome& o, std::size_t size);

    const Settings& settings_;
    maildir::MaildirWriter& writer_;
    log::Logger& log_;
};

}  // namespace yubin::lda
