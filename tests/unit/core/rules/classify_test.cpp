#include <iconv.h>

#include <doctest/doctest.h>

#include <time.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/charset/utf8.hpp"
#include "core/rules/classify.hpp"

using namespace yubin::rules;

namespace {

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

std::string q(std::string_view in) {
    static const char* hx = "0123456789ABCDEF";
    std::string out;
    for (char c : in) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')) {
            out += c;
        } else {
            out += '=';
            out += hx[u >> 4];
            out += hx[u & 15];
        }
    }
    return out;
}

std::string message(const std::string& subject_line, const std::string& body = "hello\n") {
    return "From: a@example.com\nTo: b@example.jp\n" + subject_line +
           "\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body;
}

bool is_ad(const std::string& msg) { return classify(RuleSet::defaults(), msg).matched; }

}  // namespace

TEST_CASE("rules: the default rule across charsets, encodings and disguises") {
    // The class of input, generated: every subject text in every charset,
    // label spelling and encoding.
    const std::vector<std::pair<std::string, bool>> subjects = {
        {"未承諾広告※新商品のご案内", true},
        {"未承諾広告 お得情報", true},
        {"【重要】未承諾広告※", true},
        {"未　承　諾　広　告", true},
        {"未 承諾\t広 告", true},
        {"未承諾広告※ｾｰﾙ開催①", true},
        {"Re: 未承諾広告", true},
        {"末承諾広告※", false},
        {"未承認広告※", false},
        {"ご承諾のお願い", false},
        {"未承諾の広告", false},
        {"広告未承諾", false},
        {"会議の議事録を送ります", false},
    };
    struct Codec {
        const char* glibc;
        std::string label;
    };
    const std::vector<Codec> codecs = {
        {"ISO-2022-JP", "ISO-2022-JP"}, {"ISO-2022-JP", "iso-2022-jp"}, {"CP932", "Shift_JIS"},
        {"CP932", "x-sjis"},            {"CP932", "Windows-31J"},       {"EUC-JP-MS", "EUC-JP"},
        {"EUC-JP-MS", "x-euc-jp"},      {"UTF-8", "UTF-8"},             {"UTF-8", "utf8"},
        {"CP932", "iso-2022-jp"},  // wrong label
        {"EUC-JP-MS", "us-ascii"}, // wrong label
        {"CP932", "iso-8859-1"},   // wrong label
    };
    for (const auto& [text, want] : subjects) {
        for (const auto& c : codecs) {
            // half-width kana and ① do not exist in ISO-2022-JP proper
            std::string t = text;
            if (std::string(c.glibc) == "ISO-2022-JP" && t.find("ｾ") != std::string::npos) continue;
            const std::string bytes = encode(t, c.glibc);
            const std::vector<std::string> forms = {
                "Subject: =?" + std::string(c.label) + "?B?" + b64(bytes) + "?=",
                "Subject: =?" + std::string(c.label) + "?q?" + q(bytes) + "?=",
                "subject : =?" + std::string(c.label) + "*ja?b?" + b64(bytes) + "?=",
                "Subject: " + bytes,  // raw
            };
            for (const auto& f : forms) {
                CAPTURE(text);
                CAPTURE(c.label);
                CAPTURE(f);
                CHECK(is_ad(message(f)) == want);
            }
        }
    }
}

TEST_CASE("rules: which header counts") {
    const std::string ad = "=?UTF-8?B?" + b64("未承諾広告") + "?=";
    struct Case {
        std::string what;
        std::string msg;
        bool want;
    };
    const std::vector<Case> cases = {
        {"second Subject field", "Subject: hello\nSubject: " + ad + "\n\nx\n", true},
        {"folded", "Subject: =?UTF-8?B?" + b64("未承") + "?=\r\n\t=?UTF-8?B?" + b64("諾広告") + "?=\r\n\r\nx", true},
        {"in From only", "From: " + ad + " <a@b>\nSubject: hi\n\nx\n", false},
        {"in body only", "Subject: hi\n\n未承諾広告\n", false},
        {"Subject in body", "Subject: hi\n\nSubject: 未承諾広告\n", false},
        {"X-Subject", "X-Subject: 未承諾広告\n\nx\n", false},
        {"zero-width inside", "Subject: 未\u200B承\u200C諾\u2060広\uFEFF告\n\n", true},
        {"CP50220 raw JIS with ①", "Subject: \x1B$BL$>5Bz9-9p-!\x1B(B\n\n", true},
        {"JIS never shifts back", "Subject: \x1B$BL$>5Bz9-9p\n\n", true},
        {"NUL between", "Subject: 未承" + std::string(1, '\0') + "諾広告\n\n", true},
        {"empty", "", false},
        {"no header end", "Subject: 未承諾広告", true},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        CHECK(is_ad(c.msg) == c.want);
    }
}

