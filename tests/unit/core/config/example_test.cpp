// contrib/yubin.cf is `yubinctl config --example`: generated from the schema
// table, so the shipped example can never list a parameter the programs do
// not know, miss one they do, or show a wrong default.
#include "core/config/example.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "core/config/config.hpp"

using namespace yubin::config;

TEST_CASE("config: contrib/yubin.cf equals the example generated from the schema") {
    std::ifstream f(std::string(YUBIN_SOURCE_DIR) + "/contrib/yubin.cf");
    REQUIRE(f.good());
    std::stringstream ss;
    ss << f.rdbuf();
    CHECK_MESSAGE(ss.str() == example_file(),
                  "contrib/yubin.cf is stale: regenerate it with "
                  "build/bin/yubinctl config --example > contrib/yubin.cf");
}

TEST_CASE("config: the example sets nothing and shows every parameter with its default") {
    const std::string text = example_file();
    auto cfg = Config::parse(text, "yubin.cf");
    REQUIRE(cfg.has_value());
    for (const auto& p : schema()) {
        CAPTURE(std::string(p.name));
        CHECK_FALSE(cfg->is_set(p.name));
        std::string line = "\n#" + std::string(p.name) + (p.default_value.empty() ? " =" : " = ") +
                           std::string(p.default_value) + "\n";
        CHECK(text.find(line) != std::string::npos);
        // Uncommenting the line gives back the default: the example is usable as is.
        auto one = Config::parse(line.substr(2), "yubin.cf");
        REQUIRE(one.has_value());
        CHECK(one->is_set(p.name));
        CHECK(one->raw(p.name) == p.default_value);
    }
}

TEST_CASE("config: example lines stay within 78 columns except unbreakable words") {
    std::istringstream in(example_file());
    std::string line;
    while (std::getline(in, line)) {
        CAPTURE(line);
        CHECK((line.empty() || line.starts_with("#")));
        // "#name = default" lines are as long as their default; text is wrapped.
        if (line.size() > 78 && line.starts_with("# "))
            CHECK(line.find(' ', 2) == std::string::npos);
    }
}
