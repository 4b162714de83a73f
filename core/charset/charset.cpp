#include "core/charset/charset.hpp"

#include <iconv.h>

#include <array>
#include <cerrno>
#include <optional>
#include <unordered_map>

#include "core/charset/iconv_run.hpp"
#include "core/charset/iso2022jp.hpp"
#include "core/charset/utf8.hpp"
#include "core/util/fd.hpp"
#include "core/util/strings.hpp"

namespace yubin::charset {

namespace detail {
namespace {

// Per-thread cache: iconv_open costs a module lookup, and a milter thread
// decodes the same few charsets all day. Bounded: an attacker naming many
// charsets only causes reopening.
class IconvCache {
public:
    static constexpr std::size_t kMaxEntries = 32;
    ~IconvCache() { clear(); }
    iconv_t get(const std::string& from) {
        if (auto it = map_.find(from); it != map_.end()) return it->second;
        if (map_.size() >= kMaxEntries) clear();
        iconv_t cd = iconv_open("UTF-8", from.c_str());
        map_.emplace(from, cd);
        return cd;
    }

private:
    void clear() {
        for (auto& [name, cd] : map_) {
            if (cd != reinterpret_cast<iconv_t>(-1)) iconv_close(cd);
        }
        map_.clear();
    }
    std::unordered_map<std::string, iconv_t> map_;
};

// glibc's UTF-16, UTF-32 and UNICODE converters read a byte order mark
// on the first conversion of a descriptor only and keep its byte order for
// good: iconv's reset does not forget it. Reused, such a descriptor would
// read the next message in the previous message's byte order, so these
// are opened for each use. (Found by converting text after every other
// text through each converter glibc lists, reset in between, and
// comparing with a fresh descriptor; these were the only ones that
// differed.)
bool remembers_byte_order(std::string_view name) {
    std::string sq;
    for (char c : name) {
        if (c == '-' || c == '_' || c == '.' || c == ' ') continue;
        sq.push_back(ascii_lower(c));
        if (sq.size() > 16) return false;
    }
    return sq == "utf16" || sq == "utf32" || sq == "unicode" || sq == "csunicode";
}

}  // namespace

std::optional<std::size_t> iconv_append(const std::string& from, std::string_view in,
                                        std::string& out, std::size_t skip_on_error) {
    thread_local IconvCache cache;
    const bool fresh = remembers_byte_order(from);
    iconv_t cd = fresh ? iconv_open("UTF-8", from.c_str()) : cache.get(from);
    if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
    const ScopeExit close_fresh([&] {
        if (fresh) iconv_close(cd);
    });
    // Every conversion starts in the initial shift state, whatever the
    // previous one through this cached descriptor ended in (an error can
    // end it without the final flush that would reset it).
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
    const std::size_t start = out.size();
    std::size_t errors = 0;
    std::array<char, 4096> buf;  // not zeroed: iconv writes before we read
    char* src = const_cast<char*>(in.data());  // iconv's prototype is not const-correct
    std::size_t src_left = in.size();
    while (true) {
        char* dst = buf.data();
        std::size_t dst_left = buf.size();
        const std::size_t r = src_left == 0 ? iconv(cd, nullptr, nullptr, &dst, &dst_left)
                                            : iconv(cd, &src, &src_left, &dst, &dst_left);
        const int err = errno;
        out.append(buf.data(), static_cast<std::size_t>(dst - buf.data()));
        if (r != static_cast<std::size_t>(-1)) {
            if (src_left == 0) {
                // Flush written above; done unless that flush itself filled buf.
                if (dst_left != 0) break;
                continue;
            }
            continue;
        }
        if (err == E2BIG) continue;
        // EILSEQ (invalid) or EINVAL (truncated at the end): replace, skip.
        out.append(kReplacement);
        ++errors;
        const std::size_t skip = std::min(skip_on_error, src_left);
        src += skip;
        src_left -= skip;
        if (src_left == 0 && err == EINVAL) break;
    }
    // glibc does not promise valid UTF-8 out: its UTF-8 reached under a
    // name our alias table does not know (a label "+utf-8", which glibc
    // resolves) let F5 BB 9E 8B through unchanged. Found by the rfc2047
    // fuzzer. The output of this function is valid UTF-8.
    const std::string_view added(out.data() + start, out.size() - start);
    if (!is_valid_utf8(added)) {
        std::string fixed;
        errors += append_sanitized_utf8(added, fixed);
        out.resize(start);
        out += fixed;
    }
    return errors;
}

}  // namespace detail

namespace {

// Lower-cased label with "-", "_", "." and spaces removed, so "Shift_JIS",
// "shift-jis" and "SHIFTJIS" compare equal.
std::string squash(std::string_view label) {
    std::string s;
    for (char c : label) {
        if (c == '-' || c == '_' || c == '.' || c == ' ') continue;
        s.push_back(ascii_lower(c));
    }
    return s;
}

bool safe_label_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == ':' || c == '+';
}

struct Alias {
    std::string_view squashed;
    Encoding encoding;
};

constexpr Alias kAliases[] = {
    {"utf8", Encoding::Utf8},
    {"unicode11utf8", Encoding::Utf8},
    {"xunicode20utf8", Encoding::Utf8},
    {"usascii", Encoding::Ascii},
    {"ascii", Encoding::Ascii},
    {"ansix341968", Encoding::Ascii},
    {"iso646us", Encoding::Ascii},
    {"csascii", Encoding::Ascii},
    {"us", Encoding::Ascii},
    {"iso2022jp", Encoding::Iso2022Jp},
    {"iso2022jp1", Encoding::Iso2022Jp},
    {"iso2022jp2", Encoding::Iso2022Jp},
    {"iso2022jp3", Encoding::Iso2022Jp},
    {"iso2022jp2004", Encoding::Iso2022Jp},
    {"iso2022jpms", Encoding::Iso2022Jp},
    {"csiso2022jp", Encoding::Iso2022Jp},
    {"csiso2022jp2", Encoding::Iso2022Jp},
    {"cp50220", Encoding::Iso2022Jp},
    {"cp50221", Encoding::Iso2022Jp},
    {"cp50222", Encoding::Iso2022Jp},
    {"jis", Encoding::Iso2022Jp},
    {"xjis", Encoding::Iso2022Jp},
    {"jis7", Encoding::Iso2022Jp},
    {"shiftjis", Encoding::Cp932},
    {"sjis", Encoding::Cp932},
    {"xsjis", Encoding::Cp932},
    {"xshiftjis", Encoding::Cp932},
    {"cp932", Encoding::Cp932},
    {"ms932", Encoding::Cp932},
    {"mskanji", Encoding::Cp932},
    {"windows31j", Encoding::Cp932},
    {"cswindows31j", Encoding::Cp932},
    {"csshiftjis", Encoding::Cp932},
    {"xmscp932", Encoding::Cp932},
    {"ibm943", Encoding::Cp932},
    {"ibm932", Encoding::Cp932},
    {"windows932", Encoding::Cp932},
    {"sjisopen", Encoding::Cp932},
    {"sjiswin", Encoding::Cp932},
    {"shiftjisx0213", Encoding::Cp932},
    {"shiftjis2004", Encoding::Cp932},
    {"eucjp", Encoding::EucJp},
    {"xeucjp", Encoding::EucJp},
    {"ujis", Encoding::EucJp},
    {"xeuc", Encoding::EucJp},
    {"cseucpkdfmtjapanese", Encoding::EucJp},
    {"eucjpms", Encoding::EucJp},
    {"eucjpwin", Encoding::EucJp},
    {"eucjpopen", Encoding::EucJp},
    {"cp51932", Encoding::EucJp},
    {"eucjisx0213", Encoding::EucJp},
    {"eucjis2004", Encoding::EucJp},
};

// The alias table lookup without allocating: every message names a charset
// or two, and most are in this table.
std::optional<Encoding> find_alias(std::string_view label) {
    constexpr std::size_t kLongest = 24;  // longer than any squashed alias
    std::array<char, kLongest> buf;
    std::size_t n = 0;
    for (char c : label) {
        if (c == '-' || c == '_' || c == '.' || c == ' ') continue;
        if (n == buf.size()) return std::nullopt;
        buf[n++] = ascii_lower(c);
    }
    const std::string_view sq(buf.data(), n);
    for (const auto& a : kAliases) {
        if (a.squashed == sq) return a.encoding;
    }
    return std::nullopt;
}

bool is_single_byte_family(const std::string& sq) {
    return istarts_with(sq, "iso8859") || istarts_with(sq, "latin") ||
           istarts_with(sq, "windows125") || istarts_with(sq, "cp125") ||
           istarts_with(sq, "koi8") || sq == "macintosh" || sq == "cp850" || sq == "cp437" ||
           istarts_with(sq, "tis620") || istarts_with(sq, "iso885");
}

// How Japanese-looking a decoded text is: common scripts score, characters
// a mis-detection typically produces (half-width kana, private use, C1
// controls, rare symbols) cost. Used only to choose between candidates that
// decoded without errors.
long japanese_score(std::string_view utf8) {
    long score = 0;
    for (std::size_t i = 0; i < utf8.size();) {
        const auto c = static_cast<unsigned char>(utf8[i]);
        std::size_t n = 1;
        char32_t cp = c;
        if (c >= 0xF0) {
            n = 4;
            cp = c & 0x07;
        } else if (c >= 0xE0) {
            n = 3;
            cp = c & 0x0F;
        } else if (c >= 0xC0) {
            n = 2;
            cp = c & 0x1F;
        }
        for (std::size_t k = 1; k < n && i + k < utf8.size(); ++k) {
            cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
        }
        i += n;
        if (cp < 0x80) continue;
        if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
            (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF01 && cp <= 0xFF5E)) {
            score += 2;
        } else if (cp >= 0xFF61 && cp <= 0xFF9F) {
            score -= 1;
        } else if ((cp >= 0xE000 && cp <= 0xF8FF) || (cp >= 0x80 && cp <= 0x9F) || cp == 0xFFFD) {
            score -= 4;
        } else {
            score -= 1;
        }
    }
    return score;
}


