// The socketmap reply cache on its own: version checks, the bound, the
// second chance of entries used again.
#include "dovecot-auth/authd/reply_cache.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace yubin::authd;

TEST_CASE("reply cache: entries live as long as the version") {
    ReplyCache c(100);
    c.validate({1, 7});
    CHECK(c.find("mailbox a@x.example") == nullptr);
    c.insert("mailbox a@x.example", "OK x.example/a/Maildir/");
    c.insert("mailbox b@x.example", "NOTFOUND ");
    REQUIRE(c.find("mailbox a@x.example") != nullptr);
    CHECK(*c.find("mailbox a@x.example") == "OK x.example/a/Maildir/");
    CHECK(*c.find("mailbox b@x.example") == "NOTFOUND ");
    CHECK(c.find("domain a@x.example") == nullptr);  // the map is part of the key
    c.validate({1, 7});
    CHECK(c.size() == 2);
    c.validate({1, 8});  // another connection committed
    CHECK(c.size() == 0);
    CHECK(c.find("mailbox a@x.example") == nullptr);
    c.insert("mailbox a@x.example", "OK x.example/a/Maildir/");
    c.validate({2, 8});  // same number, another store handle
    CHECK(c.size() == 0);
    c.insert("mailbox a@x.example", "OK 1");
    c.clear();
    CHECK(c.find("mailbox a@x.example") == nullptr);
}

TEST_CASE("reply cache: never more than max_entries, entries used again stay") {
    ReplyCache c(10);
    c.validate({1, 1});
    for (int i = 0; i < 10; ++i) c.insert("k" + std::to_string(i), "v" + std::to_string(i));
    CHECK(c.size() == 10);
    // Full: k0..k9 become the old generation and one of them goes.
    c.insert("k10", "v10");
    CHECK(c.size() == 10);
    // Those of k0..k4 found now are young again...
    std::vector<int> used;
    for (int i = 0; i < 5; ++i)
        if (c.find("k" + std::to_string(i)) != nullptr) used.push_back(i);
    CHECK(used.size() >= 4);
    // ...so the next entries push out the old k5..k9, never them.
    for (int i = 11; i < 15; ++i) c.insert("k" + std::to_string(i), "v" + std::to_string(i));
    CHECK(c.size() == 10);
    for (int i : used) {
        CAPTURE(i);
        REQUIRE(c.find("k" + std::to_string(i)) != nullptr);
        CHECK(*c.find("k" + std::to_string(i)) == "v" + std::to_string(i));
    }
    for (int i = 10; i < 15; ++i) CHECK(c.find("k" + std::to_string(i)) != nullptr);
    int old_left = 0;
    for (int i = 5; i < 10; ++i) old_left += c.find("k" + std::to_string(i)) != nullptr ? 1 : 0;
    CHECK(old_left <= 1);
    // A flood of new keys (a peer asking random addresses) stays bounded.
    for (int i = 0; i < 1000; ++i) {
        c.insert("n" + std::to_string(i), "NOTFOUND ");
        REQUIRE(c.size() <= 10);
    }
    CHECK(c.size() == 10);
    CHECK(c.find("n999") != nullptr);
}

TEST_CASE("reply cache: a pair over the entry bound or a size of 0 caches nothing") {
    ReplyCache c(10);
    c.validate({1, 1});
    const std::string key = "alias " + std::string(200, 'a') + "@x.example";
    c.insert(key, "OK " + std::string(kReplyCacheMaxEntryBytes, 't'));
    CHECK(c.find(key) == nullptr);
    c.insert(key, "OK short");
    CHECK(c.find(key) != nullptr);
    c.insert(key, "OK other");  // an entry is never replaced within a version
    CHECK(*c.find(key) == "OK short");

    ReplyCache off(0);
    CHECK_FALSE(off.enabled());
    off.validate({1, 1});
    off.insert("k", "v");
    CHECK(off.find("k") == nullptr);
    CHECK(off.size() == 0);
}
