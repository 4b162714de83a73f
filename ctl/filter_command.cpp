#include "ctl/filter_command.hpp"

#include "core/rules/filter_test.hpp"

namespace yubin::ctl {

// The logic lives in core/rules (filter_test.cpp) where it is unit-tested
// with the engine; this is the CLI's entry point to it.
int run_filter_test(const std::string& rules_path, bool verbose, std::istream& in,
                    std::ostream& out, std::ostream& err) {
    return rules::filter_test(rules_path, verbose, in, out, err);
}

}  // namespace yubin::ctl
