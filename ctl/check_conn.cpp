#include "ctl/check_conn.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ctl/check_reply.hpp"

namespace yubin::ctl::check {
namespace {

std::string ssl_error_text() {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return "TLS error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

std::string name_line(const X509_NAME* n) {
    if (n == nullptr) return {};
    char buf[512];
    X509_NAME_oneline(n, buf, sizeof buf);
    return buf;
}

bool is_ip(const std::string& h) {
    unsigned char b[16];
    return ::inet_pton(AF_INET, h.c_str(), b) == 1 || ::inet_pton(AF_INET6, h.c_str(), b) == 1;
}

// Records every chain problem and lets the handshake go on: the check
// reports them, it does not need to refuse the connection to see them.
int record_verify(int ok, X509_STORE_CTX* store) {
    if (ok == 1) return 1;
    auto* ssl = static_cast<SSL*>(
        X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* info = ssl == nullptr ? nullptr : static_cast<TlsInfo*>(SSL_get_app_data(ssl));
    int err = X509_STORE_CTX_get_error(store);
    if (info != nullptr && info->chain_errors.size() < 10) {
        std::string e = "depth " + std::to_string(X509_STORE_CTX_get_error_depth(store)) + ": " +
                        X509_verify_cert_error_string(err);
        bool dup = false;
        for (const auto& x : info->chain_errors) dup = dup || x == e;
        if (!dup) info->chain_errors.push_back(e);
        bool self = err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
                    err == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN;
        info->only_self_signed = (info->chain_errors.size() == 1 || info->only_self_signed) && self;
    }
    return 1;
}

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::make(const std::string& cafile) {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    if (c == nullptr) return fail(ErrorKind::Internal, ssl_error_text());
    std::shared_ptr<TlsContext> ctx(new TlsContext(c));
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    int loaded = cafile.empty() ? SSL_CTX_set_default_verify_paths(c)
                                : SSL_CTX_load_verify_locations(c, cafile.c_str(), nullptr);
    if (loaded != 1)
        return fail(ErrorKind::Config, "cannot load CA certificates " +
                                           (cafile.empty() ? std::string("(system store)") : cafile) +
                                           ": " + ssl_error_text());
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, record_verify);
    return ctx;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Connection::Connection(UniqueFd fd, std::chrono::milliseconds timeout, std::string peer)
    : fd_(std::move(fd)), timeout_(timeout), peer_(std::move(peer)),
      info_(std::make_unique<TlsInfo>()) {}

Connection::Connection(Connection&& o) noexcept
    : fd_(std::move(o.fd_)), timeout_(o.timeout_), peer_(std::move(o.peer_)),
      ssl_(std::exchange(o.ssl_, nullptr)), info_(std::move(o.info_)), buf_(std::move(o.buf_)) {}

Connection& Connection::operator=(Connection&& o) noexcept {
    if (this != &o) {
        if (ssl_ != nullptr) SSL_free(ssl_);
        fd_ = std::move(o.fd_);
        timeout_ = o.timeout_;
        peer_ = std::move(o.peer_);
        ssl_ = std::exchange(o.ssl_, nullptr);
        info_ = std::move(o.info_);
        buf_ = std::move(o.buf_);
    }
    return *this;
}

Connection::~Connection() {
    if (ssl_ != nullptr) SSL_free(ssl_);  // no close_notify: the check is done with it
}

Result<Connection> Connection::open(const std::string& host, int port,
                                    std::chrono::milliseconds timeout, const std::string& bind) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string service = std::to_string(port);
    int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
    if (rc != 0) return fail(ErrorKind::Temp, "cannot resolve " + host + ": " + gai_strerror(rc));
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
    std::string last = "no address";
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!fd) {
            last = std::strerror(errno);
            continue;
        }
        if (!bind.empty()) {
            addrinfo bh{};
            bh.ai_family = ai->ai_family;
            bh.ai_socktype = SOCK_STREAM;
            bh.ai_flags = AI_NUMERICHOST;
            addrinfo* b = nullptr;
            if (::getaddrinfo(bind.c_str(), nullptr, &bh, &b) != 0) {
                last = "cannot use --bind " + bind + " for this address family";
                continue;
            }
            int brc = ::bind(fd.get(), b->ai_addr, b->ai_addrlen);
            int berr = errno;
            freeaddrinfo(b);
            if (brc != 0) {
                last = "bind " + bind + ": " + std::strerror(berr);
                continue;
            }
        }
        char addr[INET6_ADDRSTRLEN] = "?";
        void* a = ai->ai_family == AF_INET
                      ? static_cast<void*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr)
                      : static_cast<void*>(&reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr);
        ::inet_ntop(ai->ai_family, a, addr, sizeof addr);
        if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
            last = std::string(addr) + ": " + std::strerror(errno);
            continue;
        }
        Connection c(std::move(fd), timeout, addr);
        auto deadline = std::chrono::steady_clock::now() + timeout;
        if (auto w = c.wait(POLLOUT, deadline); !w) {
            last = std::string(addr) + ": connect: " + w.error().what;
            continue;
        }
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(c.fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            last = std::string(addr) + ": " + std::strerror(err);
            continue;
        }
        return c;
    }
    return fail(ErrorKind::Temp, "cannot connect to " + host + " port " + service + ": " + last);
}

