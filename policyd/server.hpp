// The event loop of yubin-policyd: one thread, epoll, non-blocking sockets,
// persistent connections. Policy decisions are in-memory work or one short
// store / Redis round trip, so one thread serves thousands of requests per
// second without locks; connections cost a few hundred bytes each. The
// requests that complete in one wakeup are answered as a batch, after one
// prepare() call that lets the Redis backend read their counters in one
// round trip instead of one per request.
//
// SECURITY: peers are whatever can connect to the listening socket. Each
// connection holds at most one partial request (ParserLimits bound it) and at
// most kMaxPendingOutput bytes of unread replies (reading pauses until the
// peer reads); a request must complete within the idle timeout of the
// previous one (trickling bytes does not keep a connection alive); at most
// max_connections are open, beyond that new ones wait in the listen backlog.
// A malformed request is logged and the connection closed without a reply.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/log/logger.hpp"
#include "core/util/fd.hpp"
#include "core/util/result.hpp"
#include "policyd/request.hpp"

namespace yubin::policyd {

inline constexpr std::size_t kMaxPendingOutput = 65536;

struct ServerOptions {
    ParserLimits limits{};
    std::int64_t idle_timeout_ms = 300'000;
    std::size_t max_connections = 1000;
};

class Server {
public:
    using Handler = std::function<std::string(const Request&)>;  // the action text
    enum class Event { None, Stop, Reload };

    // Takes a listening, non-blocking socket.
    [[nodiscard]] static Result<std::unique_ptr<Server>> create(UniqueFd listener,
                                                                ServerOptions opts, Handler handler,
                                                                log::Logger& log);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Serves until request_stop() or a Stop from `signal_fd` (a
    // daemon::Signals fd, or -1). `on_signal` is called with a readable
    // signal fd and returns Stop or Reload; on Reload, on_reload() runs in
    // the loop (so it may swap what the handler uses without locking).
    Status run(int signal_fd, const std::function<Event()>& on_signal,
               const std::function<void()>& on_reload);

    // Thread-safe, async-signal-safe: makes run() return soon.
    void request_stop();

    void set_handler(Handler h) { handler_ = std::move(h); }
    // Called with every batch of requests that completed in one wakeup,
    // before the handler answers them one by one (in arrival order): a
    // backend may fetch what they will read in one round trip.
    using Prepare = std::function<void(std::span<const Request* const>)>;
    void set_prepare(Prepare p) { prepare_ = std::move(p); }
    // Called after the handler answered every request of a batch and the
    // replies were written.
    void set_finish(std::function<void()> f) { finish_ = std::move(f); }
    void set_options(const ServerOptions& o) { opts_ = o; }
    [[nodiscard]] std::size_t connections() const { return conns_.size(); }

private:
    struct Conn;
    Server(UniqueFd listener, UniqueFd epoll, UniqueFd wake, ServerOptions opts, Handler handler,
           log::Logger& log);
    void accept_all(std::int64_t now);
    void on_readable(Conn& c, std::int64_t now);
    void answer_batch();
    void flush(Conn& c);
    void update_events(Conn& c);
    void close_conn(std::uint64_t id);
    void expire_idle(std::int64_t now);
    void set_listening(bool on);

    UniqueFd listener_;
    UniqueFd epoll_;
    UniqueFd wake_;
    ServerOptions opts_;
    Handler handler_;
    Prepare prepare_;
    std::function<void()> finish_;
    // Completed requests not yet answered: the first batch_len_ slots. The
    // slots stay for the next batch (their strings keep their buffers).
    std::vector<std::pair<std::uint64_t, Request>> batch_;
    std::size_t batch_len_ = 0;
    std::vector<const Request*> batch_reqs_;  // answer_batch()'s scratch
    std::vector<std::uint64_t> touched_;     // answer_batch()'s scratch
    log::Logger& log_;
    std::uint64_t next_id_ = 3;  // 0, 1, 2 tag the listener, wakeup and signal fds
    std::unordered_map<std::uint64_t, std::unique_ptr<Conn>> conns_;
    std::list<std::uint64_t> idle_order_;  // least recently active first
    bool listening_ = false;
    std::int64_t last_full_warning_ms_ = -1'000'000'000;
};

}  // namespace yubin::policyd