struct Candidate {
    Encoding encoding;
    Decoded decoded;
    long score;
};

// Picks the candidate with the fewest errors, then the best score; earlier
// candidates win ties, so the caller orders them by preference.
Decoded best_of(std::string_view bytes, const Label* declared) {
    // Valid multibyte UTF-8 is almost never an accident of another charset.
    if (is_valid_utf8(bytes)) return Decoded{std::string(bytes), 0};
    static const Label kCandidates[] = {
        {Encoding::Iso2022Jp, {}},
        {Encoding::EucJp, {}},
        {Encoding::Cp932, {}},
    };
    Decoded best;
    bool have = false;
    long best_score = 0;
    const auto consider = [&](const Label& l) {
        Decoded d = decode_as(bytes, l);
        const long sc = japanese_score(d.utf8);
        if (!have || d.errors < best.errors || (d.errors == best.errors && sc > best_score)) {
            best = std::move(d);
            best_score = sc;
            have = true;
        }
    };
    if (declared != nullptr) consider(*declared);
    for (const auto& l : kCandidates) {
        if (declared != nullptr && l.encoding == declared->encoding) continue;
        consider(l);
    }
    return best;
}

}  // namespace

Label resolve_label(std::string_view label) {
    if (const auto star = label.find('*'); star != std::string_view::npos) {
        label = label.substr(0, star);  // RFC 2231 language suffix
    }
    label = trim(label);
    if (label.size() >= 2 && label.front() == '"' && label.back() == '"') {
        label = label.substr(1, label.size() - 2);
    }
    if (const auto alias = find_alias(label)) return Label{*alias, {}};
    if (label.empty() || label.size() > kMaxLabelBytes) return Label{};
    for (char c : label) {
        if (!safe_label_char(c)) return Label{};
    }
    const std::string sq = squash(label);
    std::string name(label);
    for (auto& c : name) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    // ks_c_5601-1987 is what Outlook calls its Korean, which glibc names CP949.
    if (sq == "ksc56011987" || sq == "ksc5601") name = "CP949";
    if (sq == "gb2312") name = "GB18030";  // a superset, as every MUA decodes it
    const Encoding enc = is_single_byte_family(sq) ? Encoding::SingleByte : Encoding::Other;
    // Probe once now so Unknown is decided here, not on every decode.
    std::string probe;
    if (!detail::iconv_append(name, "", probe)) return Label{};
    return Label{enc, std::move(name)};
}

