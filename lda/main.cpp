// NAME
//      yubin-lda - Maildir delivery agent for Postfix
// SYNOPSIS
//      yubin-lda [-c FILE] [-a EXTENSION] [-f SENDER] [-q QUEUE_ID] [-L] [-v]
//      yubin-lda [-c FILE] -d RECIPIENT [-f SENDER] [-q QUEUE_ID] [-L] [-v]
//      yubin-lda [-c FILE] --lmtp [-L] [-v]
// DESCRIPTION
//      Reads one message on standard input and delivers it into a Maildir,
//      the way the Maildir specification demands (unique name in tmp/, fsync,
//      rename into new/, fsync new/), so that no reader ever sees a partial
//      message and nothing acknowledged is lost in a crash.
//
//      Without -d it is Postfix's mailbox_command for local users, run by
//      local(8) as the recipient:
//          mailbox_command = /usr/lib/yubin/yubin-lda -a "$EXTENSION"
//      It delivers into $HOME/Maildir/ (lda_mailbox), reading HOME, USER,
//      SENDER, RECIPIENT and EXTENSION from the environment local(8) sets.
//
//      With -d it serves virtual domains as a pipe(8) transport, run as the
//      virtual mail user:
//          yubin unix - n n - - pipe flags=DRhu user=vmail
//            argv=/usr/lib/yubin/yubin-lda -f ${sender} -d ${recipient} -q ${queue_id}
//      The recipient is looked up in the store (extension rules as Postfix's
//      virtual_mailbox_maps) and delivered into
//      virtual_mailbox_base/<domain>/<user>/Maildir/, created on first use.
//
//      With --lmtp it is an LMTP server (RFC 2033) on lda_lmtp_listen for
//      Postfix's lmtp(8) client:
//          virtual_transport = lmtp:unix:/var/spool/postfix/private/yubin-lmtp
//      Recipients are looked up at RCPT (unknown: 550 5.1.1); after DATA one
//      reply per recipient. A message for several recipients is written once
//      and hard-linked into each Maildir (then without Delivered-To, as the
//      copies are one file). Started as root it binds the socket and becomes
//      lda_lmtp_user; SIGTERM stops it after deliveries in progress. SIGHUP
//      re-reads yubin.cf and the rules file for the connections that follow,
//      and keeps the running ones if either fails to load (logged).
//
//      In all modes: a leading "From " line is removed; Return-Path and
//      Delivered-To are added unless Postfix already added them (flags DR);
//      a message that already carries Delivered-To for this recipient is a
//      mail loop (5.4.6); the filter rules (lda_rules_file, default the
//      shipped 未承諾広告 rule) may reject (5.7.1), discard (logged), file
//      into lda_junk_folder (created and subscribed), or tag; user+folder
//      goes into the Maildir++ folder ".folder" when it exists; the Maildir++
//      quota in maildirsize is checked and kept up to date.
//
//      In command mode the message is not held in memory: once its header
//      has been read (and judged: loop, filter rules, added fields, folder),
//      the rest goes straight into the file in tmp/ (splice(2) from Postfix's
//      pipe), and the quota is checked on the final size before the rename
//      into new/. Only a rules file with body rules, or a header that does
//      not end within 256 KB, makes it read the whole message first.
//
//      -f is the envelope sender, as in sendmail, procmail, maildrop and
//      dovecot-lda (so this program does not take the daemons' -f for
//      "log to stderr": that is -L here).
// OPTIONS
//      -c FILE       configuration file (default /etc/yubin/yubin.cf; when
//                    not given and the default is missing, built-in defaults)
//      -d RECIPIENT  virtual delivery to this address (pipe mode)
//      -f SENDER     envelope sender (default $SENDER, empty for bounces)
//      -a EXTENSION  address extension (default $EXTENSION)
//      -q QUEUE_ID   Postfix queue id for the log line (default $QUEUE_ID)
//      -L            log to standard error instead of syslog
//      -v            verbose logging
//      --lmtp        run as the LMTP daemon
// CONFIGURATION PARAMETERS
//      lda_mailbox, lda_junk_folder, lda_folder_from_extension, lda_filter,
//      lda_rules_file, lda_quota_full_action, lda_message_size_limit,
//      lda_lmtp_listen, lda_lmtp_user, lda_lmtp_max_connections,
//      lda_lmtp_timeout, store, store_busy_timeout, recipient_delimiter, virtual_mailbox_base,
//      default_quota, syslog_facility, syslog_name.
// EXIT STATUS
//      0 delivered (or discarded by a rule); 67 unknown user (5.1.1); 77
//      refused by a rule (5.7.1) or mailbox full with
//      lda_quota_full_action = bounce (5.2.2); 65 message too big (5.3.4);
//      69 other permanent failures (mail loop 5.4.6, disabled mailbox 5.2.1);
//      75 everything else: disk full, I/O error, store unavailable, bad
//      configuration, running as root, any unexpected error. Postfix bounces
//      on most other codes, so when in doubt this program says 75. A failure
//      prints "<enhanced status code> <text>" on standard output, which
//      Postfix puts in the bounce or defer reason. --lmtp: 0 after SIGTERM,
//      75 when it cannot start.
// SECURITY
//      Refuses to run as root (euid 0): local(8) runs it as the recipient,
//      pipe(8) as user=vmail; --lmtp started as root drops to lda_lmtp_user
//      (setgid, initgroups, setuid, checked) before it reads any input. umask 077; every file is created with
//      O_EXCL|O_NOFOLLOW through directory descriptors. The message is read
//      with a size bound and parsed with the bounds of core/mime.
#include <getopt.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/config/config.hpp"
#include "core/daemon/listen.hpp"
#include "core/daemon/privileges.hpp"
#include "core/daemon/signals.hpp"
#include "core/log/logger.hpp"
#include "core/log/sink.hpp"
#include "core/maildir/maildir_writer.hpp"
#include "core/store/store.hpp"
#include "core/util/strings.hpp"
#include "lda/delivery.hpp"
#include "lda/input.hpp"
#include "lda/lmtp_backend.hpp"
#include "lda/lmtp_server.hpp"
#include "lda/mailbox.hpp"
#include "lda/outcome.hpp"

