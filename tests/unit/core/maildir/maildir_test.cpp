#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/maildir/maildir.hpp"
#include "unit/temp_dir.hpp"

using namespace yubin;
using namespace yubin::maildir;
namespace fs = std::filesystem;

namespace {
std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
}  // namespace

TEST_CASE("maildir: open without create on a missing Maildir is NotFound") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir");
    REQUIRE_FALSE(md);
    CHECK(md.error().kind == ErrorKind::NotFound);
}

TEST_CASE("maildir: open with create makes tmp/new/cur (and parents when asked), mode 0700") {
    test::TempDir t;
    auto path = t.path() + "/example.com/taro/Maildir/";
    CHECK_FALSE(Maildir::open(path, {.create = true}));  // parent missing
    auto md = Maildir::open(path, {.create = true, .create_parents = true});
    REQUIRE_MESSAGE(md, (md ? "" : md.error().what));
    CHECK(md->path() == t.path() + "/example.com/taro/Maildir");
    for (const char* sub : {"tmp", "new", "cur"}) {
        struct stat st{};
        REQUIRE(::stat((md->path() + "/" + sub).c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0700);
    }
    // Opening again (existing) works, with or without create.
    CHECK(Maildir::open(path));
    CHECK(Maildir::open(path, {.create = true}));
}

TEST_CASE("maildir: a Maildir missing new/ is not opened unless create repairs it") {
    test::TempDir t;
    fs::create_directories(t.path() + "/M/tmp");
    fs::create_directories(t.path() + "/M/cur");
    CHECK_FALSE(Maildir::open(t.path() + "/M"));
    CHECK(Maildir::open(t.path() + "/M", {.create = true}));
}

TEST_CASE("maildir: a symlinked new/ is refused") {
    test::TempDir t;
    fs::create_directories(t.path() + "/M/tmp");
    fs::create_directories(t.path() + "/M/cur");
    fs::create_directories(t.path() + "/elsewhere");
    fs::create_directory_symlink(t.path() + "/elsewhere", t.path() + "/M/new");
    CHECK_FALSE(Maildir::open(t.path() + "/M"));
}

TEST_CASE("maildir: folders are .Name with the maildirfolder marker") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    auto missing = md->folder("Junk", false);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ErrorKind::NotFound);
    auto junk = md->folder("Junk", true);
    REQUIRE(junk);
    CHECK(junk->path() == t.path() + "/Maildir/.Junk");
    CHECK(fs::exists(t.path() + "/Maildir/.Junk/maildirfolder"));
    CHECK(fs::is_directory(t.path() + "/Maildir/.Junk/new"));
    CHECK(md->folder("Junk", false));
}

TEST_CASE("maildir: folder names that could escape or confuse are refused") {
    const char* bad[] = {"", ".", "..", ".hidden", "a/b", "../x", "a..b", "cur", "NEW", "tmp",
                         "a b", "a\tb", "a&b", "\xe6\x97\xa5", "a\\b", "a*", "a%", "~x", "\"q\""};
    for (auto* n : bad) {
        CAPTURE(n);
        CHECK_FALSE(Maildir::valid_folder_name(n));
    }
    const char* good[] = {"Junk", "Sent", "lists.debian", "a-b_c", "x+y", "Trash"};
    for (auto* n : good) {
        CAPTURE(n);
        CHECK(Maildir::valid_folder_name(n));
    }
    CHECK(Maildir::valid_folder_name(std::string(200, 'a')));
    CHECK_FALSE(Maildir::valid_folder_name(std::string(201, 'a')));
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    auto r = md->folder("../../etc", true);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::BadInput);
}

TEST_CASE("maildir: subscribe writes Dovecot's v2 file once per name and keeps others") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    auto file = t.path() + "/Maildir/subscriptions";
    REQUIRE(md->subscribe("Junk"));
    CHECK(slurp(file) == "V\t2\n\nJunk\n");
    REQUIRE(md->subscribe("Junk"));
    CHECK(slurp(file) == "V\t2\n\nJunk\n");
    REQUIRE(md->subscribe("Sent"));
    CHECK(slurp(file) == "V\t2\n\nJunk\nSent\n");
    CHECK_FALSE(fs::exists(t.path() + "/Maildir/subscriptions.lock"));
}

TEST_CASE("maildir: subscribe appends to an old-format file without a final newline") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    std::ofstream(t.path() + "/Maildir/subscriptions") << "Sent";
    REQUIRE(md->subscribe("Junk"));
    CHECK(slurp(t.path() + "/Maildir/subscriptions") == "Sent\nJunk\n");
}

TEST_CASE("maildir: a stale subscriptions.lock is taken over") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    auto lock = t.path() + "/Maildir/subscriptions.lock";
    std::ofstream(lock) << "";
    fs::last_write_time(lock, fs::file_time_type::clock::now() - std::chrono::hours(1));
    REQUIRE(md->subscribe("Junk"));
    CHECK(slurp(t.path() + "/Maildir/subscriptions") == "V\t2\n\nJunk\n");
}