Decoded decode_as(std::string_view bytes, const Label& label) {
    Decoded d;
    d.utf8.reserve(bytes.size() + bytes.size() / 2);
    switch (label.encoding) {
        case Encoding::Utf8:
        case Encoding::Ascii:
        case Encoding::Unknown:
            d.errors = append_sanitized_utf8(bytes, d.utf8);
            break;
        case Encoding::Iso2022Jp:
            d.errors = decode_iso2022jp(bytes, d.utf8);
            break;
        case Encoding::Cp932:
        case Encoding::EucJp:
        case Encoding::SingleByte:
        case Encoding::Other: {
            const std::string name = label.encoding == Encoding::Cp932   ? "CP932"
                                     : label.encoding == Encoding::EucJp ? "EUC-JP-MS"
                                                                         : label.iconv_name;
            if (auto errs = detail::iconv_append(name, bytes, d.utf8)) {
                d.errors = *errs;
            } else {
                d.errors = append_sanitized_utf8(bytes, d.utf8) + 1;
            }
            break;
        }
    }
    return d;
}

std::string to_utf8(std::string_view bytes, std::string_view label) {
    const Label l = resolve_label(label);
    if (is_ascii(bytes) && !has_iso2022_escape(bytes) && l.encoding != Encoding::Other) {
        // Every label we accept is an ASCII superset, except the Other
        // family (UTF-7, UTF-16 ...).
        return std::string(bytes);
    }
    if (has_iso2022_escape(bytes) && l.encoding != Encoding::Iso2022Jp &&
        l.encoding != Encoding::Other) {
        // Raw JIS under another label: the escapes say what it is.
        Decoded j = decode_as(bytes, Label{Encoding::Iso2022Jp, {}});
        if (j.errors == 0) return std::move(j.utf8);
    }
    switch (l.encoding) {
        case Encoding::Unknown:
        case Encoding::Ascii:
            return detect_to_utf8(bytes);
        case Encoding::SingleByte: {
            // Single-byte charsets accept every byte, so they cannot tell us
            // they are wrong. Japanese spam is often labelled ISO-8859-1:
            // prefer a Japanese reading that decodes cleanly.
            Decoded j = best_of(bytes, nullptr);
            if (j.errors == 0 && japanese_score(j.utf8) > 0) return std::move(j.utf8);
            return decode_as(bytes, l).utf8;
        }
        default: {
            Decoded d = decode_as(bytes, l);
            if (d.errors == 0) return std::move(d.utf8);
            return best_of(bytes, &l).utf8;
        }
    }
}

Encoding detect(std::string_view bytes) {
    if (has_iso2022_escape(bytes)) return Encoding::Iso2022Jp;
    if (is_ascii(bytes)) return Encoding::Ascii;
    if (is_valid_utf8(bytes)) return Encoding::Utf8;
    const Decoded e = decode_as(bytes, Label{Encoding::EucJp, {}});
    const Decoded s = decode_as(bytes, Label{Encoding::Cp932, {}});
    if (e.errors != s.errors) return e.errors < s.errors ? Encoding::EucJp : Encoding::Cp932;
    return japanese_score(s.utf8) > japanese_score(e.utf8) ? Encoding::Cp932 : Encoding::EucJp;
}

std::string detect_to_utf8(std::string_view bytes) {
    if (is_ascii(bytes) && !has_iso2022_escape(bytes)) return std::string(bytes);
    if (has_iso2022_escape(bytes)) {
        Decoded d = decode_as(bytes, Label{Encoding::Iso2022Jp, {}});
        if (d.errors == 0) return std::move(d.utf8);
    }
    if (is_valid_utf8(bytes)) return std::string(bytes);
    return best_of(bytes, nullptr).utf8;
}

}  // namespace yubin::charset
