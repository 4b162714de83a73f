#include "core/passwd/secret.hpp"

#include <doctest/doctest.h>

#include <string>
#include <type_traits>
#include <utility>

using yubin::passwd::Secret;

static_assert(!std::is_copy_constructible_v<Secret>);
static_assert(!std::is_copy_assignable_v<Secret>);
static_assert(std::is_nothrow_move_constructible_v<Secret>);
static_assert(std::is_nothrow_move_assignable_v<Secret>);

TEST_CASE("passwd: Secret holds the bytes it was given") {
    const std::string cases[] = {"", "x", "secret", std::string("a\0b", 3), std::string(300, 'p')};
    for (const auto& c : cases) {
        CAPTURE(c);
        Secret s{std::string(c)};
        CHECK(s.view() == c);
        CHECK(s.empty() == c.empty());
    }
    Secret d;
    CHECK(d.empty());
    CHECK(d.view().empty());
}

TEST_CASE("passwd: Secret moves leave the source empty") {
    Secret a{std::string("hunter2")};
    Secret b(std::move(a));
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move)
    CHECK(a.view().empty());
    CHECK(b.view() == "hunter2");

    Secret c{std::string("other")};
    c = std::move(b);
    CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
    CHECK(c.view() == "hunter2");

    Secret& self = c;
    c = std::move(self);
    CHECK(c.view() == "hunter2");
}
