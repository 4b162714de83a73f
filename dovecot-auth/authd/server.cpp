#include "dovecot-auth/authd/server.hpp"

#include <fcntl.h>
#include <string.h>  // explicit_bzero
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <asio/basic_socket_acceptor.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "core/util/strings.hpp"
#include "dovecot-auth/authd/netstring.hpp"

namespace yubin::authd {

using Clock = std::chrono::steady_clock;
using Socket = asio::generic::stream_protocol::socket;
using Acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;

auth::AuthResult verify_with_store(StoreSource& source, const SaslauthdRequest& req,
                                   const std::string& scheme) {
    auto s = source.get();
    if (!s) {
        auth::AuthResult r;
        r.outcome = auth::Outcome::TempFail;
        r.reason = s.error().what;
        return r;
    }
    auth::Authenticator a(**s, scheme);
    auto r = a.verify_plain(req.login, req.password.view());
    if (r.outcome == auth::Outcome::TempFail) source.reset();
    return r;
}

namespace {

constexpr std::size_t kReadChunk = 16384;
constexpr auto kStoreRetry = std::chrono::seconds(1);

// The saslauthd worker threads: a bounded queue, each thread with its own
// StoreSource (a Store is used by one thread at a time).
class AuthPool {
public:
    using Done = std::function<void(auth::AuthResult)>;

    AuthPool(StoreFactory stores, SaslauthdVerifier verifier, std::size_t threads,
             std::size_t max_queue)
        : stores_(std::move(stores)),
          verifier_(std::move(verifier)),
          threads_(threads),
          max_queue_(max_queue) {}
    ~AuthPool() { stop(); }

    void start() {
        for (std::size_t i = 0; i < threads_; ++i) workers_.emplace_back([this] { work(); });
    }
    void stop() {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        for (auto& t : workers_) t.join();
        workers_.clear();
        queue_.clear();
    }
    // False when the queue is full.
    bool submit(SaslauthdRequest req, Done done) {
        {
            std::lock_guard lock(mu_);
            if (queue_.size() >= max_queue_ || stop_) return false;
            queue_.push_back(Job{std::move(req), std::move(done)});
        }
        cv_.notify_one();
        return true;
    }
    void reopen_with(StoreFactory stores) {
        std::lock_guard lock(mu_);
        stores_ = std::move(stores);
        ++generation_;
    }

private:
    struct Job {
        SaslauthdRequest req;
        Done done;
    };

    void work() {
        std::uint64_t generation;
        StoreFactory stores;
        {
            std::lock_guard lock(mu_);
            generation = generation_;
            stores = stores_;
        }
        StoreSource source(stores.open, kStoreRetry, {}, stores.identity);
        for (;;) {
            Job job;
            {
                std::unique_lock lock(mu_);
                cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
                if (stop_) return;
                job = std::move(queue_.front());
                queue_.pop_front();
                if (generation != generation_) {
                    generation = generation_;
                    source.reopen_with(stores_.open, stores_.identity);
                }
            }
            auth::AuthResult r;
            try {
                r = verifier_(source, job.req);
            } catch (const std::exception& e) {
                r.outcome = auth::Outcome::TempFail;
                r.reason = e.what();
            }
            Done done = std::move(job.done);
            job = Job{};  // the password is wiped before the answer goes out
            done(std::move(r));
        }
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Job> queue_;
    bool stop_ = false;
    std::uint64_t generation_ = 0;
    StoreFactory stores_;
    SaslauthdVerifier verifier_;
    std::size_t threads_;
    std::size_t max_queue_;
    std::vector<std::thread> workers_;
};

}  // namespace

// One event loop: its io_context, its store and its socketmap service.
struct Loop {
    Loop(const StoreFactory& stores, std::string delimiter, log::Logger& log,
         std::size_t cache_entries)
        : source(stores.open, kStoreRetry, {}, stores.identity),
          socketmap(source, std::move(delimiter), log, cache_entries) {}
    StoreSource source;
    SocketmapService socketmap;
    bool batch_open = false;
    // After everything connections use: handlers still queued at destruction
    // find it alive. Acceptors go before the io_context.
    asio::io_context io{1};
    std::vector<std::unique_ptr<Acceptor>> acceptors;

