// SECURITY: libmilter parses the milter protocol (declared lengths, macro
// lists) and hands every callback NUL-terminated strings and a body chunk
// with its length; those are Postfix's relay of peer input and go to
// Session, whose bounds are described in session.hpp. No exception leaves a
// callback: each runs inside guard(), which answers 451 4.3.0 (or, in a stage
// negotiated to get no reply, makes the message fail at end of message).
// The close callback can arrive without negotiate/connect having run.
#include "milter/glue.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "core/daemon/privileges.hpp"
#include "core/daemon/user_lookup.hpp"
#include "core/util/fd.hpp"

namespace yubin::milter {
namespace {

Server* g_server = nullptr;

constexpr std::size_t kMaxPacketBytes = 1024 * 1024 - 1;  // libmilter's MILTER_MDS_1M

struct Priv {
    Session session;
    bool nr_conn = false;
    bool nr_hdr = false;
    bool nr_body = false;
};

// The macros each stage reads: {i} (queue id) for the log, {auth_authen}
// for the relay and sender checks. Connect information comes with the
// connect event itself.
constexpr std::pair<int, const char*> kMacroLists[] = {
    {SMFIM_CONNECT, "{yubin_none}"}, {SMFIM_HELO, "{yubin_none}"},
    {SMFIM_ENVFROM, "i {auth_authen}"}, {SMFIM_ENVRCPT, "i"},
    {SMFIM_DATA, "{yubin_none}"}, {SMFIM_EOH, "{yubin_none}"}, {SMFIM_EOM, "i"},
};

Priv* priv_of(SMFICTX* ctx) {
    auto* p = static_cast<Priv*>(smfi_getpriv(ctx));
    if (p == nullptr) {
        // negotiate did not run (an MTA that skips it): start from the
        // current snapshot now.
        auto snap = g_server->snapshot();
        p = new Priv{Session(snap.settings, snap.directory, g_server->log())};
        smfi_setpriv(ctx, p);
    }
    return p;
}

std::string macro(SMFICTX* ctx, const char* name) {
    const char* v = smfi_getsymval(ctx, const_cast<char*>(name));
    return v != nullptr ? std::string(v) : std::string();
}

void set_reply(SMFICTX* ctx, const Reply& r) {
    std::string code = r.code, xcode = r.xcode, text = r.text;
    smfi_setreply(ctx, code.data(), xcode.data(), text.data());
}

sfsistat answer(SMFICTX* ctx, const Reply& r) {
    switch (r.kind) {
        case Reply::Kind::Continue:
            return SMFIS_CONTINUE;
        case Reply::Kind::Reject:
            set_reply(ctx, r);
            return SMFIS_REJECT;
        case Reply::Kind::TempFail:
            set_reply(ctx, r);
            return SMFIS_TEMPFAIL;
        case Reply::Kind::Discard:
            return SMFIS_DISCARD;
    }
    set_reply(ctx, temp_failure());
    return SMFIS_TEMPFAIL;
}

template <class F>
sfsistat guard(SMFICTX* ctx, const char* stage, bool no_reply, F&& f) noexcept {
    return guarded(no_reply, std::forward<F>(f), [&](const char* what) {
        g_server->log().error("{}: internal error, answering tempfail: {}", stage, what);
        if (no_reply) {
            if (auto* p = static_cast<Priv*>(smfi_getpriv(ctx))) p->session.fail_later(what);
        } else {
            set_reply(ctx, temp_failure());
        }
    });
}

sfsistat cb_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long,
                      unsigned long, unsigned long* pf0, unsigned long* pf1, unsigned long* pf2,
                      unsigned long* pf3) {
    return guard(ctx, "negotiate", false, [&] {
        auto snap = g_server->snapshot();
        auto* old = static_cast<Priv*>(smfi_getpriv(ctx));
        delete old;
        auto* p = new Priv{Session(snap.settings, snap.directory, g_server->log())};
        smfi_setpriv(ctx, p);

        const Negotiated n = negotiate(f0, f1, snap.settings->wants_body());
        *pf0 = n.actions;
        *pf1 = n.steps;
        *pf2 = 0;
        *pf3 = 0;
        p->nr_conn = (n.steps & SMFIP_NR_CONN) != 0;
        p->nr_hdr = (n.steps & SMFIP_NR_HDR) != 0;
        p->nr_body = (n.steps & SMFIP_NR_BODY) != 0;
        if (n.actions & SMFIF_SETSYMLIST) {
            // Ask Postfix for the macros this milter reads and nothing else:
            // by default it sends 20 per message, some of which ({rcpt_addr}
            // ...) it must compute first. Stages negotiated away still get
            // their macros sent, so they get a one-name list too.
            for (const auto& [stage, names] : kMacroLists)
                if (smfi_setsymlist(ctx, stage, const_cast<char*>(names)) != MI_SUCCESS)
                    g_server->log().warning("cannot limit the macros of stage {}", stage);
        }
        return SMFIS_CONTINUE;
    });
}

sfsistat cb_connect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* addr) {
    auto* p0 = static_cast<Priv*>(smfi_getpriv(ctx));
    return guard(ctx, "connect", p0 != nullptr && p0->nr_conn, [&] {
        auto* p = priv_of(ctx);
        char buf[INET6_ADDRSTRLEN] = "";
        if (addr != nullptr && addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(addr)->sin_addr, buf, sizeof buf);
        else if (addr != nullptr && addr->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(addr)->sin6_addr, buf, sizeof buf);
        p->session.connect(hostname != nullptr ? hostname : "", buf);
        return p->nr_conn ? SMFIS_NOREPLY : SMFIS_CONTINUE;
    });
}