namespace {

using namespace yubin;

constexpr int kExTempFail = 75;
// Command mode reads this much at most before it decides whether to stream
// the rest into the file: a header that does not end within it (rare; a
// hostile one) makes it read the whole message first, as a body rule does.
constexpr std::size_t kHeadBytes = 256 * 1024;

struct Options {
    std::string config_path;
    std::optional<std::string> sender, recipient, extension, queue_id;
    bool log_stderr = false;
    bool verbose = false;
    bool lmtp = false;
};

std::string env_or(const char* name, std::string_view fallback = "") {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string(fallback);
}

// The answer Postfix reads: "<dsn> <text>" on stdout for a failure.
int answer(const lda::Outcome& o) {
    if (!o.ok()) std::printf("%s %s\n", o.dsn.c_str(), sanitize_for_log(o.text, 400).c_str());
    std::fflush(stdout);
    return lda::exit_status(o);
}

int early_failure(const std::string& text) {
    std::printf("4.3.0 yubin-lda: %s\n", sanitize_for_log(text, 400).c_str());
    std::fflush(stdout);
    return kExTempFail;
}

std::optional<Options> parse_options(int argc, char** argv, std::string& error) {
    Options o;
    static const option longopts[] = {{"help", no_argument, nullptr, 'h'},
                                      {"lmtp", no_argument, nullptr, 'l'},
                                      {nullptr, 0, nullptr, 0}};
    ::opterr = 0;
    int c;
    // "+": stop at the first non-option, never permute (addresses are data).
    while ((c = ::getopt_long(argc, argv, "+c:d:f:a:q:Lv", longopts, nullptr)) != -1) {
        switch (c) {
            case 'c': o.config_path = ::optarg; break;
            case 'd': o.recipient = ::optarg; break;
            case 'f': o.sender = ::optarg; break;
            case 'a': o.extension = ::optarg; break;
            case 'q': o.queue_id = ::optarg; break;
            case 'L': o.log_stderr = true; break;
            case 'v': o.verbose = true; break;
            case 'l': o.lmtp = true; break;
            default:
                error = "usage: yubin-lda [-c FILE] [-d RECIPIENT] [-f SENDER] [-a EXT] [-q QID] "
                        "[-L] [-v] | --lmtp";
                return std::nullopt;
        }
    }
    if (::optind != argc) {
        error = "unexpected argument: " + std::string(argv[::optind]);
        return std::nullopt;
    }
    return o;
}

Result<config::Config> load_config(const Options& o) {
    if (!o.config_path.empty()) return config::Config::load_file(o.config_path);
    struct stat st{};
    if (::stat(std::string(config::kDefaultPath).c_str(), &st) == 0)
        return config::Config::load_file(std::string(config::kDefaultPath));
    return config::Config::defaults();
}

std::string host_name() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) return "localhost";
    return host;
}

