// The verdict on one message under a RuleSet.
//
// Header rules look only at the top-level header: every Subject field (each
// on its own), or every field of a named header, unfolded, RFC 2047 decoded
// and normalized (core/charset/normalize.hpp). Body rules look at each
// decoded, normalized text part (core/mime/walker.hpp); the body is walked
// only once a body rule is reached. Rules are tried in file order; the first
// matching rule with an action wins. Score rules add up; when no action rule
// matched and the total reaches the threshold, the threshold action applies.
//
// SECURITY: the message is hostile. classify() never throws on its content,
// works in time linear in its size (plus PCRE2 work capped by the match
// limits) and within the bounds of Limits; a bound reached is reported as
// Verdict::truncated and the verdict covers what was read.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/rules/rule_set.hpp"

namespace yubin::rules {

struct Verdict {
    bool matched = false;
    std::string rule;    // the deciding rule, or "score" for the threshold
    std::string action;  // "reject", "junk", "tag", "quarantine", "discard"
    std::string text;    // the rule's text, may be empty
    int score = 0;       // sum of the matching score rules
    bool truncated = false;
};

[[nodiscard]] Verdict classify(const RuleSet& rules, std::string_view raw_message,
                               const Limits& limits = {});

// What the header rules see, for `yubinctl filter test -v` and logs.
struct SubjectView {
    std::string decoded;     // valid UTF-8
    std::string normalized;  // valid UTF-8
};
[[nodiscard]] std::vector<SubjectView> subjects(std::string_view raw_message,
                                                const Limits& limits = {});

}  // namespace yubin::rules
