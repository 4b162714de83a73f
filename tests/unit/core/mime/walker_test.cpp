#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/charset/utf8.hpp"
#include "core/mime/walker.hpp"

using namespace yubin::mime;

namespace {

std::vector<std::string> texts(std::string_view msg, const Limits& l = {}) {
    std::vector<std::string> out;
    for (auto& p : text_parts(msg, l).parts) out.push_back(p.content_type + ":" + p.text);
    return out;
}

}  // namespace

TEST_CASE("mime: content-type parameters") {
    struct Case {
        std::string in, type, boundary, charset;
    };
    const std::vector<Case> cases = {
        {"text/plain; charset=ISO-2022-JP", "text/plain", "", "ISO-2022-JP"},
        {"Multipart/Mixed; boundary=\"a;b c\"", "multipart/mixed", "a;b c", ""},
        {"multipart/alternative;\tboundary=XX ; charset=\"utf-8\"", "multipart/alternative", "XX", "utf-8"},
        {"text/plain; charset*=utf-8''shift_jis", "text/plain", "", "shift_jis"},
        {"", "", "", ""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        const auto ct = parse_content_type(c.in);
        CHECK(ct.type == c.type);
        CHECK(ct.boundary == c.boundary);
        CHECK(ct.charset == c.charset);
    }
}

TEST_CASE("mime: walker finds decoded text parts") {
    struct Case {
        std::string what;
        std::string msg;
        std::vector<std::string> want;
    };
    const std::vector<Case> cases = {
        {"plain top level", "Subject: x\n\nhello\n", {"text/plain:hello"}},
        {"crlf", "Subject: x\r\n\r\nhello\r\n", {"text/plain:hello"}},
        {"base64 utf-8",
         "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n5pyq\n",
         {"text/plain:未"}},
        {"qp sjis",
         "Content-Type: text/plain; charset=shift_jis\nContent-Transfer-Encoding: quoted-printable\n\n=96=A2\n",
         {"text/plain:未"}},
        {"multipart with attachment",
         "Content-Type: multipart/mixed; boundary=B\n\npreamble\n--B\nContent-Type: text/plain\n\none\n"
         "--B\nContent-Type: application/octet-stream\n\nAAAA\n--B\nContent-Type: text/html\n\n<b>two</b>\n--B--\nepilogue\n",
         {"text/plain:one", "text/html:<b>two</b>"}},
        {"nested multipart",
         "Content-Type: multipart/mixed; boundary=O\n\n--O\nContent-Type: multipart/alternative; boundary=I\n\n"
         "--I\nContent-Type: text/plain\n\na\n--I\nContent-Type: text/plain\n\nb\n--I--\n--O\n\nc\n--O--\n",
         {"text/plain:a", "text/plain:b", "text/plain:c"}},
        {"outer boundary closes inner",
         "Content-Type: multipart/mixed; boundary=O\n\n--O\nContent-Type: multipart/mixed; boundary=I\n\n"
         "--I\n\na\n--O\n\nb\n--O--\n",
         {"text/plain:a", "text/plain:b"}},
        {"message/rfc822",
         "Content-Type: multipart/mixed; boundary=X\n\n--X\n\nsee\n--X\nContent-Type: message/rfc822\n\n"
         "Subject: inner\n\nbuy\n--X--\n",
         {"text/plain:see", "text/plain:buy"}},
        {"boundary prefix of another",
         "Content-Type: multipart/mixed; boundary=ab\n\n--ab\n\nx\n--abc\ny\n--ab--\n",
         {"text/plain:x\n--abc\ny"}},
        {"unterminated multipart", "Content-Type: multipart/mixed; boundary=Z\n\n--Z\n\ntail", {"text/plain:tail"}},
        {"no boundary parameter", "Content-Type: multipart/mixed\n\n--Z\n\ntail", {}},
        {"empty", "", {}},
        {"header only", "Subject: x\n", {}},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        CHECK(texts(c.msg) == c.want);
    }
}

TEST_CASE("mime: walker bounds: deep nesting, many parts, big bodies") {
    std::string deep;
    for (int i = 0; i < 1000; ++i) {
        deep += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\n\n--b" +
                std::to_string(i) + "\n";
    }
    deep += "Content-Type: text/plain\n\ndeepest\n";
    std::string many = "Content-Type: multipart/mixed; boundary=M\n\n";
    for (int i = 0; i < 5000; ++i) many += "--M\n\np" + std::to_string(i) + "\n";
    many += "--M--\n";
    std::string rfc822_deep;
    for (int i = 0; i < 1000; ++i) rfc822_deep += "Content-Type: message/rfc822\n\n";
    rfc822_deep += "\nx\n";
    std::string big = "Content-Type: text/plain\n\n" + std::string(20u << 20, 'a');

    struct Case {
        std::string what;
        std::string msg;
        bool truncated;
    };
    const std::vector<Case> cases = {
        {"1000-deep multipart", deep, true},
        {"5000 parts", many, true},
        {"1000-deep message/rfc822", rfc822_deep, true},
        {"20 MB text body", big, true},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = text_parts(c.msg);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        CHECK(r.truncated == c.truncated);
        CHECK(r.parts.size() <= Limits{}.max_mime_parts);
        CHECK(r.entities <= Limits{}.max_mime_parts);
        std::size_t total = 0;
        for (const auto& p : r.parts) {
            total += p.text.size();
            CHECK(yubin::charset::is_valid_utf8(p.text));
            CHECK(p.depth < Limits{}.max_mime_depth);
        }
        CHECK(total <= Limits{}.max_body_text_bytes + 16);
        CHECK(ms < 5000.0);
    }
}