store::StoreOptions store_options(const config::Config& cfg) {
    store::StoreOptions so;
    so.read_only = true;
    so.recipient_delimiter = cfg.get("recipient_delimiter");
    so.busy_timeout = std::chrono::seconds(cfg.get_int("store_busy_timeout"));
    return so;
}

// The configuration the LMTP daemon hands to new connections; SIGHUP
// replaces it when the file and the rules it names load, else keeps it.
class SnapshotHolder {
public:
    explicit SnapshotHolder(std::shared_ptr<const lda::Snapshot> s) : current_(std::move(s)) {}
    std::shared_ptr<const lda::Snapshot> get() const {
        std::lock_guard lock(mu_);
        return current_;
    }
    void set(std::shared_ptr<const lda::Snapshot> s) {
        std::lock_guard lock(mu_);
        current_ = std::move(s);
    }

private:
    mutable std::mutex mu_;
    std::shared_ptr<const lda::Snapshot> current_;
};

void reload(const Options& opts, SnapshotHolder& holder, log::Logger& log) {
    auto cfg = load_config(opts);
    if (!cfg) {
        log.error("reload failed, keeping the running configuration: {}", cfg.error().what);
        return;
    }
    auto settings = lda::Settings::from_config(*cfg);
    if (!settings) {
        log.error("reload failed, keeping the running configuration: {}", settings.error().what);
        return;
    }
    holder.set(std::make_shared<const lda::Snapshot>(
        lda::Snapshot{std::move(*cfg), std::move(*settings)}));
    log.info("reloaded {}", opts.config_path.empty() ? "the configuration" : opts.config_path);
}

int run_lmtp(const Options& opts, const config::Config& cfg, lda::Settings settings,
             log::Logger& log) {
    auto listen = daemon::parse_listen(cfg.get("lda_lmtp_listen"));
    if (cfg.get("lda_lmtp_listen").empty() || !listen) {
        log.fatal("lda_lmtp_listen: {}", listen ? "not set" : listen.error().what);
        return kExTempFail;
    }
    auto signals = daemon::Signals::install();  // before any thread
    if (!signals) {
        log.fatal("{}", signals.error().what);
        return kExTempFail;
    }
    daemon::ListenOptions lo;
    lo.unix_mode = 0666;
    auto fd = daemon::listen_on(*listen, lo);
    if (!fd) {
        log.fatal("{}", fd.error().what);
        return kExTempFail;
    }
    if (::geteuid() == 0) {
        auto user = cfg.get("lda_lmtp_user");
        if (user.empty()) {
            log.fatal("refusing to run as root: set lda_lmtp_user");
            return kExTempFail;
        }
        if (auto st = daemon::drop_privileges(user); !st) {
            log.fatal("{}", st.error().what);
            return kExTempFail;
        }
    }
    // Listening address, user, limits and timeouts are read once; a reload
    // changes the rules, the store and the delivery settings.
    lda::LmtpServerOptions so;
    so.hostname = host_name();
    so.limits.max_message_bytes = static_cast<std::size_t>(cfg.get_int("lda_message_size_limit"));
    so.timeout = std::chrono::seconds(cfg.get_int("lda_lmtp_timeout"));
    so.max_connections = static_cast<std::size_t>(cfg.get_int("lda_lmtp_max_connections"));
    SnapshotHolder holder(
        std::make_shared<const lda::Snapshot>(lda::Snapshot{cfg, std::move(settings)}));
    // One fsync of a new/ serves every connection that renamed into it
    // before the fsync began (maildir/dir_sync.hpp).
    maildir::DirSync dir_sync;
    auto factory = [&]() -> std::unique_ptr<lda::LmtpBackend> {
        // The thread id: unique among live threads and processes, as the
        // Maildir name's P<pid> field must be.
        auto tid = static_cast<pid_t>(::gettid());
        auto backend = std::make_unique<lda::StoreBackend>(
            [&holder] { return holder.get(); },
            [](const config::Config& c) { return store::open_store(c.get("store"), store_options(c)); },
            maildir::UniqueNamer(so.hostname, tid), log, &dir_sync);
        if (auto st = backend->refresh(); !st) {
            log.error("store: {}", st.error().what);
            return nullptr;
        }
        return backend;
    };
    log.info("lmtp: listening on {}", listen->to_string());
    auto st = lda::serve_lmtp(fd->get(), *signals, so, factory, log,
                              [&] { reload(opts, holder, log); });
    if (!st) {
        log.fatal("{}", st.error().what);
        return kExTempFail;
    }
    log.info("lmtp: stopped");
    return 0;
}

