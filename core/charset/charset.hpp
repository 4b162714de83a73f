// Byte strings in a declared (or undeclared) charset to valid UTF-8.
//
// Mail labels its charsets badly: Shift_JIS sent as "iso-2022-jp", UTF-8 as
// "us-ascii", raw 8-bit Subjects with no label at all. Every function here
// returns valid UTF-8 and never fails; a label that does not fit the bytes
// makes us detect among UTF-8, ISO-2022-JP, CP932 and EUC-JP instead of
// dropping the text.
//
// SECURITY: the input is message bytes (header values, body parts) of any
// content; the work is linear in its size (one pass per candidate charset,
// at most five candidates). Labels are reduced to a fixed table or to a
// token of at most kMaxLabelBytes safe characters before glibc sees them, so
// a label cannot smuggle "//TRANSLIT" or a path into iconv_open.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace yubin::charset {

inline constexpr std::size_t kMaxLabelBytes = 64;

enum class Encoding {
    Unknown,    // label not recognised by us or by glibc: detect
    Ascii,      // us-ascii: 8-bit bytes in it mean the label lies: detect
    Utf8,
    Iso2022Jp,  // the whole ISO-2022-JP family, CP5022x, raw JIS
    Cp932,      // Shift_JIS and every alias: a superset that keeps NEC/IBM chars
    EucJp,      // EUC-JP with the Microsoft (NEC) extensions
    SingleByte, // ISO-8859-*, windows-125x, KOI8: any bytes decode, so weak
    Other,      // another multibyte charset glibc knows (GB18030, Big5, EUC-KR...)
};

struct Label {
    Encoding encoding = Encoding::Unknown;
    std::string iconv_name;  // for SingleByte and Other
};

// Maps a MIME charset label (any case, RFC 2231 "*lang" already removed or
// not) to what we decode it with.
[[nodiscard]] Label resolve_label(std::string_view label);

struct Decoded {
    std::string utf8;        // always valid UTF-8
    std::size_t errors = 0;  // bytes or sequences replaced by U+FFFD
};

// Decodes with exactly this encoding, replacing what does not decode.
[[nodiscard]] Decoded decode_as(std::string_view bytes, const Label& label);

// Decodes by the label when the bytes fit it, otherwise by whichever of the
// candidates fits best. The default for every piece of mail text.
[[nodiscard]] std::string to_utf8(std::string_view bytes, std::string_view label);

// No label (raw header bytes): ASCII, ISO-2022-JP (escape sequences),
// UTF-8, EUC-JP or CP932, whichever decodes validly and looks most Japanese.
[[nodiscard]] std::string detect_to_utf8(std::string_view bytes);

// Which encoding detect_to_utf8 would choose.
[[nodiscard]] Encoding detect(std::string_view bytes);

}  // namespace yubin::charset
