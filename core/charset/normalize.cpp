#include "core/charset/normalize.hpp"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "core/charset/utf8.hpp"

namespace yubin::charset {
namespace {

// Appends `s` (valid UTF-8) without the removed code points.
void strip_into(std::string_view s, std::string& out) {
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    const auto len = static_cast<int32_t>(s.size());
    int32_t i = 0;
    while (i < len) {
        const int32_t start = i;
        UChar32 c = 0;
        U8_NEXT(p, i, len, c);
        if (c < 0) c = 0xFFFD;
        if (!is_removed(static_cast<char32_t>(c))) {
            out.append(s.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(i - start)));
        }
    }
}

bool all_ascii(std::string_view s) {
    for (char c : s) {
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    }
    return true;
}

}  // namespace

bool is_removed(char32_t cp) {
    if (cp < 0x80) return cp <= 0x20 || cp == 0x7F;
    const auto c = static_cast<UChar32>(cp);
    if (cp <= 0x9F) return true;  // C1 controls
    if (u_isUWhiteSpace(c)) return true;
    if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) return true;
    if (u_charType(c) == U_FORMAT_CHAR) return true;
    // Blank-looking but not White_Space in Unicode.
    return cp == 0x2800 /* braille blank */ || cp == 0x3164 || cp == 0xFFA0 /* hangul fillers */;
}

std::string normalize(std::string_view utf8) {
    std::string clean;
    if (!is_valid_utf8(utf8)) {
        clean = sanitize_utf8(utf8);
        utf8 = clean;
    }
    std::string stripped;
    stripped.reserve(utf8.size());
    strip_into(utf8, stripped);
    if (all_ascii(stripped)) return stripped;  // NFKC is the identity on ASCII

    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(status);
    std::string folded;
    if (U_SUCCESS(status)) {
        folded.reserve(stripped.size() + stripped.size() / 4);
        icu::StringByteSink<std::string> sink(&folded);
        nfkc->normalizeUTF8(0, icu::StringPiece(stripped.data(), static_cast<int32_t>(stripped.size())),
                            sink, nullptr, status);
    }
    if (U_FAILURE(status)) {
        // ICU data missing or out of memory: match on what we have rather
        // than nothing; the white-space removal already happened.
        return stripped;
    }
    std::string out;
    out.reserve(folded.size());
    strip_into(folded, out);  // NFKC turns NBSP, U+2000.. and ㈱-like forms into spaces
    return out;
}

}  // namespace yubin::charset