    // Called before each socketmap lookup: the first one of an event-loop
    // round opens a read batch, a handler posted now closes it. Asio runs
    // the handlers already queued (the reads completed by the same reactor
    // pass, all received before the batch's snapshot) before that one, and
    // the reads of the next pass after it, so a batch never spans a request
    // that arrived after its snapshot.
    void batch() {
        if (batch_open) return;
        batch_open = true;
        socketmap.begin_batch();
        asio::post(io, [this] {
            batch_open = false;
            socketmap.end_batch();
        });
    }
};

struct Server::Impl {
    Impl(log::Logger& l, ServerLimits lim, StoreFactory stores, std::string delimiter,
         SaslauthdVerifier verifier)
        : log(l), limits(lim), pool(stores, std::move(verifier), lim.auth_workers, lim.auth_queue) {
        for (std::size_t i = 0; i < std::max<std::size_t>(1, lim.socketmap_threads); ++i)
            loops.push_back(std::make_unique<Loop>(stores, delimiter, log, lim.socketmap_cache));
    }

    log::Logger& log;
    ServerLimits limits;
    std::atomic<std::size_t> conns{0};
    std::atomic<std::int64_t> last_full_warning{0};  // steady_clock seconds
    AuthPool pool;
    std::vector<std::unique_ptr<Loop>> loops;  // loops[0] also serves saslauthd and signals
    std::unique_ptr<asio::posix::stream_descriptor> signal_watch;

    void accept_next(Loop& loop, Acceptor& acc, bool saslauthd);
    void watch_signals(daemon::Signals* signals, const std::function<void()>& on_reload);
    void shutdown() {
        for (auto& l : loops)
            asio::post(l->io, [loop = l.get()] {
                for (auto& a : loop->acceptors) {
                    std::error_code ignored;
                    a->close(ignored);
                }
                loop->io.stop();
            });
    }
};

namespace {

// One client connection; the deadline pattern of Asio's timeout examples: one
// timer that re-arms itself until the deadline has really passed.
class Conn : public std::enable_shared_from_this<Conn> {
public:
    Conn(Server::Impl& srv, Loop& loop, Socket s)
        : srv_(srv), loop_(loop), socket_(std::move(s)), timer_(loop.io) {}
    virtual ~Conn() { srv_.conns.fetch_sub(1); }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;

    virtual void start() = 0;

protected:
    // A later deadline is picked up by the pending wait when it fires; a
    // sooner one needs the timer re-armed.
    void set_deadline(Clock::time_point t) {
        const bool sooner = t < deadline_;
        deadline_ = t;
        if (sooner && watching_) watch_deadline();
    }
    void watch_deadline() {
        watching_ = true;
        timer_.expires_at(deadline_);
        // A wait cancelled by a later watch_deadline() or by close() ends
        // its chain: exactly one wait is pending at any time.
        timer_.async_wait([self = shared_from_this()](std::error_code ec) {
            if (ec == asio::error::operation_aborted || self->closed_) return;
            if (self->deadline_ <= Clock::now()) {
                self->srv_.log.debug("{}: connection timed out", self->name());
                self->close();
                return;
            }
            self->watch_deadline();
        });
    }
    void close() {
        if (closed_) return;
        closed_ = true;
        std::error_code ignored;
        socket_.shutdown(asio::socket_base::shutdown_both, ignored);
        socket_.close(ignored);
        timer_.cancel();
    }
    virtual const char* name() const = 0;

    Server::Impl& srv_;
    Loop& loop_;
    Socket socket_;
    asio::steady_timer timer_;
    Clock::time_point deadline_ = Clock::time_point::max();
    bool closed_ = false;
    bool watching_ = false;
    std::array<char, kReadChunk> chunk_{};
    std::string in_;
    std::string out_;
};

class SocketmapConn final : public Conn {
public:
    using Conn::Conn;

