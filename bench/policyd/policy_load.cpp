// policy_load HOST PORT CONNECTIONS SECONDS [MAX_REQUESTS [auth|anon]]
//
// A closed-loop load generator for Postfix policy servers: CONNECTIONS
// threads, each with one persistent TCP connection, send a request, wait for
// the reply ("action=...\n\n"), send the next. The requests follow what
// smtpd sends for one message: RCPT, DATA, END-OF-MESSAGE, from 1000 SASL
// users / senders and 1000 client addresses (so rate-limit and greylist state
// has many keys); "anon" leaves sasl_username empty (mail from other MTAs,
// what greylisting sees). Stops after SECONDS or MAX_REQUESTS in total (default 10
// million), whichever comes first. Prints one line:
//
//   conns=8 requests=412345 seconds=3.00 rps=137448 p50_us=52 p99_us=140 restricted=0 errors=0
//
// "restricted" counts replies other than DUNNO/OK/PREPEND (deferrals), so a
// benchmark can tell that limits were not hit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBuckets = 100000;  // 1 us each, up to 100 ms; the last one collects the rest

struct Stats {
    long requests = 0, restricted = 0, errors = 0;
    std::vector<long> hist = std::vector<long>(kBuckets, 0);
};

bool g_anon = false;

std::string request(long n, int thread) {
    static const char* states[] = {"RCPT", "DATA", "END-OF-MESSAGE"};
    long msg = n / 3 + thread * 7919L;
    int user = static_cast<int>(msg % 1000), client = static_cast<int>((msg * 31) % 1000);
    std::string u = "user" + std::to_string(user) + "@example.com";
    return std::string("request=smtpd_access_policy\nprotocol_state=") + states[n % 3] +
           "\nprotocol_name=ESMTP\nclient_address=10.0." + std::to_string(client / 250) + "." +
           std::to_string(client % 250 + 1) + "\nclient_name=host" + std::to_string(client) +
           ".example.net\nreverse_client_name=host" + std::to_string(client) +
           ".example.net\nhelo_name=host" + std::to_string(client) + ".example.net\nsender=" + u +
           "\nrecipient=rcpt" + std::to_string(msg % 97) +
           "@example.org\nrecipient_count=" + (n % 3 == 0 ? "0" : "1") +
           "\nqueue_id=\ninstance=" + std::to_string(thread) + "." + std::to_string(msg) +
           "\nsize=2048\nsasl_method=" + (g_anon ? "" : "PLAIN") +
           "\nsasl_username=" + (g_anon ? "" : u) +
           "\nsasl_sender=\nccert_subject=\nccert_issuer=\nccert_fingerprint=\n"
           "encryption_protocol=\nencryption_cipher=\nencryption_keysize=0\netrn_domain=\n"
           "stress=\n\n";
}

void run(const sockaddr_in& sa, int thread, Clock::time_point end, std::atomic<long>& budget,
         Stats& st) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0) {
        ++st.errors;
        ::close(fd);
        return;
    }
    char buf[4096];
    std::string got;
    for (long n = 0; Clock::now() < end && budget.fetch_sub(1) > 0; ++n) {
        std::string req = request(n, thread);
        auto t0 = Clock::now();
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
            ++st.errors;
            break;
        }
        got.clear();
        while (got.find("\n\n") == std::string::npos) {
            ssize_t k = ::recv(fd, buf, sizeof buf, 0);
            if (k <= 0) break;
            got.append(buf, static_cast<std::size_t>(k));
        }
        if (got.find("\n\n") == std::string::npos) {
            ++st.errors;
            break;
        }
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
        ++st.hist[static_cast<std::size_t>(std::min<long>(us, kBuckets - 1))];
        ++st.requests;
        std::string action = got.substr(7, got.find_first_of(" \n", 7) - 7);
        for (auto& c : action) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (action != "DUNNO" && action != "OK" && action != "PREPEND") ++st.restricted;
    }
    ::close(fd);
}

long percentile(const std::vector<long>& h, long total, double p) {
    long want = static_cast<long>(total * p), seen = 0;
    for (int i = 0; i < kBuckets; ++i)
        if ((seen += h[static_cast<std::size_t>(i)]) > want) return i;
    return kBuckets;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: policy_load HOST PORT CONNECTIONS SECONDS [MAX_REQUESTS]\n");
        return 64;
    }
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
    if (::inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) return 64;
    int conns = std::atoi(argv[3]);
    double secs = std::atof(argv[4]);
    std::atomic<long> budget(argc > 5 ? std::atol(argv[5]) : 10'000'000L);
    g_anon = argc > 6 && std::string(argv[6]) == "anon";
    std::vector<Stats> stats(static_cast<std::size_t>(conns));
    std::vector<std::thread> threads;
    auto start = Clock::now();
    auto end = start + std::chrono::milliseconds(static_cast<long>(secs * 1000));
    for (int i = 0; i < conns; ++i)
        threads.emplace_back(run, std::cref(sa), i, end, std::ref(budget),
                             std::ref(stats[static_cast<std::size_t>(i)]));
    for (auto& t : threads) t.join();
    double took = std::chrono::duration<double>(Clock::now() - start).count();
    Stats all;
    for (auto& s : stats) {
        all.requests += s.requests;
        all.restricted += s.restricted;
        all.errors += s.errors;
        for (int i = 0; i < kBuckets; ++i)
            all.hist[static_cast<std::size_t>(i)] += s.hist[static_cast<std::size_t>(i)];
    }
    std::printf(
        "conns=%d requests=%ld seconds=%.2f rps=%.0f p50_us=%ld p99_us=%ld restricted=%ld "
        "errors=%ld\n",
        conns, all.requests, took, all.requests / took, percentile(all.hist, all.requests, 0.50),
        percentile(all.hist, all.requests, 0.99), all.restricted, all.errors);
    return all.errors > 0 ? 1 : 0;
}
