// The unix socket options of yubin-policyd (policyd_socket_*): the mode is
// parsed as octal and bounded, owner and group pass through to
// daemon::listen_on, and a socket made with them has that mode.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "policyd/app.hpp"

using namespace yubin;

namespace {

Result<daemon::ListenOptions> options_from(const std::string& text) {
    auto cfg = config::Config::parse(text, "yubin.cf");
    REQUIRE_MESSAGE(cfg.has_value(), (cfg ? "" : cfg.error().what));
    return policyd::listen_options(*cfg);
}

}  // namespace

TEST_CASE("policyd: socket mode, owner and group from yubin.cf") {
    auto def = options_from("");
    REQUIRE(def);
    CHECK(def->unix_mode == 0666);
    CHECK(def->unix_owner.empty());
    CHECK(def->unix_group.empty());
    CHECK(def->backlog >= 1024);

    auto set = options_from(
        "policyd_socket_mode = 0660\npolicyd_socket_owner = nobody\npolicyd_socket_group = "
        "nogroup\n");
    REQUIRE(set);
    CHECK(set->unix_mode == 0660);
    CHECK(set->unix_owner == "nobody");
    CHECK(set->unix_group == "nogroup");

    CHECK(options_from("policyd_socket_mode = 600\n")->unix_mode == 0600);
    for (const char* bad : {"0888", "1777", "rw-rw----", "0x1b6", "-1", "06 60"}) {
        CAPTURE(bad);
        auto got = options_from(std::string("policyd_socket_mode = ") + bad + "\n");
        REQUIRE_FALSE(got);
        CHECK(got.error().kind == ErrorKind::Config);
        CHECK(got.error().what.find("policyd_socket_mode") != std::string::npos);
    }
}

TEST_CASE("policyd: the socket gets policyd_socket_mode whatever the umask") {
    char tmpl[] = "/tmp/yubin-policyd-app.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    std::string dir = tmpl;
    auto lo = options_from("policyd_socket_mode = 0640\n");
    REQUIRE(lo);
    mode_t old = ::umask(077);
    daemon::ListenSpec spec;
    spec.kind = daemon::ListenSpec::Kind::Unix;
    spec.path = dir + "/policy";
    auto fd = daemon::listen_on(spec, *lo);
    ::umask(old);
    REQUIRE_MESSAGE(fd.has_value(), (fd ? "" : fd.error().what));
    struct stat st{};
    REQUIRE(::lstat(spec.path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    std::filesystem::remove_all(dir);
}
