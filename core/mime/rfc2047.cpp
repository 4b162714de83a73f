#include "core/mime/rfc2047.hpp"

#include "core/charset/charset.hpp"
#include "core/charset/utf8.hpp"
#include "core/mime/header.hpp"
#include "core/mime/transfer.hpp"
#include "core/util/strings.hpp"

namespace yubin::mime {
namespace {

constexpr std::size_t kMaxCharsetToken = 128;  // "charset*language"

struct Word {
    std::string_view charset;  // without the *lang suffix
    char encoding;             // 'b' or 'q'
    std::string_view text;
    std::size_t end;           // index just past "?="
};

bool token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7F && c != '?' && c != '=' && c != '"' && c != '(' && c != ')' &&
           c != '<' && c != '>' && c != '@' && c != ',' && c != ';' && c != ':' && c != '/' &&
           c != '[' && c != ']' && c != '\\';
}

// Parses an encoded-word starting at s[p] == '=' && s[p+1] == '?'.
bool parse_word(std::string_view s, std::size_t p, Word& w) {
    std::size_t i = p + 2;
    const std::size_t cs = i;
    while (i < s.size() && i - cs <= kMaxCharsetToken && token_char(s[i])) ++i;
    if (i == cs || i >= s.size() || s[i] != '?') return false;
    std::string_view charset = s.substr(cs, i - cs);
    if (const auto star = charset.find('*'); star != std::string_view::npos) {
        charset = charset.substr(0, star);
    }
    if (i + 2 >= s.size() || s[i + 2] != '?') return false;
    const char e = ascii_lower(s[i + 1]);
    if (e != 'b' && e != 'q') return false;
    const std::size_t ts = i + 3;
    const std::size_t q = s.find('?', ts);
    if (q == std::string_view::npos || q + 1 >= s.size() || s[q + 1] != '=') return false;
    w.charset = charset;
    w.encoding = e;
    w.text = s.substr(ts, q - ts);
    w.end = q + 2;
    return true;
}

bool all_wsp(std::string_view s) {
    for (char c : s) {
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    }
    return true;
}

class Decoder {
public:
    Decoder(const Limits& limits, DecodedHeader& out)
        : limits_(limits), out_(out), bytes_(scratch()) {
        bytes_.clear();
    }

    void raw(std::string_view s) {
        if (s.empty()) return;
        flush();
        if (charset::is_ascii(s) && s.find('\x1B') == std::string_view::npos) {
            append(s);  // what detection would return, without the copy
            return;
        }
        append(charset::detect_to_utf8(s));
    }

    void word(const Word& w) {
        if (!have_ || !iequals(w.charset, charset_)) {
            flush();
            charset_ = std::string(w.charset);
            have_ = true;
        }
        if (w.encoding == 'b') {
            b64_.feed(w.text, bytes_);
        } else {
            b64_.reset();
            decode_q(w.text, bytes_);
        }
        // A word that ends on a whole base64 group is complete; otherwise its
        // leftover bits may continue in the next word (split base64 runs).
    }

    void flush() {
        if (!have_) return;
        append(charset::to_utf8(bytes_, charset_));
        bytes_.clear();
        b64_.reset();
        have_ = false;
    }

    [[nodiscard]] bool pending() const { return have_; }

private:
    // The word bytes of the current charset, kept per thread so their
    // buffer is not allocated again for every header field. A Decoder never
    // runs inside another on the same thread.
    static std::string& scratch() {
        thread_local std::string s;
        return s;
    }

    void append(std::string_view s) {
        const std::size_t room = limits_.max_decoded_field_bytes - std::min(limits_.max_decoded_field_bytes, out_.text.size());
        if (s.size() <= room) {
            out_.text += s;
            return;
        }
        // Cut on a character boundary so the result stays valid UTF-8.
        std::size_t cut = room;
        while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
        out_.text.append(s, 0, cut);
        out_.truncated = true;
    }

    const Limits& limits_;
    DecodedHeader& out_;
    std::string charset_;
    std::string& bytes_;
    Base64Decoder b64_;
    bool have_ = false;
};

}  // namespace

DecodedHeader decode_header_value(std::string_view value, const Limits& limits) {
    DecodedHeader out;
    out.text.reserve(std::min(value.size(), limits.max_decoded_field_bytes));
    Decoder d(limits, out);
    std::size_t last = 0;  // end of the previous encoded-word (or 0)
    std::size_t i = 0;
    while (true) {
        const std::size_t p = value.find("=?", i);
        if (p == std::string_view::npos) break;
        Word w;
        if (!parse_word(value, p, w)) {
            i = p + 1;
            continue;
        }
        if (out.words >= limits.max_encoded_words) {
            out.truncated = true;
            break;
        }
        const std::string_view gap = value.substr(last, p - last);
        if (!(d.pending() && all_wsp(gap))) d.raw(gap);
        d.word(w);
        ++out.words;
        last = w.end;
        i = w.end;
    }
    d.raw(value.substr(last));
    d.flush();
    return out;
}

std::string decode_field(std::string_view raw_value, const Limits& limits) {
    const std::string unfolded = unfold(raw_value.substr(0, limits.max_field_bytes));
    return decode_header_value(unfolded, limits).text;
}

}  // namespace yubin::mime
