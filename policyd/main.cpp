// NAME
//      yubin-policyd - Postfix SMTP access policy server: rate limits,
//      recipient limits, sender/login match, recipient quota, greylisting
// SYNOPSIS
//      yubin-policyd [-c FILE] [-f] [-v]
// DESCRIPTION
//      Speaks Postfix's policy delegation protocol (SMTPD_POLICY_README) on
//      policyd_listen, for
//
//          smtpd_recipient_restrictions = ... reject_unauth_destination
//              check_policy_service inet:127.0.0.1:10031
//          smtpd_end_of_data_restrictions =
//              check_policy_service inet:127.0.0.1:10031
//
//      and answers each request with DUNNO or a restricting access(5) action
//      (never OK). Rate limits are counted once per message at
//      END-OF-MESSAGE, so it must be listed in smtpd_end_of_data_restrictions
//      for them to count. Runs in the foreground (under systemd or a
//      supervisor); one process, one thread, persistent connections.
//
//      SIGTERM/SIGINT stop it (open connections are closed; Postfix
//      reconnects). SIGHUP re-reads yubin.cf and applies the new policies if
//      the whole file is valid; counters are kept unless policyd_state
//      changed. policyd_listen and policyd_user take effect on restart.
// CONFIGURATION PARAMETERS
//      policyd_* (see README.md or yubinctl config), store,
//      store_busy_timeout, recipient_delimiter, virtual_mailbox_base,
//      default_quota, syslog_name, syslog_facility.
// EXIT STATUS
//      0 after SIGTERM; 75 when it cannot start for a reason that may pass
//      (socket busy, resources); 78 configuration error; 64 usage.
// SECURITY
//      Starts as root only to bind the socket, then runs as policyd_user.
//      Requests are untrusted: see policyd/request.hpp and server.hpp for
//      the bounds. The store is opened read-only.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "core/config/config.hpp"
#include "core/daemon/listen.hpp"
#include "core/daemon/options.hpp"
#include "core/daemon/privileges.hpp"
#include "core/daemon/signals.hpp"
#include "core/log/logger.hpp"
#include "core/log/sink.hpp"
#include "policyd/app.hpp"

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitTemp = 75;
constexpr int kExitConfig = 78;

int exit_code(yubin::ErrorKind k) {
    return k == yubin::ErrorKind::Config ? kExitConfig : kExitTemp;
}

}  // namespace

int main(int argc, char** argv) try {
    using namespace yubin;
    CLI::App app{"yubin-policyd: Postfix SMTP access policy server"};
    daemon::CommonOptions opts;
    daemon::add_common_options(app, opts);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : kExitUsage;
    }

    // Until the config names the syslog ident, errors go to stderr.
    log::StderrSink early_sink("yubin-policyd");
    log::Logger early(early_sink, opts.verbose);
    auto cfg = config::Config::load_file(opts.config_path);
    if (!cfg) {
        early.fatal("{}", cfg.error().what);
        return kExitConfig;
    }
    std::unique_ptr<log::Sink> sink;
    std::string ident = cfg->get("syslog_name") + "-policyd";
    if (opts.log_stderr)
        sink = std::make_unique<log::StderrSink>(ident);
    else
        sink = std::make_unique<log::SyslogSink>(
            ident, log::facility_from_name(cfg->get("syslog_facility")));
    log::Logger log(*sink, opts.verbose);

    auto signals = daemon::Signals::install();
    if (!signals) {
        log.fatal("{}", signals.error().what);
        return kExitTemp;
    }
    auto daemon = policyd::App::create(*cfg, opts.config_path, log);
    if (!daemon) {
        log.fatal("{}", daemon.error().what);
        return exit_code(daemon.error().kind);
    }
    auto st = (*daemon)->run(*signals);
    if (!st) {
        log.fatal("{}", st.error().what);
        return exit_code(st.error().kind);
    }
    return 0;
} catch (const std::exception& e) {
    yubin::log::StderrSink sink("yubin-policyd");
    yubin::log::Logger log(sink);
    log.fatal("{}", e.what());
    return kExitTemp;
}
