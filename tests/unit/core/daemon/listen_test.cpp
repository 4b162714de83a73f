#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/daemon/listen.hpp"
#include "core/daemon/user_lookup.hpp"

using namespace yubin;
using namespace yubin::daemon;

namespace {

// A fresh directory under /tmp, removed with its contents at the end.
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/yubin-daemon-test-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

UniqueFd connect_unix(const std::string& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return {};
    return fd;
}

bool readable_within(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

}  // namespace

TEST_CASE("daemon: parse_listen accepts Postfix-style addresses") {
    struct Case {
        const char* in;
        ListenSpec::Kind kind;
        const char* path;
        const char* host;
        std::uint16_t port;
        const char* canonical;
    };
    const Case cases[] = {
        {"unix:/var/spool/postfix/private/yubin", ListenSpec::Kind::Unix,
         "/var/spool/postfix/private/yubin", "", 0, "unix:/var/spool/postfix/private/yubin"},
        {"inet:127.0.0.1:10025", ListenSpec::Kind::Inet, "", "127.0.0.1", 10025,
         "inet:127.0.0.1:10025"},
        {"inet:[::1]:10025", ListenSpec::Kind::Inet, "", "::1", 10025, "inet:[::1]:10025"},
        {"inet:[::]:25", ListenSpec::Kind::Inet, "", "::", 25, "inet:[::]:25"},
        {"inet:localhost:10025", ListenSpec::Kind::Inet, "", "localhost", 10025,
         "inet:localhost:10025"},
        {"inet:127.0.0.1:0", ListenSpec::Kind::Inet, "", "127.0.0.1", 0, "inet:127.0.0.1:0"},
        {"inet:0.0.0.0:65535", ListenSpec::Kind::Inet, "", "0.0.0.0", 65535,
         "inet:0.0.0.0:65535"},
        {"INET:mx-1.example_x.jp:587", ListenSpec::Kind::Inet, "", "mx-1.example_x.jp", 587,
         "inet:mx-1.example_x.jp:587"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        auto got = parse_listen(c.in);
        REQUIRE_MESSAGE(got.has_value(), (got ? "" : got.error().what));
        CHECK(got->kind == c.kind);
        CHECK(got->path == c.path);
        CHECK(got->host == c.host);
        CHECK(got->port == c.port);
        CHECK(got->to_string() == c.canonical);
        auto again = parse_listen(got->to_string());
        REQUIRE(again.has_value());
        CHECK(again->to_string() == c.canonical);
    }
}

TEST_CASE("daemon: parse_listen rejects malformed addresses with a reason") {
    struct Case {
        std::string in;
        const char* reason;  // a piece of the message the administrator sees
    };
    const Case cases[] = {
        {"", "empty"},
        {"unix:", "missing socket path"},
        {"unix:relative/path", "must be absolute"},
        {"unix:/" + std::string(200, 'a'), "longer than"},
        {"unix:/tmp/a\nb", "control character"},
        {"inet:127.0.0.1", "missing port"},
        {"inet:127.0.0.1:", "missing port"},
        {"inet:127.0.0.1:65536", "0 to 65535"},
        {"inet:127.0.0.1:99999999999", "0 to 65535"},
        {"inet:127.0.0.1:-1", "0 to 65535"},
        {"inet:127.0.0.1:+25", "0 to 65535"},
        {"inet:127.0.0.1:25x", "0 to 65535"},
        {"inet::25", "missing host"},
        {"inet:::1:25", "brackets"},
        {"inet:[::1]25", "missing port after"},
        {"inet:[::1]", "missing port after"},
        {"inet:[::1:25", "missing ']'"},
        {"inet:[not-v6]:25", "invalid IPv6"},
        {"inet:[127.0.0.1]:25", "invalid IPv6"},
        {"inet:host name:25", "invalid character"},
        {"inet:h\xff:25", "invalid character"},
        {"inet:" + std::string(300, 'a') + ":25", "too long"},
        {"tcp:127.0.0.1:25", "unknown transport"},
        {"127.0.0.1:25", "unknown transport"},
        {"garbage", "unknown transport"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        auto got = parse_listen(c.in);
        REQUIRE_FALSE(got.has_value());
        CAPTURE(got.error().what);
        CHECK(got.error().kind == ErrorKind::Config);
        CHECK(got.error().what.find(c.reason) != std::string::npos);
        CHECK(got.error().what.find('\n') == std::string::npos);
    }
}

TEST_CASE("daemon: listen_on unix applies the mode regardless of umask") {
    TempDir dir;
    const mode_t old_umask = ::umask(077);
    for (mode_t mode : {mode_t{0660}, mode_t{0600}, mode_t{0666}}) {
        CAPTURE(mode);
        ListenSpec spec{ListenSpec::Kind::Unix, dir.path + "/mode", "", 0};
        ListenOptions opts;
        opts.unix_mode = mode;
        auto fd = listen_on(spec, opts);
        REQUIRE_MESSAGE(fd.has_value(), (fd ? "" : fd.error().what));
        struct stat st{};
        REQUIRE(::lstat(spec.path.c_str(), &st) == 0);
        CHECK(S_ISSOCK(st.st_mode));
        CHECK((st.st_mode & 07777) == mode);
        CHECK((::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC) != 0);
        CHECK((::fcntl(fd->get(), F_GETFL) & O_NONBLOCK) != 0);
        // The listener accepts a real connection.
        UniqueFd client = connect_unix(spec.path);
        CHECK(client.valid());
        CHECK(readable_within(fd->get(), 1000));
        UniqueFd conn(::accept4(fd->get(), nullptr, nullptr, SOCK_CLOEXEC));
        CHECK(conn.valid());
        // Closing the listener leaves the file behind: the next round finds a stale socket.
    }
    ::umask(old_umask);
}

TEST_CASE("daemon: listen_on unix replaces a stale socket, refuses a live one or a file") {
    TempDir dir;
    const std::string path = dir.path + "/s";
    {
        // A socket file nobody listens on, as a crashed daemon leaves it.
        UniqueFd old(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path.data(), path.size());
        REQUIRE(::bind(old.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    struct stat st{};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    ListenSpec spec{ListenSpec::Kind::Unix, path, "", 0};
    auto first = listen_on(spec, {});
    REQUIRE_MESSAGE(first.has_value(), (first ? "" : first.error().what));
    CHECK(connect_unix(path).valid());

    // A second instance must not steal the socket of a running one.
    auto second = listen_on(spec, {});
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().kind == ErrorKind::Config);
    CHECK(second.error().what.find("in use") != std::string::npos);
    CHECK(connect_unix(path).valid());

    const std::string file = dir.path + "/file";
    { std::ofstream(file) << "keep me"; }
    auto refused = listen_on(ListenSpec{ListenSpec::Kind::Unix, file, "", 0}, {});
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().kind == ErrorKind::Config);
    CHECK(refused.error().what.find("not a socket") != std::string::npos);
    std::string content;
    std::getline(std::ifstream(file), content);
    CHECK(content == "keep me");
}

TEST_CASE("daemon: listen_on unix sets owner and group, refuses unknown names") {
    TempDir dir;
    auto nobody = lookup_user("nobody");
    REQUIRE(nobody.has_value());
    ListenOptions opts;
    opts.unix_owner = "nobody";
    opts.unix_group = "nogroup";
    const std::string path = dir.path + "/owned";
    auto nogroup = lookup_group("nogroup");
    REQUIRE(nogroup.has_value());
    auto fd = listen_on(ListenSpec{ListenSpec::Kind::Unix, path, "", 0}, opts);
    // Root may give the file to anyone; nobody:nogroup may "give" it to itself.
    const bool may_chown =
        ::geteuid() == 0 || (::geteuid() == nobody->uid && ::getegid() == *nogroup);
    if (may_chown) {
        REQUIRE_MESSAGE(fd.has_value(), (fd ? "" : fd.error().what));
        struct stat st{};
        REQUIRE(::lstat(path.c_str(), &st) == 0);
        CHECK(st.st_uid == nobody->uid);
        CHECK(st.st_gid == *nogroup);
    } else {
        // Only root may give a file away; the failure must not leave the file behind.
        REQUIRE_FALSE(fd.has_value());
        CHECK(::access(path.c_str(), F_OK) != 0);
    }

    const std::string unknown = dir.path + "/unknown";
    opts.unix_owner = "no-such-user-yubin";
    auto bad = listen_on(ListenSpec{ListenSpec::Kind::Unix, unknown, "", 0}, opts);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().kind == ErrorKind::Config);
    CHECK(::access(unknown.c_str(), F_OK) != 0);
}

TEST_CASE("daemon: listen_on inet port 0 accepts a real connection") {
    auto spec = parse_listen("inet:127.0.0.1:0");
    REQUIRE(spec.has_value());
    auto fd = listen_on(*spec, {});
    REQUIRE_MESSAGE(fd.has_value(), (fd ? "" : fd.error().what));
    auto port = bound_port(fd->get());
    REQUIRE(port.has_value());
    CHECK(*port != 0);

    UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(*port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(readable_within(fd->get(), 1000));
    UniqueFd conn(::accept4(fd->get(), nullptr, nullptr, SOCK_CLOEXEC));
    REQUIRE(conn.valid());
    REQUIRE(::write(client.get(), "ping", 4) == 4);
    char buf[4] = {};
    REQUIRE(::read(conn.get(), buf, 4) == 4);
    CHECK(std::string(buf, 4) == "ping");

    // The same port cannot be taken twice while it is listening.
    ListenSpec taken = *spec;
    taken.port = *port;
    auto again = listen_on(taken, {});
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error().what.find("bind") != std::string::npos);
}

TEST_CASE("daemon: listen_on inet honours nonblocking=false and resolves names") {
    ListenOptions opts;
    opts.nonblocking = false;
    auto fd = listen_on(ListenSpec{ListenSpec::Kind::Inet, "", "localhost", 0}, opts);
    REQUIRE_MESSAGE(fd.has_value(), (fd ? "" : fd.error().what));
    CHECK((::fcntl(fd->get(), F_GETFL) & O_NONBLOCK) == 0);
    CHECK((::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC) != 0);
    auto port = bound_port(fd->get());
    REQUIRE(port.has_value());
    CHECK(*port != 0);
}

TEST_CASE("daemon: bound_port refuses a non-inet socket") {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto port = bound_port(fd.get());
    REQUIRE_FALSE(port.has_value());
    CHECK(port.error().kind == ErrorKind::BadInput);
    CHECK_FALSE(bound_port(-1).has_value());
}
