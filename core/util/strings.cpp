#include "core/util/strings.hpp"

#include <cerrno>
#include <cstring>

#include "core/util/result.hpp"

namespace yubin {

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> split_any(std::string_view s, std::string_view seps) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t j = s.find_first_of(seps, i);
        if (j == std::string_view::npos) j = s.size();
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
    std::int64_t v = 0;
    if (s.empty()) return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

std::string sanitize_for_log(std::string_view s, std::size_t max) {
    std::string out;
    out.reserve(s.size() < max ? s.size() : max + 3);
    for (char c : s) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u >= 0x7f) ? '?' : c;
    }
    return out;
}

Error errno_error(std::string_view what, int err) {
    ErrorKind kind = ErrorKind::Internal;
    switch (err) {
        case EAGAIN: case EINTR: case ENOSPC: case EDQUOT: case EIO: case EBUSY:
        case ENOMEM: case EMFILE: case ENFILE: case ETIMEDOUT: case ECONNREFUSED:
        case ECONNRESET: case ENOBUFS:
            kind = ErrorKind::Temp;
            break;
        case ENOENT:
            kind = ErrorKind::NotFound;
            break;
        default:
            break;
    }
    return Error{kind, std::string(what) + ": " + std::strerror(err)};
}

}  // namespace yubin
