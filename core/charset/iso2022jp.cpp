#include "core/charset/iso2022jp.hpp"

#include <array>
#include <memory>
#include <string>

#include "core/charset/iconv_run.hpp"
#include "core/charset/utf8.hpp"

namespace yubin::charset {
namespace {

constexpr char kEsc = 0x1B;
constexpr char kSo = 0x0E;
constexpr char kSi = 0x0F;

// What G0 currently holds (G1 via SO is always half-width katakana, the
// CP50221 convention).
enum class Set {
    Ascii,     // ESC ( B, ESC ( J (JIS X 0201 Roman: treated as ASCII, as nkf does)
    Kana,      // ESC ( I: JIS X 0201 katakana in 7 bits
    Jis0208,   // ESC $ @, ESC $ B, ESC & @ ESC $ B, ESC $ ( O/Q (0213 plane 1, lead rows)
    Jis0212,   // ESC $ ( D
    Gb2312,    // ESC $ A (ISO-2022-JP-2)
    Ksc5601,   // ESC $ ( C (ISO-2022-JP-2)
};

bool is_double(Set s) { return s != Set::Ascii && s != Set::Kana; }

const std::string& cp932_name() {
    static const std::string kName = "CP932";
    return kName;
}

// JIS X 0208 row/cell to Shift_JIS, so CP932 can decode the NEC and
// NEC-selected IBM rows that CP50220 uses.
std::array<char, 2> to_sjis(unsigned char j1, unsigned char j2) {
    const unsigned char s1 =
        static_cast<unsigned char>(((j1 + 1) >> 1) + (j1 <= 0x5E ? 0x70 : 0xB0));
    const unsigned char s2 =
        static_cast<unsigned char>((j1 & 1) ? j2 + (j2 >= 0x60 ? 0x20 : 0x1F) : j2 + 0x7E);
    return {static_cast<char>(s1), static_cast<char>(s2)};
}

// What glibc's CP932 converter makes of each JIS X 0208 cell, asked once per
// cell and thread: an iconv() call costs hundreds of instructions of setup
// (two conversion steps through glibc's internal UCS-4), more than the
// character itself, and ISO-2022-JP text is a run of such cells broken by
// escapes. Rows are filled on first use, so a thread pays only for the rows
// its mail uses. The answer is exactly iconv's: the unit tests compare
// every cell.
class Jis0208Table {
public:
    static constexpr char32_t kInvalid = 0xFFFFFFFF;   // iconv rejects the cell
    static constexpr char32_t kAskIconv = 0xFFFFFFFE;  // not one code point: convert each time

    char32_t get(unsigned char j1, unsigned char j2) {
        const std::size_t row = j1 - 0x21u;
        if (!filled_[row]) fill(row, j1);
        return cells_[row][j2 - 0x21u];
    }

private:
    void fill(std::size_t row, unsigned char j1) {
        std::string out;
        for (std::size_t c = 0; c < 94; ++c) {
            const auto sj = to_sjis(j1, static_cast<unsigned char>(0x21 + c));
            out.clear();
            const auto errs =
                detail::iconv_append(cp932_name(), std::string_view(sj.data(), 2), out, 2);
            char32_t cp = kInvalid;
            if (errs && *errs == 0) {
                cp = kAskIconv;
                const std::size_t n = out.empty() ? 0 : utf8_sequence_length(out, 0);
                if (n != 0 && n == out.size()) cp = decode_one(out);
            }
            cells_[row][c] = cp;
        }
        filled_[row] = true;
    }

    // The code point of `s`, one valid UTF-8 sequence.
    static char32_t decode_one(std::string_view s) {
        const auto b = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[k])); };
        switch (s.size()) {
            case 1: return b(0);
            case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
            case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
            default:
                return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) |
                       (b(3) & 0x3F);
        }
    }

    std::array<std::array<char32_t, 94>, 94> cells_;
    std::array<bool, 94> filled_{};
};

Jis0208Table& jis0208_table() {
    // Heap, not thread_local storage: 35 KB would otherwise be reserved in
    // every thread, whether it decodes mail or not.
    thread_local std::unique_ptr<Jis0208Table> table;
    if (!table) table = std::make_unique<Jis0208Table>();
    return *table;
}

