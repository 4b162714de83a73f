#include "core/maildir/maildir_writer.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>

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
      size_(o.size_) {}

StagedFile::~StagedFile() {
    if (owned_ && tmp_dir_) ::unlinkat(tmp_dir_.get(), name_.c_str(), 0);
}

Result<StagedFile> MaildirWriter::stage(const Maildir& md,
                                        std::span<const std::string_view> parts) {
    std::uint64_t size = 0;
    for (auto p : parts) size += p.size();

    UniqueFd fd;
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
    StagedFile staged(std::move(dir), name, size);
    std::string shown = md.path() + "/tmp/" + name;
    for (auto p : parts) {
        while (!p.empty()) {
            ssize_t n = ops_.write(fd.get(), p.data(), p.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return fail(errno_error("write " + shown, errno));
            if (n == 0) return fail(ErrorKind::Temp, "write " + shown + ": no progress");
            p.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    if (ops_.fsync(fd.get()) != 0) return fail(errno_error("fsync " + shown, errno));
    if (::close(fd.release()) != 0) return fail(errno_error("close " + shown, errno));
    return staged;
}

Result<Delivered> MaildirWriter::commit(const StagedFile& file, const Maildir& dst, bool move) {
    std::string name = file.name_;
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
    if (auto st = fsync_dir(ops_, dst.new_fd(), dst.path() + "/new"); !st) {
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