std::vector<std::string_view> rest(char** argv) {
    std::vector<std::string_view> out;
    if (argv == nullptr || argv[0] == nullptr) return out;
    for (int i = 1; argv[i] != nullptr && i < 64; ++i) out.emplace_back(argv[i]);
    return out;
}

sfsistat cb_envfrom(SMFICTX* ctx, char** argv) {
    return guard(ctx, "MAIL", false, [&] {
        auto* p = priv_of(ctx);
        p->session.set_queue_id(macro(ctx, "i"));
        const auto args = rest(argv);
        const char* sender = argv != nullptr && argv[0] != nullptr ? argv[0] : "";
        return answer(ctx, p->session.mail(sender, args, macro(ctx, "{auth_authen}")));
    });
}

sfsistat cb_envrcpt(SMFICTX* ctx, char** argv) {
    return guard(ctx, "RCPT", false, [&] {
        auto* p = priv_of(ctx);
        p->session.set_queue_id(macro(ctx, "i"));
        const auto args = rest(argv);
        const char* rcpt = argv != nullptr && argv[0] != nullptr ? argv[0] : "";
        return answer(ctx, p->session.rcpt(rcpt, args));
    });
}

sfsistat cb_header(SMFICTX* ctx, char* name, char* value) {
    auto* p0 = static_cast<Priv*>(smfi_getpriv(ctx));
    return guard(ctx, "header", p0 != nullptr && p0->nr_hdr, [&] {
        auto* p = priv_of(ctx);
        p->session.header(name != nullptr ? name : "", value != nullptr ? value : "");
        return p->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
    });
}

sfsistat cb_body(SMFICTX* ctx, unsigned char* data, size_t len) {
    auto* p0 = static_cast<Priv*>(smfi_getpriv(ctx));
    return guard(ctx, "body", p0 != nullptr && p0->nr_body, [&] {
        auto* p = priv_of(ctx);
        if (data != nullptr)
            p->session.body(std::string_view(reinterpret_cast<const char*>(data), len));
        return p->nr_body ? SMFIS_NOREPLY : SMFIS_CONTINUE;
    });
}

sfsistat cb_eom(SMFICTX* ctx) {
    return guard(ctx, "END-OF-MESSAGE", false, [&] {
        auto* p = priv_of(ctx);
        p->session.set_queue_id(macro(ctx, "i"));
        EomResult r = p->session.eom();
        p->session.abort();
        if (r.reply.kind != Reply::Kind::Continue) return answer(ctx, r.reply);
        for (auto& e : r.edits) {
            int rc = MI_SUCCESS;
            switch (e.op) {
                case HeaderEdit::Op::Delete:
                    rc = smfi_chgheader(ctx, e.name.data(), e.index, nullptr);
                    break;
                case HeaderEdit::Op::Change:
                    rc = smfi_chgheader(ctx, e.name.data(), e.index, e.value.data());
                    break;
                case HeaderEdit::Op::Add:
                    rc = smfi_addheader(ctx, e.name.data(), e.value.data());
                    break;
            }
            if (rc != MI_SUCCESS) {
                g_server->log().warning("cannot change header {} (not negotiated?): tempfail",
                                        e.name);
                return answer(ctx, temp_failure());
            }
        }
        if (!r.quarantine.empty() && smfi_quarantine(ctx, r.quarantine.data()) != MI_SUCCESS) {
            g_server->log().warning("cannot quarantine (not negotiated?): tempfail");
            return answer(ctx, temp_failure());
        }
        return SMFIS_CONTINUE;
    });
}

