// Thread-safe user and group lookups (getpwnam_r / getgrnam_r) for the
// daemon helpers: socket ownership and privilege dropping.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "core/util/result.hpp"

namespace yubin::daemon {

struct UserInfo {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;  // primary group
};

// Config error for an unknown name, Internal when the lookup itself fails.
[[nodiscard]] Result<UserInfo> lookup_user(std::string_view name);
[[nodiscard]] Result<gid_t> lookup_group(std::string_view name);

}  // namespace yubin::daemon
