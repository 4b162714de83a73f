// null_server PORT: the ceiling of the policy benchmark. Answers every
// request with "action=DUNNO" and does nothing else: one thread per
// connection, blocking reads, no parsing beyond finding the blank line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

int main(int argc, char** argv) {
    if (argc < 2) return 64;
    int ls = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(ls, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 || ::listen(ls, 1024) < 0)
        return 75;
    for (;;) {
        int fd = ::accept(ls, nullptr, nullptr);
        if (fd < 0) continue;
        std::thread([fd] {
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            char buf[65536];
            std::string pending;
            for (;;) {
                ssize_t n = ::recv(fd, buf, sizeof buf, 0);
                if (n <= 0) break;
                pending.append(buf, static_cast<std::size_t>(n));
                std::size_t p;
                while ((p = pending.find("\n\n")) != std::string::npos) {
                    pending.erase(0, p + 2);
                    static const char reply[] = "action=DUNNO\n\n";
                    if (::send(fd, reply, sizeof reply - 1, MSG_NOSIGNAL) < 0) break;
                }
            }
            ::close(fd);
        }).detach();
    }
}
