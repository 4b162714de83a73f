#include <iconv.h>

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/charset/charset.hpp"
#include "core/charset/iso2022jp.hpp"
#include "core/charset/normalize.hpp"
#include "core/charset/utf8.hpp"

using namespace yubin::charset;

namespace {

// Test-side encoder: glibc, independent of the code under test's decoders.
std::string encode(const std::string& utf8, const char* to) {
    iconv_t cd = iconv_open(to, "UTF-8");
    REQUIRE(cd != reinterpret_cast<iconv_t>(-1));
    std::string out(utf8.size() * 4 + 16, '\0');
    char* src = const_cast<char*>(utf8.data());
    size_t sl = utf8.size();
    char* dst = out.data();
    size_t dl = out.size();
    REQUIRE(iconv(cd, &src, &sl, &dst, &dl) != static_cast<size_t>(-1));
    REQUIRE(iconv(cd, nullptr, nullptr, &dst, &dl) != static_cast<size_t>(-1));
    out.resize(out.size() - dl);
    iconv_close(cd);
    return out;
}

}  // namespace

TEST_CASE("charset: labels resolve to the decoder family") {
    struct Case {
        std::string label;
        Encoding want;
    };
    const std::vector<Case> cases = {
        {"ISO-2022-JP", Encoding::Iso2022Jp}, {"iso-2022-jp", Encoding::Iso2022Jp},
        {"ISO-2022-JP-2", Encoding::Iso2022Jp}, {"iso-2022-jp-3", Encoding::Iso2022Jp},
        {"CP50220", Encoding::Iso2022Jp},     {"iso-2022-jp*ja", Encoding::Iso2022Jp},
        {"Shift_JIS", Encoding::Cp932},       {"shift-jis", Encoding::Cp932},
        {"SJIS", Encoding::Cp932},            {"x-sjis", Encoding::Cp932},
        {"CP932", Encoding::Cp932},           {"Windows-31J", Encoding::Cp932},
        {"MS932", Encoding::Cp932},           {"EUC-JP", Encoding::EucJp},
        {"x-euc-jp", Encoding::EucJp},        {"euc-jp*ja", Encoding::EucJp},
        {"UTF-8", Encoding::Utf8},            {"utf8", Encoding::Utf8},
        {"us-ascii", Encoding::Ascii},        {"ISO-8859-1", Encoding::SingleByte},
        {"windows-1252", Encoding::SingleByte}, {"GB2312", Encoding::Other},
        {"x-unknown", Encoding::Unknown},     {"UTF-8//TRANSLIT", Encoding::Unknown},
        {"", Encoding::Unknown},              {"../../etc/passwd", Encoding::Unknown},
    };
    for (const auto& c : cases) {
        CAPTURE(c.label);
        CHECK(static_cast<int>(resolve_label(c.label).encoding) == static_cast<int>(c.want));
    }
}

TEST_CASE("charset: every Japanese charset decodes, extension characters included") {
    const std::vector<std::string> texts = {
        "未承諾広告※新商品のご案内", "①㈱髙﨑ｾｰﾙ", "ＡＢＣ　全角", "plain ascii",
    };
    struct Codec {
        const char* glibc;
        std::string label;
    };
    const std::vector<Codec> codecs = {
        {"CP932", "Shift_JIS"}, {"CP932", "cp932"}, {"EUC-JP-MS", "EUC-JP"},
        {"UTF-8", "utf-8"},     {"CP932", "x-sjis"},
    };
    for (const auto& t : texts) {
        for (const auto& c : codecs) {
            CAPTURE(t);
            CAPTURE(c.label);
            const std::string got = to_utf8(encode(t, c.glibc), c.label);
            CHECK(got == t);
        }
    }
}

TEST_CASE("charset: ISO-2022-JP with CP50220 extensions and half-width kana") {
    struct Case {
        std::string in;
        std::string want;
    };
    const std::vector<Case> cases = {
        {"\x1B$BL$>5Bz9-9p\x1B(B", "未承諾広告"},
        {"\x1B$@L$>5Bz9-9p\x1B(J", "未承諾広告"},
        {"\x1B$B-!-j\x1B(B", "①㈱"},             // NEC row 13
        {"\x1B$B|b\x1B(B", "髙"},                  // NEC-selected IBM (CP932 0xEEE0)
        {"\x1B(I>0Y\x1B(B", "ｾｰﾙ"},              // half-width kana by escape
        {"a\x0E>0Y\x0F" "b", "aｾｰﾙb"},           // by SO/SI
        {"\x1B$BL$>5Bz9-9p", "未承諾広告"},       // never shifts back
        {"\x1B$BL$>", "未\xEF\xBF\xBD"},          // odd byte at the end
        {"x\x1B$(D0!\x1B(By", "x丂y"},            // JIS X 0212
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        std::string got;
        decode_iso2022jp(c.in, got);
        CHECK(got == c.want);
        CHECK(is_valid_utf8(got));
    }
}