class Decoder {
public:
    explicit Decoder(std::string& out) : out_(out) {}

    std::size_t run(std::string_view in) {
        std::size_t i = 0;
        while (i < in.size()) {
            const char c = in[i];
            if (c == kEsc) {
                const std::size_t used = escape(in.substr(i));
                if (used != 0) {
                    i += used;
                    continue;
                }
                // An escape we do not know: drop the ESC byte alone.
                flush();
                error();
                ++i;
                continue;
            }
            if (c == kSo) {
                flush();
                shifted_ = true;
                ++i;
                continue;
            }
            if (c == kSi) {
                flush();
                shifted_ = false;
                ++i;
                continue;
            }
            const auto u = static_cast<unsigned char>(c);
            if (c == '\r' || c == '\n') {
                // RFC 1468: a line ends in ASCII. Reset so one bad line does
                // not garble the rest.
                flush();
                set_ = Set::Ascii;
                shifted_ = false;
                out_.push_back(c);
                ++i;
                continue;
            }
            if (u >= 0xA1 && u <= 0xDF) {
                // 8-bit JIS X 0201 katakana ("JIS8"): not ISO-2022-JP, but
                // an unambiguous reading; still counted so detection prefers
                // a charset where these bytes are legal.
                flush();
                append_utf8(0xFF61 + (u - 0xA1), out_);
                error();
                ++i;
                continue;
            }
            if (u >= 0x80) {
                flush();
                error();
                ++i;
                continue;
            }
            if (shifted_ || set_ == Set::Kana) {
                flush();
                if (u >= 0x21 && u <= 0x5F) {
                    append_utf8(0xFF61 + (u - 0x21), out_);
                } else {
                    out_.push_back(c);  // space and controls pass through
                }
                ++i;
                continue;
            }
            if (!is_double(set_)) {
                out_.push_back(c);
                ++i;
                continue;
            }
            if (u < 0x21 || u > 0x7E) {
                // Space or control inside a two-byte run: let it through, as
                // nkf does, so folded white space survives.
                flush();
                out_.push_back(c);
                ++i;
                continue;
            }
            if (i + 1 >= in.size() || static_cast<unsigned char>(in[i + 1]) < 0x21 ||
                static_cast<unsigned char>(in[i + 1]) > 0x7E) {
                flush();
                error();
                ++i;
                continue;
            }
            pair(u, static_cast<unsigned char>(in[i + 1]));
            i += 2;
        }
        flush();
        return errors_;
    }

private:
    // Length of the escape sequence at the start of `s` that we understand,
    // 0 otherwise; applies it.
    std::size_t escape(std::string_view s) {
        const auto is = [&](std::string_view seq) { return s.substr(0, seq.size()) == seq; };
        struct Entry {
            std::string_view seq;
            Set set;
        };
        static constexpr Entry kTable[] = {
            {"\x1B(B", Set::Ascii},    {"\x1B(J", Set::Ascii},    {"\x1B(H", Set::Ascii},
            {"\x1B(I", Set::Kana},     {"\x1B$@", Set::Jis0208},  {"\x1B$B", Set::Jis0208},
            {"\x1B$(B", Set::Jis0208}, {"\x1B$(@", Set::Jis0208}, {"\x1B$(O", Set::Jis0208},
            {"\x1B$(Q", Set::Jis0208}, {"\x1B$(D", Set::Jis0212}, {"\x1B$A", Set::Gb2312},
            {"\x1B$(A", Set::Gb2312},  {"\x1B$(C", Set::Ksc5601},
        };
        if (is("\x1B&@")) return 3;  // JIS X 0208-1990 announcer: ESC $ B follows
        for (const auto& e : kTable) {
            if (is(e.seq)) {
                flush();
                set_ = e.set;
                return e.seq.size();
            }
        }
        // ISO-2022-JP-2 G2 designations and single shift: ESC . A (Latin-1
        // high half), ESC . F (Greek); ESC N c uses G2 for one character.
        if (is("\x1B.A")) {
            g2_ = "ISO-8859-1";
            return 3;
        }
        if (is("\x1B.F")) {
            g2_ = "ISO-8859-7";
            return 3;
        }
        if (s.size() >= 3 && s[1] == 'N') {
            flush();
            const auto u = static_cast<unsigned char>(s[2]);
            if (g2_ != nullptr && u >= 0x20 && u <= 0x7F) {
                const char hi = static_cast<char>(u | 0x80);
                if (!detail::iconv_append(g2_, std::string_view(&hi, 1), out_)) error();
            } else {
                error();
            }
            return 3;
        }
        return 0;
    }

