#include <doctest/doctest.h>

#include <string>

#include "lda/message.hpp"

using namespace yubin::lda;

TEST_CASE("lda: a leading From_ line is removed, nothing else") {
    struct Case { std::string in, want; };
    const Case cases[] = {
        {"From a@b Sun Nov 29 10:00:00 2026\nSubject: x\n\nb\n", "Subject: x\n\nb\n"},
        {"Subject: x\n\nFrom me\n", "Subject: x\n\nFrom me\n"},
        {"From only-line-no-newline", ""},
        {"From \n", ""},
        {"", ""},
        {"From: a@b\n\n", "From: a@b\n\n"},  // a header, not an mbox line
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        CHECK(inspect_message(c.in, "r@x.example").message == c.want);
    }
}

TEST_CASE("lda: Postfix's leading Return-Path/Delivered-To block is recognised") {
    struct Case {
        std::string msg;
        bool rp, dt, loop;
    };
    const Case cases[] = {
        {"Subject: x\n\nb\n", false, false, false},
        {"Return-Path: <s@x>\nDelivered-To: r@x.example\nSubject: x\n\n", true, true, false},
        {"Return-Path: <s@x>\nX-Original-To: r@x.example\nDelivered-To: R@X.Example\n\n", true, true,
         false},
        {"Delivered-To: other@x.example\nSubject: x\n\n", false, false, false},
        // a second one for the same recipient: the message was here before
        {"Return-Path: <s@x>\nDelivered-To: r@x.example\nReceived: y\nDelivered-To: "
         "r@x.example\n\n",
         true, true, true},
        // below other fields: not Postfix's, a loop
        {"Received: y\nDelivered-To: <r@x.example>\n\n", false, false, true},
        // folded value
        {"Received: y\nDelivered-To:\n r@x.example\n\n", false, false, true},
        // in the body: not a header
        {"Subject: x\n\nDelivered-To: r@x.example\n", false, false, false},
        {"From s Sun\nReturn-Path: <s@x>\nDelivered-To: r@x.example\n\n", true, true, false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.msg);
        auto info = inspect_message(c.msg, "r@x.example");
        CHECK(info.has_return_path == c.rp);
        CHECK(info.has_delivered_to == c.dt);
        CHECK(info.loop == c.loop);
    }
}

TEST_CASE("lda: added headers follow the message's line ends and are clean") {
    auto info = inspect_message("Subject: x\r\n\r\nb\r\n", "r@x.example");
    CHECK(info.eol == "\r\n");
    CHECK(added_headers(info, "s@y.example", "r@x.example") ==
          "Return-Path: <s@y.example>\r\nDelivered-To: r@x.example\r\n");
    auto lf = inspect_message("Subject: x\n\nb\n", "r@x.example");
    CHECK(added_headers(lf, "", "r@x.example") == "Return-Path: <>\nDelivered-To: r@x.example\n");
    CHECK(added_headers(lf, "a\r\nX-Evil: 1", "r\n@x") ==
          "Return-Path: <aX-Evil: 1>\nDelivered-To: r@x\n");
    auto pf = inspect_message("Return-Path: <s@y>\nDelivered-To: r@x.example\n\n", "r@x.example");
    CHECK(added_headers(pf, "s@y", "r@x.example").empty());
    CHECK(header_safe(std::string(5000, 'a')).size() < 998);
}

TEST_CASE("lda: the tag goes in front of the first Subject value only") {
    std::string msg = "From: a\nSubject:   Hello\nSubject: second\n\nbody\n";
    auto info = inspect_message(msg, "r@x");
    auto parts = message_parts(info, "P: 1\n", "[SPAM]");
    std::string got;
    for (auto p : parts) got += p;
    CHECK(got == "P: 1\nFrom: a\nSubject:   [SPAM] Hello\nSubject: second\n\nbody\n");
    // No Subject: nothing inserted; no tag: the message whole.
    auto none = inspect_message("From: a\n\nb\n", "r@x");
    got.clear();
    for (auto p : message_parts(none, "", "[SPAM]")) got += p;
    CHECK(got == "From: a\n\nb\n");
}

TEST_CASE("lda: hostile shapes are inspected without loss") {
    std::string nul("Subject: a\0b\n\nbody\0\n", 20);
    CHECK(inspect_message(nul, "r@x").message == nul);
    std::string no_sep = "Subject: x\nX: y";
    CHECK(inspect_message(no_sep, "r@x").message == no_sep);
    std::string long_line = "Subject: " + std::string(1 << 20, 'a') + "\n\n";
    CHECK(inspect_message(long_line, "r@x").message.size() == long_line.size());
}
