// Listening sockets named the way Postfix names milter and policy endpoints:
//
//   unix:/var/spool/postfix/private/yubin-policy
//   inet:127.0.0.1:10025   inet:[::1]:10025   inet:localhost:10025
//
// SECURITY: the address text comes from yubin.cf (root-owned, but still
// parsed strictly): the unix path must be absolute and fit sun_path, the port
// must be a decimal number 0..65535, an IPv6 host must be bracketed and valid,
// a host name may only hold letters, digits, '.', '-' and '_'. Error messages
// quote the input sanitised and cut (util's sanitize_for_log).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/fd.hpp"
#include "core/util/result.hpp"

namespace yubin::daemon {

struct ListenSpec {
    enum class Kind { Unix, Inet };
    Kind kind = Kind::Unix;
    std::string path;        // Unix: absolute path of the socket file
    std::string host;        // Inet: address or name, without IPv6 brackets
    std::uint16_t port = 0;  // Inet: 0 lets the kernel choose (tests)

    // The canonical text form, which parse_listen() reads back unchanged.
    [[nodiscard]] std::string to_string() const;
};

// Config error with a message naming the problem for anything malformed.
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
