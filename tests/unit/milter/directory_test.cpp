// StoreDirectory over a real SQLite store: local domains, size limits in
// their order of precedence, sender ownership through aliases.
#include "milter/directory.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

using namespace yubin;
using namespace yubin::milter;

namespace {

struct TempDb {
    std::string dir;
    TempDb() {
        char tmpl[] = "/tmp/yubin-milter-test.XXXXXX";
        dir = ::mkdtemp(tmpl);
    }
    ~TempDb() { std::system(("rm -rf '" + dir + "'").c_str()); }
    std::string spec() const { return "sqlite:" + dir + "/y.db"; }
};

}  // namespace

TEST_CASE("directory: store-backed lookups") {
    TempDb db;
    {
        auto s = store::open_store(db.spec(), {});
        REQUIRE(s);
        auto& st = **s;
        REQUIRE(st.add_domain({.name = "example.jp", .max_message_size = 20000}));
        REQUIRE(st.add_domain({.name = "free.example"}));
        REQUIRE(st.add_mailbox({.address = "taro@example.jp"}));
        REQUIRE(st.add_mailbox({.address = "tiny@example.jp", .max_message_size = 10000}));
        REQUIRE(st.add_mailbox({.address = "hanako@free.example"}));
        REQUIRE(st.add_alias({.source = "info@example.jp", .target = "taro@example.jp"}));
    }
    auto dir = StoreDirectory::open({.store_spec = db.spec(),
                                     .local_domains = {"Extra.Example.", "[192.0.2.1]"},
                                     .default_max_message_size = 5000});
    REQUIRE(dir);
    auto& d = **dir;

    CHECK(*d.is_local_domain("example.jp"));
    CHECK(*d.is_local_domain("EXAMPLE.JP"));
    CHECK(*d.is_local_domain("extra.example"));
    CHECK(*d.is_local_domain("[192.0.2.1]"));
    CHECK_FALSE(*d.is_local_domain("[192.0.2.2]"));
    CHECK_FALSE(*d.is_local_domain("relay.example.net"));
    CHECK_FALSE(*d.is_local_domain("bad domain!"));

    CHECK(*d.size_limit("tiny", "example.jp") == 10000);      // the mailbox's
    CHECK(*d.size_limit("taro", "example.jp") == 20000);      // its domain's
    CHECK(*d.size_limit("tiny+tag", "example.jp") == 10000);  // extension stripped
    CHECK(*d.size_limit("nobody", "example.jp") == 20000);    // domain's, no mailbox
    CHECK(*d.size_limit("hanako", "free.example") == 5000);   // the default
    CHECK(*d.size_limit("x", "extra.example") == 5000);
    CHECK(*d.size_limit("x", "relay.example.net") == 0);   // foreign: none
    CHECK(*d.size_limit("\"q\"", "example.jp") == 20000);  // odd local part: the domain's

    CHECK(*d.owns_sender("taro@example.jp", "taro@example.jp"));
    CHECK(*d.owns_sender("taro@example.jp", "Taro@Example.JP"));
    CHECK(*d.owns_sender("taro@example.jp", "taro+list@example.jp"));
    CHECK(*d.owns_sender("taro@example.jp", "info@example.jp"));
    CHECK_FALSE(*d.owns_sender("taro@example.jp", "hanako@free.example"));
    CHECK_FALSE(*d.owns_sender("hanako@free.example", "info@example.jp"));
}

TEST_CASE("directory: an unreadable store is a temporary failure") {
    auto dir = StoreDirectory::open({.store_spec = "sqlite:/nonexistent/dir/y.db"});
    REQUIRE_FALSE(dir);
    CHECK(is_temporary(dir.error().kind));
}

TEST_CASE("directory: without a store only milter_local_domains count") {
    auto dir = StoreDirectory::open({.local_domains = {"example.jp"}});
    REQUIRE(dir);
    CHECK(*(*dir)->is_local_domain("example.jp"));
    CHECK_FALSE(*(*dir)->is_local_domain("other.example"));
    CHECK(*(*dir)->size_limit("a", "example.jp") == 0);
}
