// policy_load HOST PORT CONNECTIONS SECONDS [MAX_REQUESTS [auth|anon [PIDS]]]
//
// A closed-loop load generator for Postfix policy servers. CONNECTIONS
// persistent TCP connections, each used the way Postfix's smtpd uses one:
// send a request, wait for its reply ("action=...\n\n"), send the next (no
// pipelining). One thread drives every connection with epoll, so the
// generator spends one recv and one send per request and no thread switches:
// on a 2-core machine it leaves the other core to the server instead of
// competing with it (a thread per connection costs more CPU than the server
// being measured). The requests are built before the clock starts.
//
// The requests follow what smtpd sends for one message: RCPT, DATA,
// END-OF-MESSAGE, from 1000 SASL users / senders and 1000 client addresses
// (so rate-limit and greylist state has many keys); "anon" leaves
// sasl_username empty (mail from other MTAs, what greylisting sees). Stops
// after SECONDS or MAX_REQUESTS in total (default 10 million), whichever
// comes first.
//
// PIDS (comma-separated) are the server's processes (e.g. policyd and its
// redis-server): their CPU time and their descendants' (user + system, from
// /proc/PID/stat, all threads) over the run is divided by the requests
// answered. Wall-clock
// requests/s depends on what else the machine runs; CPU per request much
// less. Prints one line:
//
//   conns=8 requests=412345 seconds=3.00 rps=137448 p50_us=52 p99_us=140
//   server_cpu_us=6.1 load_cpu_us=3.2 restricted=0 errors=0
//
// "restricted" counts replies other than DUNNO/OK/PREPEND (deferrals), so a
// benchmark can tell that limits were not hit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBuckets = 100000;  // 1 us each, up to 100 ms; the last one collects the rest
constexpr long kMessages = 3000;  // distinct messages prepared (x3 requests each)

bool g_anon = false;

std::string request(long msg, int state) {
    static const char* states[] = {"RCPT", "DATA", "END-OF-MESSAGE"};
    int user = static_cast<int>(msg % 1000), client = static_cast<int>((msg * 31) % 1000);
    std::string u = "user" + std::to_string(user) + "@example.com";
    return std::string("request=smtpd_access_policy\nprotocol_state=") + states[state] +
           "\nprotocol_name=ESMTP\nclient_address=10.0." + std::to_string(client / 250) + "." +
           std::to_string(client % 250 + 1) + "\nclient_name=host" + std::to_string(client) +
           ".example.net\nreverse_client_name=host" + std::to_string(client) +
           ".example.net\nhelo_name=host" + std::to_string(client) + ".example.net\nsender=" + u +
           "\nrecipient=rcpt" + std::to_string(msg % 97) +
           "@example.org\nrecipient_count=" + (state == 0 ? "0" : "1") +
           "\nqueue_id=\ninstance=" + std::to_string(msg) + "\nsize=2048\nsasl_method=" +
           (g_anon ? "" : "PLAIN") + "\nsasl_username=" + (g_anon ? "" : u) +
           "\nsasl_sender=\nccert_subject=\nccert_issuer=\nccert_fingerprint=\n"
           "encryption_protocol=\nencryption_cipher=\nencryption_keysize=0\netrn_domain=\n"
           "stress=\n\n";
}

struct ProcStat {
    long ppid = 0;
    double cpu = 0;  // utime + stime + cutime + cstime, in ticks
};

bool read_stat(long pid, ProcStat& out) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto close = all.rfind(')');
    if (close == std::string::npos || close + 2 > all.size()) return false;
    std::istringstream rest(all.substr(close + 2));
    std::string field;
    // after "pid (comm) ": state is field 3, ppid 4, utime 14, stime 15,
    // cutime 16, cstime 17 (children that were waited for)
    for (int i = 3; i <= 17 && rest >> field; ++i) {
        if (i == 4) out.ppid = std::atol(field.c_str());
        if (i >= 14) out.cpu += std::atof(field.c_str());
    }
    return true;
}

// CPU seconds of the processes and all their descendants (pre-forking
// peers answer in child processes that come and go): live ones plus those
// already reaped (cutime/cstime). 0 for none.
double cpu_of(const std::vector<long>& roots) {
    if (roots.empty()) return 0;
    std::vector<std::pair<long, ProcStat>> all;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        long pid = std::atol(e.path().filename().c_str());
        ProcStat st;
        if (pid > 0 && read_stat(pid, st)) all.emplace_back(pid, st);
    }
    std::vector<long> in(roots);
    double ticks = 0;
    for (bool grew = true; grew;) {
        grew = false;
        for (auto& [pid, st] : all)
            if (st.cpu >= 0 &&
                (std::find(in.begin(), in.end(), pid) != in.end() ||
                 std::find(in.begin(), in.end(), st.ppid) != in.end())) {
                ticks += st.cpu;
                st.cpu = -1;  // counted
                if (std::find(in.begin(), in.end(), pid) == in.end()) in.push_back(pid);
                grew = true;
            }
    }
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double self_cpu() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Conn {
    int fd = -1;
    long next = 0;  // index into the prepared requests
    Clock::time_point sent;
    std::string got;
    bool done = false;
};