Status Connection::wait(short events, Deadline deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return fail(ErrorKind::Temp, "timed out");
        pollfd p{fd_.get(), events, 0};
        int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n > 0) return {};
        if (n < 0 && errno != EINTR) return fail(errno_error("poll", errno));
    }
}

Status Connection::fill(Deadline deadline) {
    char tmp[4096];
    for (;;) {
        if (ssl_ != nullptr) {
            int n = SSL_read(ssl_, tmp, sizeof tmp);
            if (n > 0) {
                buf_.append(tmp, static_cast<std::size_t>(n));
                return {};
            }
            int e = SSL_get_error(ssl_, n);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                if (auto w = wait(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline); !w)
                    return w;
                continue;
            }
            if (e == SSL_ERROR_ZERO_RETURN) return fail(ErrorKind::Temp, "connection closed");
            if (e == SSL_ERROR_SYSCALL) return fail(ErrorKind::Temp, "connection closed (TLS)");
            return fail(ErrorKind::Temp, "TLS read: " + ssl_error_text());
        }
        ssize_t n = ::recv(fd_.get(), tmp, sizeof tmp, 0);
        if (n > 0) {
            buf_.append(tmp, static_cast<std::size_t>(n));
            return {};
        }
        if (n == 0) return fail(ErrorKind::Temp, "connection closed");
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return fail(errno_error("recv", errno));
        if (auto w = wait(POLLIN, deadline); !w) return w;
    }
}

Result<std::string> Connection::read_line() {
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    std::size_t scanned = 0;
    for (;;) {
        auto nl = buf_.find('\n', scanned);
        if (nl != std::string::npos) {
            if (nl > kMaxReplyLine) break;
            std::string line = buf_.substr(0, nl);
            buf_.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            return line;
        }
        scanned = buf_.size();
        if (buf_.size() > kMaxReplyLine) break;
        if (auto f = fill(deadline); !f) return fail(f.error());
    }
    return fail(ErrorKind::BadInput, "line longer than " + std::to_string(kMaxReplyLine) + " bytes");
}

Result<std::string> Connection::read_bytes(std::size_t n) {
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    while (buf_.size() < n) {
        if (auto f = fill(deadline); !f) return fail(f.error());
    }
    std::string out = buf_.substr(0, n);
    buf_.erase(0, n);
    return out;
}

Status Connection::write(std::string_view data) {
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    while (!data.empty()) {
        if (ssl_ != nullptr) {
            int n = SSL_write(ssl_, data.data(), static_cast<int>(std::min<std::size_t>(data.size(), 1 << 20)));
            if (n > 0) {
                data.remove_prefix(static_cast<std::size_t>(n));
                continue;
            }
            int e = SSL_get_error(ssl_, n);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                if (auto w = wait(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline); !w)
                    return w;
                continue;
            }
            return fail(ErrorKind::Temp, "TLS write: " + ssl_error_text());
        }
        ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (auto w = wait(POLLOUT, deadline); !w) return w;
            continue;
        }
        return fail(errno_error("send", errno));
    }
    return {};
}

Status Connection::start_tls(const TlsContext& ctx, const std::string& name) {
    if (ssl_ != nullptr) return fail(ErrorKind::BadInput, "TLS is already on");
    if (!buf_.empty())
        return fail(ErrorKind::Perm,
                    "the server sent data before the TLS handshake (plaintext injection)");
    ssl_ = SSL_new(ctx.get());
    if (ssl_ == nullptr) return fail(ErrorKind::Internal, ssl_error_text());
    *info_ = TlsInfo{};
    info_->name = name;
    SSL_set_app_data(ssl_, info_.get());
    if (!is_ip(name)) SSL_set_tlsext_host_name(ssl_, name.c_str());
    SSL_set_fd(ssl_, fd_.get());
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (;;) {
        int r = SSL_connect(ssl_);
        if (r == 1) break;
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (auto w = wait(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline); !w)
                return fail(ErrorKind::Temp, "TLS handshake " + w.error().what);
            continue;
        }
        return fail(ErrorKind::Temp, "TLS handshake failed: " + ssl_error_text());
    }
    info_->version = SSL_get_version(ssl_);
    info_->cipher = SSL_get_cipher_name(ssl_);
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (cert != nullptr) {
        info_->has_cert = true;
        info_->subject = name_line(X509_get_subject_name(cert));
        info_->issuer = name_line(X509_get_issuer_name(cert));
        info_->name_matches = is_ip(name) ? X509_check_ip_asc(cert, name.c_str(), 0) == 1
                                          : X509_check_host(cert, name.c_str(), 0, 0, nullptr) == 1;
        int days = 0, secs = 0;
        if (ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(cert)) == 1)
            info_->days_left = days;
        X509_free(cert);
    }
    return {};
}

}  // namespace yubin::ctl::check