TEST_CASE("charset: wrong and missing labels are detected") {
    const std::string s = "未承諾広告※新商品のご案内";
    struct Case {
        std::string bytes;
        std::string label;
    };
    const std::vector<Case> cases = {
        {encode(s, "CP932"), "iso-2022-jp"}, {encode(s, "EUC-JP"), "Shift_JIS"},
        {encode(s, "CP932"), "utf-8"},       {s, "iso-2022-jp"},
        {s, "us-ascii"},                     {encode(s, "CP932"), "iso-8859-1"},
        {encode(s, "EUC-JP"), "x-unknown"},  {encode(s, "ISO-2022-JP"), "utf-8"},
        {encode(s, "ISO-2022-JP"), ""},      {s, "windows-1252"},
        {encode(s, "CP932"), ""},            {encode(s, "EUC-JP"), ""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.label);
        const std::string got = to_utf8(c.bytes, c.label);
        CHECK(got == s);
    }
    CHECK(to_utf8("caf\xE9", "iso-8859-1") == "café");
}

TEST_CASE("charset: decoding any byte string gives valid UTF-8") {
    const std::vector<std::string> inputs = {
        std::string("\x00\xFF\xFE\x1B$B\x80", 7), "\x1B$B", "\x1B", "\xE3\x81", "\x82",
        "\x8F\xA1", "\x1B$(", "\x1BN\x41", std::string(1000, '\x1B'), "\xC0\xAF\xED\xA0\x80",
    };
    const std::vector<const char*> labels = {"", "utf-8", "iso-2022-jp", "shift_jis",
                                             "euc-jp", "iso-8859-1", "x-bogus", "utf-7"};
    for (const auto& in : inputs) {
        for (const char* l : labels) {
            CAPTURE(in);
            CAPTURE(l);
            CHECK(is_valid_utf8(to_utf8(in, l)));
        }
    }
}

TEST_CASE("charset: split at every byte, decoding each half never breaks the other") {
    // Decoders must resynchronise: the concatenation of the two halves'
    // decodings is valid UTF-8 and the whole still decodes exactly.
    const std::string s = "未承諾広告①ｾｰﾙ";
    for (const char* cs : {"CP932", "EUC-JP-MS", "UTF-8"}) {
        const std::string bytes = encode(s, cs);
        for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
            CAPTURE(std::string_view(cs));
            CAPTURE(cut);
            const std::string a = to_utf8(bytes.substr(0, cut), cs);
            const std::string b = to_utf8(bytes.substr(cut), cs);
            CHECK(is_valid_utf8(a + b));
        }
    }
    const std::string jis = "\x1B$BL$>5Bz9-9p\x1B(B";
    for (std::size_t cut = 0; cut <= jis.size(); ++cut) {
        CAPTURE(cut);
        std::string a, b;
        decode_iso2022jp(jis.substr(0, cut), a);
        decode_iso2022jp(jis.substr(cut), b);
        CHECK(is_valid_utf8(a + b));
    }
}

TEST_CASE("charset: utf8 sanitize replaces each broken sequence once") {
    struct Case {
        std::string in;
        std::string want;
    };
    const std::vector<Case> cases = {
        {"abc", "abc"},
        {"a\xFF" "b", "a\xEF\xBF\xBD" "b"},
        {"\xE6\x9C", "\xEF\xBF\xBD"},
        {"\xC0\xAF", "\xEF\xBF\xBD"},
        {"\xED\xA0\x80" "a", "\xEF\xBF\xBD" "a"},
        {"\xF4\x90\x80\x80", "\xEF\xBF\xBD"},
        {"\x80\x80\xE6\x9C\xAA", "\xEF\xBF\xBD未"},
        {"未", "未"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        const std::string got = sanitize_utf8(c.in);
        CHECK(got == c.want);
        CHECK(is_valid_utf8(got));
    }
}

TEST_CASE("charset: normalize folds width and drops white space and invisibles") {
    struct Case {
        std::string in;
        std::string want;
    };
    const std::vector<Case> cases = {
        {"未承諾広告", "未承諾広告"},
        {"未　承　諾　広　告", "未承諾広告"},
        {"未 承諾\t広 告", "未承諾広告"},
        {"未\u00A0承\u2009諾\u200B広\u00AD告\uFE0F", "未承諾広告"},
        {"未\u2060承\uFEFF諾\u200D広\u202E告", "未承諾広告"},
        {"ｾｰﾙ", "セール"},
        {"ｾ\u200Bﾞ", "ゼ"},
        {"ＡＢＣ１２３", "ABC123"},
        {"①㈱", "1(株)"},
        {"\u2F00", "一"},  // Kangxi radical one
        {"a\r\nb\x01" "c", "abc"},
        {"末承諾広告", "末承諾広告"},
        {"", ""},
        {"\xFF", "\xEF\xBF\xBD"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        const std::string got = normalize(c.in);
        CHECK(got == c.want);
    }
}
