// RFC 2231 parameters: continuations, charsets, percent-encoding, and the
// MIME walker following a boundary given in sections.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "core/charset/utf8.hpp"
#include "core/mime/params.hpp"
#include "core/mime/walker.hpp"

using namespace yubin::mime;

namespace {

// The named parameter's text (UTF-8), or "<none>".
std::string text_of(std::string_view header, std::string_view name) {
    const auto params = parse_parameters(header);
    const Parameter* p = find_parameter(params, name);
    return p == nullptr ? "<none>" : parameter_text(*p);
}

}  // namespace

TEST_CASE("mime params: RFC 2231 continuations, charsets and percent-encoding") {
    struct Case {
        std::string in, name, want;
    };
    const std::vector<Case> cases = {
        {"text/plain; charset=utf-8", "charset", "utf-8"},
        {"multipart/mixed; boundary*0=\"abc\"; boundary*1=def", "boundary", "abcdef"},
        {"multipart/mixed; boundary*1=def; boundary*0=abc", "boundary", "abcdef"},
        {"multipart/mixed; boundary*0=\"a;b\"; boundary*1=\"c\\\"d\"", "boundary", "a;bc\"d"},
        {"multipart/mixed; boundary*0=a; boundary*2=c", "boundary", "ac"},  // gap: joined anyway
        {"attachment; filename*=UTF-8''%E6%9C%AA%E6%89%BF.txt", "filename", "未承.txt"},
        {"attachment; filename*=utf-8'ja'%e6%9c%aa", "filename", "未"},
        {"attachment; filename*0*=iso-2022-jp'ja'%1B%24BL%24%3E5; filename*1*=Bz9-9p%1B%28B",
         "filename", "未承諾広告"},
        {"attachment; filename*0*=utf-8''%E6%9C%AA; filename*1=\" x%41\"", "filename", "未 x%41"},
        {"attachment; filename=\"fallback.txt\"; filename*=utf-8''real.txt", "filename", "real.txt"},
        {"attachment; filename*=utf-8''real.txt; filename=\"fallback.txt\"", "filename", "real.txt"},
        {"attachment; filename*=utf-8''100%", "filename", "100%"},
        {"attachment; filename*=utf-8''a%zzb%4", "filename", "a%zzb%4"},
        {"attachment; filename*=abc%20def", "filename", "abc def"},
        {"attachment; filename=\"=?UTF-8?B?5pyq5om/6Ku+5bqD5ZGK?=.txt\"", "filename", "未承諾広告.txt"},
        {"attachment; filename=\"\x82\xA0\x82\xA2.txt\"", "filename", "あい.txt"},
        {"text/plain; charset=a; charset=b", "charset", "a"},
        {"text/plain; CharSet = \"x\"", "charset", "x"},
        {"text/plain; name*x=1; name*1234=2; *=3; =4; name", "name", "<none>"},
        {"text/plain; name*999=last; name*0=first", "name", "firstlast"},
        {"text/plain; name*0=a; name*0=b", "name", "a"},
        {"text/plain", "charset", "<none>"},
        {"", "charset", "<none>"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        CHECK(text_of(c.in, c.name) == c.want);
    }
    const auto params = parse_parameters("a; filename*0*=utf-8''x; filename*1*=%41; charset=b");
    REQUIRE(params.size() == 2);
    CHECK(params[0].name == "filename");  // in header order
    CHECK(params[0].extended);
    CHECK(params[0].charset == "utf-8");
    CHECK(params[0].value == "xA");
    CHECK(params[1].name == "charset");
    CHECK_FALSE(params[1].extended);
    CHECK(value_before_parameters("Text/Plain ; charset=x") == "Text/Plain");
    CHECK(value_before_parameters("\"a;b\"; c=d") == "\"a;b\"");
}

TEST_CASE("mime params: content-type takes boundary and charset in RFC 2231 form") {
    // Only section 0 carries charset'language'.
    const auto ct = parse_content_type("Multipart/Mixed; boundary*0*=''%3D_next; boundary*1*=%2Fpart");
    CHECK(ct.type == "multipart/mixed");
    CHECK(ct.boundary == "=_next/part");
    CHECK(parse_content_type("text/plain; charset*0*=''shift; charset*1=_jis").charset == "shift_jis");
    CHECK(parse_content_type("text/plain; charset*=utf-8''shift_jis").charset == "shift_jis");

    const std::string msg =
        "Content-Type: multipart/mixed; boundary*0=\"outer\";\n"
        " boundary*1=\"-2231\"\n"
        "\n"
        "preamble\n"
        "--outer-2231\n"
        "Content-Type: text/plain; charset*=iso-2022-jp'ja'\n"
        "\n"
        "\x1B$BL$>5Bz9-9p\x1B(B\n"
        "--outer-2231--\n";
    const auto w = text_parts(msg);
    REQUIRE(w.parts.size() == 1);
    CHECK(w.parts[0].text == "未承諾広告");
}

TEST_CASE("mime params: bounded and always valid UTF-8 on hostile values") {
    std::string many = "text/plain";
    for (int i = 0; i < 10000; ++i) many += "; p" + std::to_string(i) + "*" + std::to_string(i % 1000) + "=x";
    const auto params = parse_parameters(many);
    CHECK(params.size() <= kMaxParameters);
    std::string sections = "text/plain";
    for (int i = 0; i < 10000; ++i) sections += "; name*" + std::to_string(i % 1000) + "*=%41";
    const auto one = parse_parameters(sections);
    REQUIRE(one.size() == 1);
    CHECK(one[0].value.size() <= kMaxParameters);

    std::mt19937 rng(11);
    const std::string alphabet = "ab*=;\"\\'%0F \x1B\x80\xFF\0";
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    for (int n = 0; n < 5000; ++n) {
        std::string in = "x; ";
        for (int i = 0; i < 30; ++i) in.push_back(alphabet[pick(rng)]);
        for (const auto& p : parse_parameters(in)) {
            CAPTURE(in);
            REQUIRE(yubin::charset::is_valid_utf8(parameter_text(p)));
        }
    }
}
