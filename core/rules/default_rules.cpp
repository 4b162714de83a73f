// The rules yubin ships with, compiled in so a fresh install filters without
// a rules file. Kept in the rules-file format so `yubinctl filter test`
// explains them the same way.
#include <cstdlib>
#include <cstdio>

#include "core/rules/rule_set.hpp"

namespace yubin::rules {
namespace {

// 未承諾広告 is the marker Japanese law required at the start of the Subject
// of unsolicited advertising. The literal is matched on the normalized
// Subject, so white space, width variants and invisibles inside it do not
// matter; ※ is not required. Near misses (末承諾広告, 未承認広告, 承諾) are
// different strings and do not match.
constexpr const char* kDefaultRules = R"(# yubin default rules
rule jp-unsolicited-ad
    target  = subject
    literal = 未承諾広告
    action  = reject
    text    = unsolicited advertisement (Japanese UCE marker in Subject)
)";

}  // namespace

RuleSet RuleSet::defaults() {
    // Parsed once; copies share the compiled patterns.
    static const RuleSet kParsed = [] {
        auto r = parse(kDefaultRules, "<default rules>");
        if (!r) {
            // The text is a constant checked by the unit tests: failing here
            // is a build defect, not an input problem.
            std::fprintf(stderr, "yubin: %s\n", r.error().what.c_str());
            std::abort();
        }
        return std::move(*r);
    }();
    return kParsed;
}

}  // namespace yubin::rules
