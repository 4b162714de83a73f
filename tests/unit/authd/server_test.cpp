// The event loop against real sockets: pipelining, bounds, timeouts, limits,
// the saslauthd path through a worker, and stop().
#include "dovecot-auth/authd/server.hpp"

#include <doctest/doctest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/daemon/listen.hpp"
#include "core/log/logger.hpp"
#include "core/log/sink.hpp"
#include "core/store/store.hpp"

using namespace yubin;
using namespace yubin::authd;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    std::string dir;
    std::string db, sm_path, sasl_path;
    log::MemorySink sink;
    log::Logger log{sink, true};
    std::unique_ptr<Server> server;
    std::thread loop;

    explicit Fixture(ServerLimits limits) {
        char tmpl[] = "/tmp/yubin-authd-srv.XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir = tmpl;
        db = dir + "/s.db";
        sm_path = dir + "/sm";
        sasl_path = dir + "/sasl";
        {
            auto s = store::open_store("sqlite:" + db, {});
            REQUIRE(s);
            REQUIRE((*s)->add_domain({.name = "example.com"}));
            REQUIRE((*s)->add_mailbox({.address = "taro@example.com"}));
        }
        auto opener = [db = db] {
            return store::open_store("sqlite:" + db, store::StoreOptions{.read_only = true});
        };
        // The fake verifier: "good" is the password of everybody, "slow"
        // takes a while, "down" is a store outage.
        server = std::make_unique<Server>(log, limits, StoreFactory{opener, {}}, "+",
                                          [](StoreSource&, const SaslauthdRequest& req) {
                                              auth::AuthResult r;
                                              auto pw = req.password.view();
                                              if (pw == "slow") std::this_thread::sleep_for(200ms);
                                              r.outcome =
                                                  pw == "good" || pw == "slow" ? auth::Outcome::Ok
                                                  : pw == "down" ? auth::Outcome::TempFail
                                                                 : auth::Outcome::PasswordMismatch;
                                              return r;
                                          });
        for (auto [path, sasl] : {std::pair{sm_path, false}, std::pair{sasl_path, true}}) {
            daemon::ListenSpec spec;
            spec.kind = daemon::ListenSpec::Kind::Unix;
            spec.path = path;
            daemon::ListenOptions lo;
            lo.unix_mode = 0600;
            auto fd = daemon::listen_on(spec, lo);
            REQUIRE(fd);
            if (sasl)
                server->add_saslauthd_listener(std::move(*fd), AF_UNIX);
            else
                server->add_socketmap_listener(std::move(*fd), AF_UNIX);
        }
        loop = std::thread([this] { server->run(nullptr, {}); });
    }
    ~Fixture() {
        server->stop();
        loop.join();
        std::filesystem::remove_all(dir);
    }
    Fixture(const Fixture&) = delete;
    Fixture& operator=(const Fixture&) = delete;
};

int connect_to(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, sizeof a.sun_path - 1);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    return fd;
}

void send_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
        if (n <= 0) return;  // the server may close on us: the reads tell
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Reads until `want` bytes, EOF or the timeout; returns what arrived.
std::string recv_for(int fd, std::size_t want, std::chrono::milliseconds timeout) {
    std::string out;
    auto end = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (out.size() < want) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            end - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

// True if the peer closed within the timeout.
bool closed_within(int fd, std::chrono::milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char c;
    return ::recv(fd, &c, 1, 0) == 0;
}

std::string ns(std::string_view s) {
    return std::to_string(s.size()) + ":" + std::string(s) + ",";
}

std::string counted(std::string_view s) {
    std::string out;
    append_counted(out, s);
    return out;
}

std::string sasl_request(std::string_view user, std::string_view pw) {
    return counted(user) + counted(pw) + counted("smtp") + counted("");
}

}  // namespace

TEST_CASE("server: pipelined socketmap requests on one connection") {
    Fixture f(ServerLimits{});
    int fd = connect_to(f.sm_path);
    std::string req = ns("mailbox taro@example.com") + ns("domain example.com") +
                      ns("mailbox nobody@example.com");
    std::string want = ns("OK example.com/taro/Maildir/") + ns("OK example.com") + ns("NOTFOUND ");
    // Sent one byte at a time, then all at once.
    for (char c : req) send_all(fd, std::string_view(&c, 1));
    CHECK(recv_for(fd, want.size(), 5s) == want);
    send_all(fd, req);
    CHECK(recv_for(fd, want.size(), 5s) == want);
    ::close(fd);
}