    void pair(unsigned char j1, unsigned char j2) {
        switch (set_) {
            case Set::Jis0208: {
                flush();
                const char32_t cp = jis0208_table().get(j1, j2);
                if (cp == Jis0208Table::kInvalid) {
                    error();
                } else if (cp == Jis0208Table::kAskIconv) {
                    const auto sj = to_sjis(j1, j2);
                    const auto errs = detail::iconv_append(cp932_name(), std::string_view(sj.data(), 2), out_, 2);
                    if (errs) {
                        errors_ += *errs;
                    } else {
                        error();
                    }
                } else {
                    append_utf8(cp, out_);
                }
                break;
            }
            case Set::Jis0212:
                pending(Run::EucJp);
                buf_.push_back(static_cast<char>(0x8F));
                buf_.push_back(static_cast<char>(j1 | 0x80));
                buf_.push_back(static_cast<char>(j2 | 0x80));
                break;
            case Set::Gb2312:
                pending(Run::EucCn);
                buf_.push_back(static_cast<char>(j1 | 0x80));
                buf_.push_back(static_cast<char>(j2 | 0x80));
                break;
            case Set::Ksc5601:
                pending(Run::EucKr);
                buf_.push_back(static_cast<char>(j1 | 0x80));
                buf_.push_back(static_cast<char>(j2 | 0x80));
                break;
            default: break;
        }
    }

    enum class Run { None, EucJp, EucCn, EucKr };

    void pending(Run r) {
        if (run_ != r) flush();
        run_ = r;
    }

    // Converts the buffered run in one iconv call: per-character calls would
    // cost a conversion setup each.
    void flush() {
        if (run_ == Run::None || buf_.empty()) {
            run_ = Run::None;
            return;
        }
        static const std::string kEucJp = "EUC-JP-MS";
        static const std::string kEucCn = "EUC-CN";
        static const std::string kEucKr = "EUC-KR";
        const std::string* name = &kEucJp;
        std::size_t width = 3;
        switch (run_) {
            case Run::EucCn: name = &kEucCn; width = 2; break;
            case Run::EucKr: name = &kEucKr; width = 2; break;
            default: break;
        }
        const auto errs = detail::iconv_append(*name, buf_, out_, width);
        if (errs) {
            errors_ += *errs;
        } else {
            errors_ += buf_.size() / width;
            for (std::size_t k = 0; k < buf_.size() / width; ++k) out_.append(kReplacement);
        }
        buf_.clear();
        run_ = Run::None;
    }

    void error() {
        out_.append(kReplacement);
        ++errors_;
    }

    std::string& out_;
    std::string buf_;
    Run run_ = Run::None;
    Set set_ = Set::Ascii;
    bool shifted_ = false;
    const char* g2_ = nullptr;
    std::size_t errors_ = 0;
};

}  // namespace

std::size_t decode_iso2022jp(std::string_view bytes, std::string& out) {
    Decoder d(out);
    return d.run(bytes);
}

bool has_iso2022_escape(std::string_view bytes) {
    for (std::size_t i = bytes.find(kEsc); i != std::string_view::npos;
         i = bytes.find(kEsc, i + 1)) {
        const std::string_view s = bytes.substr(i + 1, 2);
        if (s.size() < 2) return false;
        if (s[0] == '$' && (s[1] == '@' || s[1] == 'B' || s[1] == '(' || s[1] == 'A')) return true;
        if (s[0] == '(' && (s[1] == 'I' || s[1] == 'J')) return true;
    }
    return false;
}

}  // namespace yubin::charset
