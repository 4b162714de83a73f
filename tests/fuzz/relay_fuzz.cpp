// libFuzzer target: the RCPT address parser and the relay decision of
// yubin-milter, on arbitrary RCPT arguments.
//
// Besides "no crash, no sanitizer report", it checks the decision against a
// deliberately naive reading that cannot be fooled by quoting or escaping:
// an unauthenticated, untrusted client may only be accepted when the
// argument (one pair of angle brackets and white space removed) is either
// "postmaster" or holds exactly one '@', no '%' or '!' anywhere, does not
// start with '@', and the text after the '@' is our domain (any case, one
// trailing dot). Anything the milter accepts beyond that would be a relay
// hole; the converse (the milter refusing what the naive reading allows,
// e.g. unbalanced quotes) is fine.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/util/strings.hpp"
#include "milter/relay.hpp"

namespace {

constexpr std::string_view kOurs = "example.jp";

bool naive_may_accept(std::string_view s) {
    s = yubin::trim(s);
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = yubin::trim(s.substr(1, s.size() - 2));
    if (yubin::iequals(s, "postmaster") || yubin::iequals(s, "\"postmaster\"")) return true;
    const auto at = s.find('@');
    if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos)
        return false;
    if (s.find_first_of("%!") != std::string_view::npos) return false;
    std::string_view domain = s.substr(at + 1);
    if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
    return yubin::iequals(domain, kOurs);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto p = yubin::milter::parse_recipient(in);
    if (!p.malformed && !p.domain.empty()) {
        if (p.domain != yubin::to_lower(p.domain)) std::abort();
        if (p.domain.back() == '.') std::abort();
    }
    int lookups = 0;
    const auto d = yubin::milter::decide_relay(
        in, {}, [&](std::string_view domain) -> yubin::Result<bool> {
            ++lookups;
            return domain == kOurs;
        });
    if (lookups > 1) std::abort();
    if (d.verdict == yubin::milter::RelayVerdict::Accept && !naive_may_accept(in)) std::abort();
    // A trusted or authenticated client is never refused and never looked up.
    const auto t = yubin::milter::decide_relay(
        in, {.authenticated = true}, [&](std::string_view) -> yubin::Result<bool> {
            std::abort();
        });
    if (t.verdict != yubin::milter::RelayVerdict::Accept) std::abort();
    return 0;
}
