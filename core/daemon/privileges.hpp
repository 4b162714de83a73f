// Giving up root after the sockets are bound (Postfix's set_ugid()).
#pragma once

#include <string_view>

#include "core/util/result.hpp"

namespace yubin::daemon {

// Becomes `user` for good: setgid(user's primary group), initgroups (the
// user's supplementary groups, dropping root's), setuid, each checked; then
// verifies that setuid(0) fails, so a half-dropped process never goes on.
//
//   - running as root: `user` must name a non-root user (Config otherwise);
//   - not root and `user` empty: nothing to do, success;
//   - not root and `user` names the current user: success, nothing changes;
//   - not root and another user: Internal (only root can switch);
//   - unknown user: Config; a failing system call: Internal.
//
// On failure the process may be partly changed (e.g. groups already dropped):
// the caller must exit. Call before starting threads; glibc applies the
// change to every thread, but a thread already holding root's files keeps them.
[[nodiscard]] Status drop_privileges(std::string_view user);

}  // namespace yubin::daemon
