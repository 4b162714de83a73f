#include "core/maildir/quota.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

#include <fmt/format.h>

#include "core/maildir/unique_name.hpp"
#include "core/util/strings.hpp"

namespace yubin::maildir {
namespace {

constexpr std::int64_t kMaxSane = std::numeric_limits<std::int64_t>::max() / 4;

bool add_checked(std::int64_t& acc, std::int64_t v) {
    if (v > kMaxSane || v < -kMaxSane) return false;
    acc += v;
    return acc <= kMaxSane && acc >= -kMaxSane;
}

// Sizes of the messages in one of cur/new of some Maildir (borrowed fd).
Status scan_dir(int parent, const char* sub, QuotaUsage& usage) {
    int fd = ::openat(parent, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return {};
        return fail(errno_error(std::string("open ") + sub, errno));
    }
    DIR* d = ::fdopendir(fd);
    if (!d) {
        int e = errno;
        ::close(fd);
        return fail(errno_error(std::string("opendir ") + sub, e));
    }
    ScopeExit closer([d] { ::closedir(d); });
    while (dirent* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        if (name.empty() || name.front() == '.') continue;
        std::int64_t size = 0;
        if (auto s = size_from_name(name)) {
            size = static_cast<std::int64_t>(std::min<std::uint64_t>(*s, kMaxSane));
        } else {
            struct stat st{};
            if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // expunged meanwhile
            if (!S_ISREG(st.st_mode)) continue;
            size = st.st_size;
        }
        if (!add_checked(usage.bytes, size) || !add_checked(usage.messages, 1))
            return fail(ErrorKind::Internal, "quota scan overflow");
    }
    return {};
}

Status write_maildirsize(const Maildir& root, const QuotaLimits& limits, const QuotaUsage& u) {
    std::string text = fmt::format("{}\n{} {}\n", format_limits(limits), u.bytes, u.messages);
    std::string tmp = fmt::format("maildirsize.{}.tmp", ::getpid());
    UniqueFd fd(::openat(root.dir_fd(), tmp.c_str(),
                         O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return fail(errno_error("create " + root.path() + "/" + tmp, errno));
    std::string_view rest = text;
    while (!rest.empty()) {
        ssize_t n = ::write(fd.get(), rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int e = errno;
            ::unlinkat(root.dir_fd(), tmp.c_str(), 0);
            return fail(errno_error("write " + root.path() + "/" + tmp, e));
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::renameat(root.dir_fd(), tmp.c_str(), root.dir_fd(), "maildirsize") != 0) {
        int e = errno;
        ::unlinkat(root.dir_fd(), tmp.c_str(), 0);
        return fail(errno_error("rename " + root.path() + "/maildirsize", e));
    }
    return {};
}

}  // namespace

std::string format_limits(const QuotaLimits& limits) {
    std::string s;
    if (limits.bytes > 0) s = fmt::format("{}S", limits.bytes);
    if (limits.messages > 0) {
        if (!s.empty()) s += ',';
        s += fmt::format("{}C", limits.messages);
    }
    return s;
}

Result<ParsedMaildirsize> parse_maildirsize(std::string_view text) {
    if (text.size() > kMaildirsizeMaxBytes) return fail(ErrorKind::BadInput, "maildirsize too large");
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) return fail(ErrorKind::BadInput, "maildirsize: no limits line");
    ParsedMaildirsize out;
    for (auto field : split_any(text.substr(0, nl), ",")) {
        field = trim(field);
        if (field.empty()) continue;
        char unit = field.back();
        auto v = parse_int(field.substr(0, field.size() - 1));
        if (!v || *v < 0) return fail(ErrorKind::BadInput, "maildirsize: bad limit");
        if (unit == 'S') {
            out.limits.bytes = *v;
        } else if (unit == 'C') {
            out.limits.messages = *v;
        } else {
            return fail(ErrorKind::BadInput, "maildirsize: bad limit unit");
        }
    }
    text.remove_prefix(nl + 1);
    while (!text.empty()) {
        nl = text.find('\n');
        // An unterminated last line is an append in progress or a torn
        // write: the file cannot be trusted, rebuild it.
        if (nl == std::string_view::npos) return fail(ErrorKind::BadInput, "maildirsize: torn line");
        auto line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        if (trim(line).empty()) continue;
        auto fields = split_any(line, " \t");
        if (fields.size() != 2) return fail(ErrorKind::BadInput, "maildirsize: bad line");
        auto b = parse_int(fields[0]);
        auto c = parse_int(fields[1]);
        if (!b || !c || !add_checked(out.usage.bytes, *b) || !add_checked(out.usage.messages, *c))
            return fail(ErrorKind::BadInput, "maildirsize: bad number");
    }
    return out;
}

Result<QuotaUsage> scan_usage(const Maildir& root) {
    QuotaUsage usage;
    for (const char* sub : {"new", "cur"})
        if (auto st = scan_dir(root.dir_fd(), sub, usage); !st) return fail(st.error());
    int fd = ::dup(root.dir_fd());
    if (fd < 0) return fail(errno_error("dup", errno));
    DIR* d = ::fdopendir(fd);
    if (!d) {
        int e = errno;
        ::close(fd);
        return fail(errno_error("opendir " + root.path(), e));
    }
    ::rewinddir(d);
    ScopeExit closer([d] { ::closedir(d); });
    while (dirent* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        if (name.size() < 2 || name.front() != '.' || name == "..") continue;
        int folder = ::openat(::dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (folder < 0) continue;  // not a directory, or gone
        UniqueFd owned(folder);
        for (const char* sub : {"new", "cur"})
            if (auto st = scan_dir(folder, sub, usage); !st) return fail(st.error());
    }
    return usage;
}

Result<QuotaUsage> quota_usage(const Maildir& root, const QuotaLimits& limits) {
    UniqueFd fd(::openat(root.dir_fd(), "maildirsize", O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd) {
        char buf[kMaildirsizeMaxBytes + 1];
        std::size_t len = 0;
        for (;;) {
            ssize_t n = ::read(fd.get(), buf + len, sizeof buf - len);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return fail(errno_error("read " + root.path() + "/maildirsize", errno));
            if (n == 0 || (len += static_cast<std::size_t>(n)) == sizeof buf) break;
        }
        auto parsed = parse_maildirsize(std::string_view(buf, len));
        if (parsed && parsed->limits == limits && parsed->usage.bytes >= 0 &&
            parsed->usage.messages >= 0)
            return parsed->usage;
    } else if (errno != ENOENT) {
        return fail(errno_error("open " + root.path() + "/maildirsize", errno));
    }
    auto usage = scan_usage(root);
    if (!usage) return usage;
    if (auto st = write_maildirsize(root, limits, *usage); !st) return fail(st.error());
    return usage;
}

bool over_quota(const QuotaUsage& usage, const QuotaLimits& limits, std::int64_t size) {
    if (limits.bytes > 0 && usage.bytes + size > limits.bytes) return true;
    if (limits.messages > 0 && usage.messages + 1 > limits.messages) return true;
    return false;
}

Status quota_add(const Maildir& root, std::int64_t bytes, std::int64_t messages) {
    UniqueFd fd(::openat(root.dir_fd(), "maildirsize",
                         O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        // No file: the next quota_usage() rebuilds it from the directories,
        // which already hold this message.
        if (errno == ENOENT) return {};
        return fail(errno_error("open " + root.path() + "/maildirsize", errno));
    }
    std::string line = fmt::format("{} {}\n", bytes, messages);
    ssize_t n;
    do {
        n = ::write(fd.get(), line.data(), line.size());
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(line.size()))
        return fail(errno_error("append " + root.path() + "/maildirsize", n < 0 ? errno : EIO));
    return {};
}

}  // namespace yubin::maildir
