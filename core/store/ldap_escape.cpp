#include "core/store/ldap_escape.hpp"

namespace yubin::store {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_hex(std::string& out, unsigned char c) {
    out += '\\';
    out += kHex[c >> 4];
    out += kHex[c & 0x0f];
}

bool printable_ascii(unsigned char c) {
    return c >= 0x20 && c < 0x7f;
}

}  // namespace

std::string ldap_filter_escape(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char ch : value) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '*' || c == '(' || c == ')' || c == '\\' || !printable_ascii(c))
            append_hex(out, c);
        else
            out += ch;
    }
    return out;
}

std::string ldap_dn_escape(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
        auto c = static_cast<unsigned char>(value[i]);
        const bool edge_space = c == ' ' && (i == 0 || i + 1 == value.size());
        if (!printable_ascii(c)) {
            append_hex(out, c);
        } else if (c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' ||
                   c == '\\' || c == '=' || (c == '#' && i == 0) || edge_space) {
            out += '\\';
            out += value[i];
        } else {
            out += value[i];
        }
    }
    return out;
}

}  // namespace yubin::store
