#include "core/daemon/user_lookup.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace yubin::daemon {
namespace {

// The buffer grows on ERANGE (large groups overflow any fixed size), bounded
// so that a broken NSS module cannot make us allocate without end.
constexpr std::size_t kMaxLookupBuffer = 1 << 20;

std::size_t initial_buffer(int name) {
    const long n = ::sysconf(name);
    return n > 0 ? static_cast<std::size_t>(n) : 4096;
}

}  // namespace

Result<UserInfo> lookup_user(std::string_view name) {
    const std::string n(name);
    if (n.empty() || n.find('\0') != std::string::npos)
        return fail(ErrorKind::Config, "invalid user name \"" + n + "\"");
    std::vector<char> buf(initial_buffer(_SC_GETPW_R_SIZE_MAX));
    for (;;) {
        passwd pw{};
        passwd* found = nullptr;
        const int rc = ::getpwnam_r(n.c_str(), &pw, buf.data(), buf.size(), &found);
        if (rc == ERANGE && buf.size() < kMaxLookupBuffer) {
            buf.resize(buf.size() * 2);
            continue;
        }
        // Some NSS modules report "no such user" as ENOENT or ESRCH.
        if (rc != 0 && rc != ENOENT && rc != ESRCH)
            return fail(errno_error("getpwnam_r(" + n + ")", rc));
        if (found == nullptr) return fail(ErrorKind::Config, "unknown user \"" + n + "\"");
        return UserInfo{pw.pw_name, pw.pw_uid, pw.pw_gid};
    }
}

Result<gid_t> lookup_group(std::string_view name) {
    const std::string n(name);
    if (n.empty() || n.find('\0') != std::string::npos)
        return fail(ErrorKind::Config, "invalid group name \"" + n + "\"");
    std::vector<char> buf(initial_buffer(_SC_GETGR_R_SIZE_MAX));
    for (;;) {
        group gr{};
        group* found = nullptr;
        const int rc = ::getgrnam_r(n.c_str(), &gr, buf.data(), buf.size(), &found);
        if (rc == ERANGE && buf.size() < kMaxLookupBuffer) {
            buf.resize(buf.size() * 2);
            continue;
        }
        if (rc != 0 && rc != ENOENT && rc != ESRCH)
            return fail(errno_error("getgrnam_r(" + n + ")", rc));
        if (found == nullptr) return fail(ErrorKind::Config, "unknown group \"" + n + "\"");
        return gr.gr_gid;
    }
}

}  // namespace yubin::daemon
