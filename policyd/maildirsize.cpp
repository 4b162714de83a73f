#include "policyd/maildirsize.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <limits>

#include "core/util/fd.hpp"
#include "core/util/strings.hpp"

namespace yubin::policyd {
namespace {

bool parse_i64(std::string_view s, std::int64_t& out) {
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

std::int64_t sat_add(std::int64_t a, std::int64_t b) {
    std::int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min();
    return r;
}

}  // namespace

Result<MaildirSize> parse_maildirsize(std::string_view text) {
    MaildirSize m;
    std::size_t pos = 0;
    bool first = true;
    int line_no = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        std::string_view line =
            text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++line_no;
        line = trim(line);
        if (first) {
            first = false;
            for (auto part : split_any(line, ",")) {
                std::int64_t v = 0;
                char unit = part.back();
                if ((unit != 'S' && unit != 'C') ||
                    !parse_i64(part.substr(0, part.size() - 1), v) || v < 0)
                    return fail(ErrorKind::BadInput, "maildirsize: bad quota definition");
                (unit == 'S' ? m.limit_bytes : m.limit_messages) = v;
            }
            continue;
        }
        if (line.empty()) continue;
        auto f = split_any(line, " \t");
        std::int64_t b = 0, c = 0;
        if (f.size() != 2 || !parse_i64(f[0], b) || !parse_i64(f[1], c))
            return fail(ErrorKind::BadInput, "maildirsize: bad line " + std::to_string(line_no));
        m.used_bytes = sat_add(m.used_bytes, b);
        m.used_messages = sat_add(m.used_messages, c);
    }
    if (first) return fail(ErrorKind::BadInput, "maildirsize: empty");
    return m;
}

Result<MaildirSize> read_maildirsize(const std::string& maildir) {
    std::string path = maildir;
    if (!path.empty() && path.back() != '/') path += '/';
    path += "maildirsize";
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR) return fail(ErrorKind::NotFound, path + ": no such file");
        return fail(errno_error(path, e));
    }
    std::string buf;
    buf.resize(kMaxMaildirsizeBytes + 1);
    std::size_t got = 0;
    for (;;) {
        ssize_t n = ::read(fd.get(), buf.data() + got, buf.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(errno_error(path, errno));
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
        if (got > kMaxMaildirsizeBytes)
            return fail(ErrorKind::BadInput,
                        path + ": larger than " + std::to_string(kMaxMaildirsizeBytes) + " bytes");
    }
    buf.resize(got);
    auto r = parse_maildirsize(buf);
    if (!r) return fail(r.error().kind, path + ": " + r.error().what);
    return r;
}

}  // namespace yubin::policyd
