// NAME
//      yubin-authd - Postfix socketmap tables and saslauthd server over the yubin store
// SYNOPSIS
//      yubin-authd [-c FILE] [-f] [-v]
// DESCRIPTION
//      Serves the user store to Postfix, live, so that a user added with
//      yubinctl is known at once, without postmap or reload:
//
//      - socketmap tables (socketmap_table(5)) on authd_socketmap_listen:
//        "domain" (virtual_mailbox_domains), "mailbox" (virtual_mailbox_maps),
//        "alias" (virtual_alias_maps) and "sender_login"
//        (smtpd_sender_login_maps), e.g.
//            virtual_mailbox_maps = socketmap:unix:/var/spool/postfix/private/yubin-authd:mailbox
//      - the saslauthd protocol on authd_saslauthd_listen, for Postfix built
//        with Cyrus SASL (pwcheck_method: saslauthd in smtpd.conf).
//
//      A store that cannot be read gives TEMP (Postfix defers the mail, 4xx)
//      and is reopened, at most once a second, until it can be read again.
//      SIGHUP re-reads yubin.cf (store, recipient_delimiter) and reopens the
//      store if the file parses; the listen addresses and limits need a
//      restart. SIGTERM stops at once.
//
//      -c FILE   configuration (default /etc/yubin/yubin.cf; if that default
//                file does not exist, every parameter has its default value)
//      -f        log to standard error instead of syslog
//      -v        also log every lookup (debug)
// CONFIGURATION PARAMETERS
//      authd_socketmap_listen, authd_saslauthd_listen, authd_socket_group,
//      authd_user, authd_idle_timeout, authd_request_timeout,
//      authd_max_connections, authd_socketmap_max_request,
//      authd_socketmap_threads, authd_socketmap_cache_size, authd_auth_workers,
//      store, store_busy_timeout, recipient_delimiter, password_scheme,
//      syslog_name, syslog_facility.
// EXIT STATUS
//      0 stopped by SIGTERM/SIGINT; 64 usage error; 71 a socket could not be
//      created or privileges not dropped; 78 configuration error.
// SECURITY
//      Started as root only to create its sockets (mode 0660, group
//      authd_socket_group), then runs as authd_user for good. Opens the store
//      read-only and never writes it. Every request is bounded (netstrings by
//      authd_socketmap_max_request, saslauthd fields by 1024 bytes) and timed
//      (authd_request_timeout); passwords are wiped after use and never
//      logged.
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <optional>

#include "core/config/config.hpp"
#include "core/daemon/listen.hpp"
#include "core/daemon/options.hpp"
#include "core/daemon/privileges.hpp"
#include "core/daemon/signals.hpp"
#include "core/log/logger.hpp"
#include "core/log/sink.hpp"
#include "core/store/store.hpp"
#include "dovecot-auth/authd/server.hpp"

namespace {

using namespace yubin;

constexpr int kExitUsage = 64;
constexpr int kExitOsErr = 71;
constexpr int kExitConfig = 78;

Result<config::Config> load_config(const std::string& path) {
    if (path == daemon::kDefaultConfigPath && !std::filesystem::exists(path))
        return config::Config::defaults();
    return config::Config::load_file(path);
}

// The store read-only, and for a SQLite file its device and inode, so that a
// file restored by renaming a copy into place is noticed (see StoreSource).
authd::StoreFactory store_factory(const config::Config& cfg) {
    store::StoreOptions opts;
    opts.recipient_delimiter = cfg.get("recipient_delimiter");
    opts.busy_timeout = std::chrono::seconds(cfg.get_int("store_busy_timeout"));
    opts.read_only = true;
    authd::StoreFactory f;
    const std::string spec = cfg.get("store");
    f.open = [spec, opts] { return store::open_store(spec, opts); };
    constexpr std::string_view kSqlite = "sqlite:";
    if (spec.starts_with(kSqlite)) {
        f.identity = [path = spec.substr(kSqlite.size())] {
            struct stat st {};
            if (::stat(path.c_str(), &st) != 0) return std::string("-");
            return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
        };
    }
    return f;
}

std::optional<daemon::ListenSpec> listen_spec(const config::Config& cfg, std::string_view name) {
    auto a = cfg.get_listen(name);
    if (a.kind == config::ListenAddress::Kind::Disabled) return std::nullopt;
    daemon::ListenSpec s;
    if (a.kind == config::ListenAddress::Kind::Unix) {
        s.kind = daemon::ListenSpec::Kind::Unix;
        s.path = a.path;
    } else {
        s.kind = daemon::ListenSpec::Kind::Inet;
        s.host = a.host;
        s.port = a.port;
    }
    return s;
}

int family_of(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return AF_UNIX;
    return ss.ss_family;
}

// Enough descriptors for authd_max_connections plus the stores and sockets.
void raise_fd_limit(std::size_t connections, log::Logger& log) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    rlim_t want = static_cast<rlim_t>(connections) + 64;
    if (rl.rlim_cur >= want) return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        log.warning("open file limit {} is below authd_max_connections + 64 = {}",
                    static_cast<unsigned long long>(rl.rlim_max),
                    static_cast<unsigned long long>(want));
        want = rl.rlim_max;
    }
    rl.rlim_cur = want;
    (void)::setrlimit(RLIMIT_NOFILE, &rl);
}

