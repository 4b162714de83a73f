#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "core/charset/utf8.hpp"
#include "core/rules/filter_test.hpp"

using namespace yubin::rules;

namespace {

struct Run {
    int rc;
    std::string out, err;
};

Run run(const std::string& rules, bool verbose, const std::string& msg) {
    std::istringstream in(msg);
    std::ostringstream out, err;
    const int rc = filter_test(rules, verbose, in, out, err);
    return {rc, out.str(), err.str()};
}

}  // namespace

TEST_CASE("rules: filter test prints one verdict line") {
    struct Case {
        std::string what;
        std::string msg;
        std::string want;
    };
    const std::vector<Case> cases = {
        {"ad", "Subject: =?UTF-8?B?5pyq5om/6Ku+5bqD5ZGK?=\n\nx\n", "match jp-unsolicited-ad reject\n"},
        {"clean", "Subject: hello\n\nx\n", "clean\n"},
        {"empty", "", "clean\n"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        const Run r = run("", false, c.msg);
        CHECK(r.rc == 0);
        CHECK(r.out == c.want);
        CHECK(r.err.empty());
    }
}

TEST_CASE("rules: filter test -v shows decoded and normalized Subjects as UTF-8") {
    const Run r = run("", true, "Subject: =?UTF-8?B?5pyq44CA5om/?=\nSubject: \xFF\xFE bad\n\n");
    CHECK(r.rc == 0);
    CHECK(r.out.rfind("clean\n", 0) == 0);
    CHECK(r.out.find("  subject:    未　承\n") != std::string::npos);
    CHECK(r.out.find("  normalized: 未承\n") != std::string::npos);
    CHECK(yubin::charset::is_valid_utf8(r.out));
}

TEST_CASE("rules: filter test with a bad rules file exits 78 naming file and line") {
    char path[] = "/tmp/yubin-rules-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    const std::string bad = "rule ok\ntarget = subject\nliteral = x\naction = junk\n\nrule bad\ntarget = moon\n";
    REQUIRE(write(fd, bad.data(), bad.size()) == static_cast<ssize_t>(bad.size()));
    close(fd);
    const Run r = run(path, false, "Subject: x\n\n");
    CHECK(r.rc == 78);
    CHECK(r.out.empty());
    CHECK(r.err.find(std::string(path) + ":7: ") != std::string::npos);

    const Run missing = run("/nonexistent/yubin.rules", false, "Subject: x\n\n");
    CHECK(missing.rc == 78);
    CHECK(missing.err.find("/nonexistent/yubin.rules") != std::string::npos);

    // The same file fixed: its rule is used instead of the defaults.
    std::ofstream(path) << "rule mine\ntarget = subject\nliteral = ｘ\naction = tag\n";
    const Run ok = run(path, false, "Subject: x\n\n");
    CHECK(ok.rc == 0);
    CHECK(ok.out == "match mine tag\n");
    std::remove(path);
}