TEST_CASE("server: bad socketmap input closes that connection only") {
    Fixture f(ServerLimits{.socketmap_max_request = 1000});
    int good = connect_to(f.sm_path);
    struct Case {
        const char* name;
        std::string bytes;
    };
    const Case cases[] = {
        {"over-long length", "1001:"},
        {"huge length", "99999999999999999999:"},
        {"garbage", "GET / HTTP/1.0\r\n\r\n"},
        {"bad terminator", "3:abc;"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        int fd = connect_to(f.sm_path);
        send_all(fd, c.bytes);
        auto got = recv_for(fd, 1000, 5s);  // until EOF
        CHECK(got.find("PERM ") != std::string::npos);
        CHECK(closed_within(fd, 1s));
        ::close(fd);
        send_all(good, ns("domain example.com"));
        CHECK(recv_for(good, 17, 5s) == ns("OK example.com"));
    }
    ::close(good);
}

TEST_CASE("server: half requests and idle connections time out") {
    Fixture f(ServerLimits{.idle_timeout = 3s, .request_timeout = 500ms});
    int half = connect_to(f.sm_path);
    send_all(half, "24:mailbox taro");
    int idle = connect_to(f.sm_path);
    auto t0 = std::chrono::steady_clock::now();
    // A slow client trickling bytes is still cut at request_timeout.
    int slow = connect_to(f.sm_path);
    send_all(slow, "2");
    std::this_thread::sleep_for(200ms);
    send_all(slow, "4");
    std::this_thread::sleep_for(200ms);
    send_all(slow, ":");
    // The half and the slow request are cut at request_timeout, before the
    // idle timeout (which must not apply to a started request).
    CHECK(closed_within(half, 1200ms));
    CHECK(closed_within(slow, 1200ms));
    CHECK(std::chrono::steady_clock::now() - t0 < 1400ms);
    CHECK(closed_within(idle, 5s));
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took >= 1s);  // the idle one got its idle_timeout, not request_timeout
    ::close(half);
    ::close(idle);
    ::close(slow);
}

TEST_CASE("server: connections over the limit are closed, the others served") {
    Fixture f(ServerLimits{.max_connections = 3});
    std::vector<int> fds;
    for (int i = 0; i < 3; ++i) {
        fds.push_back(connect_to(f.sm_path));
        send_all(fds.back(), ns("domain example.com"));
        CHECK(recv_for(fds.back(), 17, 5s) == ns("OK example.com"));
    }
    int extra = connect_to(f.sm_path);  // the kernel accepts; the server closes
    CHECK(closed_within(extra, 5s));
    ::close(extra);
    ::close(fds[0]);
    fds.erase(fds.begin());
    // Room again once one left.
    bool served = false;
    for (int attempt = 0; attempt < 50 && !served; ++attempt) {
        int fd = connect_to(f.sm_path);
        send_all(fd, ns("domain example.com"));
        served = recv_for(fd, 17, 1s) == ns("OK example.com");
        ::close(fd);
        if (!served) std::this_thread::sleep_for(50ms);
    }
    CHECK(served);
    for (int fd : fds) ::close(fd);
}

TEST_CASE("server: saslauthd answers OK, NO, or closes on a temporary failure") {
    Fixture f(ServerLimits{.auth_workers = 2});
    struct Case {
        const char* pw;
        std::string want;
    };
    const Case cases[] = {
        {"good", counted("OK")},
        {"bad", counted("NO authentication failed")},
        {"down", ""},
    };
    for (const auto& c : cases) {
        CAPTURE(std::string(c.pw));
        int fd = connect_to(f.sasl_path);
        send_all(fd, sasl_request("taro@example.com", c.pw));
        CHECK(recv_for(fd, 100, 5s) == c.want);
        ::close(fd);
    }
    // The password never reaches the log.
    for (const auto& [level, line] : f.sink.snapshot())
        CHECK(line.find("good") == std::string::npos);
}

TEST_CASE("server: socketmap lookups do not wait for slow password checks") {
    Fixture f(ServerLimits{.auth_workers = 1});
    std::vector<int> sasl;
    for (int i = 0; i < 5; ++i) {
        sasl.push_back(connect_to(f.sasl_path));
        send_all(sasl.back(), sasl_request("taro@example.com", "slow"));  // 5 x 200 ms, one worker
    }
    int sm = connect_to(f.sm_path);
    auto t0 = std::chrono::steady_clock::now();
    send_all(sm, ns("domain example.com"));
    CHECK(recv_for(sm, 17, 5s) == ns("OK example.com"));
    CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
    for (int fd : sasl) {
        CHECK(recv_for(fd, 4, 5s) == counted("OK"));
        ::close(fd);
    }
    ::close(sm);
}

TEST_CASE("server: a saslauthd field over the bound closes the connection") {
    Fixture f(ServerLimits{});
    int fd = connect_to(f.sasl_path);
    send_all(fd, counted("taro@example.com") + std::string("\xff\xff", 2) + std::string(2000, 'x'));
    CHECK(recv_for(fd, 100, 5s).empty());
    CHECK(closed_within(fd, 1s));
    ::close(fd);
}

TEST_CASE("server: several socketmap loops share the listener") {
    Fixture f(ServerLimits{.socketmap_threads = 3});
    std::vector<int> fds;
    for (int i = 0; i < 12; ++i) fds.push_back(connect_to(f.sm_path));
    for (int round = 0; round < 3; ++round)
        for (int fd : fds) {
            send_all(fd, ns("mailbox taro+x@example.com"));
            CHECK(recv_for(fd, 32, 5s) == ns("OK example.com/taro/Maildir/"));
        }
    for (int fd : fds) ::close(fd);
}