    void start() override {
        std::error_code ec;
        socket_.non_blocking(true, ec);  // write_some in process() must not block
        if (ec) return close();
        set_deadline(Clock::now() + srv_.limits.idle_timeout);
        watch_deadline();
        read();
    }

private:
    const char* name() const override { return "socketmap"; }

    void read() {
        socket_.async_read_some(asio::buffer(chunk_),
                                [self = shared(), this](std::error_code ec, std::size_t n) {
                                    if (ec || closed_) return close();
                                    in_.append(chunk_.data(), n);
                                    process();
                                });
    }

    void process() {
        std::size_t off = 0;
        bool broken = false;
        std::string_view in(in_);
        for (;;) {
            auto p = parse_netstring(in.substr(off), srv_.limits.socketmap_max_request);
            if (p.state == NetstringParse::State::NeedMore) break;
            if (p.state == NetstringParse::State::Error) {
                srv_.log.warning("socketmap: {}: closing the connection", p.error);
                append_netstring(out_, "PERM " + std::string(p.error));
                broken = true;
                break;
            }
            loop_.batch();
            append_netstring(out_, loop_.socketmap.answer(p.payload));
            off += p.consumed;
        }
        in_.erase(0, off);
        if (broken) in_.clear();
        // A partial request must complete within request_timeout of its
        // first byte, however slowly it trickles in.
        if (in_.empty()) {
            partial_ = false;
        } else if (!partial_) {
            partial_ = true;
            partial_deadline_ = Clock::now() + srv_.limits.request_timeout;
        }
        if (out_.empty()) {
            set_deadline(partial_ ? partial_deadline_ : Clock::now() + srv_.limits.idle_timeout);
            return read();
        }
        // Replies are small and the peer waits for them: almost always the
        // socket takes the whole reply at once. Write it now and go back to
        // reading, with no handler round trip and no deadline moved closer
        // (which would re-arm the timer for every request).
        std::error_code ec;
        const std::size_t n = socket_.write_some(asio::buffer(out_), ec);
        if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return close();
        if (n == out_.size()) {
            out_.clear();
            if (broken) return close();
            set_deadline(partial_ ? partial_deadline_ : Clock::now() + srv_.limits.idle_timeout);
            return read();
        }
        out_.erase(0, n);
        set_deadline(Clock::now() + srv_.limits.request_timeout);
        asio::async_write(socket_, asio::buffer(out_),
                          [self = shared(), this, broken](std::error_code ec, std::size_t) {
                              if (ec || broken || closed_) return close();
                              out_.clear();
                              set_deadline(partial_ ? partial_deadline_
                                                    : Clock::now() + srv_.limits.idle_timeout);
                              read();
                          });
    }

    std::shared_ptr<SocketmapConn> shared() {
        return std::static_pointer_cast<SocketmapConn>(shared_from_this());
    }

    bool partial_ = false;
    Clock::time_point partial_deadline_{};
};

class SaslauthdConn final : public Conn {
public:
    using Conn::Conn;
    ~SaslauthdConn() override {
        explicit_bzero(chunk_.data(), chunk_.size());
        if (!in_.empty()) explicit_bzero(in_.data(), in_.size());
    }

    void start() override {
        set_deadline(Clock::now() + srv_.limits.request_timeout);
        watch_deadline();
        read();
    }

private:
    const char* name() const override { return "saslauthd"; }

    void read() {
        socket_.async_read_some(
            asio::buffer(chunk_), [self = shared(), this](std::error_code ec, std::size_t n) {
                if (ec || closed_) return close();
                in_.append(chunk_.data(), n);
                explicit_bzero(chunk_.data(), n);
                auto p = parse_saslauthd_request(in_, kSaslauthdMaxField);
                if (p.state == SaslauthdParse::State::NeedMore) {
                    // One request is at most 4 * (2 + max field): more is garbage.
                    if (in_.size() > 4 * (2 + kSaslauthdMaxField)) return close();
                    return read();
                }
                if (p.state == SaslauthdParse::State::Error) {
                    srv_.log.warning("saslauthd: {}: closing the connection", p.error);
                    return close();
                }
                submit(p);
            });
    }