int run(const daemon::CommonOptions& opts) {
    auto cfg = load_config(opts.config_path);
    std::unique_ptr<log::Sink> sink;
    const std::string ident = (cfg ? cfg->get("syslog_name") : std::string("yubin")) + "-authd";
    if (opts.log_stderr)
        sink = std::make_unique<log::StderrSink>(ident);
    else
        sink = std::make_unique<log::SyslogSink>(
            ident, cfg ? log::facility_from_name(cfg->get("syslog_facility")) : LOG_MAIL);
    log::Logger log(*sink, opts.verbose);
    if (!cfg) {
        log.fatal("{}", cfg.error().what);
        return kExitConfig;
    }

    auto signals = daemon::Signals::install();
    if (!signals) {
        log.fatal("{}", signals.error().what);
        return kExitOsErr;
    }

    auto socketmap_at = listen_spec(*cfg, "authd_socketmap_listen");
    auto saslauthd_at = listen_spec(*cfg, "authd_saslauthd_listen");
    if (!socketmap_at && !saslauthd_at) {
        log.fatal("{}: authd_socketmap_listen and authd_saslauthd_listen are both empty",
                  opts.config_path);
        return kExitConfig;
    }
    daemon::ListenOptions lopts;
    lopts.backlog = 4096;  // the kernel caps it at net.core.somaxconn
    lopts.unix_mode = 0660;
    lopts.unix_group = cfg->get("authd_socket_group");

    authd::ServerLimits limits;
    limits.socketmap_max_request =
        static_cast<std::size_t>(cfg->get_int("authd_socketmap_max_request"));
    limits.idle_timeout = std::chrono::seconds(cfg->get_int("authd_idle_timeout"));
    limits.request_timeout = std::chrono::seconds(cfg->get_int("authd_request_timeout"));
    limits.max_connections = static_cast<std::size_t>(cfg->get_int("authd_max_connections"));
    limits.auth_workers = static_cast<std::size_t>(cfg->get_int("authd_auth_workers"));
    limits.socketmap_threads = static_cast<std::size_t>(cfg->get_int("authd_socketmap_threads"));
    limits.socketmap_cache = static_cast<std::size_t>(cfg->get_int("authd_socketmap_cache_size"));
    raise_fd_limit(limits.max_connections, log);

    UniqueFd socketmap_fd, saslauthd_fd;
    for (auto [spec, fd] :
         {std::pair{&socketmap_at, &socketmap_fd}, std::pair{&saslauthd_at, &saslauthd_fd}}) {
        if (!*spec) continue;
        auto l = daemon::listen_on(**spec, lopts);
        if (!l) {
            log.fatal("listen on {}: {}", (*spec)->to_string(), l.error().what);
            return l.error().kind == ErrorKind::Config ? kExitConfig : kExitOsErr;
        }
        *fd = std::move(*l);
    }

    if (::geteuid() == 0 || !cfg->get("authd_user").empty()) {
        if (auto st = daemon::drop_privileges(cfg->get("authd_user")); !st) {
            log.fatal("{}", st.error().what);
            return st.error().kind == ErrorKind::Config ? kExitConfig : kExitOsErr;
        }
    }

    if (auto s = store_factory(*cfg).open(); !s)
        log.warning("store not available yet, answering TEMP until it is: {}", s.error().what);

    const std::string scheme = cfg->get("password_scheme");
    authd::Server server(log, limits, store_factory(*cfg), cfg->get("recipient_delimiter"),
                         [scheme](authd::StoreSource& src, const authd::SaslauthdRequest& req) {
                             return authd::verify_with_store(src, req, scheme);
                         });
    if (socketmap_fd) {
        const int family = family_of(socketmap_fd.get());
        server.add_socketmap_listener(std::move(socketmap_fd), family);
    }
    if (saslauthd_fd) {
        const int family = family_of(saslauthd_fd.get());
        server.add_saslauthd_listener(std::move(saslauthd_fd), family);
    }

    auto reload = [&] {
        auto fresh = load_config(opts.config_path);
        if (!fresh) {
            log.error("reload: {}; keeping the running configuration", fresh.error().what);
            return;
        }
        server.reconfigure(store_factory(*fresh), fresh->get("recipient_delimiter"));
        log.info("reloaded {}", opts.config_path);
    };

    log.info("started: socketmap {}, saslauthd {}",
             socketmap_at ? socketmap_at->to_string() : std::string("off"),
             saslauthd_at ? saslauthd_at->to_string() : std::string("off"));
    server.run(&*signals, reload);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"yubin-authd: Postfix socketmap tables and saslauthd server over the yubin store"};
    yubin::daemon::CommonOptions opts;
    yubin::daemon::add_common_options(app, opts);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : kExitUsage;
    }
    try {
        return run(opts);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "yubin-authd: fatal: %s\n", e.what());
        return kExitOsErr;
    }
}
