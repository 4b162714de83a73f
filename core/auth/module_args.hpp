// The args string of `passdb { driver = yubin args = ... }` and the userdb
// block: "[blocking=yes|no] [rehash=yes|no] [PATH]", words separated by
// spaces, as Dovecot's own drivers take "key=value ... path". Dovecot passes it
// raw (no %variable expansion).
#pragma once

#include <string>
#include <string_view>

#include "core/config/config.hpp"
#include "core/util/result.hpp"

namespace yubin::auth {

struct ModuleArgs {
    // Lookups run in Dovecot's auth-worker processes (as root, in parallel)
    // instead of the single auth process: the default, because a password
    // hash takes tens of milliseconds and would stall every other login.
    bool blocking = true;
    bool rehash = true;
    std::string config_path{config::kDefaultPath};
};

// Config error naming the bad word (unknown key, value not yes/no, a second
// path, a relative path).
[[nodiscard]] Result<ModuleArgs> parse_module_args(std::string_view args);

}  // namespace yubin::auth
