// Listening sockets named the way Postfix names milter and policy endpoints
// (unix:/path, inet:host:port, inet:[v6]:port). The grammar is the one in
// core/util/listen_address.hpp, shared with the config layer.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/fd.hpp"
#include "core/util/listen_address.hpp"
#include "core/util/result.hpp"

namespace yubin::daemon {

// A daemon's listening address: Kind::Unix or Kind::Inet (never Disabled
// once parse_listen accepted it); port 0 lets the kernel choose (tests).
using ListenSpec = ::yubin::ListenAddress;

// parse_listen_address with port 0 allowed; "" is an error here (a daemon
// asked to listen needs an address). Config error naming the problem.
[[nodiscard]] Result<ListenSpec> parse_listen(std::string_view text);

struct ListenOptions {
    int backlog = 1024;
    mode_t unix_mode = 0660;  // exact mode of the socket file; umask does not apply
    std::string unix_owner;   // empty: leave as created (the calling user)
    std::string unix_group;   // empty: leave as created
    bool nonblocking = true;  // O_NONBLOCK on the listening socket (not inherited by accept)
};

// socket + bind + listen, SOCK_STREAM and close-on-exec.
//
// unix: an existing socket file at the path is removed first if nobody is
// listening on it (a leftover of a crashed daemon); a live socket is an error
// (another instance is running), and so is anything that is not a socket,
// which is never removed. The mode and owner are set between bind() and
// listen(), so no client can connect while the file still has the umask's
// mode. The directory should be root-owned: the path is trusted.
//
// inet: SO_REUSEADDR so a restart does not wait for TIME_WAIT; a host name
// that resolves to several addresses is bound on the first that works.
[[nodiscard]] Result<UniqueFd> listen_on(const ListenSpec& spec, const ListenOptions& opts = {});

// The local port of a bound inet socket (the kernel's choice after port 0).
[[nodiscard]] Result<std::uint16_t> bound_port(int fd);

}  // namespace yubin::daemon
