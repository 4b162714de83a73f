// A rate limit as yubin.cf (policyd_rate_*) and the store (rate_limit of a
// mailbox or domain) write it: "messages:100/1h recipients:1000/1d
// bytes:50M/1d", comma or space separated; COUNT may end in k, M, G (powers
// of 1024); WINDOW is a yubin.cf time (s, m, h, d, w; default seconds). The
// word "none" alone is the empty list: no limit at all (in the store: an
// explicit exemption, where "" means "not set here").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.hpp"

namespace yubin::store {

struct RateRule {
    enum class Kind { Messages, Recipients, Bytes };
    Kind kind = Kind::Messages;
    std::int64_t max = 0;
    std::int64_t window_s = 0;
};

// BadInput naming the bad item.
[[nodiscard]] Result<std::vector<RateRule>> parse_rate_rules(std::string_view text);
[[nodiscard]] std::string describe(const RateRule& r);  // "100 messages per 1h"
[[nodiscard]] std::string_view kind_name(RateRule::Kind k);  // "messages"

}  // namespace yubin::store
