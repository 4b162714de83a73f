#include "core/maildir/maildir_writer.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

namespace yubin::maildir {
namespace {

constexpr int kMaxNameRetries = 100;  // EEXIST on a fresh unique name: something is very odd

Status fsync_dir(const FileOps& ops, int fd, const std::string& shown) {
    if (ops.fsync(fd) != 0) return fail(errno_error("fsync " + shown, errno));
    return {};
}

}  // namespace

StagedFile::StagedFile(StagedFile&& o) noexcept
    : tmp_dir_(std::move(o.tmp_dir_)),
      owned_(std::exchange(o.owned_, false)),
      name_(std::move(o.name_)),
      final_name_(std::move(o.final_name_)),
      size_(o.size_) {}

StagedFile::~StagedFile() {
    if (owned_ && tmp_dir_) ::unlinkat(tmp_dir_.get(), name_.c_str(), 0);
}

// Step 1: a new file in tmp/ named for `size`, open for writing in `fd`.
Result<StagedFile> MaildirWriter::create(const Maildir& md, std::uint64_t size, UniqueFd& fd) {
    std::string name;
    for (int attempt = 0;; ++attempt) {
        name = namer_.next(size);
        fd.reset(::openat(md.tmp_fd(), name.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (fd) break;
        if (errno != EEXIST || attempt >= kMaxNameRetries)
            return fail(errno_error("create " + md.path() + "/tmp/" + name, errno));
    }
    // From here on the file exists: the StagedFile removes it on every failure.
    UniqueFd dir(::fcntl(md.tmp_fd(), F_DUPFD_CLOEXEC, 0));
    if (!dir) {
        int e = errno;
        ::unlinkat(md.tmp_fd(), name.c_str(), 0);
        return fail(errno_error("dup " + md.path() + "/tmp", e));
    }
    return StagedFile(std::move(dir), name, size);
}

Status MaildirWriter::write_parts(int fd, std::span<const std::string_view> parts,
                                  const std::string& shown) {
    for (auto p : parts) {
        while (!p.empty()) {
            ssize_t n = ops_.write(fd, p.data(), p.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return fail(errno_error("write " + shown, errno));
            if (n == 0) return fail(ErrorKind::Temp, "write " + shown + ": no progress");
            p.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    return {};
}

Status MaildirWriter::copy_tail(int fd, StreamTail& tail, const std::string& shown) {
    constexpr std::size_t kChunk = 1u << 20;
    auto too_big = [&] {
        return fail(ErrorKind::Perm, "message too big (more than " + std::to_string(tail.limit) +
                                         " bytes)");
    };
    // Each call asks for at most one byte past the limit, so an oversized
    // message is noticed without writing much more of it.
    auto want = [&]() -> std::size_t {
        if (tail.limit == 0) return kChunk;
        std::uint64_t used = tail.counted + tail.read;
        std::uint64_t room = used > tail.limit ? 0 : tail.limit - used;
        return static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, room + 1));
    };
    bool try_splice = ops_.splice != nullptr;
    while (try_splice) {
        ssize_t n = ops_.splice(tail.fd, nullptr, fd, nullptr, want(), SPLICE_F_MOVE);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && tail.read == 0 && (errno == EINVAL || errno == ENOSYS)) {
            try_splice = false;  // not a pipe, or a file system without splice: copy
            break;
        }
        // An error here may be the input's or the file's; the file's
        // (ENOSPC, EIO) are the ones that matter and are temporary either way.
        if (n < 0) return fail(errno_error("write " + shown, errno));
        if (n == 0) return {};
        tail.read += static_cast<std::uint64_t>(n);
        if (tail.limit != 0 && tail.counted + tail.read > tail.limit) return too_big();
    }
    static thread_local char buf[1u << 16];
    for (;;) {
        ssize_t n = ops_.read(tail.fd, buf, std::min(sizeof buf, want()));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(errno_error("read message", errno));
        if (n == 0) return {};
        tail.read += static_cast<std::uint64_t>(n);
        if (tail.limit != 0 && tail.counted + tail.read > tail.limit) return too_big();
        std::string_view chunk(buf, static_cast<std::size_t>(n));
        if (auto st = write_parts(fd, std::span(&chunk, 1), shown); !st) return st;
    }
}

// Step 2's end: fsync and close, each checked (NFS reports ENOSPC at close).
Status MaildirWriter::finish(UniqueFd& fd, const std::string& shown) {
    if (ops_.fsync(fd.get()) != 0) return fail(errno_error("fsync " + shown, errno));
    if (::close(fd.release()) != 0) return fail(errno_error("close " + shown, errno));
    return {};
}

Result<StagedFile> MaildirWriter::stage(const Maildir& md,
                                        std::span<const std::string_view> parts) {
    return stage_with(md, parts, nullptr);
}

Result<StagedFile> MaildirWriter::stage_stream(const Maildir& md,
                                               std::span<const std::string_view> parts,
                                               StreamTail& tail) {
    return stage_with(md, parts, &tail);
}

Result<StagedFile> MaildirWriter::stage_with(const Maildir& md,
                                             std::span<const std::string_view> parts,
                                             StreamTail* tail) {
    std::uint64_t size = 0;
    for (auto p : parts) size += p.size();
    UniqueFd fd;
    auto staged = create(md, size, fd);
    if (!staged) return fail(staged.error());
    std::string shown = md.path() + "/tmp/" + staged->name();
    if (auto st = write_parts(fd.get(), parts, shown); !st) return fail(st.error());
    if (tail) {
        tail->read = 0;
        if (auto st = copy_tail(fd.get(), *tail, shown); !st) return fail(st.error());
    }
    if (auto st = finish(fd, shown); !st) return fail(st.error());
    if (tail) {
        staged->size_ = size + tail->read;
        staged->final_name_ = namer_.next(staged->size_);
    }
    return std::move(*staged);
}

Result<Delivered> MaildirWriter::commit(const StagedFile& file, const Maildir& dst, bool move) {
    std::string name = file.final_name();
    for (int attempt = 0;; ++attempt) {
        int rc;
        if (move) {
            rc = ::renameat2(file.tmp_dir_.get(), file.name_.c_str(), dst.new_fd(), name.c_str(),
                             RENAME_NOREPLACE);
            if (rc != 0 && errno == EINVAL) {
                // A filesystem without RENAME_NOREPLACE: link + unlink is the
                // Maildir specification's own way and never replaces a file.
                rc = ::linkat(file.tmp_dir_.get(), file.name_.c_str(), dst.new_fd(), name.c_str(), 0);
                if (rc == 0) ::unlinkat(file.tmp_dir_.get(), file.name_.c_str(), 0);
            }
        } else {
            rc = ::linkat(file.tmp_dir_.get(), file.name_.c_str(), dst.new_fd(), name.c_str(), 0);
        }
        if (rc == 0) break;
        if (errno != EEXIST || attempt >= kMaxNameRetries)
            return fail(errno_error("deliver into " + dst.path() + "/new/" + name, errno));
        name = namer_.next(file.size_);
    }
    Delivered d{name, dst.path() + "/new/" + name, file.size_};
    auto st = dir_sync_ ? dir_sync_->sync(dst.new_fd(), dst.path() + "/new", ops_.fsync)
                        : fsync_dir(ops_, dst.new_fd(), dst.path() + "/new");
    if (!st) {
        // Not known to be durable: take it back so the sender retries.
        ::unlinkat(dst.new_fd(), name.c_str(), 0);
        return fail(st.error());
    }
    return d;
}

Result<Delivered> MaildirWriter::commit_link(const StagedFile& file, const Maildir& dst) {
    return commit(file, dst, false);
}

Result<Delivered> MaildirWriter::commit_move(StagedFile&& file, const Maildir& dst) {
    StagedFile owned(std::move(file));
    auto d = commit(owned, dst, true);
    if (d) owned.owned_ = false;  // renamed away: nothing left to unlink
    return d;
}

Result<Delivered> MaildirWriter::deliver(const Maildir& md,
                                         std::span<const std::string_view> parts) {
    auto staged = stage(md, parts);
    if (!staged) return fail(staged.error());
    return commit_move(std::move(*staged), md);
}

}  // namespace yubin::maildir
