// The event loop over a unix socket in a temp directory: persistent and
// pipelined requests, garbage closed without a reply while other clients are
// served, idle and slow-client timeouts, 500 concurrent connections, the
// connection cap, a peer that never reads.
#include "policyd/server.hpp"

#include <doctest/doctest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/daemon/listen.hpp"
#include "core/log/logger.hpp"
#include "core/log/sink.hpp"

using namespace yubin;
using namespace yubin::policyd;

namespace {

const std::string kRequest =
    "request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@example.net\n"
    "recipient=b@example.com\nclient_address=192.0.2.1\n\n";

class Running {
public:
    explicit Running(ServerOptions opts = {}) {
        char tmpl[] = "/tmp/yubin-policyd-srv.XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/policy";
        daemon::ListenSpec spec;
        spec.kind = daemon::ListenSpec::Kind::Unix;
        spec.path = path_;
        auto fd = daemon::listen_on(spec);
        REQUIRE(fd);
        auto s = Server::create(
            std::move(*fd), opts,
            [this](const Request& r) {
                ++handled;
                return "DUNNO " + r.protocol_state + " " + r.sender;
            },
            log_);
        REQUIRE(s);
        server_ = std::move(*s);
        server_->set_prepare([this](std::span<const Request* const> batch) {
            std::vector<std::string> senders;
            for (const Request* r : batch) senders.push_back(r->sender);
            std::lock_guard lock(mu_);
            batches_.push_back(std::move(senders));
        });
        thread_ = std::thread([this] { status_ = server_->run(-1, {}, {}); });
    }
    ~Running() {
        server_->request_stop();
        thread_.join();
        std::filesystem::remove_all(dir_);
    }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;

    [[nodiscard]] UniqueFd connect() const {
        UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        REQUIRE(fd);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        path_.copy(sa.sun_path, sizeof sa.sun_path - 1);
        REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        return fd;
    }
    bool logged(std::string_view what) const {
        for (const auto& [lvl, line] : sink_.snapshot())
            if (line.find(what) != std::string::npos) return true;
        return false;
    }

    std::atomic<int> handled{0};
    std::vector<std::vector<std::string>> batches() {
        std::lock_guard lock(mu_);
        return batches_;
    }

private:
    std::mutex mu_;
    std::vector<std::vector<std::string>> batches_;
    std::string dir_, path_;
    log::MemorySink sink_;
    log::Logger log_{sink_, true};
    std::unique_ptr<Server> server_;
    std::thread thread_;
    Status status_;
};

void send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        REQUIRE(n > 0);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Reads until `count` replies ("\n\n"-terminated) arrived, EOF, or timeout.
// Returns what was read; *eof tells whether the peer closed.
std::string read_replies(int fd, int count, int timeout_ms = 10000, bool* eof = nullptr) {
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    if (eof) *eof = false;
    auto complete = [&] {
        int n = 0;
        for (std::size_t p = 0; (p = got.find("\n\n", p)) != std::string::npos; p += 2) ++n;
        return n >= count;
    };
    while (!complete()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
        if (left <= 0) break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        char buf[65536];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            if (eof) *eof = true;
            break;
        }
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
}

}  // namespace

TEST_CASE("policyd server: persistent connection, many requests in order") {
    Running srv;
    auto c = srv.connect();
    for (int i = 0; i < 500; ++i) {
        std::string req = "request=smtpd_access_policy\nprotocol_state=RCPT\nsender=s" +
                          std::to_string(i) + "@example.net\n\n";
        send_all(c.get(), req);
        REQUIRE(read_replies(c.get(), 1) ==
                "action=DUNNO RCPT s" + std::to_string(i) + "@example.net\n\n");
    }
}

TEST_CASE("policyd server: pipelined requests, split writes and CRLF") {
    Running srv;
    auto c = srv.connect();
    std::string three = kRequest + kRequest + kRequest;
    send_all(c.get(), three.substr(0, 7));
    send_all(c.get(), three.substr(7));
    CHECK(read_replies(c.get(), 3) ==
          "action=DUNNO RCPT a@example.net\n\n"
          "action=DUNNO RCPT a@example.net\n\n"
          "action=DUNNO RCPT a@example.net\n\n");
    send_all(c.get(), "request=smtpd_access_policy\r\nprotocol_state=DATA\r\n\r\n");
    CHECK(read_replies(c.get(), 1) == "action=DUNNO DATA \n\n");
}

TEST_CASE("policyd server: requests that arrive together are prepared as one batch") {
    Running srv;
    auto c = srv.connect();
    std::string three;
    for (const char* s : {"x@example.net", "y@example.net", "z@example.net"})
        three += std::string("request=smtpd_access_policy\nprotocol_state=RCPT\nsender=") + s +
                 "\n\n";
    send_all(c.get(), three);
    CHECK(read_replies(c.get(), 3) ==
          "action=DUNNO RCPT x@example.net\n\n"
          "action=DUNNO RCPT y@example.net\n\n"
          "action=DUNNO RCPT z@example.net\n\n");
    auto b = srv.batches();
    REQUIRE(b.size() == 1);
    CHECK(b[0] == std::vector<std::string>{"x@example.net", "y@example.net", "z@example.net"});
    // A request followed by the end of the peer's writing is still answered.
    auto d = srv.connect();
    send_all(d.get(), kRequest);
    ::shutdown(d.get(), SHUT_WR);
    bool eof = false;
    CHECK(read_replies(d.get(), 2, 5000, &eof) == "action=DUNNO RCPT a@example.net\n\n");
    CHECK(eof);
}

