#include "core/maildir/unique_name.hpp"

#include <sys/time.h>

#include <charconv>

#include <fmt/format.h>

namespace yubin::maildir {

Timestamp system_now() {
    timeval tv{};
    ::gettimeofday(&tv, nullptr);
    return Timestamp{tv.tv_sec, tv.tv_usec};
}

std::string sanitize_host(std::string_view host) {
    std::string out;
    out.reserve(host.size());
    for (char c : host) {
        if (c == '/') {
            out += "\\057";
        } else if (c == ':') {
            out += "\\072";
        } else if (c > ' ' && c < 0x7f) {
            out += c;
        } else {
            out += '_';
        }
    }
    if (out.empty()) out = "localhost";
    return out;
}

std::string format_unique_name(Timestamp t, pid_t pid, std::uint64_t q, std::string_view safe_host,
                               std::uint64_t size) {
    return fmt::format("{}.M{}P{}Q{}.{},S={}", t.sec, t.usec, pid, q, safe_host, size);
}

std::optional<std::uint64_t> size_from_name(std::string_view name) {
    auto colon = name.find(':');
    if (colon != std::string_view::npos) name = name.substr(0, colon);
    auto pos = name.find(",S=");
    if (pos == std::string_view::npos) return std::nullopt;
    auto digits = name.substr(pos + 3);
    auto comma = digits.find(',');
    if (comma != std::string_view::npos) digits = digits.substr(0, comma);
    if (digits.empty()) return std::nullopt;
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc{} || p != digits.data() + digits.size()) return std::nullopt;
    return v;
}

UniqueNamer::UniqueNamer(std::string_view host, pid_t pid, Clock clock)
    : host_(sanitize_host(host)), pid_(pid), clock_(std::move(clock)) {}

std::string UniqueNamer::next(std::uint64_t size) {
    return format_unique_name(clock_(), pid_, ++q_, host_, size);
}

}  // namespace yubin::maildir
