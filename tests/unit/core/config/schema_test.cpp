#include <doctest/doctest.h>

#include <string>

#include "core/config/config.hpp"
#include "core/config/value.hpp"

using namespace yubin;
using namespace yubin::config;

namespace {

bool valid_name(std::string_view n) {
    if (n.empty() || !(n.front() >= 'a' && n.front() <= 'z')) return false;
    for (char c : n)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

}  // namespace

TEST_CASE("config: schema names are unique, sorted and well formed") {
    auto s = schema();
    REQUIRE(!s.empty());
    for (std::size_t i = 0; i < s.size(); ++i) {
        INFO("name: " << std::string(s[i].name));
        CHECK(valid_name(s[i].name));
        if (i > 0) CHECK(s[i - 1].name < s[i].name);  // strictly: sorted and unique
        CHECK(find_param(s[i].name) == &s[i]);
    }
    CHECK(find_param("milter_lisen") == nullptr);
    CHECK(find_param("") == nullptr);
    CHECK(find_param("zzzz") == nullptr);
}

// So the table cannot rot: each default must pass its own type, range and
// choices, and each row must be documented.
TEST_CASE("config: every schema default parses under its own type and range") {
    for (const auto& p : schema()) {
        INFO("name: " << std::string(p.name));
        CHECK_FALSE(p.doc.empty());
        CHECK(p.doc.find('\n') == std::string_view::npos);
        switch (p.type) {
            case Type::Int:
            case Type::Size:
            case Type::Time:
                CHECK(p.min <= p.max);
                break;
            case Type::Enum:
                CHECK_FALSE(p.choices.empty());
                break;
            default:
                CHECK(p.choices.empty());
                break;
        }
        if (p.type == Type::Size || p.type == Type::Time) CHECK(p.min >= 0);
        if (p.type == Type::Time) {
            // The default carries the default unit, as in Postfix.
            REQUIRE_FALSE(p.default_value.empty());
            CHECK(std::string_view("smhdw").find(p.default_value.back()) != std::string_view::npos);
        }
        if (p.default_value.find('$') == std::string_view::npos) {
            auto got = check_value(p, p.default_value);
            CHECK_MESSAGE(got.has_value(), (got ? std::string() : got.error().what));
            if (got && p.type == Type::Enum) CHECK(got->value == p.default_value);
        }
    }
    // And with $name defaults expanded: defaults() aborts if one fails.
    auto all = Config::parse("", "(none)");
    CHECK_MESSAGE(all.has_value(), (all ? std::string() : all.error().what));
}

TEST_CASE("config: defaults() gives the documented defaults") {
    auto c = Config::defaults();
    CHECK(c.path().empty());
    CHECK(c.get("store") == "sqlite:/var/lib/yubin/yubin.db");
    CHECK(c.get_int("store_busy_timeout") == 5);
    CHECK(c.get("recipient_delimiter") == "+");
    CHECK(c.get("password_scheme") == "ARGON2ID");
    CHECK(c.get("virtual_mailbox_base") == "/var/spool/vmail");
    CHECK(c.get_int("virtual_uid") == 5000);
    CHECK(c.get_int("virtual_gid") == 5000);
    CHECK(c.get("syslog_facility") == "mail");
    CHECK(c.get("syslog_name") == "yubin");
    CHECK(c.get_int("default_max_message_size") == 0);
    CHECK(c.get_int("default_quota") == 0);
    for (const auto& p : schema()) {
        INFO("name: " << std::string(p.name));
        CHECK_FALSE(c.is_set(p.name));
        CHECK(c.raw(p.name) == p.default_value);
    }
}
