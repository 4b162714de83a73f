// The caches and fast paths of core/charset give exactly the answers of the
// slow paths they replace: the JIS X 0208 table against glibc's CP932
// converter, the removed-character set against ICU's properties, the ASCII
// and UTF-8 shortcuts against byte-wise references, and cached iconv
// converters start every conversion in their initial state.
#include <iconv.h>
#include <unicode/normalizer2.h>
#include <unicode/utf8.h>

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/charset/charset.hpp"
#include "core/charset/iconv_run.hpp"
#include "core/charset/iso2022jp.hpp"
#include "core/charset/normalize.hpp"
#include "core/charset/utf8.hpp"

using namespace yubin::charset;

namespace {

// glibc's CP932 reading of one Shift_JIS pair, independent of the code
// under test; empty when glibc rejects it.
std::string cp932_by_iconv(char s1, char s2) {
    iconv_t cd = iconv_open("UTF-8", "CP932");
    REQUIRE(cd != reinterpret_cast<iconv_t>(-1));
    char in[2] = {s1, s2};
    char out[16];
    char* src = in;
    size_t sl = 2;
    char* dst = out;
    size_t dl = sizeof out;
    const size_t r = iconv(cd, &src, &sl, &dst, &dl);
    iconv_close(cd);
    if (r == static_cast<size_t>(-1) || sl != 0) return {};
    return std::string(out, sizeof out - dl);
}

// Every JIS X 0208 cell (94 x 94) decoded by decode_iso2022jp, checked
// against glibc; returns the number of mismatches.
int check_all_jis_cells() {
    int bad = 0;
    for (int j1 = 0x21; j1 <= 0x7E; ++j1) {
        for (int j2 = 0x21; j2 <= 0x7E; ++j2) {
            const unsigned char s1 =
                static_cast<unsigned char>(((j1 + 1) >> 1) + (j1 <= 0x5E ? 0x70 : 0xB0));
            const unsigned char s2 = static_cast<unsigned char>(
                (j1 & 1) ? j2 + (j2 >= 0x60 ? 0x20 : 0x1F) : j2 + 0x7E);
            const std::string want = cp932_by_iconv(static_cast<char>(s1), static_cast<char>(s2));
            std::string in = "\x1B$B";
            in.push_back(static_cast<char>(j1));
            in.push_back(static_cast<char>(j2));
            in += "\x1B(B";
            std::string got;
            const std::size_t errors = decode_iso2022jp(in, got);
            if (want.empty()) {
                if (got != kReplacement || errors != 1) ++bad;
            } else if (got != want || errors != 0) {
                ++bad;
            }
        }
    }
    return bad;
}

// normalize() as first written: ICU asked per code point, NFKC always run.
std::string normalize_reference(std::string_view utf8) {
    const std::string valid = sanitize_utf8(utf8);
    const auto strip = [](std::string_view s) {
        std::string out;
        const auto* p = reinterpret_cast<const uint8_t*>(s.data());
        const auto len = static_cast<int32_t>(s.size());
        int32_t i = 0;
        while (i < len) {
            const int32_t start = i;
            UChar32 c = 0;
            U8_NEXT(p, i, len, c);
            if (!detail::is_removed_by_properties(static_cast<char32_t>(c))) {
                out.append(s.substr(static_cast<std::size_t>(start),
                                    static_cast<std::size_t>(i - start)));
            }
        }
        return out;
    };
    const std::string stripped = strip(valid);
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(status);
    REQUIRE(U_SUCCESS(status));
    std::string folded;
    icu::StringByteSink<std::string> sink(&folded);
    nfkc->normalizeUTF8(0, icu::StringPiece(stripped.data(), static_cast<int32_t>(stripped.size())),
                        sink, nullptr, status);
    REQUIRE(U_SUCCESS(status));
    return strip(folded);
}

bool is_valid_utf8_reference(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t n = utf8_sequence_length(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

}  // namespace

TEST_CASE("charset cache: every JIS X 0208 cell decodes as glibc's CP932 says") {
    CHECK(check_all_jis_cells() == 0);
    // Tables are per thread: a fresh thread builds its own, with the same
    // answers.
    int bad_in_thread = -1;
    std::thread t([&] { bad_in_thread = check_all_jis_cells(); });
    t.join();
    CHECK(bad_in_thread == 0);
}

TEST_CASE("charset cache: a cached stateful converter starts each use reset") {
    // UTF-7 left inside a base64 run, then plain text through the same
    // cached converter: the text must not be read as base64.
    CHECK(to_utf8("+ZeVnLIqe-", "utf-7") == "日本語");
    (void)to_utf8("+ZeVnLI", "utf-7");
    CHECK(to_utf8("abc", "utf-7") == "abc");
    CHECK(to_utf8("+ZeVnLIqe-", "utf-7") == "日本語");
    // ISO-2022-CN-EXT left shifted out (SO without SI) and cut inside a
    // two-byte character, so the conversion ends on an error, not on a
    // flush; then ASCII through the same converter.
    (void)to_utf8("\x1B$)A\x0E\x30", "iso-2022-cn-ext");
    CHECK(to_utf8("abcd", "iso-2022-cn-ext") == "abcd");
    // The same one level down, where no label lookup runs in between.
    const std::string cn = "ISO-2022-CN-EXT";
    std::string a, b;
    REQUIRE(detail::iconv_append(cn, "\x1B$)A\x0E\x30\x21", a).has_value());
    CHECK(a == "啊");
    (void)detail::iconv_append(cn, "\x1B$)A\x0E\x30", a);
    REQUIRE(detail::iconv_append(cn, "abcd", b) == std::optional<std::size_t>(0));
    CHECK(b == "abcd");
    // UTF-16 and UTF-32 remember the byte order of a BOM even past a reset:
    // the next text without one must be read in glibc's default order (the
    // host's, little-endian here), not in the previous text's big-endian.
    for (const char* label : {"utf-16", "UTF16", "unicode", "csUnicode"}) {
        CAPTURE(std::string_view(label));
        CHECK(to_utf8(std::string("\xFE\xFF\x00\x41", 4), label) == "A");
        CHECK(to_utf8(std::string("\x61\x00\x62\x00", 4), label) == "ab");
        CHECK(to_utf8(std::string("\xFE\xFF\x00\x41", 4), label) == "A");
    }
    for (const char* label : {"utf-32", "UTF32"}) {
        CAPTURE(std::string_view(label));
        CHECK(to_utf8(std::string("\x00\x00\xFE\xFF\x00\x00\x00\x41", 8), label) == "A");
        CHECK(to_utf8(std::string("\x61\x00\x00\x00", 4), label) == "a");
    }
    // Our own ISO-2022-JP decoder: a run that never shifts back does not
    // leak into the next text.
    std::string out;
    (void)decode_iso2022jp("\x1B$BL$>5", out);
    out.clear();
    CHECK(decode_iso2022jp("abc", out) == 0);
    CHECK(out == "abc");
    CHECK(to_utf8("\x1B$BL$>5", "iso-2022-jp") == "未承");
    CHECK(to_utf8("abc", "iso-2022-jp") == "abc");
}

TEST_CASE("charset cache: the removed set is exactly ICU's properties, every code point") {
    int bad = 0;
    char32_t first_bad = 0;
    for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        if (is_removed(cp) != detail::is_removed_by_properties(cp)) {
            if (bad++ == 0) first_bad = cp;
        }
    }
    CAPTURE(static_cast<std::uint32_t>(first_bad));
    CHECK(bad == 0);
}

TEST_CASE("charset cache: normalize equals the per-code-point reference on mixed text") {
    // An alphabet of what normalization must handle: ASCII and controls,
    // every kind of space and invisible, kana and half-width kana with
    // voicing marks (combining and not), width variants, compatibility
    // characters, CJK, astral characters and broken bytes.
    const std::vector<std::string> alphabet = {
        "a", "Z", " ", "\t", "\r\n", "\x01", "\x7F", "\xC2\x85", "\u00A0", "\u3000", "\u2009",
        "\u200B", "\u200D", "\u2060", "\uFEFF", "\u00AD", "\uFE0F", "\U000E0100", "\u202E",
        "か", "\u3099", "\u309A", "ｶ", "ﾞ", "ﾟ", "ｰ", "ア", "未", "承", "諾", "広", "告", "※",
        "Ａ", "１", "①", "㈱", "\u2F00", "\uF900", "é", "e\u0301", "\u1100", "\u1161",
        "\U0001F600", "\xFF", "\xE3\x81", "\x80", "\u3164", "\u2800",
    };
    std::mt19937 rng(20240601);
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::uniform_int_distribution<int> len(0, 24);
    for (int n = 0; n < 5000; ++n) {
        std::string s;
        const int k = len(rng);
        for (int i = 0; i < k; ++i) s += alphabet[pick(rng)];
        const std::string got = normalize(s);
        const std::string want = normalize_reference(s);
        if (got != want) {
            CAPTURE(s);
            CHECK(got == want);
            break;
        }
        CHECK(is_valid_utf8(got));
    }
}

TEST_CASE("charset cache: long text (stripped through the frozen set) equals the reference too") {
    // normalize() strips short text per code point and long text (bodies,
    // 4 KB and more) through the frozen set: both paths against the reference.
    const std::vector<std::string> alphabet = {
        "a", " ", "\t", "\r\n", "\x01", "\u00A0", "\u3000", "\u200B", "\uFEFF", "\u00AD",
        "\U000E0100", "か", "\u3099", "ｶ", "ﾞ", "未", "承", "諾", "広", "告", "①", "㈱", "\xFF",
        "\u3164", "\u2800", "\u2028",
    };
    std::mt19937 rng(4096);
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    for (int n = 0; n < 20; ++n) {
        std::string s;
        while (s.size() < 3000u + static_cast<unsigned>(n) * 400u) s += alphabet[pick(rng)];
        CAPTURE(s.size());
        CHECK(normalize(s) == normalize_reference(s));
    }
}

TEST_CASE("charset cache: ASCII and UTF-8 validity shortcuts agree with the byte-wise check") {
    std::mt19937 rng(7);
    const std::vector<std::string> pieces = {
        "a", "abcdefgh", "\x7F", "\x80", "\xC2\xA0", "\xC0\xAF", "\xE0\x80\x80", "\xE0\xA0\x80",
        "\xE1\x80\x80", "\xEC\xBF\xBF", "\xED\x9F\xBF", "\xED\xA0\x80", "\xEE\x80\x80",
        "\xEF\xBF\xBF", "\xEF\xBF", "\xF0\x90\x80\x80", "\xF4\x90\x80\x80", "未", "\xE3",
    };
    std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
    std::uniform_int_distribution<int> len(0, 12);
    for (int n = 0; n < 20000; ++n) {
        std::string s;
        const int k = len(rng);
        for (int i = 0; i < k; ++i) s += pieces[pick(rng)];
        CAPTURE(s);
        REQUIRE(is_valid_utf8(s) == is_valid_utf8_reference(s));
        bool ascii = true;
        for (char c : s) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
        REQUIRE(is_ascii(s) == ascii);
    }
}

TEST_CASE("charset: glibc's UTF-8 under a name we do not alias still gives valid UTF-8") {
    // Found by the rfc2047 fuzzer: glibc resolves "+UTF-8" to its UTF-8 and
    // let invalid sequences through unchanged.
    const std::string bad = "a\xF5\xBB\x9E\x8B\xC0\xAF\xED\xA0\x80z";
    for (const char* label : {"+utf-8", "utf-8", "x-unknown", "+UTF-8+"}) {
        CAPTURE(std::string_view(label));
        const std::string got = to_utf8(bad, label);
        CHECK(is_valid_utf8(got));
        CHECK(got.front() == 'a');
        CHECK(got.back() == 'z');
    }
    std::string out;
    const auto errors = detail::iconv_append("+UTF-8", bad, out);
    REQUIRE(errors.has_value());
    CHECK(*errors > 0);
    CHECK(is_valid_utf8(out));
}