TEST_CASE("rules: rules file parsing and errors name file and line") {
    struct Case {
        std::string text;
        std::string error;  // empty: must parse
    };
    const std::vector<Case> cases = {
        {"rule a\n target = subject\n literal = x\n action = junk\n", ""},
        {"threshold = 3\nthreshold_action = tag\nrule a\ntarget=body\nregex=(?i)viagra\nscore=2\n", ""},
        {"rule a\ntarget = header:From\nliteral = x\naction = discard\ntext = why\n", ""},
        {"# only comments\n\n", ""},
        {"rule a\r\ntarget = subject\r\nliteral = x\r\naction = tag\r\n", ""},
        {"rule a\n target = subject\n literal = x\n", "f.rules:1: rule a has no action or score"},
        {"rule a\n target = subject\n action = junk\n", "f.rules:1: rule a has no literal or regex"},
        {"rule a\n literal = x\n action = junk\n", "f.rules:1: rule a has no target"},
        {"rule a\n target = subject\n literal = x\n action = burn\n", "f.rules:4: unknown action 'burn'"},
        {"rule a\n target = nowhere\n", "f.rules:2: target must be"},
        {"rule a\n target = subject\n regex = (\n action = junk\n", "f.rules:1: bad regex"},
        {"rule a\n target = subject\n literal =  　 \n", "f.rules:3: empty pattern"},
        {"rule a b\n", "f.rules:1: bad rule name"},
        {"bogus line\n", "f.rules:1: expected"},
        {"rule a\n color = red\n", "f.rules:2: unknown key 'color'"},
        {"speed = 3\n", "f.rules:1: unknown setting 'speed'"},
        {"threshold = 0\n", "f.rules:1: threshold must be"},
        {"rule a\ntarget=subject\nliteral=x\naction=junk\nrule a\n", "f.rules:5: duplicate rule name a"},
        {"rule a\n target = subject\n literal = x\n score = many\n", "f.rules:4: score must be"},
        {"\xFF\n", "f.rules: not valid UTF-8"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        auto r = RuleSet::parse(c.text, "f.rules");
        if (c.error.empty()) {
            CHECK(r.has_value());
            if (!r) CAPTURE(r.error().what);
        } else {
            REQUIRE_FALSE(r.has_value());
            CAPTURE(r.error().what);
            CHECK(r.error().what.rfind(c.error, 0) == 0);
            CHECK(r.error().kind == yubin::ErrorKind::Config);
        }
    }
}

TEST_CASE("rules: targets, first action wins, scores add up to the threshold") {
    const char* text = R"(
threshold = 5
threshold_action = junk
rule from-spammer
    target = header:From
    literal = spammer.example
    action = discard
rule body-pill
    target = body
    regex = (?i)v[i1]agra
    score = 3
rule body-free
    target = body
    literal = ＦＲＥＥ
    score = 3
rule subject-sale
    target = subject
    literal = セール
    action = tag
    text = [SALE]
)";
    auto rs = RuleSet::parse(text, "t.rules");
    REQUIRE(rs.has_value());
    CHECK(rs->needs_body());
    CHECK_FALSE(RuleSet::defaults().needs_body());
    struct Case {
        std::string what;
        std::string msg;
        bool matched;
        std::string rule, action;
        int score;
    };
    const std::vector<Case> cases = {
        {"header rule", "From: x@spammer.example\nSubject: ｾｰﾙ\n\n", true, "from-spammer", "discard", 0},
        {"subject tag", "From: x@ok.example\nSubject: ｾｰﾙ\n\n", true, "subject-sale", "tag", 0},
        {"one score below threshold", "Subject: hi\n\nbuy VIAGRA\n", false, "", "", 3},
        {"two scores reach threshold", "Subject: hi\n\nbuy v1agra, F R E E\n", true, "score", "junk", 6},
        {"body in base64 part",
         "Subject: hi\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: base64\n\n" +
             std::string("dmlhZ3JhIEZSRUU=") + "\n--b--\n",
         true, "score", "junk", 6},
        {"clean", "Subject: hi\n\nhello\n", false, "", "", 0},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        const Verdict v = classify(*rs, c.msg);
        CHECK(v.matched == c.matched);
        CHECK(v.rule == c.rule);
        CHECK(v.action == c.action);
        CHECK(v.score == c.score);
    }
    const Verdict v = classify(*rs, "From: x@ok.example\nSubject: ｾｰﾙ\n\n");
    CHECK(v.text == "[SALE]");
}

