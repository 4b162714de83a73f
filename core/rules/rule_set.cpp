#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/rules/rule_set.hpp"

#include <pcre2.h>

#include <fstream>
#include <optional>

#include "core/charset/normalize.hpp"
#include "core/charset/utf8.hpp"
#include "core/util/strings.hpp"

namespace yubin::rules {

class CompiledRegex {
public:
    explicit CompiledRegex(pcre2_code* code) : code_(code) {}
    CompiledRegex(const CompiledRegex&) = delete;
    CompiledRegex& operator=(const CompiledRegex&) = delete;
    ~CompiledRegex() { pcre2_code_free(code_); }
    [[nodiscard]] const pcre2_code* code() const { return code_; }

private:
    pcre2_code* code_;
};

namespace {

constexpr std::string_view kActions[] = {"reject", "junk", "tag", "quarantine", "discard"};

bool valid_action(std::string_view a) {
    for (auto k : kActions) {
        if (a == k) return true;
    }
    return false;
}

bool valid_name(std::string_view n) {
    if (n.empty() || n.size() > 100) return false;
    for (char c : n) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

bool valid_header_name(std::string_view n) {
    if (n.empty() || n.size() > 100) return false;
    for (char c : n) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7F || c == ':') return false;
    }
    return true;
}

struct Pending {
    Rule rule;
    bool have_matcher = false;
    bool have_action = false;
    bool have_target = false;
};

class Parser {
public:
    explicit Parser(std::string_view filename) : file_(filename) {}

    Status run(std::string_view text, std::vector<Rule>& rules,
                        std::vector<std::shared_ptr<const CompiledRegex>>& regexes, int& threshold,
                        std::string& threshold_action) {
        if (text.size() > kMaxRulesFileBytes) return error(0, "file larger than 1 MiB");
        if (!charset::is_valid_utf8(text)) return error(0, "not valid UTF-8");
        std::size_t pos = 0;
        int lineno = 0;
        std::optional<Pending> cur;
        const auto finish = [&]() -> Status {
            if (!cur) return {};
            Pending& p = *cur;
            if (!p.have_target) return error(p.rule.line, "rule " + p.rule.name + " has no target");
            if (!p.have_matcher) {
                return error(p.rule.line, "rule " + p.rule.name + " has no literal or regex");
            }
            if (!p.have_action) {
                return error(p.rule.line, "rule " + p.rule.name + " has no action or score");
            }
            if (rules.size() >= kMaxRules) return error(p.rule.line, "too many rules");
            std::shared_ptr<const CompiledRegex> re;
            if (p.rule.regex) {
                auto r = compile(p.rule.pattern, p.rule.line);
                if (!r) return fail(r.error());
                re = std::move(*r);
            }
            rules.push_back(std::move(p.rule));
            regexes.push_back(std::move(re));
            cur.reset();
            return {};
        };
        while (pos < text.size()) {
            std::size_t nl = text.find('\n', pos);
            if (nl == std::string_view::npos) nl = text.size();
            std::string_view line = text.substr(pos, nl - pos);
            pos = nl + 1;
            ++lineno;
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            const std::string_view t = trim(line);
            if (t.empty() || t[0] == '#') continue;
            if (t.substr(0, 5) == "rule " || t.substr(0, 5) == "rule\t" || t == "rule") {
                if (auto s = finish(); !s) return fail(s.error());
                const std::string_view name = trim(t.substr(4));
                if (!valid_name(name)) {
                    return error(lineno, "bad rule name '" + std::string(name) +
                                             "' (letters, digits, - _ . only)");
                }
                for (const auto& r : rules) {
                    if (r.name == name) return error(lineno, "duplicate rule name " + std::string(name));
                }
                cur.emplace();
                cur->rule.name = std::string(name);
                cur->rule.line = lineno;
                continue;
            }
            const std::size_t eq = t.find('=');
            if (eq == std::string_view::npos) {
                return error(lineno, "expected 'rule NAME' or 'key = value'");
            }
            const std::string key = to_lower(trim(t.substr(0, eq)));
            const std::string_view value = trim(t.substr(eq + 1));
            if (!cur) {
                if (key == "threshold") {
                    const auto n = parse_int(value);
                    if (!n || *n < 1 || *n > 1000000) return error(lineno, "threshold must be 1..1000000");
                    threshold = static_cast<int>(*n);
                } else if (key == "threshold_action") {
                    if (!valid_action(value)) return error(lineno, "unknown action '" + std::string(value) + "'");
                    threshold_action = std::string(value);
                } else {
                    return error(lineno, "unknown setting '" + key + "' (before the first rule: threshold, threshold_action)");
                }
                continue;
            }
            Pending& p = *cur;
            if (key == "target") {
                if (p.have_target) return error(lineno, "second target in rule " + p.rule.name);
                p.have_target = true;
                const std::string v = to_lower(value);
                if (v == "subject") {
                    p.rule.target = Target::Subject;
                } else if (v == "body") {
                    p.rule.target = Target::Body;
                } else if (istarts_with(v, "header:") && valid_header_name(trim(value.substr(7)))) {
                    p.rule.target = Target::Header;
                    p.rule.header = std::string(trim(value.substr(7)));
                    if (iequals(p.rule.header, "subject")) p.rule.target = Target::Subject;
                } else {
                    return error(lineno, "target must be subject, body or header:NAME");
                }
            } else if (key == "literal" || key == "regex") {
                if (p.have_matcher) return error(lineno, "second literal/regex in rule " + p.rule.name);
                p.have_matcher = true;
                p.rule.regex = key == "regex";
                p.rule.pattern = p.rule.regex ? std::string(value) : charset::normalize(value);
                if (p.rule.pattern.empty()) {
                    return error(lineno, "empty pattern (a literal is normalized: white space is removed)");
                }
            } else if (key == "action") {
                if (p.have_action) return error(lineno, "second action/score in rule " + p.rule.name);
                if (!valid_action(value)) {
                    return error(lineno, "unknown action '" + std::string(value) +
                                             "' (reject, junk, tag, quarantine, discard)");
                }
                p.have_action = true;
                p.rule.action = std::string(value);
            } else if (key == "score") {
                if (p.have_action) return error(lineno, "second action/score in rule " + p.rule.name);
                const auto n = parse_int(value);
                if (!n || *n < -1000000 || *n > 1000000) return error(lineno, "score must be an integer");
                p.have_action = true;
                p.rule.action = "score";
                p.rule.score = static_cast<int>(*n);
            } else if (key == "text") {
                p.rule.text = std::string(value);
            } else {
                return error(lineno, "unknown key '" + key + "' (target, literal, regex, action, score, text)");
            }
        }
        return finish();
    }

private:
    tl::unexpected<Error> error(int line, const std::string& what) const {
        std::string where(file_);
        if (line > 0) {
            // Two appends, not ":" + to_string(): gcc 12 at -O3 reports a false -Wrestrict there.
            where += ':';
            where += std::to_string(line);
        }
        return fail(ErrorKind::Config, where + ": " + what);
    }

