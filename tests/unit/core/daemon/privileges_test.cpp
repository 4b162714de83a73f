#include <doctest/doctest.h>

#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "core/daemon/privileges.hpp"
#include "core/daemon/user_lookup.hpp"

using namespace yubin;
using namespace yubin::daemon;

namespace {

// Exit codes of the forked child, one per check, so a failure names itself.
enum ChildExit {
    kOk = 0,
    kDropFailed = 10,
    kWrongUid,
    kWrongGid,
    kRootGroupKept,
    kRegainedRoot,
};

const char* describe(int code) {
    switch (code) {
        case kOk: return "ok";
        case kDropFailed: return "drop_privileges returned an error";
        case kWrongUid: return "real or effective uid is not nobody's";
        case kWrongGid: return "real or effective gid is not nobody's";
        case kRootGroupKept: return "a supplementary group of root survived";
        case kRegainedRoot: return "setuid(0) succeeded after the drop";
    }
    return "unexpected exit";
}

// Runs in the forked child only: no doctest macros, _exit with a code.
[[noreturn]] void drop_and_check(uid_t uid, gid_t gid) {
    // Give the child a supplementary group that must disappear.
    const gid_t extra[] = {0, 4};
    (void)::setgroups(2, extra);
    if (!drop_privileges("nobody")) ::_exit(kDropFailed);
    if (::getuid() != uid || ::geteuid() != uid) ::_exit(kWrongUid);
    if (::getgid() != gid || ::getegid() != gid) ::_exit(kWrongGid);
    gid_t groups[64];
    const int n = ::getgroups(64, groups);
    for (int i = 0; i < n; ++i)
        if (groups[i] == 0 || groups[i] == 4) ::_exit(kRootGroupKept);
    if (::setuid(0) == 0) ::_exit(kRegainedRoot);
    ::_exit(kOk);
}

}  // namespace

TEST_CASE("daemon: drop_privileges to nobody") {
    auto nobody = lookup_user("nobody");
    REQUIRE(nobody.has_value());
    if (::geteuid() != 0) {
        const uid_t before = ::geteuid();
        auto st = drop_privileges("nobody");
        if (before == nobody->uid && ::getgid() == nobody->gid) {
            // Already nobody: documented as success without change.
            CHECK(st.has_value());
        } else {
            // Not root: switching to another user cannot work and must say so.
            REQUIRE_FALSE(st.has_value());
            CHECK(st.error().kind == ErrorKind::Internal);
        }
        CHECK(::geteuid() == before);
        return;
    }
    // Root: do it in a child so that the test process keeps its privileges.
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) drop_and_check(nobody->uid, nobody->gid);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    const int code = WEXITSTATUS(status);
    const std::string what = describe(code);
    CAPTURE(what);
    CHECK(code == kOk);
}

TEST_CASE("daemon: drop_privileges refuses what cannot be right") {
    struct Case {
        const char* user;
        bool as_root_ok;      // expected result when running as root
        bool as_user_ok;      // expected result otherwise
        ErrorKind kind;       // when it fails
    };
    // None of these reaches setuid, so the test process is never changed.
    const Case cases[] = {
        {"", false, true, ErrorKind::Config},  // root must name a user; others need none
        {"no-such-user-yubin", false, false, ErrorKind::Config},
        {"root", false, false, ErrorKind::Config},
    };
    const bool root = ::geteuid() == 0;
    const uid_t euid_before = ::geteuid();
    for (const auto& c : cases) {
        CAPTURE(c.user);
        CAPTURE(root);
        auto st = drop_privileges(c.user);
        const bool want_ok = root ? c.as_root_ok : c.as_user_ok;
        REQUIRE(st.has_value() == want_ok);
        if (!want_ok) {
            CAPTURE(st.error().what);
            CHECK(st.error().kind == c.kind);
        }
    }
    CHECK(::geteuid() == euid_before);
}