TEST_CASE("server: a change committed before a request is seen by it, under load") {
    // Lookups are answered in read batches (one store snapshot per event-loop
    // round) and repeated ones from the reply cache: busy connections keep
    // batches open back to back while a writer adds and removes mailboxes;
    // each lookup sent after a commit must see it.
    Fixture f(ServerLimits{.socketmap_threads = 2});
    std::atomic<bool> stop{false};
    std::atomic<long> busy_answers{0};
    std::vector<std::thread> load;
    for (int t = 0; t < 4; ++t)
        load.emplace_back([&] {
            int fd = connect_to(f.sm_path);
            const std::string req = ns("mailbox taro@example.com");
            while (!stop.load()) {
                send_all(fd, req);
                if (recv_for(fd, 32, 5s) != ns("OK example.com/taro/Maildir/")) break;
                busy_answers.fetch_add(1);
            }
            ::close(fd);
        });
    auto w = store::open_store("sqlite:" + f.db, {});
    REQUIRE(w);
    int fd = connect_to(f.sm_path);
    int stale = 0;
    for (int i = 0; i < 100; ++i) {
        const std::string addr = "u" + std::to_string(i) + "@example.com";
        // Asked twice before it exists: the NOTFOUND is in the reply cache
        // of the loop that answered (of both, with luck).
        for (int k = 0; k < 2; ++k) {
            send_all(fd, ns("mailbox " + addr));
            if (recv_for(fd, 11, 5s) != ns("NOTFOUND ")) ++stale;
        }
        REQUIRE((*w)->add_mailbox({.address = addr}));
        const std::string found = ns("OK example.com/u" + std::to_string(i) + "/Maildir/");
        send_all(fd, ns("mailbox " + addr));
        if (recv_for(fd, found.size(), 5s) != found) ++stale;
        REQUIRE((*w)->delete_mailbox(addr));
        send_all(fd, ns("mailbox " + addr));
        if (recv_for(fd, 11, 5s) != ns("NOTFOUND ")) ++stale;
    }
    stop = true;
    for (auto& t : load) t.join();
    ::close(fd);
    CHECK(stale == 0);
    CHECK(busy_answers.load() > 0);
}

TEST_CASE("server: hundreds of connections at once are all answered") {
    Fixture f(ServerLimits{.socketmap_threads = 2});
    std::vector<int> fds;
    for (int i = 0; i < 300; ++i) fds.push_back(connect_to(f.sm_path));
    for (int fd : fds) send_all(fd, ns("mailbox taro@example.com"));
    int answered = 0;
    for (int fd : fds) {
        if (recv_for(fd, 32, 5s) == ns("OK example.com/taro/Maildir/")) ++answered;
        ::close(fd);
    }
    CHECK(answered == 300);
}

TEST_CASE("server: replies larger than the socket buffer are written whole, in order") {
    // Pipelined requests whose replies the client does not read at first:
    // the server's direct write fills the socket buffer and the rest goes
    // out asynchronously, while the connection's later requests wait.
    Fixture f(ServerLimits{});
    {
        auto w = store::open_store("sqlite:" + f.db, {});
        REQUIRE(w);
        REQUIRE((*w)->transaction([](store::Store& s) -> Status {
            for (int i = 0; i < 1000; ++i)  // limits::kMaxAliasTargets
                if (auto st = s.add_alias({.source = "all@example.com",
                                           .target = "member" + std::to_string(i) +
                                                     "@a-rather-long-domain-name.example"});
                    !st)
                    return st;
            return {};
        }));
    }
    int fd = connect_to(f.sm_path);
    int rcvbuf = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    std::string req;
    for (int i = 0; i < 20; ++i) req += ns("alias all@example.com") + ns("domain example.com");
    std::string one;
    for (int i = 0; i < 1000; ++i)
        one += (i ? "," : "") + std::string("member") + std::to_string(i) +
               "@a-rather-long-domain-name.example";
    std::string want;
    for (int i = 0; i < 20; ++i) want += ns("OK " + one) + ns("OK example.com");
    send_all(fd, req);
    std::this_thread::sleep_for(200ms);  // the server is now blocked on a full buffer
    std::string got = recv_for(fd, want.size(), 10s);
    CHECK(got.size() == want.size());
    CHECK(got == want);
    ::close(fd);
}

TEST_CASE("server: an idle connection is kept for reuse; each request restarts its idle time") {
    // Postfix keeps its socketmap connections open between lookups.
    Fixture f(ServerLimits{.idle_timeout = 1500ms, .request_timeout = 500ms});
    int fd = connect_to(f.sm_path);
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) {
        send_all(fd, ns("domain example.com"));
        CHECK(recv_for(fd, 17, 5s) == ns("OK example.com"));
        // Longer than request_timeout, shorter than idle_timeout.
        CHECK_FALSE(closed_within(fd, 1s));
    }
    CHECK(std::chrono::steady_clock::now() - t0 >= 3s);  // in all, past one idle_timeout
    CHECK(closed_within(fd, 3s));
    ::close(fd);
}
