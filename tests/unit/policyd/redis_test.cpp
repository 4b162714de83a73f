// The policy suite against a real redis-server (started here on a unix
// socket in a temp directory, no TCP port), and Redis outages.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <thread>

#include "policy_suite.hpp"

using namespace policyd_test;

extern char** environ;

namespace {

class RedisServer {
public:
    explicit RedisServer(const std::string& dir) : sock_(dir + "/redis.sock"), dir_(dir) {
        // hiredis writes without MSG_NOSIGNAL; the daemon ignores SIGPIPE
        // (daemon::Signals), and so must the tests that stop Redis.
        ::signal(SIGPIPE, SIG_IGN);
        start();
    }
    ~RedisServer() { stop(); }
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    void start() {
        std::vector<std::string> args = {"redis-server",
                                         "--port",
                                         "0",
                                         "--unixsocket",
                                         sock_,
                                         "--save",
                                         "",
                                         "--appendonly",
                                         "no",
                                         "--dir",
                                         dir_,
                                         "--loglevel",
                                         "warning",
                                         "--logfile",
                                         dir_ + "/redis.log"};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        REQUIRE(::posix_spawnp(&pid_, "redis-server", nullptr, nullptr, argv.data(), environ) == 0);
        for (int i = 0; i < 100; ++i) {
            if (std::filesystem::exists(sock_)) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        FAIL("redis-server did not create its socket");
    }
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int st = 0;
        ::waitpid(pid_, &st, 0);
        pid_ = -1;
        std::filesystem::remove(sock_);
    }
    [[nodiscard]] std::string spec() const { return "unix:" + sock_; }
    // PTTL of a key, asked over a connection of our own: -2 no key, -1 no expiry.
    [[nodiscard]] long long pttl(const std::string& key) const {
        std::unique_ptr<redisContext, decltype(&redisFree)> c(redisConnectUnix(sock_.c_str()),
                                                              &redisFree);
        REQUIRE((c && c->err == 0));
        auto* r = static_cast<redisReply*>(redisCommand(c.get(), "PTTL %s", key.c_str()));
        REQUIRE(r != nullptr);
        long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -3;
        freeReplyObject(r);
        return v;
    }

private:
    std::string sock_, dir_;
    pid_t pid_ = -1;
};

std::unique_ptr<Counters> redis_counters(const std::string& spec) {
    auto c = make_redis_counters(spec, 1000);
    REQUIRE(c);
    return std::move(*c);
}

}  // namespace

TEST_CASE("policyd: policy suite on the Redis backend") {
    TempDir dir;
    RedisServer redis(dir.path());
    int n = 0;
    // doctest runs the test case once per subcase, so each subcase gets a
    // fresh redis-server; Worlds within one subcase use distinct keys.
    policy_suite([&] {
        auto c = redis_counters(redis.spec());
        ++n;
        return c;
    });
    CHECK(n > 0);
}

TEST_CASE("policyd: Redis outage is a temporary error, and it recovers") {
    TempDir dir;
    RedisServer redis(dir.path());
    auto c = redis_counters(redis.spec());
    CounterLimit lim{"r:test:x:messages:60", 60000, 2, 1};
    std::int64_t now = 1'700'000'000'000;
    REQUIRE(c->check_and_add({&lim, 1}, now, true));
    redis.stop();
    auto down = c->check_and_add({&lim, 1}, now, true);
    REQUIRE_FALSE(down);
    CHECK(down.error().kind == ErrorKind::Temp);
    redis.start();  // empty: counts start over
    // The client reconnects at most once a second; on a loaded machine the
    // first attempt after that may still time out, so allow a few seconds.
    auto up = c->check_and_add({&lim, 1}, now, true);
    for (int i = 0; i < 50 && !up; ++i) {
        CHECK(up.error().kind == ErrorKind::Temp);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        up = c->check_and_add({&lim, 1}, now, true);
    }
    REQUIRE(up);
    CHECK_FALSE(up->over);
    up = c->check_and_add({&lim, 1}, now, true);
    REQUIRE(up);
    CHECK_FALSE(up->over);
    up = c->check_and_add({&lim, 1}, now, false);
    REQUIRE(up);
    CHECK(up->over);
    CHECK(up->current == 2);
}

