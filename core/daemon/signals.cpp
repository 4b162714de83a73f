#include "core/daemon/signals.hpp"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

namespace yubin::daemon {
namespace {

sigset_t handled_signals() {
    sigset_t set;
    ::sigemptyset(&set);
    ::sigaddset(&set, SIGTERM);
    ::sigaddset(&set, SIGINT);
    ::sigaddset(&set, SIGHUP);
    return set;
}

}  // namespace

Result<Signals> Signals::install() {
    struct sigaction ignore{};
    ignore.sa_handler = SIG_IGN;
    ::sigemptyset(&ignore.sa_mask);
    if (::sigaction(SIGPIPE, &ignore, nullptr) != 0)
        return fail(errno_error("sigaction(SIGPIPE)", errno));

    const sigset_t set = handled_signals();
    if (const int rc = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0)
        return fail(errno_error("pthread_sigmask", rc));
    UniqueFd fd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!fd) return fail(errno_error("signalfd", errno));
    return Signals(std::move(fd));
}

Signals::Event Signals::read() {
    Event event = Event::None;
    signalfd_siginfo info{};
    for (;;) {
        const ssize_t n = ::read(fd_.get(), &info, sizeof info);
        if (n < 0 && errno == EINTR) continue;
        if (n != static_cast<ssize_t>(sizeof info)) break;  // EAGAIN: nothing left
        if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
            event = Event::Stop;
        } else if (info.ssi_signo == SIGHUP && event == Event::None) {
            event = Event::Reload;
        }
    }
    return event;
}

void reset_signals_for_child() noexcept {
    const sigset_t set = handled_signals();
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    struct sigaction dfl{};
    dfl.sa_handler = SIG_DFL;
    ::sigemptyset(&dfl.sa_mask);
    ::sigaction(SIGPIPE, &dfl, nullptr);
}

}  // namespace yubin::daemon