    Result<std::shared_ptr<const CompiledRegex>> compile(const std::string& pattern, int line) {
        int errcode = 0;
        PCRE2_SIZE erroff = 0;
        pcre2_code* code =
            pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                          PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C, &errcode, &erroff, nullptr);
        if (code == nullptr) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(errcode, msg, sizeof msg);
            return error(line, "bad regex at offset " + std::to_string(erroff) + ": " +
                                   reinterpret_cast<const char*>(msg));
        }
        (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // interpreted if JIT is unavailable
        return std::make_shared<const CompiledRegex>(code);
    }

    std::string file_;
};

}  // namespace

Result<RuleSet> RuleSet::parse(std::string_view text, std::string_view filename) {
    RuleSet set;
    set.source_ = std::string(filename);
    Parser p(filename);
    std::vector<Rule> rules;
    std::vector<std::shared_ptr<const CompiledRegex>> regexes;
    int threshold = kDefaultThreshold;
    std::string action = "junk";
    auto r = p.run(text, rules, regexes, threshold, action);
    if (!r) return fail(r.error());
    set.rules_ = std::move(rules);
    set.regexes_ = std::move(regexes);
    set.threshold_ = threshold;
    set.threshold_action_ = std::move(action);
    return set;
}

Result<RuleSet> RuleSet::load_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(ErrorKind::Config, path + ": cannot open rules file");
    std::string text;
    text.resize(kMaxRulesFileBytes + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (in.bad()) return fail(ErrorKind::Config, path + ": read error");
    return parse(text, path);
}

bool RuleSet::needs_body() const {
    for (const auto& r : rules_) {
        if (r.target == Target::Body) return true;
    }
    return false;
}

const CompiledRegex* RuleSet::regex(std::size_t i) const {
    return i < regexes_.size() ? regexes_[i].get() : nullptr;
}

RegexResult regex_search(const CompiledRegex& re, std::string_view subject, const Limits& limits) {
    struct Scratch {
        pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
        pcre2_match_context* mc = pcre2_match_context_create(nullptr);
        ~Scratch() {
            pcre2_match_data_free(md);
            pcre2_match_context_free(mc);
        }
    };
    thread_local Scratch s;
    if (s.md == nullptr || s.mc == nullptr) return RegexResult::Limit;
    pcre2_set_match_limit(s.mc, limits.pcre_match_limit);
    pcre2_set_depth_limit(s.mc, limits.pcre_depth_limit);
    // Subjects are valid UTF-8 by construction (normalize), so skip the check.
    const int rc = pcre2_match(re.code(), reinterpret_cast<PCRE2_SPTR>(subject.data()),
                               subject.size(), 0, PCRE2_NO_UTF_CHECK, s.md, s.mc);
    if (rc >= 0) return RegexResult::Match;
    if (rc == PCRE2_ERROR_NOMATCH) return RegexResult::NoMatch;
    return RegexResult::Limit;
}

}  // namespace yubin::rules
