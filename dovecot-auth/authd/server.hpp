// yubin-authd's event loops: the socketmap and saslauthd listeners, their
// connections, timeouts and limits, on Asio io_contexts.
//
// Socketmap lookups are answered in the loop that accepted the connection (an
// indexed SQLite read takes microseconds); there are socketmap_threads loops,
// each with its own store handle (a Store is used by one thread at a time),
// all accepting from the same listening socket, so the lookups of many
// connections spread over the CPUs. Password checks are slow by design (tens
// of milliseconds a hash), so saslauthd requests go to a small pool of worker
// threads, each with its own store handle, and the answer is posted back to
// the loop. No lookup ever waits for a password hash.
//
// Limits (from yubin.cf): at most max_connections connections in all (more
// are accepted and closed at once, so the backlog drains); a connection with
// no partial request is closed after idle_timeout, one in the middle of a
// request (or of a reply the peer does not read) after request_timeout.
//
// SECURITY: every byte read here is peer input and goes only to the bounded
// parsers parse_netstring and parse_saslauthd_request; a connection's input
// buffer never exceeds one bounded request plus one read chunk.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/daemon/signals.hpp"
#include "core/log/logger.hpp"
#include "core/passwd/secret.hpp"
#include "core/util/fd.hpp"
#include "core/util/result.hpp"
#include "dovecot-auth/authd/netstring.hpp"
#include "dovecot-auth/authd/saslauthd.hpp"
#include "dovecot-auth/authd/socketmap.hpp"

namespace yubin::authd {

struct ServerLimits {
    std::size_t socketmap_max_request = kSocketmapMaxPayload;
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(300)};
    std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
    std::size_t max_connections = 1000;
    std::size_t auth_workers = 2;
    std::size_t socketmap_threads = 1;
    std::size_t socketmap_cache = 10000;  // replies kept per loop (ReplyCache); 0 = none
    std::size_t auth_queue = 256;  // waiting saslauthd requests; more are closed (temp failure)
};

// What one saslauthd request becomes, run on a worker thread with that
// thread's StoreSource.
struct SaslauthdRequest {
    std::string login;  // already combined with the realm (saslauthd_login)
    passwd::Secret password;
    std::string service;
};

// The per-worker verification; the default uses auth::Authenticator.
using SaslauthdVerifier =
    std::function<auth::AuthResult(StoreSource& source, const SaslauthdRequest& req)>;

// Authenticator over the worker's store (read-only: authd never rehashes).
[[nodiscard]] auth::AuthResult verify_with_store(StoreSource& source, const SaslauthdRequest& req,
                                                 const std::string& scheme);

// How each thread opens its own store.
struct StoreFactory {
    StoreSource::Opener open;
    StoreSource::Identity identity;  // may be empty
};

class Server {
public:
    // Every loop and every auth worker opens its own store from `stores`.
    Server(log::Logger& log, ServerLimits limits, StoreFactory stores,
           std::string recipient_delimiter, SaslauthdVerifier verifier);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Listening sockets from daemon::listen_on (non-blocking). family: AF_UNIX or AF_INET/6.
    void add_socketmap_listener(UniqueFd fd, int family);
    void add_saslauthd_listener(UniqueFd fd, int family);

    // Runs until Stop (SIGTERM/SIGINT) or stop(). On Reload (SIGHUP), calls
    // on_reload in the loop thread. signals may be null (tests). Worker
    // threads start here and are joined before return.
    void run(daemon::Signals* signals, std::function<void()> on_reload);

    // Thread-safe: makes run() return soon.
    void stop();

    // After a reload: every loop and worker reopens its store from `stores`
    // and uses the new delimiter for the following requests. Thread-safe.
    void reconfigure(StoreFactory stores, std::string recipient_delimiter);

    [[nodiscard]] std::size_t connections() const;

    // The loop's state, shared with the connection classes in server.cpp.
    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace yubin::authd
