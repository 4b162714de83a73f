#include <iconv.h>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/charset/utf8.hpp"
#include "core/mime/rfc2047.hpp"
#include "core/mime/transfer.hpp"

using namespace yubin::mime;

namespace {

std::string b64(std::string_view in) {
    static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                           (static_cast<unsigned char>(in[i + 1]) << 8) |
                           static_cast<unsigned char>(in[i + 2]);
        out += a[v >> 18];
        out += a[(v >> 12) & 63];
        out += a[(v >> 6) & 63];
        out += a[v & 63];
    }
    if (in.size() - i == 1) {
        const unsigned v = static_cast<unsigned char>(in[i]) << 16;
        out += a[v >> 18];
        out += a[(v >> 12) & 63];
        out += "==";
    } else if (in.size() - i == 2) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                           (static_cast<unsigned char>(in[i + 1]) << 8);
        out += a[v >> 18];
        out += a[(v >> 12) & 63];
        out += a[(v >> 6) & 63];
        out += "=";
    }
    return out;
}

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

std::string dec(std::string_view s) { return decode_header_value(s).text; }

}  // namespace

TEST_CASE("mime: RFC 2047 words in every form") {
    const std::string jis = encode("未承諾広告", "ISO-2022-JP");
    struct Case {
        std::string in;
        std::string want;
    };
    const std::vector<Case> cases = {
        {"=?ISO-2022-JP?B?" + b64(jis) + "?=", "未承諾広告"},
        {"=?iso-2022-jp?b?" + b64(jis) + "?=", "未承諾広告"},
        {"=?ISO-2022-JP*ja?B?" + b64(jis) + "?=", "未承諾広告"},
        {"=?utf-8?q?caf=C3=A9_au_lait?=", "café au lait"},
        {"=?UTF-8?Q?caf=c3=a9?=", "café"},
        {"=?utf-8?Q?a?= =?utf-8?Q?b?=", "ab"},
        {"=?utf-8?Q?a?=\t  =?utf-8?Q?b?=", "ab"},
        {"=?utf-8?Q?a?= x =?utf-8?Q?b?=", "a x b"},
        {"pre =?utf-8?Q?a?=post", "pre apost"},
        {"=?utf-8?B?5pyq?=", "未"},
        {"=?utf-8?B?5pyq?", "=?utf-8?B?5pyq?"},  // unterminated: kept as text
        {"=?utf-8?X?abc?=", "=?utf-8?X?abc?="},
        {"=?" "?B?abc?=", "=?" "?B?abc?="},
        {"=?utf-8?B?" "?=", ""},
        {"=?x-unknown?Q?hello?=", "hello"},
        {"=?utf-8?B?5g==?=", "\xEF\xBF\xBD"},  // a lone lead byte
        {"=?utf-8?B?5p!!yq?=", "未"},          // stray characters skipped
        {"=?utf-8?B?5pyq5om/?=", "未承"},
        {"plain ascii", "plain ascii"},
        {"", ""},
        {"=?=?=?", "=?=?=?"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        const std::string got = dec(c.in);
        CHECK(got == c.want);
        CHECK(yubin::charset::is_valid_utf8(got));
    }
}

TEST_CASE("mime: adjacent words are joined as bytes before charset decoding") {
    // Split a charset-encoded string at every byte and send the halves as two
    // encoded-words: the split may fall inside a character or inside an
    // ISO-2022-JP escape sequence; joined, it must decode whole.
    const std::string text = "未承諾広告①ｾｰﾙ";
    struct Codec {
        const char* glibc;
        std::string label;
    };
    for (const Codec& c : {Codec{"CP932", "Shift_JIS"}, Codec{"EUC-JP-MS", "EUC-JP"},
                          Codec{"UTF-8", "UTF-8"}, Codec{"ISO-2022-JP-3", "ISO-2022-JP"}}) {
        std::string bytes = c.glibc == std::string("ISO-2022-JP-3")
                                ? std::string("\x1B$BL$>5Bz9-9p-!\x1B(I>0Y\x1B(B")
                                : encode(text, c.glibc);
        for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
            for (const char* enc : {"B", "Q"}) {
                const auto word = [&](std::string_view part) {
                    std::string w = std::string("=?") + c.label + "?" + enc + "?";
                    if (enc[0] == 'B') {
                        w += b64(part);
                    } else {
                        static const char* hx = "0123456789ABCDEF";
                        for (char ch : part) {
                            const auto u = static_cast<unsigned char>(ch);
                            w += '=';
                            w += hx[u >> 4];
                            w += hx[u & 15];
                        }
                    }
                    return w + "?=";
                };
                const std::string in = word(bytes.substr(0, cut)) + "\r\n " + word(bytes.substr(cut));
                CAPTURE(c.label);
                CAPTURE(enc);
                CAPTURE(cut);
                CHECK(dec(in) == text);
            }
        }
    }
}

