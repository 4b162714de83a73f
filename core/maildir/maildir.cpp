#include "core/maildir/maildir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "core/util/strings.hpp"

namespace yubin::maildir {
namespace {

constexpr std::size_t kMaxFolderNameBytes = 200;
constexpr std::size_t kMaxSubscriptionsBytes = 1 << 20;
constexpr auto kLockWait = std::chrono::seconds(5);
constexpr auto kStaleLock = std::chrono::seconds(60);  // older than this: its owner died

Status ensure_dir_at(int parent, const char* name, mode_t mode, const std::string& shown) {
    if (::mkdirat(parent, name, mode) == 0 || errno == EEXIST) return {};
    return fail(errno_error("mkdir " + shown, errno));
}

Result<UniqueFd> open_dir_at(int parent, const char* name, const std::string& shown) {
    int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return fail(errno_error("open " + shown, errno));
    return UniqueFd(fd);
}

Status mkdir_parents(const std::string& path, mode_t mode) {
    // Walks the path from the root; each existing component is fine.
    for (std::size_t pos = 1; pos <= path.size(); ++pos) {
        if (pos != path.size() && path[pos] != '/') continue;
        std::string prefix = path.substr(0, pos);
        if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST)
            return fail(errno_error("mkdir " + prefix, errno));
    }
    return {};
}

// Reads a small file whole, at most `max` bytes (more: BadInput).
Result<std::string> read_small(int dir, const char* name, std::size_t max) {
    UniqueFd fd(::openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return fail(errno_error(name, errno));
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(errno_error(std::string("read ") + name, errno));
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > max) return fail(ErrorKind::BadInput, std::string(name) + " too large");
    }
    return out;
}

Status write_all(int fd, std::string_view data, const std::string& shown) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(errno_error("write " + shown, errno));
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

}  // namespace

Result<Maildir> Maildir::open(const std::string& path, const OpenOptions& opts) {
    if (path.empty()) return fail(ErrorKind::Config, "empty Maildir path");
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (opts.create && opts.create_parents) {
        if (auto st = mkdir_parents(p, opts.mode); !st) return fail(st.error());
    } else if (opts.create) {
        if (::mkdir(p.c_str(), opts.mode) != 0 && errno != EEXIST)
            return fail(errno_error("mkdir " + p, errno));
    }
    // The root itself may be a symlink (a site's choice); its parts may not.
    int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fail(errno_error("open " + p, errno));
    return open_at(std::move(p), UniqueFd(fd), opts.create, opts.mode);
}

Result<Maildir> Maildir::open_at(std::string path, UniqueFd dir, bool create, mode_t mode) {
    Maildir md;
    md.path_ = std::move(path);
    md.mode_ = mode;
    md.dir_ = std::move(dir);
    UniqueFd* fds[] = {&md.tmp_, &md.new_, &md.cur_};
    const char* names[] = {"tmp", "new", "cur"};
    for (int i = 0; i < 3; ++i) {
        std::string shown = md.path_ + "/" + names[i];
        if (create) {
            if (auto st = ensure_dir_at(md.dir_.get(), names[i], mode, shown); !st)
                return fail(st.error());
        }
        auto fd = open_dir_at(md.dir_.get(), names[i], shown);
        if (!fd) return fail(fd.error());
        *fds[i] = std::move(*fd);
    }
    return md;
}

bool Maildir::valid_folder_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxFolderNameBytes) return false;
    if (name.front() == '.' || name.find("..") != std::string_view::npos) return false;
    for (char c : name) {
        if (c <= ' ' || c >= 0x7f) return false;
        if (std::string_view("/\\&\"*%~").find(c) != std::string_view::npos) return false;
    }
    return !iequals(name, "cur") && !iequals(name, "new") && !iequals(name, "tmp");
}

Result<Maildir> Maildir::folder(std::string_view name, bool create) const {
    if (!valid_folder_name(name))
        return fail(ErrorKind::BadInput, "invalid folder name " + sanitize_for_log(name, 64));
    // Built by appending: gcc 12 -O2 warns falsely (-Wrestrict) on "." + string.
    std::string entry(1, '.');
    entry.append(name);
    std::string shown = path_ + "/" + entry;
    if (create) {
        if (::mkdirat(dir_.get(), entry.c_str(), mode_) != 0 && errno != EEXIST)
            return fail(errno_error("mkdir " + shown, errno));
    }
    auto fd = open_dir_at(dir_.get(), entry.c_str(), shown);
    if (!fd) return fail(fd.error());
    auto md = open_at(shown, std::move(*fd), create, mode_);
    if (!md) return md;
    if (create) {
        int marker = ::openat(md->dir_fd(), "maildirfolder",
                              O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (marker < 0) return fail(errno_error("create " + shown + "/maildirfolder", errno));
        ::close(marker);
    }
    return md;
}

Status Maildir::subscribe(std::string_view name) const {
    if (!valid_folder_name(name))
        return fail(ErrorKind::BadInput, "invalid folder name " + sanitize_for_log(name, 64));
    auto listed = [&](const std::string& text) {
        for (auto line : split_any(text, "\n"))
            if (line == name) return true;
        return false;
    };
    auto current = read_small(dir_.get(), "subscriptions", kMaxSubscriptionsBytes);
    if (current && listed(*current)) return {};
    if (!current && current.error().kind != ErrorKind::NotFound) return fail(current.error());

    // Dovecot's dot-lock: create "subscriptions.lock" exclusively, remove a
    // stale one (its owner died), give up after kLockWait.
    auto deadline = std::chrono::steady_clock::now() + kLockWait;
    for (;;) {
        int fd = ::openat(dir_.get(), "subscriptions.lock",
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ::close(fd);
            break;
        }
        if (errno != EEXIST) return fail(errno_error("create subscriptions.lock", errno));
        struct stat st{};
        if (::fstatat(dir_.get(), "subscriptions.lock", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            std::chrono::system_clock::now() -
                    std::chrono::system_clock::from_time_t(st.st_mtime) > kStaleLock)
            ::unlinkat(dir_.get(), "subscriptions.lock", 0);
        if (std::chrono::steady_clock::now() > deadline)
            return fail(ErrorKind::Temp, "subscriptions.lock held too long");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    int dir = dir_.get();
    auto unlock = [dir] { ::unlinkat(dir, "subscriptions.lock", 0); };
    ScopeExit guard(unlock);

    current = read_small(dir_.get(), "subscriptions", kMaxSubscriptionsBytes);
    std::string text;
    if (current) {
        if (listed(*current)) return {};
        text = std::move(*current);
        if (!text.empty() && text.back() != '\n') text += '\n';
    } else if (current.error().kind != ErrorKind::NotFound) {
        return fail(current.error());
    } else {
        text = "V\t2\n\n";
    }
    text.append(name);
    text += '\n';

    std::string tmp = fmt::format("subscriptions.{}.tmp", ::getpid());
    UniqueFd fd(::openat(dir_.get(), tmp.c_str(),
                         O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return fail(errno_error("create " + tmp, errno));
    auto st = write_all(fd.get(), text, tmp);
    if (st && ::fsync(fd.get()) != 0) st = fail(errno_error("fsync " + tmp, errno));
    if (st && ::renameat(dir_.get(), tmp.c_str(), dir_.get(), "subscriptions") != 0)
        st = fail(errno_error("rename " + tmp, errno));
    if (!st) ::unlinkat(dir_.get(), tmp.c_str(), 0);
    return st;
}

}  // namespace yubin::maildir
