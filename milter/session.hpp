// One SMTP session as yubin-milter sees it, independent of libmilter: the
// callbacks in milter_glue.cpp feed it events and translate its answers.
// Keeping libmilter out makes every decision testable with plain calls.
//
// State: connection facts (client, trust) live for the session; message
// facts (sender, declared size, accepted recipients, headers kept for the
// filter, byte counts) are reset by mail() and abort(), so a second message
// on one connection starts clean.
//
// SECURITY: every argument is peer input relayed by Postfix (addresses,
// ESMTP parameters, header names and values, body chunks). Bounds:
//   - addresses: relay.hpp (kMaxRcptBytes);
//   - headers kept for the filter: only the fields the rules look at (plus
//     the MIME fields when a rule reads the body), at most kMaxKeptBytes in
//     all; past that the filter decides on what was kept (truncated);
//   - body kept for the filter: only when a rule reads the body, at most
//     kMaxKeptBodyBytes; the byte count itself is a 64-bit counter;
//   - forged X-Yubin-* fields: at most kMaxForgedFields are remembered for
//     removal; a message with more is refused (no honest sender adds them);
//   - recipients remembered for the log: the first kMaxLoggedRcpts;
//   - directory answers cached for the connection: kMaxCachedLookups of each
//     kind (then looked up again each time).
// So the memory of a session is bounded whatever the message holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/log/logger.hpp"
#include "core/rules/rule_set.hpp"
#include "core/util/result.hpp"
#include "milter/networks.hpp"

namespace yubin::milter {

inline constexpr std::size_t kMaxKeptBytes = 4u << 20;
inline constexpr std::size_t kMaxKeptBodyBytes = 2u << 20;
inline constexpr std::size_t kMaxForgedFields = 1000;
inline constexpr std::size_t kMaxLoggedRcpts = 20;
inline constexpr std::size_t kMaxCachedLookups = 32;

// What the milter applies to one recipient.
struct RecipientSettings {
    std::int64_t size_limit = 0;  // as Directory::size_limit
    bool filter = true;           // false: the recipient opted out of the filter
};

// What a session needs to know about users and domains. Implementations must
// be safe to call from several sessions (threads) at once.
class Directory {
public:
    virtual ~Directory() = default;
    // Is `domain` (lower case; may be an IP literal "[192.0.2.1]") ours?
    [[nodiscard]] virtual Result<bool> is_local_domain(std::string_view domain) = 0;
    // The message size limit in bytes of local@domain (0 = none): the
    // mailbox's, else its domain's, else the default; 0 for a foreign domain.
    [[nodiscard]] virtual Result<std::int64_t> size_limit(std::string_view local,
                                                          std::string_view domain) = 0;
    // May the SASL user `login` send as `sender` (an address without angle
    // brackets)? Its own address, or an alias that reaches it.
    [[nodiscard]] virtual Result<bool> owns_sender(std::string_view login,
                                                   std::string_view sender) = 0;
    // size_limit and the filter opt-out of local@domain in one lookup: the
    // mailbox's spam_filter, else its domain's, else on (also for a foreign
    // domain; an address that is no mailbox, an alias, takes its domain's).
    // The default asks size_limit and says "on".
    [[nodiscard]] virtual Result<RecipientSettings> recipient(std::string_view local,
                                                              std::string_view domain) {
        auto limit = size_limit(local, domain);
        if (!limit) return fail(limit.error());
        return RecipientSettings{*limit, true};
    }
};

enum class LoginMismatch { Off, Warn, Reject };

struct Settings {
    NetworkList trusted;
    std::int64_t max_message_size = 0;  // milter_max_message_size; 0 = none
    bool filter = true;
    bool filter_authenticated = false;
    bool allow_discard = false;
    bool count_body = true;
    LoginMismatch sender_login_mismatch = LoginMismatch::Off;
    std::shared_ptr<const rules::RuleSet> rules;  // null = no filtering

