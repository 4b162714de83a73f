#include "core/daemon/listen.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/daemon/user_lookup.hpp"
#include "core/util/strings.hpp"

namespace yubin::daemon {
namespace {

constexpr std::size_t kMaxUnixPath = sizeof(sockaddr_un::sun_path) - 1;  // room for the NUL
constexpr std::size_t kMaxHostBytes = 255;

tl::unexpected<Error> bad(std::string_view text, std::string_view why) {
    return fail(ErrorKind::Config,
                "listen address \"" + sanitize_for_log(text, 120) + "\": " + std::string(why));
}

bool host_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

Result<sockaddr_un> unix_address(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() > kMaxUnixPath || path.find('\0') != std::string::npos)
        return fail(ErrorKind::Config, "invalid unix socket path \"" + sanitize_for_log(path) + "\"");
    std::memcpy(addr.sun_path, path.data(), path.size());
    return addr;
}

// True when a process accepts connections on the socket file at `addr`.
bool socket_is_live(const sockaddr_un& addr) {
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!probe) return false;
    return ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

Result<UniqueFd> listen_unix(const ListenSpec& spec, const ListenOptions& opts) {
    auto addr = unix_address(spec.path);
    if (!addr) return fail(addr.error());
    const std::string& path = spec.path;

    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return fail(ErrorKind::Config, path + " exists and is not a socket; not removing it");
        if (socket_is_live(*addr))
            return fail(ErrorKind::Config,
                        path + " is in use by a running process (another instance?)");
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            return fail(errno_error("unlink stale socket " + path, errno));
    } else if (errno != ENOENT) {
        return fail(errno_error("lstat " + path, errno));
    }

    // Resolve names before creating anything, so an unknown user leaves no file.
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    if (!opts.unix_owner.empty()) {
        auto user = lookup_user(opts.unix_owner);
        if (!user) return fail(user.error());
        uid = user->uid;
    }
    if (!opts.unix_group.empty()) {
        auto group = lookup_group(opts.unix_group);
        if (!group) return fail(group.error());
        gid = *group;
    }

    const int flags = SOCK_STREAM | SOCK_CLOEXEC | (opts.nonblocking ? SOCK_NONBLOCK : 0);
    UniqueFd fd(::socket(AF_UNIX, flags, 0));
    if (!fd) return fail(errno_error("socket(AF_UNIX)", errno));
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0)
        return fail(errno_error("bind " + path, errno));
    ScopeExit remove_file([&path] { ::unlink(path.c_str()); });

    if (::chmod(path.c_str(), opts.unix_mode) != 0)
        return fail(errno_error("chmod " + path, errno));
    // lchown: never follow a symlink that replaced the fresh socket file.
    if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) &&
        ::lchown(path.c_str(), uid, gid) != 0)
        return fail(errno_error("chown " + path, errno));
    if (::listen(fd.get(), opts.backlog) != 0) return fail(errno_error("listen " + path, errno));
    remove_file.release();
    return fd;
}

Result<UniqueFd> listen_inet(const ListenSpec& spec, const ListenOptions& opts) {
    const std::string where = spec.to_string();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* list = nullptr;
    const std::string port = std::to_string(spec.port);
    const int rc = ::getaddrinfo(spec.host.c_str(), port.c_str(), &hints, &list);
    if (rc != 0) {
        const ErrorKind kind = rc == EAI_AGAIN ? ErrorKind::Temp : ErrorKind::Config;
        const std::string why = rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
        return fail(kind, "cannot resolve " + where + ": " + why);
    }
    ScopeExit free_list([list] { ::freeaddrinfo(list); });

    Error last{ErrorKind::Config, "no address for " + where};
    const int flags = SOCK_STREAM | SOCK_CLOEXEC | (opts.nonblocking ? SOCK_NONBLOCK : 0);
    for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
        UniqueFd fd(::socket(ai->ai_family, flags, ai->ai_protocol));
        if (!fd) {
            last = errno_error("socket for " + where, errno);
            continue;
        }
        const int one = 1;
        if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
            last = errno_error("SO_REUSEADDR for " + where, errno);
            continue;
        }
        if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
            last = errno_error("bind " + where, errno);
            continue;
        }
        if (::listen(fd.get(), opts.backlog) != 0) {
            last = errno_error("listen " + where, errno);
            continue;
        }
        return fd;
    }
    return fail(std::move(last));
}

}  // namespace

std::string ListenSpec::to_string() const {
    if (kind == Kind::Unix) return "unix:" + path;
    const bool v6 = host.find(':') != std::string::npos;
    return "inet:" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<ListenSpec> parse_listen(std::string_view text) {
    if (text.empty()) return bad(text, "empty; want unix:/path or inet:host:port");
    ListenSpec spec;
    if (istarts_with(text, "unix:")) {
        std::string_view path = text.substr(5);
        if (path.empty()) return bad(text, "missing socket path");
        if (path.front() != '/') return bad(text, "unix socket path must be absolute");
        if (path.size() > kMaxUnixPath)
            return bad(text, "unix socket path longer than " + std::to_string(kMaxUnixPath) +
                                 " bytes");
        for (char c : path)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                return bad(text, "control character in unix socket path");
        spec.kind = ListenSpec::Kind::Unix;
        spec.path = std::string(path);
        return spec;
    }
    if (!istarts_with(text, "inet:"))
        return bad(text, "unknown transport; want unix:/path or inet:host:port");

    std::string_view rest = text.substr(5);
    std::string_view host, port;
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos) return bad(text, "missing ']' after IPv6 address");
        host = rest.substr(1, close - 1);
        std::string_view after = rest.substr(close + 1);
        if (after.empty() || after.front() != ':') return bad(text, "missing port after ']'");
        port = after.substr(1);
        in6_addr a6{};
        if (host.size() > INET6_ADDRSTRLEN ||
            ::inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1)
            return bad(text, "invalid IPv6 address in brackets");
    } else {
        const std::size_t colon = rest.rfind(':');
        if (colon == std::string_view::npos) return bad(text, "missing port; want inet:host:port");
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
        if (host.empty())
            return bad(text, "missing host (use 0.0.0.0 or [::] for all addresses)");
        if (host.find(':') != std::string_view::npos)
            return bad(text, "IPv6 address must be in brackets, as in inet:[::1]:10025");
        if (host.size() > kMaxHostBytes) return bad(text, "host name too long");
        for (char c : host)
            if (!host_name_char(c)) return bad(text, "invalid character in host name");
    }
    if (port.empty()) return bad(text, "missing port; want inet:host:port");
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || port.size() > 5 || value > 65535)
        return bad(text, "port must be a number from 0 to 65535");
    spec.kind = ListenSpec::Kind::Inet;
    spec.host = std::string(host);
    spec.port = static_cast<std::uint16_t>(value);
    return spec;
}

Result<UniqueFd> listen_on(const ListenSpec& spec, const ListenOptions& opts) {
    return spec.kind == ListenSpec::Kind::Unix ? listen_unix(spec, opts) : listen_inet(spec, opts);
}

Result<std::uint16_t> bound_port(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return fail(errno_error("getsockname", errno));
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
    return fail(ErrorKind::BadInput, "bound_port: not an inet socket");
}

}  // namespace yubin::daemon
