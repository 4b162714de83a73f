#include <doctest/doctest.h>

#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <string>

#include "core/log/logger.hpp"
#include "core/log/sink.hpp"

using namespace yubin::log;

namespace {

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
}

}  // namespace

TEST_CASE("log: StderrSink writes \"ident[pid]: line\\n\"") {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    {
        StderrSink sink("yubin-test", p[1]);
        Logger log(sink);
        log.info("{}reject: {}", queue_prefix(""), "x\ny");
        log.warning("w");
    }
    ::close(p[1]);
    const std::string got = read_all(p[0]);
    ::close(p[0]);
    const std::string pid = std::to_string(::getpid());
    const std::string want = "yubin-test[" + pid + "]: NOQUEUE: reject: x?y\n" +
                             "yubin-test[" + pid + "]: warning: w\n";
    CHECK(got == want);
}

TEST_CASE("log: StderrSink defaults to file descriptor 2") {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    const int saved = ::dup(STDERR_FILENO);
    REQUIRE(saved >= 0);
    REQUIRE(::dup2(p[1], STDERR_FILENO) == STDERR_FILENO);
    {
        StderrSink sink("id");
        sink.write(Level::Error, "error: e");
    }
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    ::close(p[1]);
    const std::string got = read_all(p[0]);
    ::close(p[0]);
    CHECK(got == "id[" + std::to_string(::getpid()) + "]: error: e\n");
}

TEST_CASE("log: facility_from_name") {
    struct Case {
        const char* name;
        int want;
    };
    const Case cases[] = {
        {"mail", LOG_MAIL},     {"local0", LOG_LOCAL0}, {"local3", LOG_LOCAL3},
        {"local7", LOG_LOCAL7}, {"local8", -1},         {"MAIL2", -1},
        {"", -1},               {"kern", -1},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        CHECK(facility_from_name(c.name) == c.want);
    }
}

TEST_CASE("log: to_string(Level)") {
    CHECK(to_string(Level::Debug) == "debug");
    CHECK(to_string(Level::Warning) == "warning");
    CHECK(to_string(Level::Fatal) == "fatal");
}
