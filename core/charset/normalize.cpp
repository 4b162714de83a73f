#include "core/charset/normalize.hpp"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/uniset.h>
#include <unicode/utf8.h>

#include <cstdint>
#include <cstring>

#include "core/charset/utf8.hpp"

namespace yubin::charset {
namespace {

// The removed code points as one frozen ICU set, built once per process:
// a frozen set answers membership from a BMP bit table and spans UTF-8 runs
// without decoding them one by one, where asking ICU three property
// questions per character cost most of normalize(). nullptr when ICU could
// not build it (data missing): then the property functions answer instead.
const icu::UnicodeSet* removed_set() {
    static const icu::UnicodeSet* const kSet = []() -> const icu::UnicodeSet* {
        UErrorCode status = U_ZERO_ERROR;
        auto* s = new icu::UnicodeSet(
            icu::UnicodeString(u"[[:White_Space:][:Default_Ignorable_Code_Point:][:Cf:]]"),
            status);
        if (U_FAILURE(status)) {
            delete s;
            return nullptr;
        }
        s->add(0x00, 0x20);  // C0 controls and space
        s->add(0x7F, 0x9F);  // DEL and C1 controls
        s->add(0x2800);      // braille blank
        s->add(0x3164);      // hangul filler
        s->add(0xFFA0);      // half-width hangul filler
        s->freeze();
        return s;  // lives as long as the process, like ICU's own singletons
    }();
    return kSet;
}

const icu::Normalizer2* nfkc() {
    static const icu::Normalizer2* const kNfkc = [] {
        UErrorCode status = U_ZERO_ERROR;
        const icu::Normalizer2* n = icu::Normalizer2::getNFKCInstance(status);
        return U_SUCCESS(status) ? n : nullptr;
    }();
    return kNfkc;
}


// ASCII text: removed are exactly the controls, space and DEL.
void strip_ascii_into(std::string_view s, std::string& out) {
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto u = static_cast<unsigned char>(s[i]);
        if (u > 0x20 && u != 0x7F) continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
    }
    out.append(s.data() + run, s.size() - run);
}

// Building removed_set() costs a few milliseconds of CPU once per process
// (ICU walks its property tries), more than a whole delivery by yubin-lda,
// which starts once per message and mostly normalizes a Subject and a rule
// literal or two. Below this size the per-code-point questions are cheaper;
// the set pays off on bodies. Both answer the same (tests/unit/core/charset).
constexpr std::size_t kSetWorthBytes = 4096;

// Appends `s` (valid UTF-8) without the removed code points.
void strip_into(std::string_view s, std::string& out) {
    const icu::UnicodeSet* set = s.size() >= kSetWorthBytes ? removed_set() : nullptr;
    if (set != nullptr) {
        const char* p = s.data();
        auto left = static_cast<int32_t>(s.size());
        while (left > 0) {
            const int32_t keep = set->spanUTF8(p, left, USET_SPAN_NOT_CONTAINED);
            out.append(p, static_cast<std::size_t>(keep));
            p += keep;
            left -= keep;
            const int32_t drop = set->spanUTF8(p, left, USET_SPAN_CONTAINED);
            p += drop;
            left -= drop;
        }
        return;
    }
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    const auto len = static_cast<int32_t>(s.size());
    int32_t i = 0;
    while (i < len) {
        const int32_t start = i;
        UChar32 c = 0;
        U8_NEXT(p, i, len, c);
        if (c < 0) c = 0xFFFD;
        if (!detail::is_removed_by_properties(static_cast<char32_t>(c))) {
            out.append(s.substr(static_cast<std::size_t>(start),
                                static_cast<std::size_t>(i - start)));
        }
    }
}

}  // namespace

namespace detail {

bool is_removed_by_properties(char32_t cp) {
    if (cp < 0x80) return cp <= 0x20 || cp == 0x7F;
    const auto c = static_cast<UChar32>(cp);
    if (cp <= 0x9F) return true;  // C1 controls
    if (u_isUWhiteSpace(c)) return true;
    if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) return true;
    if (u_charType(c) == U_FORMAT_CHAR) return true;
    // Blank-looking but not White_Space in Unicode.
    return cp == 0x2800 /* braille blank */ || cp == 0x3164 || cp == 0xFFA0 /* hangul fillers */;
}

}  // namespace detail

bool is_removed(char32_t cp) {
    if (cp < 0x80) return cp <= 0x20 || cp == 0x7F;
    if (const icu::UnicodeSet* set = removed_set()) {
        return cp <= 0x10FFFF && set->contains(static_cast<UChar32>(cp));
    }
    return detail::is_removed_by_properties(cp);
}

std::string normalize(std::string_view utf8) {
    if (is_ascii(utf8)) {
        // NFKC is the identity on ASCII: only the stripping is left.
        std::string out;
        out.reserve(utf8.size());
        strip_ascii_into(utf8, out);
        return out;
    }
    std::string clean;
    if (!is_valid_utf8(utf8)) {
        clean = sanitize_utf8(utf8);
        utf8 = clean;
    }
    std::string stripped;
    stripped.reserve(utf8.size());
    strip_into(utf8, stripped);
    if (is_ascii(stripped)) return stripped;

    const icu::Normalizer2* n = nfkc();
    if (n == nullptr) {
        // ICU data missing: match on what we have rather than nothing; the
        // white-space removal already happened.
        return stripped;
    }
    const icu::StringPiece piece(stripped.data(), static_cast<int32_t>(stripped.size()));
    UErrorCode status = U_ZERO_ERROR;
    // Most text is already in NFKC (kanji, kana, ASCII): checking is a
    // read-only pass, normalizing would copy and strip once more.
    if (n->isNormalizedUTF8(piece, status) && U_SUCCESS(status)) return stripped;
    status = U_ZERO_ERROR;
    std::string folded;
    folded.reserve(stripped.size() + stripped.size() / 4);
    icu::StringByteSink<std::string> sink(&folded);
    n->normalizeUTF8(0, piece, sink, nullptr, status);
    if (U_FAILURE(status)) return stripped;  // out of memory: as above
    std::string out;
    out.reserve(folded.size());
    strip_into(folded, out);  // NFKC turns NBSP, U+2000.. and ㈱-like forms into spaces
    return out;
}

}  // namespace yubin::charset
