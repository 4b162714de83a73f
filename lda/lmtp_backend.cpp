#include "lda/lmtp_backend.hpp"

#include "lda/mailbox.hpp"

namespace yubin::lda {

Status StoreBackend::refresh() {
    auto snap = source_();
    if (snap == snapshot_ && store_) return {};
    auto st = open_store_(snap->cfg);
    if (!st) return fail(st.error());
    deliverer_.reset();
    store_ = std::move(*st);
    snapshot_ = std::move(snap);
    deliverer_.emplace(snapshot_->settings, writer_, log_);
    return {};
}

std::optional<Outcome> StoreBackend::begin_transaction() {
    if (auto st = refresh(); !st) {
        log_.error("store: {}", st.error().what);
        if (!store_) return temp_failure("4.3.0", "user store unavailable");
        // The store of the new configuration does not open: go on with the
        // one in use rather than refuse mail.
    }
    return std::nullopt;
}

std::variant<Mailbox, Outcome> StoreBackend::lookup(std::string_view address) {
    if (!store_) return temp_failure("4.3.0", "user store unavailable");
    auto m = virtual_mailbox(*store_, snapshot_->cfg, address);
    if (m) return std::move(*m);
    Outcome o = lookup_failure(m.error(), address);
    log_.info("NOQUEUE: reject: RCPT to=<{}>: {} {}", address, o.dsn, o.text);
    if (o.temporary()) return temp_failure("4.3.0", "user store unavailable");
    return o;
}

std::vector<Outcome> StoreBackend::deliver(const Envelope& env, const std::vector<Recipient>& rcpts,
                                           std::string_view message) {
    if (!deliverer_)
        return std::vector<Outcome>(rcpts.size(), temp_failure("4.3.0", "user store unavailable"));
    return deliverer_->deliver(env, rcpts, message);
}

}  // namespace yubin::lda
