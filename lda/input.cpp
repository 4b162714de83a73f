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

Error message_too_big(std::size_t limit) {
    return Error{ErrorKind::Perm, fmt::format("message too big (more than {} bytes)", limit)};
}

// Reads into the buffer until EOF or until it holds at least `stop_at`
// bytes (0: to EOF); each read asks for all the room there is.
Status MessageReader::fill(std::size_t stop_at) {
    constexpr std::size_t kFirst = 256 * 1024;
    MessageBuffer& buf = buf_;
    if (!buf.data_) {
        void* p = ::mmap(nullptr, kFirst, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return fail(errno_error("read message: mmap", errno));
        buf.data_ = static_cast<char*>(p);
        buf.capacity_ = kFirst;
    }
    while (!eof_ && (stop_at == 0 || buf.size_ < stop_at)) {
        if (buf.size_ == buf.capacity_) {
            void* q = ::mremap(buf.data_, buf.capacity_, buf.capacity_ * 2, MREMAP_MAYMOVE);
            if (q == MAP_FAILED) return fail(errno_error("read message: mremap", errno));
            buf.data_ = static_cast<char*>(q);
            buf.capacity_ *= 2;
        }
        ssize_t n = ::read(fd_, buf.data_ + buf.size_, buf.capacity_ - buf.size_);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(errno_error("read message", errno));
        if (n == 0) {
            eof_ = true;
            break;
        }
        buf.size_ += static_cast<std::size_t>(n);
        if (limit_ != 0 && buf.size_ > limit_) return fail(message_too_big(limit_));
        if (stop_at != 0) {
            scan_header_end();
            if (header_complete_) break;
        }
    }
    return {};
}

// The header ends at the first empty line: "\n\n" or "\n\r\n" (a message
// starting with an empty line has an empty header, which the fallback to
// reading everything handles the same way).
void MessageReader::scan_header_end() {
    std::string_view v = buf_.view();
    // Resume two bytes back: the empty line may straddle two reads.
    std::size_t from = scanned_ >= 2 ? scanned_ - 2 : 0;
    for (std::size_t i = v.find('\n', from); i != std::string_view::npos; i = v.find('\n', i + 1)) {
        if (i + 1 < v.size() && v[i + 1] == '\n') {
            header_complete_ = true;
            break;
        }
        if (i + 2 < v.size() && v[i + 1] == '\r' && v[i + 2] == '\n') {
            header_complete_ = true;
            break;
        }
    }
    scanned_ = v.size();
}

Status MessageReader::read_head(std::size_t head_max) { return fill(head_max == 0 ? 1 : head_max); }

Status MessageReader::read_rest() { return fill(0); }

Result<MessageBuffer> read_message(int fd, std::size_t limit) {
    MessageReader r(fd, limit);
    if (auto st = r.read_rest(); !st) return fail(st.error());
    return std::move(r.buf_);
}

}  // namespace yubin::lda
