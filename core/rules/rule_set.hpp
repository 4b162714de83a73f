// Filter rules: what to look for in which part of a message, and what to do.
//
// The file format is documented in contrib/rules/README.md. A RuleSet is an
// immutable value: to reload on SIGHUP, parse the new file and swap a
// shared_ptr<const RuleSet> only when parsing succeeded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/mime/limits.hpp"
#include "core/util/result.hpp"

namespace yubin::rules {

inline constexpr std::size_t kMaxRulesFileBytes = 1u << 20;
inline constexpr std::size_t kMaxRules = 10000;
inline constexpr std::uint32_t kPcreMatchLimit = 100000;  // backtracking steps per match
inline constexpr std::uint32_t kPcreDepthLimit = 1000;    // backtracking depth
inline constexpr int kDefaultThreshold = 5;

// Bounds for one classification: the MIME/header ones plus PCRE2's.
struct Limits {
    mime::Limits mime;
    std::uint32_t pcre_match_limit = kPcreMatchLimit;
    std::uint32_t pcre_depth_limit = kPcreDepthLimit;
};

enum class Target { Subject, Header, Body };

struct Rule {
    std::string name;
    Target target = Target::Subject;
    std::string header;      // for Target::Header, as written
    bool regex = false;
    std::string pattern;     // literal: already normalized; regex: as written
    std::string action;      // reject, junk, tag, quarantine, discard, or "score"
    int score = 0;           // for action "score"
    std::string text;        // reply text / tag text, optional
    int line = 0;            // where it was defined
};

class CompiledRegex;  // PCRE2 code, shared between copies of a RuleSet

class RuleSet {
public:
    [[nodiscard]] static Result<RuleSet> load_file(const std::string& path);
    [[nodiscard]] static Result<RuleSet> parse(std::string_view text, std::string_view filename);
    // The shipped default rules, compiled in.
    static RuleSet defaults();

    [[nodiscard]] bool needs_body() const;
    [[nodiscard]] const std::vector<Rule>& rules() const { return rules_; }
    [[nodiscard]] int threshold() const { return threshold_; }
    [[nodiscard]] const std::string& threshold_action() const { return threshold_action_; }
    [[nodiscard]] const std::string& source() const { return source_; }

    // For classify(): the compiled regex of rule i, nullptr for literals.
    [[nodiscard]] const CompiledRegex* regex(std::size_t i) const;

private:
    std::vector<Rule> rules_;
    std::vector<std::shared_ptr<const CompiledRegex>> regexes_;  // parallel to rules_
    int threshold_ = kDefaultThreshold;
    std::string threshold_action_ = "junk";
    std::string source_;
};

// Result of matching a regex: matched, not matched, or gave up at a limit.
enum class RegexResult { Match, NoMatch, Limit };
[[nodiscard]] RegexResult regex_search(const CompiledRegex& re, std::string_view subject,
                                       const Limits& limits);

}  // namespace yubin::rules
