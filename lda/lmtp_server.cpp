#include "lda/lmtp_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/util/fd.hpp"

namespace yubin::lda {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::size_t active = 0;
    std::atomic<bool> stopping{false};
};

// Writes everything or gives up after `timeout` without progress.
bool send_all(int fd, std::string_view data, std::chrono::seconds timeout) {
    while (!data.empty()) {
        pollfd p{fd, POLLOUT, 0};
        int r = ::poll(&p, 1, static_cast<int>(timeout.count() * 1000));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

void serve_connection(UniqueFd conn, const LmtpServerOptions& opts, const BackendFactory& factory,
                      log::Logger& log, Shared& shared) {
    std::unique_ptr<LmtpBackend> backend;
    try {
        backend = factory();
    } catch (const std::exception& e) {
        log.error("lmtp: cannot serve a connection: {}", e.what());
    }
    if (!backend) {
        (void)send_all(conn.get(), "421 4.3.0 Service temporarily unavailable\r\n", opts.timeout);
        return;
    }
    LmtpSession session(*backend, opts.hostname, opts.limits);
    if (!send_all(conn.get(), session.greeting(), opts.timeout)) return;
    std::string buf(kReadChunk, '\0');
    auto last_input = std::chrono::steady_clock::now();
    for (;;) {
        if (shared.stopping && session.idle()) {
            (void)send_all(conn.get(), "421 4.3.2 Shutting down\r\n", std::chrono::seconds(1));
            return;
        }
        pollfd p{conn.get(), POLLIN, 0};
        int r = ::poll(&p, 1, 1000);
        if (r < 0 && errno != EINTR) return;
        if (r <= 0) {
            if (std::chrono::steady_clock::now() - last_input > opts.timeout) {
                log.info("lmtp: timeout, connection dropped");
                (void)send_all(conn.get(), "421 4.4.2 Timeout\r\n", std::chrono::seconds(1));
                return;
            }
            continue;
        }
        ssize_t n = ::recv(conn.get(), buf.data(), buf.size(), 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) return;  // peer gone; nothing half-acknowledged is kept
        last_input = std::chrono::steady_clock::now();
        std::string replies = session.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
        if (!replies.empty() && !send_all(conn.get(), replies, opts.timeout)) return;
        if (session.closed()) return;
    }
}

}  // namespace

Status serve_lmtp(int listen_fd, daemon::Signals& signals, const LmtpServerOptions& opts,
                  BackendFactory factory, log::Logger& log, std::function<void()> on_reload) {
    Shared shared;
    pollfd fds[] = {{signals.fd(), POLLIN, 0}, {listen_fd, POLLIN, 0}};
    Status result;
    for (;;) {
        if (::poll(fds, 2, 1000) < 0) {
            if (errno == EINTR) continue;
            result = fail(errno_error("poll", errno));
            break;
        }
        if (fds[0].revents & POLLIN) {
            auto ev = signals.read();
            if (ev == daemon::Signals::Event::Stop) break;
            if (ev == daemon::Signals::Event::Reload && on_reload) on_reload();
        }
        if (!(fds[1].revents & POLLIN)) continue;
        int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                log.warning("lmtp: accept: {}", std::strerror(errno));
            continue;
        }
        UniqueFd conn(c);
        {
            std::lock_guard lock(shared.mu);
            if (shared.active >= opts.max_connections) {
                (void)send_all(conn.get(), "421 4.3.2 Too many connections\r\n",
                               std::chrono::seconds(1));
                log.warning("lmtp: connection limit {} reached", opts.max_connections);
                continue;
            }
            ++shared.active;
        }
        try {
            std::thread([conn = std::move(conn), &opts, &factory, &log, &shared]() mutable {
                try {
                    serve_connection(std::move(conn), opts, factory, log, shared);
                } catch (const std::exception& e) {
                    log.error("lmtp: connection failed: {}", e.what());
                } catch (...) {
                    log.error("lmtp: connection failed");
                }
                std::lock_guard lock(shared.mu);
                --shared.active;
                shared.cv.notify_all();
            }).detach();
        } catch (const std::system_error& e) {
            std::lock_guard lock(shared.mu);
            --shared.active;
            log.error("lmtp: cannot start a thread: {}", e.what());
        }
    }
    shared.stopping = true;
    std::unique_lock lock(shared.mu);
    // Connections in DATA finish their delivery; idle ones leave within 1 s.
    shared.cv.wait_for(lock, opts.timeout + std::chrono::seconds(2),
                       [&] { return shared.active == 0; });
    if (shared.active != 0) {
        // Threads still reference this frame: leaving now would be a
        // use-after-return. Exit the process instead; the kernel closes the
        // connections and Postfix retries whatever was not acknowledged.
        log.warning("lmtp: {} connections still busy at exit", shared.active);
        std::_Exit(75);
    }
    return result;
}

}  // namespace yubin::lda
