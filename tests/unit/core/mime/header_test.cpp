#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/mime/header.hpp"

using namespace yubin::mime;

namespace {

std::vector<std::string> names_and_values(std::string_view msg, const Limits& l = {}) {
    std::vector<std::string> out;
    HeaderReader r(msg, l);
    HeaderField f;
    while (r.next(f)) out.push_back(std::string(f.name) + "=" + unfold(f.value));
    return out;
}

}  // namespace

TEST_CASE("mime: header fields, line ends, folding and odd names") {
    struct Case {
        std::string msg;
        std::vector<std::string> want;
    };
    const std::vector<Case> cases = {
        {"A: 1\nB: 2\n\nC: body\n", {"A=1", "B=2"}},
        {"A: 1\r\nB: 2\r\n\r\nC: body\r\n", {"A=1", "B=2"}},
        {"Subject: a\n b\n\tc\n\n", {"Subject=a b\tc"}},
        {"Subject: a\r\n b\r\n\r\n", {"Subject=a b"}},
        {"Subject : x\nSUBJECT\t:y\n\n", {"Subject=x", "SUBJECT=y"}},
        {"From x@y Mon\nA: 1\n\n", {"A=1"}},
        {"junk line\nA: 1\n\n", {"A=1"}},
        {" cont first\nA: 1\n", {"A=1"}},
        {"A: 1", {"A=1"}},
        {"", {}},
        {"\nA: body\n", {}},
        {std::string("A: x\0y\n\n", 8), {std::string("A=x\0y", 5)}},
        {"A:\nB:  \n\n", {"A=", "B="}},
    };
    for (const auto& c : cases) {
        CAPTURE(c.msg);
        CHECK(names_and_values(c.msg) == c.want);
    }
}

TEST_CASE("mime: header reader body offset and bounds") {
    HeaderReader r("A: 1\r\n\r\nbody", {});
    HeaderField f;
    while (r.next(f)) {
    }
    CHECK(r.body_offset() == 8);
    CHECK_FALSE(r.truncated());

    std::string many;
    for (int i = 0; i < 10000; ++i) many += "X-F: " + std::to_string(i) + "\n";
    many += "Subject: last\n\n";
    Limits l;
    CHECK(names_and_values(many, l).size() == 10001);
    l.max_header_fields = 100;
    HeaderReader r2(many, l);
    std::size_t n = 0;
    while (r2.next(f)) ++n;
    CHECK(n == 100);
    CHECK(r2.truncated());
}

TEST_CASE("mime: header_values finds every top-level field, never the body's") {
    const std::string msg =
        "Subject: one\nX: y\nsubject: two\n\nSubject: in body\n";
    const auto v = header_values(msg, "Subject");
    CHECK(v == std::vector<std::string>{"one", "two"});
}
