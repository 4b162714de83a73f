// Signals as events an event loop can poll, instead of handlers that run at
// arbitrary points: SIGTERM and SIGINT mean Stop, SIGHUP means Reload (re-read
// yubin.cf and swap the snapshot only if it parses). SIGPIPE is ignored, so a
// peer that hangs up makes write() fail with EPIPE instead of killing us.
//
// The pattern every daemon follows, so SIGTERM stops it within a second even
// while idle or when a handler is slow (poll's timeout bounds the wait):
//
//     auto signals = daemon::Signals::install();        // in main(), before any thread
//     if (!signals) { log.fatal("{}", signals.error().what); return 75; }
//     pollfd fds[] = {{signals->fd(), POLLIN, 0}, {listener.get(), POLLIN, 0}};
//     for (;;) {
//         if (::poll(fds, 2, 1000) < 0 && errno != EINTR) { ...; break; }
//         if (fds[0].revents & POLLIN) {
//             auto ev = signals->read();
//             if (ev == daemon::Signals::Event::Stop) break;
//             if (ev == daemon::Signals::Event::Reload) reload();
//         }
//         if (fds[1].revents & POLLIN) accept_and_hand_off();   // never block here
//     }
//
// Worker threads must not block for longer than the same bound either (use
// timeouts on their sockets), so that joining them after Stop is quick. An
// event library (Asio, libev) can watch fd() the same way.
#pragma once

#include <utility>

#include "core/util/fd.hpp"
#include "core/util/result.hpp"

namespace yubin::daemon {

class Signals {
public:
    enum class Event { None, Stop, Reload };

    // Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and reads them
    // from a signalfd instead; threads started afterwards inherit the mask, so
    // call it in main() before starting any. Ignores SIGPIPE. The mask stays
    // blocked after the object is gone, so that a late SIGTERM during shutdown
    // does not kill the process halfway through.
    [[nodiscard]] static Result<Signals> install();

    // Readable (POLLIN) when an event is pending. Non-blocking, close-on-exec.
    [[nodiscard]] int fd() const { return fd_.get(); }

    // Consumes every pending signal and returns the most important event:
    // Stop over Reload over None. Never blocks.
    Event read();

private:
    explicit Signals(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

// A blocked mask and an ignored SIGPIPE survive execve(): call this in a
// forked child before exec'ing another program, so that it can be stopped
// with SIGTERM and dies on SIGPIPE as programs expect. Async-signal-safe.
void reset_signals_for_child() noexcept;

}  // namespace yubin::daemon
