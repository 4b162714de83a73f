// socketmap_load PATH CONNECTIONS SECONDS KEYFILE [MAP]
//
// Closed-loop load on a Postfix socketmap server over a unix socket: one
// thread per connection, each sending "MAP key" netstrings (keys from
// KEYFILE, one a line, taken in turn from a different offset per thread) and
// waiting for each reply (in poll(), then read()), as Postfix's client does. Prints
// "lookups/s errors found notfound" on one line. Only for benchmarks: it
// trusts the server's replies to be netstrings.
#include <poll.h>
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
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
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

// Reads one netstring reply into `out`; false on EOF or malformed input.
bool read_reply(int fd, std::string& buf, std::string& out) {
    for (;;) {
        auto colon = buf.find(':');
        if (colon != std::string::npos) {
            std::size_t len = std::strtoul(buf.c_str(), nullptr, 10);
            if (buf.size() >= colon + 1 + len + 1) {
                out.assign(buf, colon + 1, len);
                buf.erase(0, colon + 1 + len + 1);
                return true;
            }
        }
        // Wait in poll() first, as Postfix's client does (its timed reads): a
        // thread blocked in read() itself is also woken, for nothing, each
        // time the server consumes a request (the socket's write space).
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 10000) != 1) return false;
        char tmp[4096];
        ssize_t n = ::read(fd, tmp, sizeof tmp);
        if (n <= 0) return false;
        buf.append(tmp, static_cast<std::size_t>(n));
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: socketmap_load PATH CONNECTIONS SECONDS KEYFILE [MAP]\n");
        return 64;
    }
    const char* path = argv[1];
    const int conns = std::atoi(argv[2]);
    const double secs = std::atof(argv[3]);
    const std::string map = argc > 5 ? argv[5] : "mailbox";
    std::vector<std::string> requests;
    {
        std::ifstream f(argv[4]);
        std::string key;
        while (std::getline(f, key)) {
            std::string payload = map + " " + key;
            requests.push_back(std::to_string(payload.size()) + ":" + payload + ",");
        }
    }
    if (requests.empty() || conns <= 0) return 64;

    std::atomic<bool> go{false}, stop{false};
    std::atomic<long> total{0}, errors{0}, found{0}, notfound{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < conns; ++t) {
        threads.emplace_back([&, t] {
            int fd = connect_unix(path);
            if (fd < 0) {
                errors.fetch_add(1);
                return;
            }
            std::size_t i = static_cast<std::size_t>(t) * 7919 % requests.size();
            std::string buf, reply;
            long n = 0, e = 0, ok = 0, nf = 0;
            while (!go.load()) std::this_thread::yield();
            while (!stop.load(std::memory_order_relaxed)) {
                const std::string& r = requests[i];
                if (++i == requests.size()) i = 0;
                if (::write(fd, r.data(), r.size()) != static_cast<ssize_t>(r.size()) ||
                    !read_reply(fd, buf, reply)) {
                    ++e;
                    break;
                }
                ++n;
                if (reply.rfind("OK ", 0) == 0)
                    ++ok;
                else if (reply.rfind("NOTFOUND", 0) == 0)
                    ++nf;
                else
                    ++e;
            }
            ::close(fd);
            total.fetch_add(n);
            errors.fetch_add(e);
            found.fetch_add(ok);
            notfound.fetch_add(nf);
        });
    }
    auto t0 = std::chrono::steady_clock::now();
    go = true;
    std::this_thread::sleep_for(std::chrono::duration<double>(secs));
    stop = true;
    for (auto& th : threads) th.join();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%.0f %ld %ld %ld\n", static_cast<double>(total.load()) / elapsed, errors.load(),
                found.load(), notfound.load());
    return errors.load() == 0 ? 0 : 1;
}
