// The LMTP backend over the store and the Deliverer: RCPT looks the
// recipient up as pipe mode does, DATA delivers to all at once.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "core/config/config.hpp"
#include "core/maildir/maildir_writer.hpp"
#include "core/store/store.hpp"
#include "lda/delivery.hpp"
#include "lda/lmtp_session.hpp"

namespace yubin::lda {

// The configuration and rules in force: SIGHUP makes a new one when it
// loads; a transaction runs with the one it started with.
struct Snapshot {
    config::Config cfg;
    Settings settings;
};
using SnapshotSource = std::function<std::shared_ptr<const Snapshot>()>;
using StoreOpener =
    std::function<Result<std::unique_ptr<store::Store>>(const config::Config& cfg)>;

class StoreBackend final : public LmtpBackend {
public:
    // dir_sync: shared by the daemon's connections (group commit of the
    // fsync of new/); may be null.
    StoreBackend(SnapshotSource source, StoreOpener open_store, maildir::UniqueNamer namer,
                 log::Logger& log, maildir::DirSync* dir_sync = nullptr)
        : source_(std::move(source)),
          open_store_(std::move(open_store)),
          writer_(std::move(namer)),
          log_(log) {
        writer_.share_dir_sync(dir_sync);
    }

    // Takes the current snapshot if it is not the one in use, opening the
    // store it names. On failure the previous snapshot stays (if any).
    [[nodiscard]] Status refresh();

    std::optional<Outcome> begin_transaction() override;
    std::variant<Mailbox, Outcome> lookup(std::string_view address) override;
    std::vector<Outcome> deliver(const Envelope& env, const std::vector<Recipient>& rcpts,
                                 std::string_view message) override;

private:
    SnapshotSource source_;
    StoreOpener open_store_;
    std::shared_ptr<const Snapshot> snapshot_;
    std::unique_ptr<store::Store> store_;
    maildir::MaildirWriter writer_;
    std::optional<Deliverer> deliverer_;  // over snapshot_->settings and writer_
    log::Logger& log_;
};

}  // namespace yubin::lda
