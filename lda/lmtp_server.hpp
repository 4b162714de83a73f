// The LMTP daemon around LmtpSession: accept on the listening socket, one
// thread per connection (each with its own backend: a Store is used by one
// thread at a time), bounded connections and idle time, a clean stop on
// SIGTERM that lets deliveries in progress finish.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/daemon/signals.hpp"
#include "core/log/logger.hpp"
#include "core/util/result.hpp"
#include "lda/lmtp_session.hpp"

namespace yubin::lda {

struct LmtpServerOptions {
    std::string hostname = "localhost";
    LmtpLimits limits;
    std::chrono::seconds timeout{300};  // no byte from the client for this long: drop
    std::size_t max_connections = 100;
};

// One backend per connection, made in that connection's thread; nullptr or
// an exception: the connection is answered 421 and closed.
using BackendFactory = std::function<std::unique_ptr<LmtpBackend>()>;

// Serves until SIGTERM/SIGINT (signals), then waits for open connections to
// finish the transaction they are in (at most `timeout`). SIGHUP calls
// on_reload (if set) in the accepting thread: what it changes is seen by
// the connections accepted afterwards; open ones keep what they started with.
[[nodiscard]] Status serve_lmtp(int listen_fd, daemon::Signals& signals,
                                const LmtpServerOptions& opts, BackendFactory factory,
                                log::Logger& log, std::function<void()> on_reload = {});

}  // namespace yubin::lda