int run(int argc, char** argv) {
    ::umask(077);
    std::string usage_error;
    auto opts = parse_options(argc, argv, usage_error);
    if (!opts) return early_failure(usage_error);
    if (::geteuid() == 0 && !opts->lmtp) return early_failure("refusing to run as root");

    auto cfg = load_config(*opts);
    if (!cfg) return early_failure(cfg.error().what);

    std::string ident = cfg->get("syslog_name") + "-lda";
    std::unique_ptr<log::Sink> sink;
    if (opts->log_stderr) {
        sink = std::make_unique<log::StderrSink>(ident);
    } else {
        int facility = log::facility_from_name(cfg->get("syslog_facility"));
        sink = std::make_unique<log::SyslogSink>(ident, facility < 0 ? LOG_MAIL : facility);
    }
    log::Logger log(*sink, opts->verbose);

    auto settings = lda::Settings::from_config(*cfg);
    if (!settings) {
        log.fatal("{}", settings.error().what);
        return early_failure(settings.error().what);
    }

    if (opts->lmtp) return run_lmtp(*opts, *cfg, std::move(*settings), log);

    lda::Envelope env;
    env.sender = opts->sender ? *opts->sender : env_or("SENDER");
    env.queue_id = opts->queue_id ? *opts->queue_id : env_or("QUEUE_ID");

    // The header first; the rest is copied into the file as it arrives
    // (below), or read whole when a body rule needs it.
    lda::MessageReader reader(STDIN_FILENO,
                              static_cast<std::size_t>(cfg->get_int("lda_message_size_limit")));
    auto read_failed = [&](const Error& e) {
        lda::Outcome o = e.kind == ErrorKind::Perm ? lda::perm_failure("5.3.4", e.what)
                                                   : lda::temp_failure("4.3.0", e.what);
        log.info("{}to=<{}>, from=<{}>, dsn={}, status={} ({})", log::queue_prefix(env.queue_id),
                 opts->recipient.value_or(env_or("RECIPIENT")), env.sender, o.dsn,
                 o.temporary() ? "deferred" : "bounced", o.text);
        return answer(o);
    };
    if (auto st = reader.read_head(kHeadBytes); !st) return read_failed(st.error());

    lda::Mailbox mbox;
    if (opts->recipient) {
        env.recipient = *opts->recipient;
        auto st = store::open_store(cfg->get("store"), store_options(*cfg));
        if (!st) {
            log.error("{}store: {}", log::queue_prefix(env.queue_id), st.error().what);
            return answer(lda::temp_failure("4.3.0", "user store unavailable"));
        }
        auto m = lda::virtual_mailbox(**st, *cfg, env.recipient);
        if (!m) {
            auto o = lda::lookup_failure(m.error(), env.recipient);
            log.info("{}to=<{}>, from=<{}>, dsn={}, status={} ({})",
                     log::queue_prefix(env.queue_id), env.recipient, env.sender, o.dsn,
                     o.temporary() ? "deferred" : "bounced", o.text);
            return answer(o);
        }
        mbox = std::move(*m);
    } else {
        std::string user = env_or("USER", env_or("LOGNAME"));
        env.recipient = env_or("RECIPIENT", user);
        auto m = lda::local_mailbox(*cfg, env_or("HOME"),
                                    opts->extension ? *opts->extension : env_or("EXTENSION"));
        if (!m) {
            log.error("{}{}", log::queue_prefix(env.queue_id), m.error().what);
            return answer(lda::temp_failure("4.3.0", m.error().what));
        }
        mbox = std::move(*m);
    }

    maildir::MaildirWriter writer(maildir::UniqueNamer(host_name(), ::getpid()));
    lda::Deliverer deliverer(*settings, writer, log);
    const bool body_rules = settings->rules && mbox.filter && settings->rules->needs_body();
    if (!reader.eof() && reader.header_complete() && !body_rules) {
        maildir::StreamTail tail{.fd = reader.fd(), .counted = reader.view().size(),
                                 .limit = reader.limit()};
        return answer(deliverer.deliver_stream(env, mbox, reader.view(), tail));
    }
    if (auto st = reader.read_rest(); !st) return read_failed(st.error());
    return answer(deliverer.deliver(env, mbox, reader.view()));
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        return early_failure(std::string("internal error: ") + e.what());
    } catch (...) {
        return early_failure("internal error");
    }
}
