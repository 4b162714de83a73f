#include "policyd/app.hpp"

#include <unistd.h>

#include <charconv>
#include <chrono>

#include "core/daemon/listen.hpp"
#include "core/daemon/privileges.hpp"
#include "core/store/store.hpp"
#include "core/util/strings.hpp"

namespace yubin::policyd {

Result<std::unique_ptr<Counters>> open_counters(const config::Config& cfg) {
    std::string spec = cfg.get("policyd_state");
    if (spec == "memory")
        return make_memory_counters(
            static_cast<std::size_t>(cfg.get_int("policyd_memory_max_keys")));
#ifdef YUBIN_POLICYD_REDIS
    if (spec.starts_with("redis:"))
        return make_redis_counters(spec.substr(6), cfg.get_int("policyd_redis_timeout") * 1000);
#endif
    return fail(ErrorKind::Config, cfg.path() + ": parameter policyd_state: unsupported value \"" +
                                       spec +
                                       "\" (want memory, redis:HOST:PORT or redis:unix:PATH)");
}

namespace {

ServerOptions server_options(const config::Config& cfg) {
    ServerOptions o;
    o.limits.max_request_bytes = static_cast<std::size_t>(cfg.get_int("policyd_max_request_bytes"));
    o.limits.max_attributes = static_cast<std::size_t>(cfg.get_int("policyd_max_attributes"));
    o.idle_timeout_ms = cfg.get_int("policyd_idle_timeout") * 1000;
    o.max_connections = static_cast<std::size_t>(cfg.get_int("policyd_max_connections"));
    return o;
}

}  // namespace

Result<daemon::ListenOptions> listen_options(const config::Config& cfg) {
    daemon::ListenOptions lo;
    lo.backlog = 4096;  // the kernel caps it at net.core.somaxconn
    std::string mode = cfg.get("policyd_socket_mode");
    unsigned bits = 0;
    auto [end, ec] = std::from_chars(mode.data(), mode.data() + mode.size(), bits, 8);
    if (mode.empty() || ec != std::errc() || end != mode.data() + mode.size() || bits > 0777)
        return fail(ErrorKind::Config, cfg.path() + ": parameter policyd_socket_mode: \"" +
                                           sanitize_for_log(mode, 20) +
                                           "\" is not an octal mode 0000..0777");
    lo.unix_mode = static_cast<mode_t>(bits);
    lo.unix_owner = cfg.get("policyd_socket_owner");
    lo.unix_group = cfg.get("policyd_socket_group");
    return lo;
}

Status App::configure(const config::Config& cfg, bool initial) {
    auto settings = PolicySettings::from_config(cfg);
    if (!settings) return fail(settings.error());
    std::string state_spec = cfg.get("policyd_state");
    std::unique_ptr<Counters> counters;
    if (initial || state_spec != state_spec_) {
        auto c = open_counters(cfg);
        if (!c) return fail(c.error());
        counters = std::move(*c);
    }
    std::string store_spec = cfg.get("store") + "\n" + cfg.get("recipient_delimiter") + "\n" +
                             std::to_string(cfg.get_int("store_busy_timeout"));
    std::unique_ptr<StoreHandle> store;
    if (initial || store_spec != store_spec_) {
        store::StoreOptions so;
        so.recipient_delimiter = cfg.get("recipient_delimiter");
        so.busy_timeout = std::chrono::seconds(cfg.get_int("store_busy_timeout"));
        so.read_only = true;
        store = std::make_unique<StoreHandle>(
            [spec = cfg.get("store"), so] { return store::open_store(spec, so); }, clock_);
    }
    // Nothing can fail from here on: swap everything at once.
    if (counters) {
        counters_ = std::move(counters);
        state_spec_ = state_spec;
    }
    if (store) {
        store_ = std::move(store);
        store_spec_ = store_spec;
    }
    policy_ = std::make_unique<Policy>(std::move(*settings), *counters_, *store_, clock_, log_);
    if (server_) server_->set_options(server_options(cfg));
    return {};
}

Result<std::unique_ptr<App>> App::create(const config::Config& cfg, std::string config_path,
                                         log::Logger& log) {
    std::unique_ptr<App> app(new App(std::move(config_path), log));
    auto spec = daemon::parse_listen(cfg.get("policyd_listen"));
    if (!spec)
        return fail(ErrorKind::Config,
                    cfg.path() + ": parameter policyd_listen: " + spec.error().what);
    auto lo = listen_options(cfg);
    if (!lo) return fail(lo.error());
    auto fd = daemon::listen_on(*spec, *lo);
    if (!fd) return fail(fd.error());
    std::string user = cfg.get("policyd_user");
    if (user.empty() && ::geteuid() == 0)
        return fail(ErrorKind::Config,
                    cfg.path() + ": parameter policyd_user: empty, refusing to run as root");
    if (auto st = daemon::drop_privileges(user); !st) return fail(st.error());
    if (auto st = app->configure(cfg, true); !st) return fail(st.error());
    App* self = app.get();
    auto server = Server::create(
        std::move(*fd), server_options(cfg),
        [self](const Request& r) { return self->policy_->decide(r); }, log);
    if (!server) return fail(server.error());
    app->server_ = std::move(*server);
    app->server_->set_prepare(
        [self](std::span<const Request* const> batch) { self->policy_->prefetch(batch); });
    app->server_->set_finish([self] { self->policy_->finish_batch(); });
    log.info("daemon started: listening on {}, state {}", spec->to_string(), app->state_spec_);
    return app;
}

void App::reload() {
    auto cfg = config::Config::load_file(path_);
    if (!cfg) {
        log_.warning("reload: {}; keeping the old configuration", cfg.error().what);
        return;
    }
    if (auto st = configure(*cfg, false); !st) {
        log_.warning("reload: {}; keeping the old configuration", st.error().what);
        return;
    }
    log_.info("reloaded {}", path_);
}

Status App::run(daemon::Signals& signals) {
    auto st = server_->run(
        signals.fd(),
        [&signals] {
            switch (signals.read()) {
                case daemon::Signals::Event::Stop:
                    return Server::Event::Stop;
                case daemon::Signals::Event::Reload:
                    return Server::Event::Reload;
                case daemon::Signals::Event::None:
                    break;
            }
            return Server::Event::None;
        },
        [this] { reload(); });
    log_.info("daemon stopped");
    return st;
}

}  // namespace yubin::policyd
