// What every session of a running yubin-milter shares: the current snapshot
// of settings, rules and directory, swapped whole on SIGHUP. A session keeps
// the snapshot it started with, so a reload never changes the rules in the
// middle of a connection and never drops one.
#pragma once

#include <memory>
#include <mutex>

#include "core/config/config.hpp"
#include "core/log/logger.hpp"
#include "core/util/result.hpp"
#include "milter/session.hpp"

namespace yubin::milter {

struct Snapshot {
    std::shared_ptr<const Settings> settings;
    std::shared_ptr<Directory> directory;
};

// Builds a snapshot from yubin.cf: rules file (or the built-in rules),
// trusted networks, store. Config or Temp errors name what failed.
[[nodiscard]] Result<Snapshot> load_snapshot(const config::Config& cfg);

class Server {
public:
    Server(log::Logger& log, Snapshot snap) : log_(log), snap_(std::move(snap)) {}
    [[nodiscard]] Snapshot snapshot() const {
        std::lock_guard lock(mu_);
        return snap_;
    }
    void swap(Snapshot snap) {
        std::lock_guard lock(mu_);
        snap_ = std::move(snap);
    }
    [[nodiscard]] log::Logger& log() const { return log_; }

private:
    log::Logger& log_;
    mutable std::mutex mu_;
    Snapshot snap_;
};

}  // namespace yubin::milter