    void submit(const SaslauthdParse& p) {
        SaslauthdRequest req;
        req.login = saslauthd_login(p.fields[0], p.fields[3]);
        req.password = passwd::Secret(std::string(p.fields[1]));
        req.service = std::string(p.fields[2]);
        explicit_bzero(in_.data(), in_.size());
        in_.clear();
        login_ = sanitize_for_log(req.login, 100);
        service_ = sanitize_for_log(req.service, 40);
        set_deadline(Clock::now() +
                     std::chrono::hours(24));  // the worker answers; its queue is bounded
        auto self = shared();
        auto& io = loop_.io;
        bool queued = srv_.pool.submit(std::move(req), [self, &io](auth::AuthResult r) mutable {
            asio::post(
                io, [c = std::move(self), r = std::move(r)]() mutable { c->answer(std::move(r)); });
        });
        if (!queued) {
            srv_.log.warning(
                "saslauthd: login={} service={}: too many requests waiting, "
                "temporary failure",
                login_, service_);
            close();
        }
    }

    void answer(auth::AuthResult r) {
        if (closed_) return;
        const auto outcome = auth::to_string(r.outcome);
        if (r.alert)
            srv_.log.error("saslauthd: login={} service={}: {}: {}", login_, service_, outcome,
                           r.reason);
        else if (r.outcome == auth::Outcome::Ok)
            srv_.log.info("saslauthd: login={} service={}: ok", login_, service_);
        else if (r.outcome == auth::Outcome::TempFail)
            srv_.log.warning("saslauthd: login={} service={}: {}: {}", login_, service_, outcome,
                             r.reason);
        else
            srv_.log.info("saslauthd: login={} service={}: authentication failed: {}{}{}", login_,
                          service_, outcome, r.reason.empty() ? "" : ": ", r.reason);
        auto a = to_saslauthd_answer(r.outcome);
        if (!a.reply) return close();
        append_counted(out_, a.payload);
        set_deadline(Clock::now() + srv_.limits.request_timeout);
        asio::async_write(socket_, asio::buffer(out_),
                          [self = shared(), this](std::error_code, std::size_t) { close(); });
    }

    std::shared_ptr<SaslauthdConn> shared() {
        return std::static_pointer_cast<SaslauthdConn>(shared_from_this());
    }

