#include "lda/lmtp_backend.hpp"

#include "lda/mailbox.hpp"

namespace yubin::lda {

std::variant<Mailbox, Outcome> StoreBackend::lookup(std::string_view address) {
    auto m = virtual_mailbox(*store_, cfg_, address);
    if (m) return std::move(*m);
    Outcome o = lookup_failure(m.error(), address);
    log_.info("NOQUEUE: reject: RCPT to=<{}>: {} {}", address, o.dsn, o.text);
    if (o.temporary()) return temp_failure("4.3.0", "user store unavailable");
    return o;
}

std::vector<Outcome> StoreBackend::deliver(const Envelope& env, const std::vector<Recipient>& rcpts,
                                           std::string_view message) {
    return deliverer_.deliver(env, rcpts, message);
}

}  // namespace yubin::lda
