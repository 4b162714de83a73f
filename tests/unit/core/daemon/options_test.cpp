#include <doctest/doctest.h>

#include <string>

#include "core/daemon/options.hpp"

using namespace yubin::daemon;

TEST_CASE("daemon: add_common_options parses -c, -f and -v") {
    struct Case {
        const char* args;
        const char* config;
        bool log_stderr;
        bool verbose;
    };
    const Case cases[] = {
        {"", "/etc/yubin/yubin.cf", false, false},
        {"-c /tmp/test.cf", "/tmp/test.cf", false, false},
        {"--config=/srv/y.cf -f", "/srv/y.cf", true, false},
        {"--log-stderr", "/etc/yubin/yubin.cf", true, false},
        {"-v", "/etc/yubin/yubin.cf", false, true},
        {"-v -v", "/etc/yubin/yubin.cf", false, true},
        {"-vv -f -c x.cf", "x.cf", true, true},
        {"--verbose", "/etc/yubin/yubin.cf", false, true},
    };
    for (const auto& c : cases) {
        CAPTURE(c.args);
        CLI::App app("test");
        CommonOptions opts;
        add_common_options(app, opts);
        REQUIRE_NOTHROW(app.parse(c.args, false));
        CHECK(opts.config_path == c.config);
        CHECK(opts.log_stderr == c.log_stderr);
        CHECK(opts.verbose == c.verbose);
    }
}

TEST_CASE("daemon: add_common_options rejects malformed command lines") {
    for (const char* args : {"-c", "-x", "--config", "-f=yes-please"}) {
        CAPTURE(args);
        CLI::App app("test");
        CommonOptions opts;
        add_common_options(app, opts);
        CHECK_THROWS_AS(app.parse(args, false), CLI::ParseError);
    }
}
