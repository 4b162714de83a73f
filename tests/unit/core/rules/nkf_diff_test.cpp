// Differential test against the real `nkf -mwZ2`, on the input where nkf is
// defined to be right: ISO-2022-JP encoded-words in the Subject. Both
// outputs go through our normalize() so the comparison is about decoding;
// where NFKC and -Z2 differ on purpose is documented in contrib/rules/README.md.
#include <iconv.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/charset/normalize.hpp"
#include "core/rules/classify.hpp"

namespace {

std::string encode_jis(const std::string& utf8) {
    iconv_t cd = iconv_open("ISO-2022-JP", "UTF-8");
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

std::string b64(std::string_view in) {
    static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned v = 0;
    int n = 0;
    for (char c : in) {
        v = (v << 8) | static_cast<unsigned char>(c);
        n += 8;
        while (n >= 6) {
            n -= 6;
            out += a[(v >> n) & 63];
        }
    }
    if (n > 0) out += a[(v << (6 - n)) & 63];
    while (out.size() % 4) out += '=';
    return out;
}

// Runs nkf -mwZ2 on `input` through a temporary file (no shell quoting of
// message bytes).
std::string nkf(const std::string& input) {
    char path[] = "/tmp/yubin-nkf-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, input.data(), input.size()) == static_cast<ssize_t>(input.size()));
    close(fd);
    const std::string cmd = std::string("nkf -mwZ2 < ") + path;
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::string out;
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int st = pclose(p);
    std::remove(path);
    REQUIRE(WIFEXITED(st));
    REQUIRE(WEXITSTATUS(st) == 0);
    return out;
}

}  // namespace

TEST_CASE("rules: decoded ISO-2022-JP Subjects agree with nkf -mwZ2") {
    const std::vector<std::string> texts = {
        "未承諾広告※新商品のご案内", "未　承　諾　広　告", "ＡＢＣ１２３のお知らせ",
        "会議の議事録を送ります", "Re: 【重要】ご確認ください", "ご承諾のお願い（再送）",
        "末承諾広告", "カタカナ・ひらがな・漢字混在テキスト", "価格：１，０００円",
    };
    for (const auto& t : texts) {
        const std::string jis = encode_jis(t);
        // One word, and two self-contained words split at a character (nkf
        // is not defined on words split inside a character: there we are
        // deliberately more lenient, tested in rfc2047_test.cpp).
        std::size_t cut = t.size() / 3;
        while (cut > 0 && (static_cast<unsigned char>(t[cut]) & 0xC0) == 0x80) --cut;
        for (const std::string& value :
             {"=?ISO-2022-JP?B?" + b64(jis) + "?=",
              "=?ISO-2022-JP?B?" + b64(encode_jis(t.substr(0, cut))) + "?=\n =?ISO-2022-JP?B?" +
                  b64(encode_jis(t.substr(cut))) + "?="}) {
            const std::string msg = "Subject: " + value + "\n\nbody\n";
            const auto ours = yubin::rules::subjects(msg);
            REQUIRE(ours.size() == 1);
            std::string theirs = nkf(msg);
            // nkf prints the whole message: take the Subject line.
            const auto s = theirs.find("Subject: ");
            REQUIRE(s != std::string::npos);
            const auto e = theirs.find('\n', s);
            theirs = theirs.substr(s + 9, e - s - 9);
            CAPTURE(t);
            CAPTURE(value);
            CHECK(ours[0].normalized == yubin::charset::normalize(theirs));
        }
    }
}
