#include "core/store/rate_limit.hpp"

#include "core/config/value.hpp"
#include "core/util/strings.hpp"

namespace yubin::store {
namespace {

std::string window_text(std::int64_t s) {
    if (s % 604800 == 0) return std::to_string(s / 604800) + "w";
    if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
    if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
    if (s % 60 == 0) return std::to_string(s / 60) + "m";
    return std::to_string(s) + "s";
}

}  // namespace

std::string_view kind_name(RateRule::Kind k) {
    switch (k) {
        case RateRule::Kind::Messages:
            return "messages";
        case RateRule::Kind::Recipients:
            return "recipients";
        case RateRule::Kind::Bytes:
            return "bytes";
    }
    return "messages";
}

Result<std::vector<RateRule>> parse_rate_rules(std::string_view text) {
    std::vector<RateRule> out;
    auto items = split_any(text, ", \t\r\n");
    if (items.size() == 1 && items.front() == "none") return out;
    for (auto item : items) {
        auto bad = [&](std::string_view why) {
            return fail(ErrorKind::BadInput, "bad rate \"" + sanitize_for_log(item, 60) +
                                                 "\": " + std::string(why) +
                                                 " (want KIND:COUNT/WINDOW, e.g. messages:100/1h)");
        };
        auto colon = item.find(':');
        auto slash = item.find('/');
        if (colon == std::string_view::npos || slash == std::string_view::npos || slash < colon)
            return bad("syntax");
        RateRule r;
        auto kind = item.substr(0, colon);
        if (kind == "messages")
            r.kind = RateRule::Kind::Messages;
        else if (kind == "recipients")
            r.kind = RateRule::Kind::Recipients;
        else if (kind == "bytes")
            r.kind = RateRule::Kind::Bytes;
        else
            return bad("KIND is messages, recipients or bytes");
        auto count = item.substr(colon + 1, slash - colon - 1);
        std::int64_t mult = 1;
        if (!count.empty()) {
            switch (count.back()) {
                case 'k':
                    mult = 1024;
                    break;
                case 'M':
                    mult = 1024 * 1024;
                    break;
                case 'G':
                    mult = 1024LL * 1024 * 1024;
                    break;
                default:
                    break;
            }
            if (mult != 1) count.remove_suffix(1);
        }
        auto n = parse_int(count);
        if (!n || *n < 0 || *n > (std::int64_t{1} << 50) / mult) return bad("COUNT");
        r.max = *n * mult;
        auto w = config::parse_time(item.substr(slash + 1), 's');
        if (!w || *w <= 0 || *w > 366LL * 86400) return bad("WINDOW");
        r.window_s = *w;
        out.push_back(r);
    }
    return out;
}

std::string describe(const RateRule& r) {
    return std::to_string(r.max) + " " + std::string(kind_name(r.kind)) + " per " +
           window_text(r.window_s);
}

}  // namespace yubin::store