    // Whether Postfix must send the body at all.
    [[nodiscard]] bool wants_body() const;
};

struct Reply {
    enum class Kind { Continue, Reject, TempFail, Discard };
    Kind kind = Kind::Continue;
    std::string code;   // "554"
    std::string xcode;  // "5.7.1"
    std::string text;   // one line, no CR/LF

    [[nodiscard]] std::string to_string() const;  // "554 5.7.1 text" for logs
};

struct HeaderEdit {
    enum class Op { Delete, Add, Change };
    Op op = Op::Add;
    std::string name;
    int index = 0;  // Delete/Change: 1-based among fields of this name
    std::string value;
};

struct EomResult {
    Reply reply;
    std::vector<HeaderEdit> edits;  // in the order they must be applied
    std::string quarantine;         // non-empty: hold the message, this reason
};

[[nodiscard]] Reply temp_failure();

class Session {
public:
    Session(std::shared_ptr<const Settings> settings, std::shared_ptr<Directory> directory,
            log::Logger& log);

    // client_ip: empty when Postfix does not know it (non-SMTP mail: local).
    void connect(std::string_view client_name, std::string_view client_ip);
    // Postfix's queue id from the {i} macro; ignored when empty.
    void set_queue_id(std::string_view qid);
    // auth_login: {auth_authen}, empty if the client did not authenticate.
    Reply mail(std::string_view sender, std::span<const std::string_view> args,
               std::string_view auth_login);
    Reply rcpt(std::string_view rcpt, std::span<const std::string_view> args);
    void header(std::string_view name, std::string_view value);
    void body(std::string_view chunk);
    EomResult eom();
    // End of one message (ABORT or after EOM): forget the message state.
    void abort();
    // A stage that gets no reply failed: the message gets a tempfail at EOM.
    void fail_later(std::string_view why);

    [[nodiscard]] const Settings& settings() const { return *settings_; }

private:
    struct Forged {
        std::string name;  // as first seen
        int count = 0;
    };

    [[nodiscard]] std::string client() const;
    [[nodiscard]] std::string envelope() const;
    [[nodiscard]] bool keep_header(std::string_view name) const;
    Reply reject(std::string_view stage, std::string code, std::string xcode, std::string text,
                 std::string_view detail);
    Reply size_check(std::string_view stage, std::int64_t limit);
    // The directory's answers, cached for this connection (a client sending
    // several messages or recipients to one domain costs one lookup).
    Result<bool> is_local(std::string_view domain);
    Result<RecipientSettings> recipient(std::string_view local, std::string_view domain);
    void filter(EomResult& out);

    std::shared_ptr<const Settings> settings_;
    std::shared_ptr<Directory> dir_;
    log::Logger& log_;
    // Lower-case names of the header fields the rules read (computed once
    // per session, so 100,000 fields cost one hash lookup each).
    std::unordered_set<std::string> kept_names_;
    bool keep_mime_ = false;

    // connection
    std::string client_name_ = "unknown";
    std::string client_ip_ = "unknown";
    bool trusted_ = false;
    std::vector<std::pair<std::string, bool>> local_cache_;
    std::vector<std::pair<std::string, RecipientSettings>> limit_cache_;

    // message
    std::string qid_;
    std::string sender_;
    bool in_message_ = false;
    bool authenticated_ = false;
    std::int64_t declared_size_ = 0;
    std::int64_t limit_ = 0;  // smallest limit of sender and accepted recipients; 0 = none
    std::vector<std::string> rcpts_;
    std::size_t rcpt_count_ = 0;
    std::size_t filter_off_ = 0;  // accepted recipients that opted out of the filter
    std::string kept_;  // header fields (and body) the filter reads
    bool kept_truncated_ = false;
    bool in_body_ = false;
    std::string subject_;  // first Subject value, raw
    bool have_subject_ = false;
    std::vector<Forged> forged_;
    std::size_t forged_total_ = 0;
    std::uint64_t header_bytes_ = 0;
    std::uint64_t body_bytes_ = 0;
    std::string failed_;
};

}  // namespace yubin::milter
