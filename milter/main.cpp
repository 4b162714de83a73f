// NAME
//      yubin-milter - relay checks, size limits and the 未承諾広告 filter in
//      Postfix's SMTP dialogue
// SYNOPSIS
//      yubin-milter [-c FILE] [-f] [-v]
// DESCRIPTION
//      A libmilter daemon for Postfix's smtpd_milters (and non_smtpd_milters).
//      For every recipient it decides whether the client may send there: a
//      recipient in a local domain (the store's domains and
//      milter_local_domains) is accepted from anybody; any other only from a
//      SASL-authenticated client or one in milter_trusted_networks, else
//      "554 5.7.1 Relay access denied". The address is judged as Postfix
//      would route it: source routes, the percent hack, bang paths, quoted or
//      escaped '@' in the local part are relaying (see milter/relay.hpp), so
//      even an open Postfix (mynetworks = 0.0.0.0/0) relays nothing.
//
//      Size limits: the mailbox's, its domain's, default_max_message_size
//      and milter_max_message_size. SIZE= is checked at MAIL against the
//      sender's limit and at RCPT against each recipient's ("552 5.3.4");
//      the real size is counted as the body streams and checked at end of
//      message against the smallest limit of the accepted recipients.
//
//      The filter runs the rules (milter_rules_file, default: reject
//      未承諾広告 in the Subject) with the actions reject (550 5.7.1),
//      tag (X-Yubin-Spam: yes, X-Yubin-Rule, Subject prefix), junk
//      (X-Yubin-Spam: junk, for the LDA's Junk folder), quarantine (Postfix
//      hold queue) and discard (only with milter_allow_discard). X-Yubin-*
//      fields that arrive with a message are always removed.
//
//      SIGHUP re-reads yubin.cf and the rules and swaps them in for new
//      connections if they are valid; SIGTERM stops within a second.
//      Anything that cannot be decided (store down, internal error) is
//      answered "451 4.3.0"; use milter_default_action = tempfail in Postfix.
// CONFIGURATION PARAMETERS
//      milter_listen, milter_local_domains, milter_trusted_networks,
//      milter_max_message_size, milter_count_body, milter_filter,
//      milter_filter_authenticated, milter_rules_file, milter_allow_discard,
//      milter_sender_login_mismatch,
//      milter_socket_group, milter_user; store, store_busy_timeout,
//      recipient_delimiter, default_max_message_size, syslog_facility,
//      syslog_name.
// EXIT STATUS
//      0 after SIGTERM/SIGINT; 75 cannot listen or libmilter failed;
//      78 configuration error.
// SECURITY
//      Started as root only to create its socket, then runs as milter_user.
//      Every callback is guarded: no exception reaches libmilter. Peer input
//      bounds: see milter/session.hpp and milter/relay.hpp.
#include <syslog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "core/config/config.hpp"
#include "core/daemon/options.hpp"
#include "core/log/logger.hpp"
#include "core/log/sink.hpp"
#include "milter/glue.hpp"
#include "milter/server.hpp"

int main(int argc, char** argv) {
    using namespace yubin;
    CLI::App app{"yubin-milter: relay checks, size limits and filter for Postfix"};
    daemon::CommonOptions opts;
    daemon::add_common_options(app, opts);
    CLI11_PARSE(app, argc, argv);

    auto cfg = config::Config::load_file(opts.config_path);
    if (!cfg && opts.config_path == daemon::kDefaultConfigPath &&
        ::access(opts.config_path.c_str(), F_OK) != 0)
        cfg = config::Config::defaults();
    if (!cfg) {
        std::fprintf(stderr, "yubin-milter: fatal: %s\n", cfg.error().what.c_str());
        return 78;
    }
    const std::string ident = cfg->get("syslog_name") + "-milter";
    std::unique_ptr<log::Sink> sink;
    if (opts.log_stderr)
        sink = std::make_unique<log::StderrSink>(ident);
    else
        sink = std::make_unique<log::SyslogSink>(
            ident, log::facility_from_name(cfg->get("syslog_facility")));
    log::Logger log(*sink, opts.verbose);

    auto snap = milter::load_snapshot(*cfg);
    if (!snap) {
        log.fatal("{}", snap.error().what);
        return is_temporary(snap.error().kind) ? 75 : 78;
    }
    milter::Server server(log, std::move(*snap));
    milter::RunOptions run{.listen = cfg->get_listen("milter_listen"),
                           .socket_group = cfg->get("milter_socket_group"),
                           .user = cfg->get("milter_user"),
                           .config_path = opts.config_path};
    const int status = milter::run(server, run);
    // libmilter's session threads may still be running (Postfix treats their
    // connections per milter_default_action): leave without destructors.
    std::fflush(nullptr);
    ::_exit(status);
}
