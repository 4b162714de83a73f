// `yubinctl filter test [--rules FILE] [-v] < message.eml`
#pragma once

#include <iosfwd>
#include <string>

namespace yubin::ctl {

// Prints "match RULE ACTION" or "clean" (with -v also each Subject decoded
// and normalized) and returns 0; a rules file that does not load gives
// "yubinctl: FILE:LINE: why" on `err` and 78 (EX_CONFIG). An empty
// `rules_path` uses the compiled-in default rules.
int run_filter_test(const std::string& rules_path, bool verbose, std::istream& in,
                    std::ostream& out, std::ostream& err);

}  // namespace yubin::ctl
