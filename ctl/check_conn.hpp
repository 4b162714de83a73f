// A client connection for yubinctl check: TCP with an optional TLS layer
// (implicit or after STARTTLS/STLS), line reads bounded in length and time.
//
// SECURITY: reads server output. Each read_line() has one deadline (the
// connection timeout) however slowly the bytes drip in, and fails past
// kMaxReplyLine bytes without a newline; read_bytes() is bounded by its
// caller. Bytes the server sends before the TLS handshake that follows a
// STARTTLS reply are refused (the plaintext-injection attack, CVE-2011-0411).
// Certificates are checked against the system store or --cafile and the host
// name with OpenSSL's own verification; the results are recorded, not
// enforced, so that the check can report each problem by name.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/fd.hpp"
#include "core/util/result.hpp"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace yubin::ctl::check {

// What the TLS handshake showed about the server's certificate.
struct TlsInfo {
    std::string version;                   // "TLSv1.3"
    std::string cipher;                    // "TLS_AES_256_GCM_SHA384"
    bool has_cert = false;
    std::string subject, issuer;           // one-line forms
    std::string name;                      // the name checked against the certificate
    bool name_matches = false;
    std::vector<std::string> chain_errors; // "depth 0: self-signed certificate", ...
    bool only_self_signed = false;         // every chain error says "self-signed"
    long days_left = 0;                    // until notAfter; negative when expired
};

class TlsContext {
public:
    // Verification against CAFILE, or the system store when empty.
    [[nodiscard]] static Result<std::shared_ptr<TlsContext>> make(const std::string& cafile);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;
    [[nodiscard]] SSL_CTX* get() const { return ctx_; }

private:
    explicit TlsContext(SSL_CTX* c) : ctx_(c) {}
    SSL_CTX* ctx_;
};

class Connection {
public:
    // Connects to HOST:PORT (name or address) within TIMEOUT, from BIND when
    // not empty. The same timeout bounds every later read, write and handshake.
    [[nodiscard]] static Result<Connection> open(const std::string& host, int port,
                                                 std::chrono::milliseconds timeout,
                                                 const std::string& bind = "");
    Connection(Connection&&) noexcept;
    Connection& operator=(Connection&&) noexcept;
    ~Connection();

    // TLS handshake (after STARTTLS, or at once for SMTPS/IMAPS/POP3S);
    // NAME is checked against the certificate and sent as SNI.
    [[nodiscard]] Status start_tls(const TlsContext&, const std::string& name);
    [[nodiscard]] Result<std::string> read_line();  // without CR LF
    [[nodiscard]] Result<std::string> read_bytes(std::size_t n);
    [[nodiscard]] Status write(std::string_view data);
    [[nodiscard]] bool tls() const { return ssl_ != nullptr; }
    [[nodiscard]] const TlsInfo& tls_info() const { return *info_; }
    [[nodiscard]] const std::string& peer_address() const { return peer_; }

private:
    Connection(UniqueFd fd, std::chrono::milliseconds timeout, std::string peer);
    using Deadline = std::chrono::steady_clock::time_point;
    [[nodiscard]] Status fill(Deadline);
    [[nodiscard]] Status wait(short events, Deadline);

    UniqueFd fd_;
    std::chrono::milliseconds timeout_;
    std::string peer_;
    SSL* ssl_ = nullptr;
    std::unique_ptr<TlsInfo> info_;
    std::string buf_;
};

}  // namespace yubin::ctl::check
