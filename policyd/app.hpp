// yubin-policyd wired together: config -> socket, privileges, state backend,
// store, policies, event loop; and SIGHUP reload. main() only parses options
// and builds the logger; this is what an integration test or another front
// end would reuse.
#pragma once

#include <memory>
#include <string>

#include "core/config/config.hpp"
#include "core/daemon/listen.hpp"
#include "core/daemon/signals.hpp"
#include "core/log/logger.hpp"
#include "core/util/result.hpp"
#include "policyd/clock.hpp"
#include "policyd/counters.hpp"
#include "policyd/policy.hpp"
#include "policyd/server.hpp"

namespace yubin::policyd {

// The state backend named by policyd_state: "memory", "redis:HOST:PORT" or
// "redis:unix:PATH". Config error for anything else.
[[nodiscard]] Result<std::unique_ptr<Counters>> open_counters(const config::Config& cfg);

// The unix socket's mode, owner and group (policyd_socket_*) and the
// backlog. Config error naming the parameter for a mode that is not octal.
[[nodiscard]] Result<daemon::ListenOptions> listen_options(const config::Config& cfg);

class App {
public:
    // Binds the socket and drops privileges (policyd_user).
    [[nodiscard]] static Result<std::unique_ptr<App>> create(const config::Config& cfg,
                                                             std::string config_path,
                                                             log::Logger& log);
    [[nodiscard]] Status run(daemon::Signals& signals);

private:
    App(std::string path, log::Logger& log) : path_(std::move(path)), log_(log) {}
    [[nodiscard]] Status configure(const config::Config& cfg, bool initial);
    void reload();

    std::string path_;
    log::Logger& log_;
    SystemClock clock_;
    std::string state_spec_;
    std::string store_spec_;
    std::unique_ptr<Counters> counters_;
    std::unique_ptr<StoreHandle> store_;
    std::unique_ptr<Policy> policy_;
    std::unique_ptr<Server> server_;
};

}  // namespace yubin::policyd
