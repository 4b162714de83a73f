#include "policyd/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include "core/util/strings.hpp"

namespace yubin::policyd {
namespace {

constexpr std::uint64_t kListenerTag = 0;
constexpr std::uint64_t kWakeTag = 1;
constexpr std::uint64_t kSignalTag = 2;
constexpr std::size_t kReadChunk = 16384;
constexpr int kMaxAcceptsPerWakeup = 256;
constexpr int kMaxReadsPerWakeup = 4;  // fairness between busy connections
constexpr std::size_t kKeptBatchSlots = 256;

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string peer_name(const sockaddr_storage& ss) {
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss.ss_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
        ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        return fmt::format("{}:{}", host, ntohs(a->sin_port));
    }
    if (ss.ss_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
        ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        // fmt rather than operator+: gcc 12 -O2 warns falsely (-Wrestrict) on the chain.
        return fmt::format("[{}]:{}", host, ntohs(a->sin6_port));
    }
    return "unix";
}

}  // namespace

struct Server::Conn {
    Conn(std::uint64_t i, int f, ParserLimits limits) : id(i), fd(f), parser(limits) {}
    std::uint64_t id;
    UniqueFd fd;
    RequestParser parser;
    std::string out;
    std::size_t out_off = 0;
    std::int64_t last_active = 0;
    std::list<std::uint64_t>::iterator idle_pos;
    std::uint32_t events = 0;
    std::string peer;
    std::size_t unanswered = 0;  // requests of this connection in batch_
    bool closing = false;        // the peer has finished sending: close once answered
};

Result<std::unique_ptr<Server>> Server::create(UniqueFd listener, ServerOptions opts,
                                               Handler handler, log::Logger& log) {
    UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
    if (!ep) return fail(errno_error("epoll_create1", errno));
    UniqueFd wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!wake) return fail(errno_error("eventfd", errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeTag;
    if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, wake.get(), &ev) < 0)
        return fail(errno_error("epoll_ctl", errno));
    std::unique_ptr<Server> s(new Server(std::move(listener), std::move(ep), std::move(wake), opts,
                                         std::move(handler), log));
    s->set_listening(true);
    if (!s->listening_) return fail(ErrorKind::Internal, "cannot watch the listening socket");
    return s;
}

Server::Server(UniqueFd listener, UniqueFd epoll, UniqueFd wake, ServerOptions opts,
               Handler handler, log::Logger& log)
    : listener_(std::move(listener)),
      epoll_(std::move(epoll)),
      wake_(std::move(wake)),
      opts_(opts),
      handler_(std::move(handler)),
      log_(log) {}

Server::~Server() = default;

void Server::request_stop() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
}

void Server::set_listening(bool on) {
    if (on == listening_) return;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenerTag;
    if (::epoll_ctl(epoll_.get(), on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, listener_.get(), &ev) == 0)
        listening_ = on;
}

void Server::accept_all(std::int64_t now) {
    for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
        if (conns_.size() >= opts_.max_connections) {
            set_listening(false);
            if (now - last_full_warning_ms_ >= 60'000) {
                last_full_warning_ms_ = now;
                log_.warning("{} connections open (policyd_max_connections): new ones wait",
                             conns_.size());
            }
            return;
        }
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        int fd = ::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&ss), &len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                log_.warning("accept: {}", std::strerror(errno));
            return;
        }
        auto c = std::make_unique<Conn>(next_id_++, fd, opts_.limits);
        if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
            int one = 1;  // one reply per write: never wait for the peer's ACK
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        c->peer = peer_name(ss);
        c->last_active = now;
        c->idle_pos = idle_order_.insert(idle_order_.end(), c->id);
        c->events = EPOLLIN | EPOLLRDHUP;
        epoll_event ev{};
        ev.events = c->events;
        ev.data.u64 = c->id;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
            log_.warning("epoll_ctl: {}", std::strerror(errno));
            idle_order_.erase(c->idle_pos);
            continue;
        }
        log_.debug("connect from {}", c->peer);
        conns_.emplace(c->id, std::move(c));
    }
}

void Server::close_conn(std::uint64_t id) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    idle_order_.erase(it->second->idle_pos);
    conns_.erase(it);  // closing the fd removes it from the epoll set
    if (!listening_ && conns_.size() < opts_.max_connections) set_listening(true);
}

void Server::update_events(Conn& c) {
    std::uint32_t want = EPOLLRDHUP;
    bool pending = c.out.size() > c.out_off;
    if (c.out.size() - c.out_off < kMaxPendingOutput) want |= EPOLLIN;
    if (pending) want |= EPOLLOUT;
    if (want == c.events) return;
    c.events = want;
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = c.id;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
}

void Server::flush(Conn& c) {
    while (c.out_off < c.out.size()) {
        ssize_t n =
            ::send(c.fd.get(), c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            throw std::system_error(errno, std::generic_category(), "send");
        }
        c.out_off += static_cast<std::size_t>(n);
    }
    if (c.out_off == c.out.size()) {
        c.out.clear();
        c.out_off = 0;
    }
}

