#include "core/mime/params.hpp"

#include <algorithm>
#include <charconv>

#include "core/charset/charset.hpp"
#include "core/mime/rfc2047.hpp"
#include "core/util/strings.hpp"

namespace yubin::mime {
namespace {

// Splits "a; b=c; d=\"e;f\"" on semicolons outside quotes; a backslash in
// quotes escapes the next character.
std::vector<std::string_view> split_params(std::string_view v, std::size_t max) {
    std::vector<std::string_view> out;
    bool quoted = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\\' && quoted) {
            ++i;
            continue;
        }
        if (v[i] == '"') quoted = !quoted;
        if (v[i] == ';' && !quoted) {
            out.push_back(v.substr(start, i - start));
            start = i + 1;
            if (out.size() > max) return out;  // the type, then max parameters
        }
    }
    out.push_back(v.substr(start));
    return out;
}

std::string unquote(std::string_view v) {
    v = trim(v);
    if (v.size() < 2 || v.front() != '"') return std::string(v);
    std::string out;
    for (std::size_t i = 1; i < v.size(); ++i) {
        if (v[i] == '"') break;
        if (v[i] == '\\' && i + 1 < v.size()) ++i;
        out.push_back(v[i]);
    }
    return out;
}

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

void percent_decode_into(std::string_view in, std::string& out) {
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
            i += 2;
        } else {
            out.push_back(in[i]);
        }
    }
}

struct Section {
    std::string name;
    std::size_t number = 0;  // 0 also for an unsectioned parameter
    bool sectioned = false;
    bool extended = false;
    std::string raw;         // unquoted, not yet percent-decoded
    std::size_t order = 0;   // position in the header, for first-wins
};

// "name", "name*", "name*N" or "name*N*"; false for anything else.
bool parse_attribute(std::string_view attr, Section& s) {
    if (attr.empty()) return false;
    if (attr.back() == '*') {
        s.extended = true;
        attr.remove_suffix(1);
    }
    if (const auto star = attr.find('*'); star != std::string_view::npos) {
        const std::string_view digits = attr.substr(star + 1);
        if (digits.empty() || digits.size() > 3) return false;
        std::size_t n = 0;
        const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (ec != std::errc() || p != digits.data() + digits.size()) return false;
        if (n > kMaxParameterSection) return false;
        s.number = n;
        s.sectioned = true;
        attr = attr.substr(0, star);
    }
    if (attr.empty()) return false;
    s.name = to_lower(attr);
    return true;
}

}  // namespace

std::string_view value_before_parameters(std::string_view header_value) {
    return trim(split_params(header_value, 0).front());
}

std::vector<Parameter> parse_parameters(std::string_view header_value, std::size_t max_parameters) {
    const auto pieces = split_params(header_value, max_parameters);
    std::vector<Section> sections;
    sections.reserve(pieces.size());
    for (std::size_t i = 1; i < pieces.size() && i <= max_parameters; ++i) {
        const std::string_view p = trim(pieces[i]);
        const std::size_t eq = p.find('=');
        if (eq == std::string_view::npos) continue;
        Section s;
        if (!parse_attribute(trim(p.substr(0, eq)), s)) continue;
        s.raw = unquote(p.substr(eq + 1));
        s.order = i;
        sections.push_back(std::move(s));
    }
    // Group by name, the RFC 2231 form first, then by section number, then
    // by position; stable so equal keys keep header order.
    std::stable_sort(sections.begin(), sections.end(), [](const Section& a, const Section& b) {
        if (a.name != b.name) return a.name < b.name;
        const bool a2231 = a.sectioned || a.extended;
        const bool b2231 = b.sectioned || b.extended;
        if (a2231 != b2231) return a2231;
        return a.number < b.number;
    });
    std::vector<std::pair<std::size_t, Parameter>> found;  // (first position, parameter)
    for (std::size_t i = 0; i < sections.size();) {
        std::size_t j = i;
        while (j < sections.size() && sections[j].name == sections[i].name) ++j;
        Parameter param;
        param.name = sections[i].name;
        const bool rfc2231 = sections[i].sectioned || sections[i].extended;
        std::size_t first = sections[i].order;
        if (!rfc2231) {
            param.value = sections[i].raw;  // plain only: the first one
        } else {
            bool have_number = false;
            std::size_t last_number = 0;
            for (std::size_t k = i; k < j; ++k) {
                const Section& s = sections[k];
                if (!(s.sectioned || s.extended)) break;  // the plain fallbacks
                // "name*" alone is section 0; of two sections with one
                // number, the first in the header counts.
                if (have_number && s.number == last_number) continue;
                have_number = true;
                last_number = s.number;
                first = std::min(first, s.order);
                if (!s.extended) {
                    param.value += s.raw;
                    continue;
                }
                param.extended = true;
                std::string_view text = s.raw;
                if (s.number == 0) {
                    // charset'language'text
                    const std::size_t q1 = text.find('\'');
                    const std::size_t q2 =
                        q1 == std::string_view::npos ? q1 : text.find('\'', q1 + 1);
                    if (q2 != std::string_view::npos) {
                        param.charset = std::string(trim(text.substr(0, q1)));
                        text = text.substr(q2 + 1);
                    }
                }
                percent_decode_into(text, param.value);
            }
        }
        found.emplace_back(first, std::move(param));
        i = j;
    }
    std::sort(found.begin(), found.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<Parameter> out;
    out.reserve(found.size());
    for (auto& f : found) out.push_back(std::move(f.second));
    return out;
}

const Parameter* find_parameter(const std::vector<Parameter>& params, std::string_view name) {
    for (const auto& p : params) {
        if (p.name == name) return &p;
    }
    return nullptr;
}

std::string parameter_text(const Parameter& p) {
    if (p.extended) return charset::to_utf8(p.value, p.charset);
    return decode_header_value(p.value).text;
}

}  // namespace yubin::mime
