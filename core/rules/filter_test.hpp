// `yubinctl filter test`: classify one message from a stream and say why.
// Lives here, not in ctl/, so it is tested with the engine it explains.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>

namespace yubin::rules {

inline constexpr std::size_t kMaxTestMessageBytes = 64u << 20;
inline constexpr int kExitConfig = 78;  // EX_CONFIG

// Reads a message from `in` (LF or CRLF), prints "match RULE ACTION" or
// "clean" to `out`, and with `verbose` each Subject decoded and normalized
// (always valid UTF-8). Returns 0, or 78 with "FILE:LINE: why" on `err` when
// the rules file does not load. `rules_path` empty means the defaults.
int filter_test(const std::string& rules_path, bool verbose, std::istream& in, std::ostream& out,
                std::ostream& err);

}  // namespace yubin::rules
