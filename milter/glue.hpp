// The libmilter side of yubin-milter: registration, the callbacks, and the
// run loop with signal handling.
#pragma once

#include <string>

#include "core/config/config.hpp"
#include "core/util/result.hpp"
#include "milter/server.hpp"

namespace yubin::milter {

// "unix:/path" -> "unix:/path", "inet:host:port" -> "inet:port@host",
// "inet:[v6]:port" -> "inet6:port@v6": libmilter's own notation.
[[nodiscard]] Result<std::string> libmilter_address(const config::ListenAddress& a);

struct RunOptions {
    config::ListenAddress listen;
    std::string socket_group;  // unix socket: chgrp + mode 0660; empty: mode 0666
    std::string user;          // drop privileges to this user after binding
    std::string config_path;   // re-read on SIGHUP
};

// Binds, drops privileges, serves until SIGTERM/SIGINT. SIGHUP reloads the
// configuration and rules into `server` (kept as they were if the new file
// has an error). Returns the exit status for main().
[[nodiscard]] int run(Server& server, const RunOptions& opts);

}  // namespace yubin::milter
