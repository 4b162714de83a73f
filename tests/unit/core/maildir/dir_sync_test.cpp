#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/maildir/dir_sync.hpp"
#include "core/util/fd.hpp"
#include "unit/temp_dir.hpp"

using namespace yubin;
using namespace yubin::maildir;

namespace {

std::atomic<int> g_fsyncs{0};
std::atomic<int> g_in_flight{0};
std::atomic<int> g_max_in_flight{0};
std::atomic<int> g_fail_errno{0};

// A slow fsync (as on a real disk) that counts how many run at once.
int slow_fsync(int fd) {
    int now = ++g_in_flight;
    int seen = g_max_in_flight.load();
    while (now > seen && !g_max_in_flight.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ++g_fsyncs;
    --g_in_flight;
    if (int e = g_fail_errno.load()) {
        errno = e;
        return -1;
    }
    return ::fsync(fd);
}

void reset() {
    g_fsyncs = 0;
    g_in_flight = 0;
    g_max_in_flight = 0;
    g_fail_errno = 0;
}

}  // namespace

TEST_CASE("dir_sync: one caller at a time gets an fsync of its own each time") {
    reset();
    test::TempDir t;
    UniqueFd dir(::open(t.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(dir);
    DirSync sync;
    for (int i = 0; i < 3; ++i) REQUIRE(sync.sync(dir.get(), t.path(), slow_fsync));
    CHECK(g_fsyncs == 3);
    CHECK(sync.calls() == 3);
}

TEST_CASE("dir_sync: concurrent callers on one directory share fsyncs, never two at once") {
    reset();
    test::TempDir t;
    UniqueFd dir(::open(t.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(dir);
    DirSync sync;
    constexpr int kThreads = 8;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
        threads.emplace_back([&] {
            // Each its own descriptor of the same directory, as each
            // connection opens the Maildir itself.
            UniqueFd mine(::open(t.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (mine && sync.sync(mine.get(), t.path(), slow_fsync)) ++ok;
        });
    for (auto& th : threads) th.join();
    CHECK(ok == kThreads);
    CHECK(g_max_in_flight == 1);
    // The first runs alone; everyone arriving meanwhile shares the second.
    CHECK(g_fsyncs >= 1);
    CHECK(g_fsyncs < kThreads);
}

TEST_CASE("dir_sync: different directories are synced independently") {
    reset();
    test::TempDir a, b;
    DirSync sync;
    std::atomic<int> ok{0};
    std::thread ta([&] {
        UniqueFd fd(::open(a.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (sync.sync(fd.get(), a.path(), slow_fsync)) ++ok;
    });
    std::thread tb([&] {
        UniqueFd fd(::open(b.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (sync.sync(fd.get(), b.path(), slow_fsync)) ++ok;
    });
    ta.join();
    tb.join();
    CHECK(ok == 2);
    CHECK(g_fsyncs == 2);
}

TEST_CASE("dir_sync: a failed fsync fails every caller it covered, with the errno's kind") {
    reset();
    test::TempDir t;
    UniqueFd dir(::open(t.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(dir);
    DirSync sync;
    g_fail_errno = EIO;
    std::atomic<int> failed_temp{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] {
            auto st = sync.sync(dir.get(), t.path(), slow_fsync);
            if (!st && st.error().kind == ErrorKind::Temp &&
                st.error().what.find("fsync " + t.path()) == 0)
                ++failed_temp;
        });
    for (auto& th : threads) th.join();
    CHECK(failed_temp == 4);
    g_fail_errno = 0;
    CHECK(sync.sync(dir.get(), t.path(), slow_fsync));  // a later one that works: fine again
}