TEST_CASE("policyd server: garbage is closed without a reply, others keep being served") {
    Running srv;
    auto good = srv.connect();
    const std::vector<std::string> garbage = {
        "GET / HTTP/1.0\r\n\r\n",
        std::string("request=smtpd_access_policy\nsender=a\0b\n\n", 38),
        std::string(20000, 'x'),
        "request=smtpd_access_policy\n" +
            [] {
                std::string s;
                for (int i = 0; i < 10000; ++i) s += "a" + std::to_string(i) + "=b\n";
                return s;
            }() +
            "\n",
        "\n",
    };
    for (const auto& g : garbage) {
        auto bad = srv.connect();
        ::send(bad.get(), g.data(), g.size(), MSG_NOSIGNAL);
        bool eof = false;
        std::string got = read_replies(bad.get(), 1, 10000, &eof);
        CHECK(eof);
        CHECK(got.empty());
        send_all(good.get(), kRequest);
        CHECK(read_replies(good.get(), 1) == "action=DUNNO RCPT a@example.net\n\n");
    }
    CHECK(srv.logged("malformed request from unix"));
    CHECK(srv.handled == static_cast<int>(garbage.size()));
}

TEST_CASE("policyd server: connections closed mid-request do not disturb others") {
    Running srv;
    for (int i = 0; i < 50; ++i) {
        auto c = srv.connect();
        send_all(c.get(), kRequest.substr(0, static_cast<std::size_t>(i) % kRequest.size()));
    }
    auto c = srv.connect();
    send_all(c.get(), kRequest);
    CHECK(read_replies(c.get(), 1) == "action=DUNNO RCPT a@example.net\n\n");
    CHECK(srv.handled == 1);
}

TEST_CASE("policyd server: idle timeout and slow clients") {
    ServerOptions o;
    o.idle_timeout_ms = 400;
    Running srv(o);
    auto idle = srv.connect();
    send_all(idle.get(), kRequest);
    CHECK(read_replies(idle.get(), 1).size() > 0);
    auto t0 = std::chrono::steady_clock::now();
    bool eof = false;
    read_replies(idle.get(), 1, 10000, &eof);
    CHECK(eof);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    // Trickling one byte at a time does not keep a connection alive.
    auto slow = srv.connect();
    bool closed = false;
    for (std::size_t i = 0; i < kRequest.size() && !closed; ++i) {
        if (::send(slow.get(), &kRequest[i], 1, MSG_NOSIGNAL) != 1) closed = true;
        std::string got = read_replies(slow.get(), 1, 100, &eof);
        if (eof) closed = true;
        CHECK(got.empty());
    }
    CHECK(closed);
    CHECK(srv.logged("did not finish its request"));
}

TEST_CASE("policyd server: 500 concurrent connections") {
    rlimit rl{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &rl) == 0);
    if (rl.rlim_cur < 2048 && rl.rlim_max >= 2048) {
        rl.rlim_cur = 2048;
        REQUIRE(::setrlimit(RLIMIT_NOFILE, &rl) == 0);
    }
    REQUIRE(rl.rlim_cur >= 1100);  // 500 clients + 500 server ends + spare
    Running srv;
    std::vector<UniqueFd> conns;
    for (int i = 0; i < 500; ++i) conns.push_back(srv.connect());
    for (auto& c : conns) send_all(c.get(), kRequest);
    int ok = 0;
    for (auto& c : conns)
        if (read_replies(c.get(), 1) == "action=DUNNO RCPT a@example.net\n\n") ++ok;
    CHECK(ok == 500);
    // And again on the same connections (persistent).
    for (auto& c : conns) send_all(c.get(), kRequest);
    ok = 0;
    for (auto& c : conns)
        if (read_replies(c.get(), 1) == "action=DUNNO RCPT a@example.net\n\n") ++ok;
    CHECK(ok == 500);
}

TEST_CASE("policyd server: connection cap leaves extra clients in the backlog") {
    ServerOptions o;
    o.max_connections = 2;
    Running srv(o);
    auto a = srv.connect();
    auto b = srv.connect();
    send_all(a.get(), kRequest);
    send_all(b.get(), kRequest);
    CHECK(!read_replies(a.get(), 1).empty());
    CHECK(!read_replies(b.get(), 1).empty());
    auto c = srv.connect();  // the kernel completes it; the server does not accept yet
    send_all(c.get(), kRequest);
    CHECK(read_replies(c.get(), 1, 300).empty());
    a.reset();
    CHECK(read_replies(c.get(), 1) == "action=DUNNO RCPT a@example.net\n\n");
    CHECK(srv.logged("connections open (policyd_max_connections)"));
}

TEST_CASE("policyd server: a peer that never reads does not block the others") {
    Running srv;
    auto hog = srv.connect();
    std::string many;
    for (int i = 0; i < 2000; ++i) many += kRequest;
    // Non-blocking: write what fits, the server stops reading when its
    // output for this peer is full.
    ::shutdown(hog.get(), SHUT_RD);
    std::size_t off = 0;
    for (int round = 0; round < 50 && off < many.size(); ++round) {
        ssize_t n =
            ::send(hog.get(), many.data() + off, many.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0)
            off += static_cast<std::size_t>(n);
        else
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto c = srv.connect();
    send_all(c.get(), kRequest);
    CHECK(read_replies(c.get(), 1) == "action=DUNNO RCPT a@example.net\n\n");
}
