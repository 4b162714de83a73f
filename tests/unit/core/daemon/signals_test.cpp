#include <doctest/doctest.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "core/daemon/listen.hpp"
#include "core/daemon/signals.hpp"

using namespace yubin;
using namespace yubin::daemon;
using Event = Signals::Event;

namespace {

bool readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

}  // namespace

TEST_CASE("daemon: Signals turns SIGHUP, SIGTERM, SIGINT into events") {
    auto sig = Signals::install();
    REQUIRE_MESSAGE(sig.has_value(), (sig ? "" : sig.error().what));
    CHECK(sig->read() == Event::None);
    CHECK_FALSE(readable(sig->fd(), 0));

    struct Case {
        int raised[2];  // 0 = none
        Event want;
    };
    const Case cases[] = {
        {{SIGHUP, 0}, Event::Reload},
        {{SIGTERM, 0}, Event::Stop},
        {{SIGINT, 0}, Event::Stop},
        {{SIGHUP, SIGTERM}, Event::Stop},  // stopping wins over reloading
        {{0, 0}, Event::None},
    };
    for (const auto& c : cases) {
        CAPTURE(c.raised[0]);
        CAPTURE(c.raised[1]);
        for (int s : c.raised)
            if (s != 0) REQUIRE(::raise(s) == 0);
        if (c.want != Event::None) CHECK(readable(sig->fd(), 1000));
        CHECK(sig->read() == c.want);
        // Everything was consumed: nothing left for the next poll.
        CHECK(sig->read() == Event::None);
        CHECK_FALSE(readable(sig->fd(), 0));
    }

    struct sigaction old{};
    REQUIRE(::sigaction(SIGPIPE, nullptr, &old) == 0);
    CHECK((old.sa_handler == SIG_IGN));
}

TEST_CASE("daemon: SIGTERM stops a polling daemon within a second") {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // The documented loop: poll the signal fd with the listener, bounded timeout.
        auto sig = Signals::install();
        auto listener = listen_on(ListenSpec{ListenSpec::Kind::Inet, "", "127.0.0.1", 0}, {});
        if (!sig || !listener) ::_exit(2);
        if (::write(ready[1], "r", 1) != 1) ::_exit(3);
        pollfd fds[] = {{sig->fd(), POLLIN, 0}, {listener->get(), POLLIN, 0}};
        for (int rounds = 0; rounds < 10; ++rounds) {  // 10 s at most, then fail
            ::poll(fds, 2, 1000);
            if ((fds[0].revents & POLLIN) && sig->read() == Event::Stop) ::_exit(0);
        }
        ::_exit(4);
    }
    ::close(ready[1]);
    char c = 0;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    ::close(ready[0]);

    const auto start = std::chrono::steady_clock::now();
    REQUIRE(::kill(pid, SIGTERM) == 0);
    int status = 0;
    pid_t done = 0;
    while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(5))
        ::usleep(5000);
    if (done == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    REQUIRE(done == pid);
    // Exited by itself with 0: SIGTERM went to the loop, not to the default action.
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(elapsed < std::chrono::seconds(1));
}

TEST_CASE("daemon: reset_signals_for_child unblocks signals and restores SIGPIPE") {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (!Signals::install()) ::_exit(2);
        reset_signals_for_child();
        sigset_t mask;
        ::sigprocmask(SIG_BLOCK, nullptr, &mask);
        if (::sigismember(&mask, SIGTERM) || ::sigismember(&mask, SIGHUP) ||
            ::sigismember(&mask, SIGINT))
            ::_exit(3);
        struct sigaction old{};
        ::sigaction(SIGPIPE, nullptr, &old);
        if (old.sa_handler != SIG_DFL) ::_exit(4);
        // Now SIGTERM must kill, as it would kill an exec'ed program. execve
        // resets caught signals to SIG_DFL; do the same by hand for the
        // handler doctest installs, which exec would have dropped.
        ::signal(SIGTERM, SIG_DFL);
        ::raise(SIGTERM);
        ::_exit(5);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CAPTURE(status);
    CHECK(WIFSIGNALED(status));
    if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGTERM);
}
