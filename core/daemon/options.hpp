// Command-line options every yubin daemon shares (milter, policyd, authd,
// lda --lmtp), so that they all read the same way in master.cf and systemd
// units:
//
//   -c FILE   configuration file (default /etc/yubin/yubin.cf)
//   -f        log to stderr instead of syslog (for running by hand or under
//             a supervisor that collects stderr)
//   -v        verbose: also log debug lines (may be repeated, as in Postfix)
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace yubin::daemon {

inline constexpr const char* kDefaultConfigPath = "/etc/yubin/yubin.cf";

struct CommonOptions {
    std::string config_path = kDefaultConfigPath;
    bool log_stderr = false;
    bool verbose = false;
};

// Registers -c/--config, -f/--log-stderr and -v/--verbose on `app`, writing
// into `opts` (which must outlive app.parse()).
void add_common_options(CLI::App& app, CommonOptions& opts);

}  // namespace yubin::daemon
