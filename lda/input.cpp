#include "lda/input.hpp"

#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

namespace yubin::lda {

Result<std::string> read_message(int fd, std::size_t limit) {
    std::string buf;
    std::size_t len = 0;
    buf.resize(64 * 1024);
    for (;;) {
        if (len == buf.size()) buf.resize(buf.size() * 2);
        ssize_t n = ::read(fd, buf.data() + len, buf.size() - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(errno_error("read message", errno));
        if (n == 0) break;
        len += static_cast<std::size_t>(n);
        if (limit != 0 && len > limit)
            return fail(ErrorKind::Perm,
                        fmt::format("message too big (more than {} bytes)", limit));
    }
    buf.resize(len);
    return buf;
}

}  // namespace yubin::lda
