// null_server PORT: the ceiling of the policy benchmark. Answers every
// request with "action=DUNNO" and does nothing else: one thread, epoll,
// non-blocking sockets (the I/O model of yubin-policyd), no parsing beyond
// finding the blank line. What it costs per request is the floor of any
// policy server on this machine: one recv, one send, a share of epoll_wait.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <unordered_map>

int main(int argc, char** argv) {
    if (argc < 2) return 64;
    int ls = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(ls, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 || ::listen(ls, 4096) < 0)
        return 75;
    int ep = ::epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = ls;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    std::unordered_map<int, std::string> pending;
    epoll_event events[256];
    static char buf[65536];
    static const char reply[] = "action=DUNNO\n\n";
    for (;;) {
        int n = ::epoll_wait(ep, events, 256, -1);
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = ::accept4(ls, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
                    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    epoll_event cev{};
                    cev.events = EPOLLIN;
                    cev.data.fd = c;
                    ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                    pending[c];
                }
                continue;
            }
            ssize_t k = ::recv(fd, buf, sizeof buf, 0);
            if (k < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (k <= 0) {
                ::close(fd);
                pending.erase(fd);
                continue;
            }
            std::string& p = pending[fd];
            p.append(buf, static_cast<std::size_t>(k));
            std::size_t at, replies = 0;
            while ((at = p.find("\n\n")) != std::string::npos) {
                p.erase(0, at + 2);
                ++replies;
            }
            std::string out;
            for (std::size_t r = 0; r < replies; ++r) out += reply;
            if (!out.empty()) ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        }
    }
}
