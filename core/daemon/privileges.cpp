#include "core/daemon/privileges.hpp"

#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "core/daemon/user_lookup.hpp"
#include "core/util/strings.hpp"

namespace yubin::daemon {
namespace {

tl::unexpected<Error> internal(const std::string& what, int err) {
    Error e = errno_error(what, err);
    e.kind = ErrorKind::Internal;  // never worth retrying in-process: the caller exits
    return fail(std::move(e));
}

}  // namespace

Status drop_privileges(std::string_view user) {
    const bool root = ::geteuid() == 0;
    if (user.empty()) {
        if (!root) return {};
        return fail(ErrorKind::Config,
                    "running as root and no user to drop privileges to; refusing to go on");
    }
    auto info = lookup_user(user);
    if (!info) return fail(info.error());
    const std::string name = sanitize_for_log(info->name, 64);
    if (info->uid == 0)
        return fail(ErrorKind::Config, "user \"" + name + "\" is root; name an unprivileged user");

    if (!root) {
        if (::getuid() == info->uid && ::geteuid() == info->uid && ::getgid() == info->gid &&
            ::getegid() == info->gid)
            return {};
        return fail(ErrorKind::Internal, "not running as root, cannot switch to user \"" + name + "\"");
    }

    // Group first: after setuid() we could no longer change it.
    if (::setgid(info->gid) != 0) return internal("setgid(" + std::to_string(info->gid) + ")", errno);
    if (::initgroups(info->name.c_str(), info->gid) != 0)
        return internal("initgroups(" + name + ")", errno);
    if (::setuid(info->uid) != 0) return internal("setuid(" + std::to_string(info->uid) + ")", errno);

    if (::getuid() != info->uid || ::geteuid() != info->uid || ::getgid() != info->gid ||
        ::getegid() != info->gid)
        return fail(ErrorKind::Internal, "privileges not fully dropped to \"" + name + "\"");
    // The check Postfix and OpenSSH make: if root can be regained, something
    // (a saved set-user-ID, a capability) survived, and we must not go on.
    if (::setuid(0) != -1)
        return fail(ErrorKind::Internal, "setuid(0) succeeded after dropping to \"" + name + "\"");
    return {};
}

}  // namespace yubin::daemon
