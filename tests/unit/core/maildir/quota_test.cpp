#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/maildir/maildir_writer.hpp"
#include "core/maildir/quota.hpp"
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

TEST_CASE("maildir: maildirsize parses limits and sums the lines") {
    struct Case { std::string text; std::int64_t lb, lc, ub, uc; };
    const Case cases[] = {
        {"1000S,10C\n100 1\n200 2\n", 1000, 10, 300, 3},
        {"1000S\n100 1\n-50 -1\n", 1000, 0, 50, 0},
        {"10C\n", 0, 10, 0, 0},
        {"\n5 1\n", 0, 0, 5, 1},
        {"1000S,10C\n  100   1\n\n", 1000, 10, 100, 1},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        auto p = parse_maildirsize(c.text);
        REQUIRE_MESSAGE(p, (p ? "" : p.error().what));
        CHECK(p->limits.bytes == c.lb);
        CHECK(p->limits.messages == c.lc);
        CHECK(p->usage.bytes == c.ub);
        CHECK(p->usage.messages == c.uc);
    }
}

TEST_CASE("maildir: malformed maildirsize is refused (and then rebuilt by quota_usage)") {
    const std::string bad[] = {
        "", "1000S", "1000X\n", "-5S\n", "1000S\n100\n", "1000S\n100 1 2\n", "1000S\nx 1\n",
        "1000S\n100 1", "1000S\n99999999999999999999 1\n", "1000S\n" + std::string(6000, ' ') + "\n",
        std::string("1000S\n1\0 1\n", 11),
    };
    for (const auto& b : bad) {
        CAPTURE(b.substr(0, 40));
        CHECK_FALSE(parse_maildirsize(b));
    }
}

TEST_CASE("maildir: format_limits writes what Dovecot writes") {
    CHECK(format_limits({1000, 10}) == "1000S,10C");
    CHECK(format_limits({1000, 0}) == "1000S");
    CHECK(format_limits({0, 10}) == "10C");
}

TEST_CASE("maildir: quota_usage builds maildirsize from all folders, then appends keep it in step") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    auto junk = md->folder("Junk", true);
    REQUIRE(junk);
    MaildirWriter w(UniqueNamer("h", 1));
    std::string a100(100, 'a');
    std::string_view p100[] = {a100};
    REQUIRE(w.deliver(*md, p100));
    REQUIRE(w.deliver(*junk, p100));
    // A file without S= in cur/ is stat()ed.
    std::ofstream(md->path() + "/cur/legacy:2,S") << std::string(50, 'b');

    QuotaLimits limits{1000, 10};
    auto u = quota_usage(*md, limits);
    REQUIRE_MESSAGE(u, (u ? "" : u.error().what));
    CHECK(u->bytes == 250);
    CHECK(u->messages == 3);
    CHECK(slurp(md->path() + "/maildirsize") == "1000S,10C\n250 3\n");

    REQUIRE(quota_add(*md, 100, 1));
    CHECK(slurp(md->path() + "/maildirsize") == "1000S,10C\n250 3\n100 1\n");
    u = quota_usage(*md, limits);
    REQUIRE(u);
    CHECK(u->bytes == 350);  // from the file, not a rescan
    CHECK(u->messages == 4);
}

TEST_CASE("maildir: changed limits, a torn line or an oversized file force a rebuild") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    auto file = md->path() + "/maildirsize";
    QuotaLimits limits{1000, 0};
    for (std::string text : {std::string("2000S\n5 1\n"), std::string("1000S\n5 1\n7"),
                             "1000S\n" + std::string(5200, '\n')}) {
        std::ofstream(file, std::ios::trunc) << text;
        auto u = quota_usage(*md, limits);
        REQUIRE(u);
        CHECK(u->bytes == 0);
        CHECK(slurp(file) == "1000S\n0 0\n");
    }
}

TEST_CASE("maildir: over_quota checks bytes and count") {
    CHECK_FALSE(over_quota({900, 1}, {1000, 0}, 100));
    CHECK(over_quota({901, 1}, {1000, 0}, 100));
    CHECK(over_quota({0, 10}, {0, 10}, 1));
    CHECK_FALSE(over_quota({0, 9}, {0, 10}, 1));
    CHECK_FALSE(over_quota({1 << 30, 1 << 20}, {0, 0}, 1 << 30));
}

TEST_CASE("maildir: quota_add without a maildirsize does nothing (the next read rebuilds)") {
    test::TempDir t;
    auto md = Maildir::open(t.path() + "/Maildir", {.create = true});
    REQUIRE(md);
    REQUIRE(quota_add(*md, 10, 1));
    CHECK_FALSE(fs::exists(md->path() + "/maildirsize"));
}
