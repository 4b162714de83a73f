// socketmap_load PATH CONNECTIONS SECONDS KEYFILE [MAP [THREADS]]
//
// Closed-loop load on a Postfix socketmap server over a unix socket:
// CONNECTIONS connections, each with exactly one request outstanding at a
// time ("MAP key" netstrings, keys from KEYFILE, one a line, taken in turn
// from a different offset per connection), as Postfix's client has. The
// connections are spread over THREADS threads (default 1), each waiting for
// all of its connections in one epoll_wait: the generator then costs a few
// syscalls per lookup and one wakeup per batch of replies, and leaves the
// CPUs to the server. (A thread per connection blocked in its own read() or
// poll() is woken once per reply, and with 8 or 64 of them the generator's
// context switches ate more CPU than the server on a 2-CPU machine.)
// Prints "lookups/s errors found notfound" on one line. Only for benchmarks:
// it trusts the server's replies to be netstrings.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

int connect_unix(const char* path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

struct Conn {
    int fd = -1;
    std::size_t next = 0;  // index of the next request
    std::string buf;       // reply bytes not yet parsed
};

struct Counts {
    long total = 0, errors = 0, found = 0, notfound = 0;
};

// Takes one complete netstring reply off the front of `buf` into `out`.
bool take_reply(std::string& buf, std::string& out) {
    auto colon = buf.find(':');
    if (colon == std::string::npos) return false;
    std::size_t len = std::strtoul(buf.c_str(), nullptr, 10);
    if (buf.size() < colon + 1 + len + 1) return false;
    out.assign(buf, colon + 1, len);
    buf.erase(0, colon + 1 + len + 1);
    return true;
}

// One thread: its connections, one request in flight on each.
Counts drive(const char* path, int conns, int first_index, const std::vector<std::string>& requests,
             std::atomic<bool>& go, std::atomic<bool>& stop) {
    Counts c;
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        c.errors = conns;
        return c;
    }
    std::vector<Conn> cs(static_cast<std::size_t>(conns));
    for (int i = 0; i < conns; ++i) {
        auto& k = cs[static_cast<std::size_t>(i)];
        k.fd = connect_unix(path);
        if (k.fd < 0) {
            ++c.errors;
            continue;
        }
        k.next = static_cast<std::size_t>(first_index + i) * 7919 % requests.size();
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<std::uint32_t>(i);
        ::epoll_ctl(ep, EPOLL_CTL_ADD, k.fd, &ev);
    }
    auto send_next = [&](Conn& k) {
        const std::string& r = requests[k.next];
        if (++k.next == requests.size()) k.next = 0;
        // A request is far smaller than the socket buffer, and the previous
        // one has been answered: the write takes it whole.
        if (::write(k.fd, r.data(), r.size()) != static_cast<ssize_t>(r.size())) {
            ++c.errors;
            ::close(k.fd);
            k.fd = -1;
        }
    };
    while (!go.load()) std::this_thread::yield();
    for (auto& k : cs)
        if (k.fd >= 0) send_next(k);
    std::vector<epoll_event> evs(cs.size());
    std::string reply;
    char tmp[4096];
    while (!stop.load(std::memory_order_relaxed)) {
        int n = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 100);
        for (int e = 0; e < n; ++e) {
            auto& k = cs[evs[static_cast<std::size_t>(e)].data.u32];
            if (k.fd < 0) continue;
            ssize_t got = ::read(k.fd, tmp, sizeof tmp);
            if (got <= 0) {
                ++c.errors;
                ::close(k.fd);
                k.fd = -1;
                continue;
            }
            k.buf.append(tmp, static_cast<std::size_t>(got));
            bool answered = false;
            while (take_reply(k.buf, reply)) {
                answered = true;
                ++c.total;
                if (reply.rfind("OK ", 0) == 0)
                    ++c.found;
                else if (reply.rfind("NOTFOUND", 0) == 0)
                    ++c.notfound;
                else
                    ++c.errors;
            }
            if (answered && !stop.load(std::memory_order_relaxed)) send_next(k);
        }
    }
    for (auto& k : cs)
        if (k.fd >= 0) ::close(k.fd);
    ::close(ep);
    return c;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr,
                     "usage: socketmap_load PATH CONNECTIONS SECONDS KEYFILE [MAP [THREADS]]\n");
        return 64;
    }
    const char* path = argv[1];
    const int conns = std::atoi(argv[2]);
    const double secs = std::atof(argv[3]);
    const std::string map = argc > 5 ? argv[5] : "mailbox";
    const int nthreads = argc > 6 ? std::atoi(argv[6]) : 1;
    std::vector<std::string> requests;
    {
        std::ifstream f(argv[4]);
        std::string key;
        while (std::getline(f, key)) {
            std::string payload = map + " " + key;
            requests.push_back(std::to_string(payload.size()) + ":" + payload + ",");
        }
    }
    if (requests.empty() || conns <= 0 || nthreads <= 0) return 64;

    std::atomic<bool> go{false}, stop{false};
    std::vector<Counts> counts(static_cast<std::size_t>(nthreads));
    std::vector<std::thread> threads;
    int first = 0;
    for (int t = 0; t < nthreads; ++t) {
        const int mine = conns / nthreads + (t < conns % nthreads ? 1 : 0);
        threads.emplace_back([&, t, mine, first] {
            counts[static_cast<std::size_t>(t)] = drive(path, mine, first, requests, go, stop);
        });
        first += mine;
    }
    // Every connection is open before the clock starts.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto t0 = std::chrono::steady_clock::now();
    go = true;
    std::this_thread::sleep_for(std::chrono::duration<double>(secs));
    stop = true;
    for (auto& th : threads) th.join();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    Counts sum;
    for (const auto& c : counts) {
        sum.total += c.total;
        sum.errors += c.errors;
        sum.found += c.found;
        sum.notfound += c.notfound;
    }
    std::printf("%.0f %ld %ld %ld\n", static_cast<double>(sum.total) / elapsed, sum.errors,
                sum.found, sum.notfound);
    return sum.errors == 0 ? 0 : 1;
}