long percentile(const std::vector<long>& h, long total, double p) {
    long want = static_cast<long>(static_cast<double>(total) * p), seen = 0;
    for (int i = 0; i < kBuckets; ++i)
        if ((seen += h[static_cast<std::size_t>(i)]) > want) return i;
    return kBuckets;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr,
                     "usage: policy_load HOST PORT CONNECTIONS SECONDS [MAX_REQUESTS [auth|anon "
                     "[PID,...]]]\n");
        return 64;
    }
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
    if (::inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) return 64;
    int nconns = std::max(1, std::atoi(argv[3]));
    double secs = std::atof(argv[4]);
    long budget = argc > 5 ? std::atol(argv[5]) : 10'000'000L;
    g_anon = argc > 6 && std::string(argv[6]) == "anon";
    std::vector<long> pids;
    if (argc > 7)
        for (char* p = argv[7]; *p;) {
            char* end = nullptr;
            long v = std::strtol(p, &end, 10);
            if (end == p) break;
            if (v > 0) pids.push_back(v);
            p = *end ? end + 1 : end;
        }

    std::vector<std::string> reqs;
    reqs.reserve(kMessages * 3);
    for (long m = 0; m < kMessages; ++m)
        for (int s = 0; s < 3; ++s) reqs.push_back(request(m, s));

    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<Conn> conns(static_cast<std::size_t>(nconns));
    long errors = 0;
    for (int i = 0; i < nconns; ++i) {
        Conn& c = conns[static_cast<std::size_t>(i)];
        c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0) {
            ++errors;
            ::close(c.fd);
            c.fd = -1;
            c.done = true;
            continue;
        }
        c.next = (static_cast<long>(i) * 7919 % kMessages) * 3;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<std::uint32_t>(i);
        ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    }

    std::vector<long> hist(kBuckets, 0);
    long requests = 0, restricted = 0, sent = 0;
    int open = 0;
    double cpu0 = cpu_of(pids), self0 = self_cpu();
    auto start = Clock::now();
    auto end = start + std::chrono::milliseconds(static_cast<long>(secs * 1000));
    auto send_next = [&](Conn& c) {
        if (sent >= budget || Clock::now() >= end) {
            c.done = true;
            return;
        }
        const std::string& r = reqs[static_cast<std::size_t>(c.next % (kMessages * 3))];
        c.sent = Clock::now();
        if (::send(c.fd, r.data(), r.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(r.size())) {
            ++errors;
            c.done = true;
            return;
        }
        ++sent;
        ++c.next;
    };
    for (auto& c : conns)
        if (!c.done) {
            send_next(c);
            if (!c.done) ++open;
        }
    epoll_event events[256];
    char buf[4096];
    while (open > 0) {
        int n = ::epoll_wait(ep, events, 256, 1000);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (n == 0 && Clock::now() > end + std::chrono::seconds(5)) {
            errors += open;  // replies overdue by 5 s: give up
            break;
        }
        for (int i = 0; i < n; ++i) {
            Conn& c = conns[events[i].data.u32];
            if (c.done) continue;
            ssize_t k = ::recv(c.fd, buf, sizeof buf, 0);
            if (k <= 0) {
                if (k < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                ++errors;
                c.done = true;
                --open;
                continue;
            }
            c.got.append(buf, static_cast<std::size_t>(k));
            if (c.got.size() < 2 || c.got.compare(c.got.size() - 2, 2, "\n\n") != 0) continue;
            auto us =
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - c.sent)
                    .count();
            ++hist[static_cast<std::size_t>(std::min<long>(us, kBuckets - 1))];
            ++requests;
            if (c.got.size() > 7) {
                std::string action = c.got.substr(7, c.got.find_first_of(" \n", 7) - 7);
                for (auto& ch : action)
                    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                if (action != "DUNNO" && action != "OK" && action != "PREPEND") ++restricted;
            }
            c.got.clear();
            send_next(c);
            if (c.done) --open;
        }
    }
    double took = std::chrono::duration<double>(Clock::now() - start).count();
    double cpu = cpu_of(pids) - cpu0, self = self_cpu() - self0;
    for (auto& c : conns)
        if (c.fd >= 0) ::close(c.fd);
    double per = requests > 0 ? 1e6 / static_cast<double>(requests) : 0;
    std::printf(
        "conns=%d requests=%ld seconds=%.2f rps=%.0f p50_us=%ld p99_us=%ld server_cpu_us=%.2f "
        "load_cpu_us=%.2f restricted=%ld errors=%ld\n",
        nconns, requests, took, static_cast<double>(requests) / took,
        percentile(hist, requests, 0.50), percentile(hist, requests, 0.99),
        pids.empty() ? 0.0 : cpu * per, self * per, restricted, errors);
    return errors > 0 ? 1 : 0;
}