sfsistat cb_abort(SMFICTX* ctx) {
    return guard(ctx, "abort", false, [&] {
        if (auto* p = static_cast<Priv*>(smfi_getpriv(ctx))) p->session.abort();
        return SMFIS_CONTINUE;
    });
}

sfsistat cb_close(SMFICTX* ctx) {
    return guard(ctx, "close", false, [&] {
        // May come without negotiate or connect (an MTA that gave up early).
        delete static_cast<Priv*>(smfi_getpriv(ctx));
        smfi_setpriv(ctx, nullptr);
        return SMFIS_CONTINUE;
    });
}

// Signals: libmilter's own signal thread would stop the milter on SIGHUP,
// so SIGHUP/SIGTERM/SIGINT are handled here in the main thread (which
// libmilter's threads, started later, leave them to: they block them).
int g_signal_pipe[2] = {-1, -1};

extern "C" void on_signal(int sig) {
    const int saved = errno;
    const char c = sig == SIGHUP ? 'H' : 'T';
    [[maybe_unused]] auto n = ::write(g_signal_pipe[1], &c, 1);
    errno = saved;
}

void wake_listener(const config::ListenAddress& a) {
    // libmilter looks at its stop flag between accepts, at least every 5 s;
    // a connection of our own makes it look now.
    UniqueFd fd(::socket(a.kind == config::ListenAddress::Kind::Unix ? AF_UNIX
                         : a.host.find(':') != std::string::npos     ? AF_INET6
                                                                     : AF_INET,
                         SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return;
    if (a.kind == config::ListenAddress::Kind::Unix) {
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        std::strncpy(sun.sun_path, a.path.c_str(), sizeof sun.sun_path - 1);
        (void)::connect(fd.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun);
    } else if (a.host.find(':') != std::string::npos) {
        sockaddr_in6 sin{};
        sin.sin6_family = AF_INET6;
        sin.sin6_port = htons(a.port);
        inet_pton(AF_INET6, a.host.c_str(), &sin.sin6_addr);
        (void)::connect(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    } else {
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(a.port);
        if (inet_pton(AF_INET, a.host.c_str(), &sin.sin_addr) != 1 || a.host == "0.0.0.0")
            inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
        (void)::connect(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    }
}

void reload(Server& server, const std::string& path) {
    auto& log = server.log();
    auto cfg = config::Config::load_file(path);
    if (!cfg) {
        log.error("reload failed, keeping the running configuration: {}", cfg.error().what);
        return;
    }
    auto snap = load_snapshot(*cfg);
    if (!snap) {
        log.error("reload failed, keeping the running configuration: {}", snap.error().what);
        return;
    }
    server.swap(std::move(*snap));
    log.info("reloaded {}", path);
}

}  // namespace

Negotiated negotiate(unsigned long offered_actions, unsigned long offered_steps, bool want_body) {
    Negotiated n;
    n.actions = offered_actions &
                (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST);
    // Stages never used are skipped; stages whose answer is always
    // "continue" get no reply (the MTA does not wait for one).
    unsigned long want = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NOEOH |
                         SMFIP_NR_CONN | SMFIP_NR_HDR;
    want |= want_body ? SMFIP_NR_BODY : SMFIP_NOBODY;
    n.steps = offered_steps & want;
    return n;
}

Result<std::string> libmilter_address(const config::ListenAddress& a) {
    switch (a.kind) {
        case config::ListenAddress::Kind::Unix:
            return "unix:" + a.path;
        case config::ListenAddress::Kind::Inet:
            if (a.host.find(':') != std::string::npos)
                return "inet6:" + std::to_string(a.port) + "@" + a.host;
            return "inet:" + std::to_string(a.port) + "@" + a.host;
        case config::ListenAddress::Kind::Disabled:
            break;
    }
    return fail(ErrorKind::Config, "milter_listen is empty: nowhere to listen");
}

int run(Server& server, const RunOptions& opts) {
    auto& log = server.log();
    g_server = &server;
    auto conn = libmilter_address(opts.listen);
    if (!conn) {
        log.fatal("{}", conn.error().what);
        return 78;
    }

    smfiDesc desc{};
    desc.xxfi_name = const_cast<char*>("yubin-milter");
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
    desc.xxfi_connect = cb_connect;
    desc.xxfi_envfrom = cb_envfrom;
    desc.xxfi_envrcpt = cb_envrcpt;
    desc.xxfi_header = cb_header;
    desc.xxfi_body = cb_body;
    desc.xxfi_eom = cb_eom;
    desc.xxfi_abort = cb_abort;
    desc.xxfi_close = cb_close;
    desc.xxfi_negotiate = cb_negotiate;
    if (smfi_register(desc) != MI_SUCCESS) {
        log.fatal("smfi_register failed");
        return 75;
    }
    // Postfix sends a header field of up to header_size_limit (100 KB) in
    // one packet; libmilter's default of 64 KB would drop such a session.
    smfi_setmaxdatasize(kMaxPacketBytes);
    if (smfi_setconn(conn->data()) != MI_SUCCESS) {
        log.fatal("bad listen address {}", *conn);
        return 78;
    }
    if (smfi_opensocket(true) != MI_SUCCESS) {
        log.fatal("cannot listen on {} (another yubin-milter running? directory missing?)", *conn);
        return 75;
    }
    if (opts.listen.kind == config::ListenAddress::Kind::Unix) {
        mode_t mode = 0666;
        if (!opts.socket_group.empty()) {
            auto gid = daemon::lookup_group(opts.socket_group);
            if (!gid) {
                log.fatal("milter_socket_group: {}", gid.error().what);
                return 78;
            }
            if (::chown(opts.listen.path.c_str(), static_cast<uid_t>(-1), *gid) != 0) {
                log.fatal("chgrp {}: {}", opts.listen.path, std::strerror(errno));
                return 75;
            }
            mode = 0660;
        }
        if (::chmod(opts.listen.path.c_str(), mode) != 0) {
            log.fatal("chmod {}: {}", opts.listen.path, std::strerror(errno));
            return 75;
        }
    }
    if (auto s = daemon::drop_privileges(opts.user); !s) {
        log.fatal("{}", s.error().what);
        return 78;
    }

    if (::pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        log.fatal("pipe: {}", std::strerror(errno));
        return 75;
    }
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
    pthread_sigmask(SIG_UNBLOCK, &mask, nullptr);

    // smfi_stop() is called from a thread of its own (it may wait up to 5 s
    // for libmilter's listener), started now: at SIGTERM the process may be
    // out of memory, and a thread that cannot be created would abort it.
    int stop_pipe[2] = {-1, -1};
    if (::pipe2(stop_pipe, O_CLOEXEC) != 0) {
        log.fatal("pipe: {}", std::strerror(errno));
        return 75;
    }
    std::thread([fd = stop_pipe[0], mask] {
        pthread_sigmask(SIG_BLOCK, &mask, nullptr);
        char c = 0;
        while (::read(fd, &c, 1) < 0 && errno == EINTR) {
        }
        if (c == 'S') smfi_stop();
    }).detach();

    std::atomic<int> main_rc{-1};
    std::thread milter([&] {
        // Keep the signals for the main thread; libmilter blocks them in its
        // threads too.
        pthread_sigmask(SIG_BLOCK, &mask, nullptr);
        main_rc = smfi_main();
        const char c = 'D';
        [[maybe_unused]] auto n = ::write(g_signal_pipe[1], &c, 1);
    });
    log.info("starting: listening on {}", *conn);

    bool stopping = false;
    int wakes = 0;
    for (;;) {
        pollfd pfd{g_signal_pipe[0], POLLIN, 0};
        const int n = ::poll(&pfd, 1, stopping ? 100 : -1);
        if (n == 0 && stopping) {
            // smfi_stop() waits for the listener's mutex, which libmilter
            // holds while it sleeps in select() for up to 5 s: connections of
            // our own wake it until it has seen the stop flag.
            if (++wakes > 30) {
                log.warning("libmilter did not stop within 3 s; exiting");
                milter.detach();
                return 0;
            }
            wake_listener(opts.listen);
            continue;
        }
        if (n < 0) continue;
        char c = 0;
        while (::read(g_signal_pipe[0], &c, 1) == 1) {
            if (c == 'H' && !stopping) {
                reload(server, opts.config_path);
            } else if (c == 'T' && !stopping) {
                log.info("stopping (signal)");
                stopping = true;
                [[maybe_unused]] auto w = ::write(stop_pipe[1], "S", 1);
                wake_listener(opts.listen);
            } else if (c == 'D') {
                milter.join();
                if (!stopping) {
                    log.error("libmilter stopped unexpectedly (status {})", main_rc.load());
                    return 75;
                }
                log.info("stopped");
                // Sessions still running end with the process; Postfix
                // applies milter_default_action (tempfail) to them.
                return 0;
            }
        }
    }
}

}  // namespace yubin::milter
