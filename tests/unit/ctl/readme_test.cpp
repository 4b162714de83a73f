// README.md must document exactly the parameters of the schema table, each
// with its real default: the administrator reads README, the code reads the
// table, and this test keeps the two from drifting apart.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "core/config/config.hpp"

TEST_CASE("ctl: README documents exactly the configuration schema") {
    std::ifstream f(std::string(YUBIN_SOURCE_DIR) + "/README.md");
    REQUIRE(f.good());
    std::set<std::string> documented;
    std::string line;
    while (std::getline(f, line)) {
        if (!line.starts_with("| `")) continue;
        auto end = line.find('`', 3);
        if (end == std::string::npos) continue;
        std::string name = line.substr(3, end - 3);
        // Only rows of the parameter table: name, type, default, meaning.
        auto* p = yubin::config::find_param(name);
        if (p == nullptr) {
            if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos)
                documented.insert(name);  // looks like a parameter but is not in the schema
            continue;
        }
        documented.insert(name);
        CAPTURE(name);
        CHECK(line.find("| `" + std::string(p->default_value) + "` |") != std::string::npos);
    }
    std::set<std::string> schema;
    for (const auto& p : yubin::config::schema()) schema.insert(std::string(p.name));
    for (const auto& n : schema) {
        CAPTURE(n);
        CHECK_MESSAGE(documented.count(n) == 1, "parameter missing from README.md");
    }
    for (const auto& n : documented) {
        CAPTURE(n);
        CHECK_MESSAGE(schema.count(n) == 1, "README.md documents an unknown parameter");
    }
}
