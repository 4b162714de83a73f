// milter_trusted_networks: a list of IPv4/IPv6 networks in CIDR notation,
// as Postfix's mynetworks ("127.0.0.0/8 [::1]/128 192.0.2.7").
//
// SECURITY: the list comes from yubin.cf and is parsed strictly (inet_pton,
// prefix 0..32 / 0..128, host bits must be zero as Postfix insists); the
// address matched against it comes from Postfix's connect event (a sockaddr)
// or its {client_addr} macro text, parsed with inet_pton and otherwise not
// trusted.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.hpp"

namespace yubin::milter {

// An address as 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so that
// a mapped client address matches an IPv4 network.
using IpBytes = std::array<std::uint8_t, 16>;

// Parses "192.0.2.1", "2001:db8::1", "[2001:db8::1]", "::ffff:192.0.2.1".
[[nodiscard]] Result<IpBytes> parse_ip(std::string_view text);

class NetworkList {
public:
    [[nodiscard]] static Result<NetworkList> parse(const std::vector<std::string>& items);
    [[nodiscard]] bool contains(const IpBytes& ip) const;
    [[nodiscard]] bool contains(std::string_view ip_text) const;  // false if unparsable
    [[nodiscard]] bool empty() const { return nets_.empty(); }

private:
    struct Net {
        IpBytes base{};
        int prefix = 0;  // over the 128-bit form
    };
    std::vector<Net> nets_;
};

}  // namespace yubin::milter
