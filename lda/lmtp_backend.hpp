// The LMTP backend over the store and the Deliverer: RCPT looks the
// recipient up as pipe mode does, DATA delivers to all at once.
#pragma once

#include <memory>

#include "core/config/config.hpp"
#include "core/maildir/maildir_writer.hpp"
#include "core/store/store.hpp"
#include "lda/delivery.hpp"
#include "lda/lmtp_session.hpp"

namespace yubin::lda {

class StoreBackend final : public LmtpBackend {
public:
    StoreBackend(std::unique_ptr<store::Store> store, const config::Config& cfg,
                 const Settings& settings, maildir::UniqueNamer namer, log::Logger& log)
        : store_(std::move(store)),
          cfg_(cfg),
          writer_(std::move(namer)),
          deliverer_(settings, writer_, log),
          log_(log) {}

    std::variant<Mailbox, Outcome> lookup(std::string_view address) override;
    std::vector<Outcome> deliver(const Envelope& env, const std::vector<Recipient>& rcpts,
                                 std::string_view message) override;

private:
    std::unique_ptr<store::Store> store_;
    const config::Config& cfg_;
    maildir::MaildirWriter writer_;
    Deliverer deliverer_;
    log::Logger& log_;
};

}  // namespace yubin::lda
