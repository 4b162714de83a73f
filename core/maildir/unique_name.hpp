// Maildir file names: "<sec>.M<usec>P<pid>Q<n>.<host>,S=<size>".
//
// The name is unique on its own (pid and a per-process counter inside one
// microsecond), and the writer still creates it with O_EXCL and takes the
// next counter value on EEXIST, so a clash (a recycled pid on an NFS
// client) costs a retry, never a lost message. ",S=<size>" lets Dovecot and
// the maildirsize recalculation read the size without a stat().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace yubin::maildir {

struct Timestamp {
    std::int64_t sec = 0;
    std::int64_t usec = 0;
};

// The wall clock, injected so tests can pin names.
using Clock = std::function<Timestamp()>;
[[nodiscard]] Timestamp system_now();

// The host part of a name: '/' and ':' would break the path and Maildir's
// ":2," info suffix, so they become "\057" and "\072" as the Maildir
// specification says; other bytes outside printable ASCII become '_'.
[[nodiscard]] std::string sanitize_host(std::string_view host);

[[nodiscard]] std::string format_unique_name(Timestamp t, pid_t pid, std::uint64_t q,
                                             std::string_view safe_host, std::uint64_t size);

// The S=<size> field of a Maildir file name (new/ or cur/, with or without
// ":2,flags"); nullopt if it has none or it is malformed.
[[nodiscard]] std::optional<std::uint64_t> size_from_name(std::string_view name);

class UniqueNamer {
public:
    UniqueNamer(std::string_view host, pid_t pid, Clock clock = system_now);
    // Each call returns a different name in this process.
    [[nodiscard]] std::string next(std::uint64_t size);

private:
    std::string host_;
    pid_t pid_;
    Clock clock_;
    std::uint64_t q_ = 0;
};

}  // namespace yubin::maildir
