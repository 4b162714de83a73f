#include "core/util/listen_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>

#include "core/util/strings.hpp"

namespace yubin {
namespace {

constexpr std::size_t kMaxUnixPath = sizeof(sockaddr_un::sun_path) - 1;  // room for the NUL
constexpr std::size_t kMaxHostBytes = 253;
constexpr std::size_t kMaxLabelBytes = 63;

tl::unexpected<Error> bad(std::string_view text, std::string_view why) {
    return fail(ErrorKind::Config, "invalid listen address \"" + sanitize_for_log(text, 120) +
                                       "\": " + std::string(why));
}

bool label_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

// Empty string when the name is acceptable, else the reason.
std::string_view host_name_problem(std::string_view h) {
    if (h.size() > kMaxHostBytes) return "host name too long";
    for (char c : h)
        if (!label_char(c) && c != '.') return "invalid character in host name";
    std::size_t start = 0;
    while (start <= h.size()) {
        std::size_t dot = h.find('.', start);
        if (dot == std::string_view::npos) dot = h.size();
        std::string_view label = h.substr(start, dot - start);
        if (label.empty()) return "empty label in host name";
        if (label.size() > kMaxLabelBytes) return "host name label longer than 63 bytes";
        if (label.front() == '-' || label.back() == '-')
            return "host name label starts or ends with '-'";
        start = dot + 1;
    }
    return {};
}

}  // namespace

std::string ListenAddress::to_string() const {
    switch (kind) {
        case Kind::Disabled:
            return {};
        case Kind::Unix:
            return "unix:" + path;
        case Kind::Inet:
            break;
    }
    const bool v6 = host.find(':') != std::string::npos;
    return "inet:" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<ListenAddress> parse_listen_address(std::string_view text, ListenPortZero port_zero) {
    ListenAddress out;
    if (text.empty()) return out;
    if (istarts_with(text, "unix:")) {
        std::string_view path = text.substr(5);
        if (path.empty()) return bad(text, "missing socket path");
        if (path.front() != '/') return bad(text, "socket path must be absolute");
        if (path.size() > kMaxUnixPath)
            return bad(text,
                       "socket path longer than " + std::to_string(kMaxUnixPath) + " bytes");
        for (char c : path)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                return bad(text, "control character in socket path");
        out.kind = ListenAddress::Kind::Unix;
        out.path = std::string(path);
        return out;
    }
    if (!istarts_with(text, "inet:"))
        return bad(text, "unknown transport; expected unix:PATH or inet:HOST:PORT");

    std::string_view rest = text.substr(5);
    std::string_view host, port;
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos) return bad(text, "missing ']' after IPv6 address");
        host = rest.substr(1, close - 1);
        std::string_view after = rest.substr(close + 1);
        if (after.empty() || after.front() != ':') return bad(text, "missing port after ']'");
        port = after.substr(1);
        in6_addr a6{};
        if (host.size() > INET6_ADDRSTRLEN ||
            ::inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1)
            return bad(text, "invalid IPv6 address in brackets");
    } else {
        const std::size_t colon = rest.rfind(':');
        if (colon == std::string_view::npos) return bad(text, "missing port; want inet:HOST:PORT");
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
        if (host.empty())
            return bad(text, "missing host (use 0.0.0.0 or [::] for all addresses)");
        if (host.find(':') != std::string_view::npos)
            return bad(text, "an IPv6 address must be in brackets, as in inet:[::1]:10025");
        if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
            in_addr a4{};
            if (::inet_pton(AF_INET, std::string(host).c_str(), &a4) != 1)
                return bad(text, "invalid IPv4 address");
        } else if (auto why = host_name_problem(host); !why.empty()) {
            return bad(text, why);
        }
    }
    const unsigned low = port_zero == ListenPortZero::Allow ? 0 : 1;
    const std::string range = "port must be a number from " + std::to_string(low) + " to 65535";
    if (port.empty()) return bad(text, "missing port; want inet:HOST:PORT");
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || port.size() > 5 ||
        value > 65535 || value < low)
        return bad(text, range);
    out.kind = ListenAddress::Kind::Inet;
    out.host = std::string(host);
    out.port = static_cast<std::uint16_t>(value);
    return out;
}

}  // namespace yubin
