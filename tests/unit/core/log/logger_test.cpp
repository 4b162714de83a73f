#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "core/log/logger.hpp"
#include "core/log/sink.hpp"

using namespace yubin::log;

TEST_CASE("log: each level has Postfix's prefix and reaches the sink with its level") {
    MemorySink sink;
    Logger log(sink, true);
    log.debug("debug {}", 1);
    log.info("{}reject: RCPT from {}", queue_prefix("4F9D18340B"), "host[1.2.3.4]");
    log.warning("disk {}% full", 95);
    log.error("store: {}", "locked");
    log.fatal("bad config {}", "/etc/yubin/yubin.cf");
    struct Want {
        Level level;
        const char* line;
    };
    const Want want[] = {
        {Level::Debug, "debug 1"},
        {Level::Info, "4F9D18340B: reject: RCPT from host[1.2.3.4]"},
        {Level::Warning, "warning: disk 95% full"},
        {Level::Error, "error: store: locked"},
        {Level::Fatal, "fatal: bad config /etc/yubin/yubin.cf"},
    };
    REQUIRE(sink.lines.size() == std::size(want));
    for (std::size_t i = 0; i < std::size(want); ++i) {
        CAPTURE(i);
        CAPTURE(sink.lines[i].second);
        CHECK(sink.lines[i].first == want[i].level);
        CHECK(sink.lines[i].second == want[i].line);
    }
}

TEST_CASE("log: debug lines only when verbose") {
    for (bool verbose : {false, true}) {
        CAPTURE(verbose);
        MemorySink sink;
        Logger log(sink, verbose);
        CHECK(log.verbose() == verbose);
        log.debug("x={}", 1);
        log.write(Level::Debug, "direct");
        log.info("always");
        const std::size_t want = verbose ? 3 : 1;
        CHECK(sink.lines.size() == want);
        CHECK(sink.lines.back().second == "always");
    }
}

TEST_CASE("log: queue_prefix") {
    CHECK(queue_prefix("4F9D18340B") == "4F9D18340B: ");
    CHECK(queue_prefix("") == "NOQUEUE: ");
}

TEST_CASE("log: sanitize_line replaces unsafe bytes with '?'") {
    struct Case {
        std::string in, want;
    };
    const Case cases[] = {
        {"plain text", "plain text"},
        {"a\r\nwarning: forged", "a??warning: forged"},
        {std::string("nul\0here", 8), "nul?here"},
        {"tab\there", "tab?here"},
        {"esc\x1b[31mred", "esc?[31mred"},
        {"del\x7f", "del?"},
        {"\xff\xfe", "??"},                                  // never valid in UTF-8
        {"lone\x80", "lone?"},                               // continuation without lead
        {"cut\xe6\x9c", "cut??"},                            // truncated sequence
        {"\xc0\xaf", "??"},                                  // overlong '/'
        {"\xed\xa0\x80", "???"},                             // surrogate U+D800
        {"\xf4\x90\x80\x80", "????"},                        // above U+10FFFF
        {"c1\xc2\x85", "c1?"},                               // U+0085 NEL
        {"ls\xe2\x80\xa8", "ls?"},                           // U+2028 LINE SEPARATOR
        {"rlo\xe2\x80\xae", "rlo?"},                         // U+202E RIGHT-TO-LEFT OVERRIDE
        {"\xe6\x9c\xaa\xe6\x89\xbf\xe8\xab\xbe\xe5\xba\x83\xe5\x91\x8a\xe2\x80\xbb",
         "\xe6\x9c\xaa\xe6\x89\xbf\xe8\xab\xbe\xe5\xba\x83\xe5\x91\x8a\xe2\x80\xbb"},  // 未承諾広告※ kept
        {"\xf0\x9f\x93\xae", "\xf0\x9f\x93\xae"},            // 4-byte sequence kept
        {"", ""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        const std::string got = sanitize_line(c.in);
        CAPTURE(got);
        CHECK(got == c.want);
    }
}

TEST_CASE("log: peer text in arguments cannot forge a line") {
    MemorySink sink;
    Logger log(sink);
    const std::string helo = std::string("evil\r\nfatal: forged\0\xff", 21);
    log.warning("HELO {} rejected", helo);
    REQUIRE(sink.lines.size() == 1);
    CHECK(sink.lines[0].second == "warning: HELO evil??fatal: forged?? rejected");
}

TEST_CASE("log: long lines are cut to kMaxLineBytes with \"...\"") {
    struct Case {
        std::size_t in_len;
        std::size_t max;
        std::size_t want_len;
        bool want_dots;
    };
    const Case cases[] = {
        {10, 10, 10, false},  // exactly at the bound
        {11, 10, 10, true},   // one over
        {1000000, 10, 10, true},
        {0, 10, 0, false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in_len);
        CAPTURE(c.max);
        const std::string got = sanitize_line(std::string(c.in_len, 'x'), c.max);
        CHECK(got.size() == c.want_len);
        CHECK((got.size() >= 3 && got.substr(got.size() - 3) == "...") == c.want_dots);
    }

    MemorySink sink;
    Logger log(sink);
    log.info("{}", std::string(5000, 'a'));
    log.info("{}", std::string(kMaxLineBytes, 'b'));
    REQUIRE(sink.lines.size() == 2);
    CHECK(sink.lines[0].second.size() == kMaxLineBytes);
    CHECK(sink.lines[0].second == std::string(kMaxLineBytes - 3, 'a') + "...");
    CHECK(sink.lines[1].second == std::string(kMaxLineBytes, 'b'));
}

TEST_CASE("log: truncation never splits a UTF-8 character") {
    const std::string kana = "\xe3\x81\x82";  // あ, 3 bytes
    std::string in;
    for (int i = 0; i < 10; ++i) in += kana;
    // Every bound from 3 to 31: the result must be whole characters + "...".
    for (std::size_t max = 3; max <= in.size() + 1; ++max) {
        CAPTURE(max);
        const std::string got = sanitize_line(in, max);
        CAPTURE(got);
        CHECK(got.size() <= max);
        if (max >= in.size()) {
            CHECK(got == in);
        } else {
            const std::size_t chars = (max - 3) / 3;
            std::string want;
            for (std::size_t i = 0; i < chars; ++i) want += kana;
            CHECK(got == want + "...");
        }
    }
}

TEST_CASE("log: MemorySink is safe to write from several threads") {
    MemorySink sink;
    Logger log(sink);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&log, t] {
            for (int i = 0; i < 250; ++i) log.info("thread {} line {}", t, i);
        });
    for (auto& th : threads) th.join();
    CHECK(sink.snapshot().size() == 1000);
    sink.clear();
    CHECK(sink.snapshot().empty());
}
