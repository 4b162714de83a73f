#include "core/config/value.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/util/strings.hpp"

namespace yubin::config {
namespace {

// Values come from an administrator's file, but they end up in log lines and
// terminals: keep control bytes out of messages.
std::string shown(std::string_view v) {
    return sanitize_for_log(v, 200);
}

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// Non-negative decimal without sign, overflow checked.
std::optional<std::int64_t> parse_unsigned(std::string_view s) {
    if (!all_digits(s)) return std::nullopt;
    return parse_int(s);
}

std::string range_text(std::int64_t min, std::int64_t max) {
    if (max == kNoMax) return fmt::format(">= {}", min);
    return fmt::format("{}..{}", min, max);
}

}  // namespace

Result<bool> parse_bool(std::string_view v) {
    if (iequals(v, "yes")) return true;
    if (iequals(v, "no")) return false;
    return fail(ErrorKind::Config,
                fmt::format("invalid boolean value \"{}\" (use yes or no)", shown(v)));
}

Result<std::int64_t> parse_int_value(std::string_view v) {
    if (auto n = parse_int(v)) return *n;
    return fail(ErrorKind::Config, fmt::format("invalid integer value \"{}\"", shown(v)));
}

Result<std::int64_t> parse_size(std::string_view v) {
    if (auto n = parse_unsigned(v)) return *n;
    return fail(ErrorKind::Config,
                fmt::format("invalid size value \"{}\" (a plain number of bytes)", shown(v)));
}

Result<std::int64_t> parse_time(std::string_view v, char default_unit) {
    auto bad = [&] {
        return fail(ErrorKind::Config, fmt::format("invalid time value \"{}\"", shown(v)));
    };
    std::string_view digits = v;
    char unit = default_unit;
    if (!v.empty() && !(v.back() >= '0' && v.back() <= '9')) {
        unit = v.back();
        digits.remove_suffix(1);
    }
    std::int64_t mult = 0;
    switch (unit) {
        case 's':
            mult = 1;
            break;
        case 'm':
            mult = 60;
            break;
        case 'h':
            mult = 3600;
            break;
        case 'd':
            mult = 86400;
            break;
        case 'w':
            mult = 7 * 86400;
            break;
        default:
            return bad();
    }
    auto n = parse_unsigned(digits);
    if (!n || *n > kNoMax / mult) return bad();
    return *n * mult;
}

Result<ListenAddress> parse_listen(std::string_view v) {
    return parse_listen_address(v, ListenPortZero::Refuse);
}

std::vector<std::string> split_list(std::string_view v) {
    std::vector<std::string> out;
    for (auto f : split_any(v, ", \t\r\n")) out.emplace_back(f);
    return out;
}

char default_time_unit(const Param& p) {
    // Only a literal default like "5s" names a unit; "$other" names none.
    auto d = p.default_value;
    if (d.size() >= 2 && d[d.size() - 2] >= '0' && d[d.size() - 2] <= '9' &&
        std::string_view("smhdw").find(d.back()) != std::string_view::npos)
        return d.back();
    return 's';
}

Result<Checked> check_value(const Param& p, std::string_view v) {
    Checked out{std::string(v), 0};
    if (v.empty() && p.type != Type::String && p.type != Type::List && p.type != Type::Listen)
        return fail(ErrorKind::Config, fmt::format("empty {} value", to_string(p.type)));
    auto in_range = [&](std::int64_t n, std::string_view unit) -> Status {
        if (n >= p.min && n <= p.max) return {};
        return fail(ErrorKind::Config, fmt::format("value \"{}\" out of range {}{}", shown(v),
                                                   range_text(p.min, p.max), unit));
    };
    switch (p.type) {
        case Type::String:
        case Type::List:
            return out;
        case Type::Listen: {
            auto l = parse_listen(v);
            if (!l) return fail(l.error());
            return out;
        }
        case Type::Bool: {
            auto b = parse_bool(v);
            if (!b) return fail(b.error());
            out.number = *b ? 1 : 0;
            return out;
        }
        case Type::Int:
        case Type::Size:
        case Type::Time: {
            auto n = p.type == Type::Int    ? parse_int_value(v)
                     : p.type == Type::Size ? parse_size(v)
                                            : parse_time(v, default_time_unit(p));
            if (!n) return fail(n.error());
            auto unit = p.type == Type::Size ? " bytes" : p.type == Type::Time ? " seconds" : "";
            if (auto r = in_range(*n, unit); !r) return fail(r.error());
            out.number = *n;
            return out;
        }
        case Type::Enum: {
            for (auto choice : split_any(p.choices, "|")) {
                if (iequals(choice, v)) {
                    out.value = std::string(choice);
                    return out;
                }
            }
            std::string list;
            for (auto choice : split_any(p.choices, "|")) {
                if (!list.empty()) list += ", ";
                list += choice;
            }
            return fail(ErrorKind::Config,
                        fmt::format("invalid value \"{}\" (one of {})", shown(v), list));
        }
    }
    return fail(ErrorKind::Internal, "unknown parameter type");
}

}  // namespace yubin::config