TEST_CASE("policyd: Redis prefetch answers a batch's checks from one MGET, adds refresh it") {
    TempDir dir;
    RedisServer redis(dir.path());
    auto c = redis_counters(redis.spec());
    std::int64_t now = 1'700'000'000'000;
    CounterLimit a{"r:test:a:messages:60", 60000, 2, 1};
    CounterLimit b{"r:test:b:messages:60", 60000, 1, 1};
    CounterLimit other{"r:test:other:messages:60", 60000, 5, 1};
    REQUIRE(c->check_and_add({&a, 1}, now, true));
    REQUIRE(c->check_and_add({&a, 1}, now, true));
    std::vector<CounterLimit> batch{a, b};
    c->prefetch(batch, now);
    // An add inside the batch is seen by the checks after it.
    auto added = c->check_and_add({&b, 1}, now, true);
    REQUIRE(added);
    CHECK_FALSE(added->over);
    auto after = c->check_and_add({&b, 1}, now, false);
    REQUIRE(after);
    CHECK(after->over);
    // Prefetched counters need no Redis: answered while it is down.
    c->prefetch(batch, now);
    redis.stop();
    auto cached = c->check_and_add({&a, 1}, now, false);
    REQUIRE(cached);
    CHECK(cached->over);
    CHECK(cached->current == 2);
    auto missing = c->check_and_add({&other, 1}, now, false);  // not prefetched
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ErrorKind::Temp);
    c->prefetch({}, now);  // the next batch: the old values are gone
    auto gone = c->check_and_add({&a, 1}, now, false);
    REQUIRE_FALSE(gone);
}

TEST_CASE("policyd: Redis address syntax") {
    CHECK(make_redis_counters("127.0.0.1:6379", 1000));
    CHECK(make_redis_counters("[::1]:6379", 1000));
    CHECK(make_redis_counters("unix:/run/redis/redis.sock", 1000));
    for (const char* bad : {"", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:x", ":6379",
                            "unix:", "unix:relative", "[::1:6379"}) {
        CAPTURE(std::string(bad));
        auto r = make_redis_counters(bad, 1000);
        REQUIRE_FALSE(r);
        CHECK(r.error().kind == ErrorKind::Config);
    }
}

TEST_CASE("policyd: Redis adds answered from a prefetch are queued until flush()") {
    TempDir dir;
    RedisServer redis(dir.path());
    auto c = redis_counters(redis.spec());
    auto other_host = redis_counters(redis.spec());
    std::int64_t now = 1'700'000'000'000;
    CounterLimit a{"r:test:q:messages:60", 60000, 2, 1};
    CounterLimit b{"r:test:r:messages:60", 60000, 10, 1};
    REQUIRE(c->check_and_add({&a, 1}, now, true));  // not prefetched: at once
    std::vector<CounterLimit> batch{a, b};
    c->prefetch(batch, now);
    auto queued = c->check_and_add({&a, 1}, now, true);
    REQUIRE(queued);
    CHECK_FALSE(queued->over);
    // The batch's later checks count the queued add; over: nothing queued.
    auto over = c->check_and_add({&a, 1}, now, true);
    REQUIRE(over);
    CHECK(over->over);
    CHECK(over->current == 2);
    // Not sent yet: another host still sees 1.
    auto seen = other_host->check_and_add({&a, 1}, now, false);
    REQUIRE(seen);
    CHECK_FALSE(seen->over);
    REQUIRE(c->flush());
    seen = other_host->check_and_add({&a, 1}, now, false);
    REQUIRE(seen);
    CHECK(seen->over);
    CHECK(seen->current == 2);
    CHECK(c->flush());  // nothing queued
    // A command that reads counters sends the queued adds first.
    c->prefetch(batch, now);
    REQUIRE(c->check_and_add({&b, 1}, now, true));
    CounterLimit b_alone{"r:test:r:messages:60", 60000, 1, 1};
    c->prefetch({}, now);
    auto direct = c->check_and_add({&b_alone, 1}, now, false);
    REQUIRE(direct);
    CHECK(direct->over);
    CHECK(direct->current == 1);
    // That key was made by a queued add alone: it came with its expiry (one
    // MULTI/EXEC, both or neither).
    const long long ttl =
        redis.pttl("yubin:policyd:r:test:r:messages:60:" + std::to_string(now / 60000));
    CHECK(ttl > 0);
    CHECK(ttl <= 2 * 60000);
    // Redis gone before flush(): Temp (the add is lost, logged by the caller).
    c->prefetch(batch, now);
    REQUIRE(c->check_and_add({&b, 1}, now, true));
    redis.stop();
    auto lost = c->flush();
    REQUIRE_FALSE(lost);
    CHECK(lost.error().kind == ErrorKind::Temp);
}