// Returns with the connection still open, or throws to have it closed.
void Server::on_readable(Conn& c, std::int64_t now) {
    char buf[kReadChunk];
    for (int round = 0; round < kMaxReadsPerWakeup; ++round) {
        // The peer must read first; requests waiting for an answer count as
        // output (a pipelining peer cannot grow the batch without bound).
        if (c.out.size() - c.out_off + c.unanswered * 64 >= kMaxPendingOutput) return;
        ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            throw std::system_error(errno, std::generic_category(), "recv");
        }
        if (n == 0) {
            if (c.unanswered > 0) {  // answer what came before the end, then close
                c.closing = true;
                return;
            }
            if (c.parser.in_request())
                log_.info("warning: connection from {} closed in the middle of a request", c.peer);
            throw std::runtime_error("");  // orderly close
        }
        std::string_view data(buf, static_cast<std::size_t>(n));
        while (!data.empty()) {
            auto step = c.parser.feed(data);
            data.remove_prefix(step.consumed);
            if (step.status == RequestParser::Status::Error) {
                log_.warning("malformed request from {}: {}; closing without a reply", c.peer,
                             c.parser.error());
                throw std::runtime_error("");
            }
            if (step.status == RequestParser::Status::Complete) {
                if (batch_len_ == batch_.size()) batch_.emplace_back();
                auto& slot = batch_[batch_len_++];
                slot.first = c.id;
                c.parser.take_into(slot.second);
                ++c.unanswered;
                c.last_active = now;
                idle_order_.splice(idle_order_.end(), idle_order_, c.idle_pos);
            }
        }
        if (static_cast<std::size_t>(n) < sizeof buf) return;
    }
}

// Answers the requests that completed in this wakeup, in arrival order, and
// sends the replies: one prepare() for all of them first.
void Server::answer_batch() {
    if (batch_len_ == 0) return;
    std::span<std::pair<std::uint64_t, Request>> batch(batch_.data(), batch_len_);
    if (prepare_) {
        batch_reqs_.clear();
        for (const auto& [id, req] : batch) batch_reqs_.push_back(&req);
        prepare_(batch_reqs_);
    }
    touched_.clear();
    for (auto& [id, req] : batch) {
        auto it = conns_.find(id);
        if (it == conns_.end()) continue;  // closed since: its answer has no reader
        Conn& c = *it->second;
        append_reply(c.out, handler_(req));
        if (c.unanswered > 0) --c.unanswered;
        if (touched_.empty() || touched_.back() != id) touched_.push_back(id);
    }
    batch_len_ = 0;
    // A burst of pipelined requests must not pin its memory for good.
    if (batch_.size() > kKeptBatchSlots) batch_.resize(kKeptBatchSlots);
    for (std::uint64_t id : touched_) {
        auto it = conns_.find(id);
        if (it == conns_.end()) continue;
        Conn& c = *it->second;
        try {
            flush(c);
            if (c.closing) {
                close_conn(id);
                continue;
            }
            update_events(c);
        } catch (const std::exception& e) {
            log_.debug("connection {}: {}", c.peer, e.what());
            close_conn(id);
        }
    }
    // After the replies went out: what it does (queued state updates) does
    // not delay them.
    if (finish_) finish_();
}

void Server::expire_idle(std::int64_t now) {
    while (!idle_order_.empty()) {
        auto it = conns_.find(idle_order_.front());
        if (it == conns_.end()) {  // cannot happen; keep the list consistent anyway
            idle_order_.pop_front();
            continue;
        }
        Conn& c = *it->second;
        if (now - c.last_active < opts_.idle_timeout_ms) return;
        if (c.parser.in_request())
            log_.warning("timeout: {} did not finish its request within {}s; closing", c.peer,
                         opts_.idle_timeout_ms / 1000);
        else
            log_.debug("idle timeout: {}", c.peer);
        close_conn(c.id);
    }
}

Status Server::run(int signal_fd, const std::function<Event()>& on_signal,
                   const std::function<void()>& on_reload) {
    if (signal_fd >= 0) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = kSignalTag;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, signal_fd, &ev) < 0)
            return fail(errno_error("epoll_ctl signal fd", errno));
    }
    ScopeExit unwatch([&] {
        if (signal_fd >= 0) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, signal_fd, nullptr);
    });
    epoll_event events[256];
    for (;;) {
        std::int64_t now = steady_ms();
        int timeout = 1000;
        if (!idle_order_.empty()) {
            auto it = conns_.find(idle_order_.front());
            if (it != conns_.end()) {
                std::int64_t due = it->second->last_active + opts_.idle_timeout_ms - now;
                timeout = static_cast<int>(std::clamp<std::int64_t>(due + 1, 0, 1000));
            }
        }
        int n = ::epoll_wait(epoll_.get(), events, 256, timeout);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(errno_error("epoll_wait", errno));
        }
        now = steady_ms();
        for (int i = 0; i < n; ++i) {
            std::uint64_t tag = events[i].data.u64;
            if (tag == kListenerTag) {
                accept_all(now);
            } else if (tag == kWakeTag) {
                conns_.clear();
                idle_order_.clear();
                return {};
            } else if (tag == kSignalTag) {
                Event e = on_signal();
                if (e == Event::Stop) {
                    conns_.clear();
                    idle_order_.clear();
                    return {};
                }
                if (e == Event::Reload && on_reload) on_reload();
            } else {
                auto it = conns_.find(tag);
                if (it == conns_.end()) continue;  // closed earlier in this batch
                Conn& c = *it->second;
                try {
                    std::uint32_t ev = events[i].events;
                    if (ev & EPOLLOUT) flush(c);
                    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(c, now);
                    update_events(c);
                } catch (const std::system_error& e) {
                    log_.debug("connection {}: {}", c.peer, e.what());
                    close_conn(tag);
                } catch (const std::exception&) {
                    close_conn(tag);
                }
            }
        }
        answer_batch();
        expire_idle(now);
    }
}

}  // namespace yubin::policyd
