// NAME
//      yubin-checkpassword - Dovecot checkpassword program over the yubin store
// SYNOPSIS
//      yubin-checkpassword [-c FILE] [-f] [-v] [--no-rehash] REPLY-PROGRAM [ARGS...]
// DESCRIPTION
//      The same password check as the yubin Dovecot auth module, for sites
//      that want no module: Dovecot 2.3's
//
//          passdb {
//            driver = checkpassword
//            args = /usr/sbin/yubin-checkpassword -c /etc/yubin/yubin.cf
//          }
//          userdb {
//            driver = checkpassword
//            args = /usr/sbin/yubin-checkpassword -c /etc/yubin/yubin.cf
//          }
//
//      Dovecot appends its checkpassword-reply as REPLY-PROGRAM and writes
//      "user\0password\0timestamp\0" on file descriptor 3. On success the
//      userdb fields (uid, gid, home, mail, quota_rule) are put into the
//      environment and REPLY-PROGRAM is executed. With AUTHORIZED=1 in the
//      environment it is a lookup without password (userdb, or with
//      CREDENTIALS_LOOKUP=1 the stored hash for CRAM-MD5). Dovecot 2.4 has
//      no checkpassword driver: use the module there.
// CONFIGURATION PARAMETERS
//      store, store_busy_timeout, password_scheme, virtual_uid, virtual_gid,
//      auth_home, auth_mail_location, syslog_name, syslog_facility.
// OPTIONS
//      -c FILE      yubin.cf (default /etc/yubin/yubin.cf)
//      -f           log to stderr (Dovecot copies it into its log) instead of syslog
//      -v           verbose
//      --no-rehash  never write an upgraded hash (the store is read only)
// EXIT STATUS
//      0 or 2 from REPLY-PROGRAM on success; 1 authentication failed
//      (unknown user, wrong password, disabled); 3 unknown user (lookups);
//      2 bad request or usage; 111 temporary failure (store unreachable,
//      configuration unreadable): Dovecot answers [UNAVAILABLE].
// SECURITY
//      Runs as the Dovecot auth process's user, one process per login. Reads
//      at most 512 bytes from fd 3 (see checkpassword.cpp); the password is
//      wiped before REPLY-PROGRAM is executed and never logged.
#include <syslog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/auth/service.hpp"
#include "core/config/config.hpp"
#include "core/daemon/options.hpp"
#include "core/log/logger.hpp"
#include "core/log/sink.hpp"
#include "dovecot-auth/checkpassword/checkpassword.hpp"

namespace cp = yubin::checkpassword;

namespace {

// fd 3 until EOF, at most kMaxRequestBytes + 1 bytes (one more tells
// parse_request that the request was too long).
yubin::Result<std::string> read_request() {
    std::string data(cp::kMaxRequestBytes + 1, '\0');
    std::size_t got = 0;
    while (got < data.size()) {
        ssize_t n = ::read(3, data.data() + got, data.size() - got);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            return yubin::fail(yubin::errno_error("read fd 3", errno));
        }
        got += static_cast<std::size_t>(n);
    }
    data.resize(got);
    return data;
}

int run(int argc, char** argv) {
    CLI::App app{"yubin-checkpassword: Dovecot checkpassword over the yubin store"};
    yubin::daemon::CommonOptions opts;
    yubin::daemon::add_common_options(app, opts);
    bool no_rehash = false;
    app.add_flag("--no-rehash", no_rehash, "never write upgraded password hashes");
    app.prefix_command();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return cp::kExitMisuse;
    }
    std::vector<std::string> reply = app.remaining();

    auto cfg = yubin::config::Config::load_file(opts.config_path);
    std::unique_ptr<yubin::log::Sink> sink;
    const std::string ident =
        (cfg ? cfg->get("syslog_name") : std::string("yubin")) + "-checkpassword";
    if (opts.log_stderr || !cfg)
        sink = std::make_unique<yubin::log::StderrSink>(ident);
    else
        sink = std::make_unique<yubin::log::SyslogSink>(
            ident, yubin::log::facility_from_name(cfg->get("syslog_facility")));
    yubin::log::Logger log(*sink, opts.verbose);
    if (!cfg) {
        log.error("{}", cfg.error().what);
        return cp::kExitTempFail;  // Dovecot: internal failure, not "wrong password"
    }
    if (reply.empty()) {
        log.error("usage: no reply program (Dovecot appends checkpassword-reply)");
        return cp::kExitMisuse;
    }
    auto svc = yubin::auth::Service::create(*cfg, {.rehash = !no_rehash});
    if (!svc) {
        log.error("{}: {}", opts.config_path, svc.error().what);
        return cp::kExitTempFail;
    }

    auto data = read_request();
    if (!data) {
        log.error("{}", data.error().what);
        return cp::kExitTempFail;
    }
    auto request = cp::parse_request(std::move(*data));
    if (!request) {
        log.warning("bad request: {}", request.error().what);
        return cp::kExitMisuse;
    }
    const cp::Mode mode =
        cp::mode_from_env(std::getenv("AUTHORIZED"), std::getenv("CREDENTIALS_LOOKUP"));
    const cp::Answer a = cp::answer(*svc, mode, *request);
    if (!a.log.empty()) {
        if (a.error)
            log.error("user={}: {}", request->user, a.log);
        else
            log.info("user={}: {}", request->user, a.log);
    }
    if (!a.exec_reply) return a.exit_code;

    for (const auto& [name, value] : a.env)
        if (::setenv(name.c_str(), value.c_str(), 1) != 0) {
            log.error("setenv {}: out of memory", name);
            return cp::kExitTempFail;
        }
    request->password = yubin::passwd::Secret();  // wiped before exec
    std::vector<char*> args;
    for (auto& s : reply) args.push_back(s.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    log.error("exec {}: {}", reply[0], std::strerror(errno));
    return cp::kExitTempFail;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (...) {
        return cp::kExitTempFail;
    }
}
