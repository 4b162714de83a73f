// The public spam sample: every message gets the verdict its manifest gives.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "core/rules/classify.hpp"

using namespace yubin::rules;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TEST_CASE("rules: public corpus gets the manifest's verdicts with the default rules") {
    const std::string dir = std::string(YUBIN_SOURCE_DIR) + "/tests/data/spam-corpus/";
    std::istringstream manifest(slurp(dir + "manifest.tsv"));
    const RuleSet rs = RuleSet::defaults();
    std::string line;
    std::getline(manifest, line);  // column names
    int n = 0;
    while (std::getline(manifest, line)) {
        if (line.empty()) continue;
        const auto t1 = line.find('\t');
        const auto t2 = line.find('\t', t1 + 1);
        REQUIRE(t1 != std::string::npos);
        const std::string file = line.substr(0, t1);
        const std::string want = line.substr(t1 + 1, t2 - t1 - 1);
        REQUIRE((want == "ad" || want == "not_ad"));
        const Verdict v = classify(rs, slurp(dir + file));
        const std::string got = v.matched ? "ad" : "not_ad";
        CAPTURE(file);
        CHECK(got == want);
        if (v.matched) CHECK(v.action == "reject");
        ++n;
    }
    CHECK(n >= 24);
}