TEST_CASE("mime: base64 split mid-group across words still decodes") {
    const std::string full = b64("未承諾広告");
    for (std::size_t cut = 1; cut < full.size(); ++cut) {
        CAPTURE(cut);
        const std::string in = "=?UTF-8?B?" + full.substr(0, cut) + "?= =?UTF-8?B?" +
                               full.substr(cut) + "?=";
        CHECK(dec(in) == "未承諾広告");
    }
}

TEST_CASE("mime: raw 8-bit and raw JIS header text is detected") {
    struct Case {
        std::string in;
        std::string want;
    };
    const std::vector<Case> cases = {
        {"未承諾広告", "未承諾広告"},
        {encode("未承諾広告", "CP932"), "未承諾広告"},
        {encode("未承諾広告", "EUC-JP"), "未承諾広告"},
        {encode("未承諾広告", "ISO-2022-JP"), "未承諾広告"},
        {"Re: " + encode("未承諾広告", "CP932") + " =?utf-8?B?5pyq?=", "Re: 未承諾広告 未"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        CHECK(dec(c.in) == c.want);
    }
}

TEST_CASE("mime: hostile header values decode in linear time within bounds") {
    struct Case {
        std::string what;
        std::string in;
    };
    std::string words;
    for (int i = 0; i < 5000; ++i) words += (i % 2 ? "=?utf-8?B?5pyq?= " : "=?iso-8859-1?Q?a?= ");
    std::string same;
    for (int i = 0; i < 5000; ++i) same += "=?utf-8?B?5pyq?= ";
    const std::vector<Case> cases = {
        {"200 KB subject", std::string(200 * 1024, 'a')},
        {"flood of =?", [] {
             std::string s;
             for (int i = 0; i < 100000; ++i) s += "=?";
             return s;
         }()},
        {"flood of =?a?b?", [] {
             std::string s;
             for (int i = 0; i < 30000; ++i) s += "=?a?b?";
             return s;
         }()},
        {"flood of =?utf-8?q?", [] {
             std::string s;
             for (int i = 0; i < 30000; ++i) s += "=?utf-8?q?x";
             return s;
         }()},
        {"5000 alternating words", words},
        {"5000 same-charset words", same},
        {"JIS never shifting back", "\x1B$B" + std::string(200 * 1024, 'L')},
        {"random-ish 8-bit", [] {
             std::string s;
             unsigned x = 1;
             for (int i = 0; i < 200000; ++i) {
                 x = x * 1103515245 + 12345;
                 s += static_cast<char>(x >> 16);
             }
             return s;
         }()},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        const auto t0 = std::chrono::steady_clock::now();
        const auto d = decode_header_value(c.in);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        CHECK(yubin::charset::is_valid_utf8(d.text));
        CHECK(d.text.size() <= Limits{}.max_decoded_field_bytes);
        // Generous for sanitizer builds; quadratic behaviour would take minutes.
        CHECK(ms < 3000.0);
    }
    Limits l;
    l.max_encoded_words = 10;
    const auto d = decode_header_value(same, l);
    CHECK(d.words == 10);
    CHECK(d.truncated);
    l = Limits{};
    l.max_decoded_field_bytes = 100;
    const auto e = decode_header_value(std::string(1000, 'x'), l);
    CHECK(e.text.size() == 100);
    CHECK(e.truncated);
}

TEST_CASE("mime: transfer decoders") {
    struct Case {
        std::string in;
        std::string want;
    };
    const std::vector<Case> qp = {
        {"a=3Db", "a=b"}, {"a=3db", "a=b"}, {"soft=\nbreak", "softbreak"},
        {"soft=  \r\nbreak", "softbreak"}, {"bad=ZZ", "bad=ZZ"}, {"end=", "end"},
        {"=E6=9C=AA", "未"},
    };
    for (const auto& c : qp) {
        CAPTURE(c.in);
        CHECK(decode_quoted_printable(c.in) == c.want);
    }
    const std::vector<Case> b = {
        {"5pyq", "未"}, {"5py\nq", "未"}, {"5pyq====", "未"}, {"aGk=", "hi"}, {"aGk", "hi"},
        {"!!!", ""}, {"", ""},
    };
    for (const auto& c : b) {
        CAPTURE(c.in);
        CHECK(decode_base64(c.in) == c.want);
    }
}

TEST_CASE("mime: fuzzer finding: Q word in charset +utf-8 with bytes past U+10FFFF") {
    // crash-9b5fc775...: decode_header_value gave invalid UTF-8.
    const std::string in("Frol:=?+utf-8?Q?=\0\0\0\0\0\0\0(\xF5\xBB\x9E\x8B=?=\nC-nt\0\1\0", 40);
    const auto d = decode_header_value(in);
    CHECK(yubin::charset::is_valid_utf8(d.text));
    CHECK(d.words == 1);
}
