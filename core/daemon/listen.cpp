#include "core/daemon/listen.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/daemon/user_lookup.hpp"
#include "core/util/strings.hpp"

namespace yubin::daemon {
namespace {

constexpr std::size_t kMaxUnixPath = sizeof(sockaddr_un::sun_path) - 1;  // room for the NUL

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

Result<ListenSpec> parse_listen(std::string_view text) {
    if (text.empty())
        return fail(ErrorKind::Config, "empty listen address; want unix:/path or inet:host:port");
    return parse_listen_address(text, ListenPortZero::Allow);
}

Result<UniqueFd> listen_on(const ListenSpec& spec, const ListenOptions& opts) {
    switch (spec.kind) {
        case ListenSpec::Kind::Unix:
            return listen_unix(spec, opts);
        case ListenSpec::Kind::Inet:
            return listen_inet(spec, opts);
        case ListenSpec::Kind::Disabled:
            break;
    }
    return fail(ErrorKind::Config, "listen_on: no listen address (disabled)");
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
