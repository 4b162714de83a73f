#include "core/log/logger.hpp"

#include <cstdint>

namespace yubin::log {
namespace {

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), 0 if there is none.
// `cp` receives the code point.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t& cp) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
        cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        cp = b0 & 0x0F;
        if (b0 == 0xE0) lo = 0xA0;  // overlong
        if (b0 == 0xED) hi = 0x9F;  // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        cp = b0 & 0x07;
        if (b0 == 0xF0) lo = 0x90;  // overlong
        if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
        return 0;
    }
    if (s.size() - i < len) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        const unsigned char b = byte(i + k);
        if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
        cp = (cp << 6) | (b & 0x3F);
    }
    return len;
}

// Characters that are printable in the encoding sense but still let a peer
// disguise a log line: C1 controls, the Unicode line and paragraph separators
// (some log viewers break lines there) and the bidirectional overrides that
// reorder what an administrator sees.
bool unsafe_code_point(std::uint32_t cp) {
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string sanitize_line(std::string_view s, std::size_t max) {
    if (max < 3) max = 3;
    std::string out;
    out.reserve(s.size() < max ? s.size() : max);
    std::size_t cut = 0;  // longest prefix of `out`, on a character boundary, that leaves room for "..."
    std::size_t i = 0;
    // Stops as soon as the output is known to be too long, so a huge argument
    // costs at most `max` bytes of work.
    while (i < s.size() && out.size() <= max) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            out += (b < 0x20 || b == 0x7F) ? '?' : static_cast<char>(b);
            ++i;
        } else {
            std::uint32_t cp = 0;
            const std::size_t len = utf8_sequence(s, i, cp);
            if (len == 0) {
                out += '?';
                ++i;
            } else if (unsafe_code_point(cp)) {
                out += '?';
                i += len;
            } else {
                out.append(s.substr(i, len));
                i += len;
            }
        }
        if (out.size() <= max - 3) cut = out.size();
    }
    if (i == s.size() && out.size() <= max) return out;
    out.resize(cut);
    out += "...";
    return out;
}

std::string queue_prefix(std::string_view queue_id) {
    if (queue_id.empty()) return "NOQUEUE: ";
    std::string out(queue_id);
    out += ": ";
    return out;
}

void Logger::write(Level level, std::string_view message) {
    if (level == Level::Debug && !verbose_) return;
    std::string_view prefix;
    switch (level) {
        case Level::Debug:
        case Level::Info: break;
        case Level::Warning: prefix = "warning: "; break;
        case Level::Error: prefix = "error: "; break;
        case Level::Fatal: prefix = "fatal: "; break;
    }
    std::string line;
    line.reserve(prefix.size() + message.size());
    line += prefix;
    line += message;
    sink_.write(level, sanitize_line(line));
}

}  // namespace yubin::log