    std::string login_;
    std::string service_;
};

}  // namespace

void Server::Impl::accept_next(Loop& loop, Acceptor& acc, bool saslauthd) {
    acc.async_accept([this, &loop, &acc, saslauthd](std::error_code ec, Socket s) {
        if (ec == asio::error::operation_aborted) return;
        if (ec) {
            // EMFILE and friends: wait a little instead of spinning.
            log.warning("{}: accept: {}", saslauthd ? "saslauthd" : "socketmap", ec.message());
            auto t = std::make_shared<asio::steady_timer>(loop.io, std::chrono::milliseconds(100));
            t->async_wait([this, t, &loop, &acc, saslauthd](std::error_code e) {
                if (!e) accept_next(loop, acc, saslauthd);
            });
            return;
        }
        if (conns.fetch_add(1) >= limits.max_connections) {
            conns.fetch_sub(1);
            auto now =
                std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch())
                    .count();
            auto last = last_full_warning.load();
            if (now - last >= 10 && last_full_warning.compare_exchange_strong(last, now))
                log.warning("{}: {} connections open (authd_max_connections): refusing more",
                            saslauthd ? "saslauthd" : "socketmap", conns.load());
            std::error_code ignored;
            s.close(ignored);
        } else {
            std::shared_ptr<Conn> c;
            if (saslauthd)
                c = std::make_shared<SaslauthdConn>(*this, loop, std::move(s));
            else
                c = std::make_shared<SocketmapConn>(*this, loop, std::move(s));
            c->start();
        }
        accept_next(loop, acc, saslauthd);
    });
}

void Server::Impl::watch_signals(daemon::Signals* signals, const std::function<void()>& on_reload) {
    signal_watch->async_wait(asio::posix::descriptor_base::wait_read,
                             [this, signals, on_reload](std::error_code ec) {
                                 if (ec) return;
                                 auto ev = signals->read();
                                 if (ev == daemon::Signals::Event::Stop) {
                                     log.info("stopping");
                                     return shutdown();
                                 }
                                 if (ev == daemon::Signals::Event::Reload && on_reload) on_reload();
                                 watch_signals(signals, on_reload);
                             });
}

Server::Server(log::Logger& log, ServerLimits limits, StoreFactory stores,
               std::string recipient_delimiter, SaslauthdVerifier verifier)
    : impl_(std::make_unique<Impl>(log, limits, std::move(stores), std::move(recipient_delimiter),
                                   std::move(verifier))) {}

Server::~Server() = default;

void Server::add_socketmap_listener(UniqueFd fd, int family) {
    // Every loop accepts from the same socket (a dup each): the kernel hands
    // a new connection to one of them.
    for (auto& l : impl_->loops) {
        int copy = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0);
        if (copy < 0) throw std::system_error(errno, std::generic_category(), "dup");
        l->acceptors.push_back(std::make_unique<Acceptor>(
            l->io, asio::generic::stream_protocol(family, SOCK_STREAM), copy));
        impl_->accept_next(*l, *l->acceptors.back(), false);
    }
}

void Server::add_saslauthd_listener(UniqueFd fd, int family) {
    Loop& l = *impl_->loops.front();
    l.acceptors.push_back(std::make_unique<Acceptor>(
        l.io, asio::generic::stream_protocol(family, SOCK_STREAM), fd.release()));
    impl_->accept_next(l, *l.acceptors.back(), true);
}

namespace {

// Runs one io_context until it is stopped; a handler that throws is logged and
// the loop goes on (the connection that threw is gone with its handler).
void run_loop(asio::io_context& io, log::Logger& log) {
    for (;;) {
        try {
            io.run();
            return;
        } catch (const std::exception& e) {
            log.error("event loop: {}", e.what());
        }
    }
}

}  // namespace

void Server::run(daemon::Signals* signals, std::function<void()> on_reload) {
    Loop& first = *impl_->loops.front();
    if (signals != nullptr) {
        impl_->signal_watch =
            std::make_unique<asio::posix::stream_descriptor>(first.io, ::dup(signals->fd()));
        impl_->watch_signals(signals, on_reload);
    }
    impl_->pool.start();
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < impl_->loops.size(); ++i)
        threads.emplace_back([this, i] { run_loop(impl_->loops[i]->io, impl_->log); });
    run_loop(first.io, impl_->log);
    impl_->shutdown();  // the other loops, when the first stopped on its own
    for (auto& t : threads) t.join();
    impl_->pool.stop();
    for (std::size_t i = 0; i < impl_->loops.size(); ++i) {
        const auto& st = impl_->loops[i]->socketmap.stats();
        if (st.requests > 0)
            impl_->log.info("socketmap loop {}: {} requests, {} answered from the cache, {} TEMP",
                            i, st.requests, st.cached, st.temp);
    }
}

void Server::stop() {
    impl_->shutdown();
}

void Server::reconfigure(StoreFactory stores, std::string recipient_delimiter) {
    for (auto& l : impl_->loops)
        asio::post(l->io, [loop = l.get(), stores, recipient_delimiter] {
            loop->source.reopen_with(stores.open, stores.identity);
            loop->socketmap.set_recipient_delimiter(recipient_delimiter);
        });
    impl_->pool.reopen_with(std::move(stores));
}

std::size_t Server::connections() const {
    return impl_->conns.load();
}

}  // namespace yubin::authd
