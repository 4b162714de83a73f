#include "core/store/address.hpp"

#include "core/util/limits.hpp"
#include "core/util/strings.hpp"

namespace yubin::store {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 5322 atext.
bool is_atext(char c) {
    if (is_alpha(c) || is_digit(c)) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
        case '-': case '/': case '=': case '?': case '^': case '_': case '`': case '{':
        case '|': case '}': case '~':
            return true;
        default:
            return false;
    }
}

Error bad(std::string_view what, std::string_view input, std::string_view why) {
    return Error{ErrorKind::BadInput,
                 std::string(what) + " \"" + sanitize_for_log(input) + "\": " + std::string(why)};
}

// Checks a domain without its trailing dot; returns the reason it is invalid
// or an empty string.
std::string domain_problem(std::string_view d) {
    if (d.empty()) return "empty domain";
    if (d.size() > limits::kMaxDomainBytes) return "domain longer than 255 bytes";
    if (d.front() == '[') return "address literals are not accepted";
    std::size_t labels = 0;
    std::size_t start = 0;
    bool last_all_digits = false;
    while (start <= d.size()) {
        std::size_t end = d.find('.', start);
        if (end == std::string_view::npos) end = d.size();
        std::string_view label = d.substr(start, end - start);
        if (label.empty()) return "empty label in domain";
        if (label.size() > 63) return "domain label longer than 63 bytes";
        if (label.front() == '-' || label.back() == '-')
            return "domain label starts or ends with '-'";
        last_all_digits = true;
        for (char c : label) {
            if (static_cast<unsigned char>(c) >= 0x80)
                return "non-ASCII byte in domain (use the xn-- form)";
            if (!is_alpha(c) && !is_digit(c) && c != '-')
                return "invalid character in domain";
            if (!is_digit(c)) last_all_digits = false;
        }
        ++labels;
        start = end + 1;
    }
    if (labels < 2) return "domain needs at least two labels";
    if (last_all_digits) return "top-level label is all digits (IP addresses are not accepted)";
    return {};
}

std::string local_problem(std::string_view l) {
    if (l.empty()) return "empty local part";
    if (l.size() > limits::kMaxLocalPartBytes) return "local part longer than 64 bytes";
    if (l.front() == '"') return "quoted local parts are not accepted";
    if (l.front() == '.' || l.back() == '.') return "local part starts or ends with '.'";
    char prev = 0;
    for (char c : l) {
        if (static_cast<unsigned char>(c) >= 0x80) return "non-ASCII byte in local part";
        if (c == '.') {
            if (prev == '.') return "'..' in local part";
        } else if (!is_atext(c)) {
            return "invalid character in local part";
        }
        prev = c;
    }
    return {};
}

std::string_view strip_root_dot(std::string_view d) {
    if (!d.empty() && d.back() == '.') d.remove_suffix(1);
    return d;
}

}  // namespace

Result<Address> parse_address(std::string_view s) {
    // The +1 admits the trailing root dot; the exact bound is checked below.
    if (s.size() > limits::kMaxAddressBytes + 1)
        return fail(bad("invalid address", s, "longer than 320 bytes"));
    std::size_t at = s.find('@');
    if (at == std::string_view::npos) return fail(bad("invalid address", s, "no '@'"));
    std::string_view local = s.substr(0, at);
    std::string_view domain = strip_root_dot(s.substr(at + 1));
    if (auto p = local_problem(local); !p.empty()) return fail(bad("invalid address", s, p));
    if (domain.find('@') != std::string_view::npos)
        return fail(bad("invalid address", s, "more than one '@'"));
    if (auto p = domain_problem(domain); !p.empty()) return fail(bad("invalid address", s, p));
    if (local.size() + 1 + domain.size() > limits::kMaxAddressBytes)
        return fail(bad("invalid address", s, "longer than 320 bytes"));
    return Address{std::string(local), std::string(domain)};
}

Result<std::string> parse_domain(std::string_view s) {
    std::string_view d = strip_root_dot(s);
    if (auto p = domain_problem(d); !p.empty()) return fail(bad("invalid domain", s, p));
    return to_lower(d);
}

std::string lookup_key(const Address& a) { return to_lower(a.local) + "@" + to_lower(a.domain); }

}  // namespace yubin::store
