#include "core/maildir/dir_sync.hpp"

#include <sys/stat.h>

#include <cerrno>

namespace yubin::maildir {

Status DirSync::sync(int fd, const std::string& shown, FsyncFn fsync) {
    struct stat st{};
    if (::fstat(fd, &st) != 0) return fail(errno_error("fstat " + shown, errno));
    const auto key = std::make_pair(st.st_dev, st.st_ino);

    std::unique_lock lock(mu_);
    auto& slot = dirs_[key];
    if (!slot) slot = std::make_unique<Dir>();
    Dir& d = *slot;
    ++d.users;
    // The first fsync to start from now on covers this caller's change.
    const std::uint64_t need = d.started + 1;
    while (d.done < need) {
        if (d.running) {
            d.cv.wait(lock);
            continue;
        }
        d.running = true;
        const std::uint64_t mine = ++d.started;
        ++calls_;
        lock.unlock();
        int rc = fsync(fd);
        int err = rc == 0 ? 0 : errno;
        lock.lock();
        d.running = false;
        d.done = mine;
        if (rc != 0) {
            d.failed = mine;
            d.failed_errno = err;
        }
        d.cv.notify_all();
    }
    const bool failed = d.failed >= need;
    const int err = d.failed_errno;
    if (--d.users == 0 && !d.running) dirs_.erase(key);
    if (failed) return fail(errno_error("fsync " + shown, err));
    return {};
}

std::uint64_t DirSync::calls() const {
    std::lock_guard lock(mu_);
    return calls_;
}

}  // namespace yubin::maildir
