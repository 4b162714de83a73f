#include "milter/networks.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "core/util/strings.hpp"

namespace yubin::milter {

Result<IpBytes> parse_ip(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
        text = text.substr(1, text.size() - 2);
    if (text.empty() || text.size() > 45) return fail(ErrorKind::BadInput, "not an IP address");
    const std::string s(text);
    IpBytes out{};
    in_addr v4{};
    if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
        out[10] = 0xff;
        out[11] = 0xff;
        std::memcpy(out.data() + 12, &v4, 4);
        return out;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
        std::memcpy(out.data(), &v6, 16);
        return out;
    }
    return fail(ErrorKind::BadInput, "not an IP address: " + sanitize_for_log(text, 60));
}

namespace {

bool prefix_equal(const IpBytes& a, const IpBytes& b, int prefix) {
    const int bytes = prefix / 8;
    if (std::memcmp(a.data(), b.data(), static_cast<std::size_t>(bytes)) != 0) return false;
    const int bits = prefix % 8;
    if (bits == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - bits));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

bool is_v4_mapped(const IpBytes& ip) {
    static constexpr IpBytes kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};
    return prefix_equal(ip, kMapped, 96);
}

}  // namespace

Result<NetworkList> NetworkList::parse(const std::vector<std::string>& items) {
    NetworkList list;
    for (const auto& item : items) {
        std::string_view text = item;
        std::string_view addr = text;
        std::string_view len;
        if (auto slash = text.rfind('/'); slash != std::string_view::npos) {
            addr = text.substr(0, slash);
            len = text.substr(slash + 1);
        }
        auto ip = parse_ip(addr);
        if (!ip)
            return fail(ErrorKind::Config, "bad network \"" + sanitize_for_log(item, 80) + "\"");
        const bool v4 = is_v4_mapped(*ip) && addr.find(':') == std::string_view::npos;
        int prefix = 128;
        if (!len.empty() || text.find('/') != std::string_view::npos) {
            auto n = parse_int(len);
            const int max = v4 ? 32 : 128;
            if (!n || *n < 0 || *n > max)
                return fail(ErrorKind::Config,
                            "bad prefix length in network \"" + sanitize_for_log(item, 80) + "\"");
            prefix = static_cast<int>(*n) + (v4 ? 96 : 0);
        }
        // Host bits set ("10.1.2.3/8") are a typo more often than not;
        // Postfix refuses them too.
        Net net{*ip, prefix};
        IpBytes masked{};
        for (int i = 0; i < 16; ++i) {
            const int keep = std::min(8, std::max(0, prefix - i * 8));
            const auto mask = static_cast<std::uint8_t>(keep == 0 ? 0 : 0xff << (8 - keep));
            masked[static_cast<std::size_t>(i)] =
                static_cast<std::uint8_t>((*ip)[static_cast<std::size_t>(i)] & mask);
        }
        if (masked != *ip)
            return fail(ErrorKind::Config, "network \"" + sanitize_for_log(item, 80) +
                                               "\" has host bits set; use " +
                                               "the network address");
        list.nets_.push_back(net);
    }
    return list;
}

bool NetworkList::contains(const IpBytes& ip) const {
    for (const auto& n : nets_)
        if (prefix_equal(n.base, ip, n.prefix)) return true;
    return false;
}

bool NetworkList::contains(std::string_view ip_text) const {
    auto ip = parse_ip(ip_text);
    return ip && contains(*ip);
}

}  // namespace yubin::milter
