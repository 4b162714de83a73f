// Parsers of single yubin.cf values by type. Config uses them at load time;
// yubinctl can use them to check a value before writing it. Error texts name
// the value but not the parameter: the caller adds file, line and name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.hpp"
#include "core/util/result.hpp"

namespace yubin::config {

// yes/no, any case (Postfix accepts nothing else).
[[nodiscard]] Result<bool> parse_bool(std::string_view v);
// Plain decimal integer, optionally negative.
[[nodiscard]] Result<std::int64_t> parse_int_value(std::string_view v);
// Plain non-negative decimal number of bytes, no suffix (as Postfix).
[[nodiscard]] Result<std::int64_t> parse_size(std::string_view v);
// A non-negative number with an optional unit s, m, h, d or w; a bare number
// is in default_unit. Returns seconds.
[[nodiscard]] Result<std::int64_t> parse_time(std::string_view v, char default_unit);
// "" (disabled), "unix:/abs/path" or "inet:HOST:PORT", HOST an IPv4 address,
// [IPv6 address], or a host name; PORT 1..65535.
[[nodiscard]] Result<ListenAddress> parse_listen(std::string_view v);
// Comma and/or white space separated, empty fields dropped (Postfix lists).
[[nodiscard]] std::vector<std::string> split_list(std::string_view v);

// The default unit of a Time parameter: the unit suffix of its default value
// (as Postfix), 's' if it has none (also for a "$name" default).
[[nodiscard]] char default_time_unit(const Param& p);

struct Checked {
    std::string value;        // canonical text: Enum as spelled in choices, else v
    std::int64_t number = 0;  // Int/Size/Time, Bool as 0/1
};
// Checks v against p's type, range and choices. Empty is allowed for
// String, List and Listen only.
[[nodiscard]] Result<Checked> check_value(const Param& p, std::string_view v);

}  // namespace yubin::config
