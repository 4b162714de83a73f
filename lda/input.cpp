#include "lda/input.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include <fmt/format.h>

namespace yubin::lda {

MessageBuffer::MessageBuffer(MessageBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      capacity_(std::exchange(o.capacity_, 0)) {}

MessageBuffer& MessageBuffer::operator=(MessageBuffer&& o) noexcept {
    if (this != &o) {
        if (data_) ::munmap(data_, capacity_);
        data_ = std::exchange(o.data_, nullptr);
        size_ = std::exchange(o.size_, 0);
        capacity_ = std::exchange(o.capacity_, 0);
    }
    return *this;
}

MessageBuffer::~MessageBuffer() {
    if (data_) ::munmap(data_, capacity_);
}

Result<MessageBuffer> read_message(int fd, std::size_t limit) {
    constexpr std::size_t kFirst = 256 * 1024;
    MessageBuffer buf;
    void* p = ::mmap(nullptr, kFirst, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return fail(errno_error("read message: mmap", errno));
    buf.data_ = static_cast<char*>(p);
    buf.capacity_ = kFirst;
    for (;;) {
        if (buf.size_ == buf.capacity_) {
            void* q = ::mremap(buf.data_, buf.capacity_, buf.capacity_ * 2, MREMAP_MAYMOVE);
            if (q == MAP_FAILED) return fail(errno_error("read message: mremap", errno));
            buf.data_ = static_cast<char*>(q);
            buf.capacity_ *= 2;
        }
        ssize_t n = ::read(fd, buf.data_ + buf.size_, buf.capacity_ - buf.size_);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(errno_error("read message", errno));
        if (n == 0) break;
        buf.size_ += static_cast<std::size_t>(n);
        if (limit != 0 && buf.size_ > limit)
            return fail(ErrorKind::Perm,
                        fmt::format("message too big (more than {} bytes)", limit));
    }
    return buf;
}

}  // namespace yubin::lda
