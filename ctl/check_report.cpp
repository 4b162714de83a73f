#include "ctl/check_report.hpp"

#include <cstdint>
#include <cstdio>
#include <ostream>

namespace yubin::ctl::check {

std::string_view outcome_name(Outcome o) {
    switch (o) {
        case Outcome::Ok: return "ok";
        case Outcome::Warn: return "warn";
        case Outcome::Fail: return "FAIL";
    }
    return "FAIL";
}

std::string format_result(const CheckResult& r) {
    std::string s(outcome_name(r.outcome));
    s += ' ';
    s += r.name;
    s += ": ";
    // Server text in details is sanitized where it is quoted; here only
    // control characters go, so that each result stays on its own lines.
    auto clean = [](std::string_view t) {
        std::string c(t);
        for (auto& ch : c)
            if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
        return c;
    };
    s += clean(r.detail);
    s += '\n';
    for (const auto& n : r.notes) s += "    " + clean(n) + '\n';
    return s;
}

void Report::add(CheckResult r) {
    if (live_ != nullptr) *live_ << format_result(r) << std::flush;
    results_.push_back(std::move(r));
}

int Report::count(Outcome o) const {
    int n = 0;
    for (const auto& r : results_) n += r.outcome == o;
    return n;
}

std::string Report::summary() const {
    int w = warnings();
    return std::to_string(passed()) + " passed, " + std::to_string(failed()) + " failed, " +
           std::to_string(w) + (w == 1 ? " warning" : " warnings");
}

namespace {

// Length of the valid UTF-8 sequence at s[i], 0 if there is none.
std::size_t utf8_length(std::string_view s, std::size_t i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((b(i + k) & 0xc0) != 0x80) return 0;
    std::uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (b(i + k) & 0x3f);
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

}  // namespace

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size();) {
        char c = s[i];
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x80) {
            // Server text is not trusted to be UTF-8: invalid bytes become U+FFFD.
            std::size_t n = utf8_length(s, i);
            if (n == 0) {
                out += "\\ufffd";
                ++i;
            } else {
                out.append(s.substr(i, n));
                i += n;
            }
            continue;
        }
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (u < 0x20 || u == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", u);
                    out += buf;
                } else {
                    out += c;
                }
        }
        ++i;
    }
    out += '"';
    return out;
}

void Report::print_json(std::ostream& o) const {
    o << "{\"checks\":[";
    bool first = true;
    for (const auto& r : results_) {
        o << (first ? "" : ",") << "\n  {\"name\":" << json_string(r.name)
          << ",\"result\":" << json_string(outcome_name(r.outcome))
          << ",\"detail\":" << json_string(r.detail) << ",\"notes\":[";
        for (std::size_t i = 0; i < r.notes.size(); ++i)
            o << (i ? "," : "") << json_string(r.notes[i]);
        o << "]}";
        first = false;
    }
    o << "\n],\"passed\":" << passed() << ",\"failed\":" << failed()
      << ",\"warnings\":" << warnings() << "}\n";
}

}  // namespace yubin::ctl::check