TEST_CASE("rules: PCRE2 limits stop catastrophic backtracking") {
    auto rs = RuleSet::parse("rule evil\ntarget=subject\nregex=^(a+)+$\naction=reject\n", "e.rules");
    REQUIRE(rs.has_value());
    const std::string msg = "Subject: " + std::string(5000, 'a') + "b\n\n";
    const auto t0 = std::chrono::steady_clock::now();
    const Verdict v = classify(*rs, msg);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    CHECK_FALSE(v.matched);
    CHECK(v.truncated);
    CHECK(ms < 3000.0);
}

namespace {

double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace

TEST_CASE("rules: hostile messages get a verdict in bounded time") {
    const std::string ad = "Subject: =?UTF-8?B?" + b64("未承諾広告") + "?=\n";
    std::string fields;
    for (int i = 0; i < 10000; ++i) fields += "X-Junk-" + std::to_string(i) + ": =?utf-8?B?5pyq?=\n";
    std::string words = "Subject: ";
    for (int i = 0; i < 5000; ++i) words += "=?utf-8?B?" + b64("あ") + "?= ";
    words += "=?utf-8?B?" + b64("未承諾広告") + "?=\n";
    std::string deep = ad;
    for (int i = 0; i < 1000; ++i) {
        deep += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\n\n--b" + std::to_string(i) + "\n";
    }
    std::string random;
    unsigned x = 7;
    for (int i = 0; i < 1 << 20; ++i) {
        x = x * 1103515245 + 12345;
        random += static_cast<char>(x >> 16);
    }
    struct Case {
        std::string what;
        std::string msg;
        bool want;
    };
    const std::vector<Case> cases = {
        {"200 KB Subject ending in the marker", "Subject: " + std::string(200 * 1024, 'x') + "未承諾広告\n\n", true},
        {"10,000 fields then the Subject", fields + ad + "\n", true},
        {"5,000 encoded-words", words + "\n", true},
        {"flood of =?", "Subject: " + [] {
             std::string s;
             for (int i = 0; i < 100000; ++i) s += "=?";
             return s;
         }() + "\n\n", false},
        {"1,000-deep multipart", deep, true},
        {"1 MB random binary", random, false},
        {"NULs", std::string(100000, '\0'), false},
        {"only newlines", std::string(100000, '\n'), false},
        {"unterminated encoded-words", "Subject: " + std::string(5000, 'x') + "=?utf-8?B?" + std::string(100000, 'A') + "\n\n", false},
    };
    auto body_rules = RuleSet::parse("rule b\ntarget=body\nliteral=zzz\naction=junk\n"
                                     "rule s\ntarget=subject\nliteral=未承諾広告\naction=reject\n", "b.rules");
    REQUIRE(body_rules.has_value());
    const RuleSet defaults = RuleSet::defaults();
    for (const auto& c : cases) {
        CAPTURE(c.what);
        for (const RuleSet* rs : std::vector<const RuleSet*>{&defaults, &*body_rules}) {
            // This thread's CPU time: the bound is on our work (linear, not
            // quadratic), which wall time on a shared machine does not show.
            const double t0 = thread_cpu_ms();
            const Verdict v = classify(*rs, c.msg);
            const double ms = thread_cpu_ms() - t0;
            CHECK(v.matched == c.want);
            CHECK(ms < 5000.0);
        }
        for (const auto& s : subjects(c.msg)) {
            CHECK(yubin::charset::is_valid_utf8(s.decoded));
            CHECK(yubin::charset::is_valid_utf8(s.normalized));
        }
    }
}
