#include "core/rules/classify.hpp"

#include "core/charset/normalize.hpp"
#include "core/mime/header.hpp"
#include "core/mime/rfc2047.hpp"
#include "core/mime/walker.hpp"
#include "core/util/strings.hpp"

namespace yubin::rules {
namespace {

struct Texts {
    std::vector<std::string> subjects;
    // Per rule index, for header rules: the normalized values of that header.
    std::vector<std::vector<std::string>> headers;
    std::vector<std::string> bodies;
    bool truncated = false;
};

std::string decode_normalized(std::string_view raw_value, const Limits& limits, bool& truncated) {
    if (raw_value.size() > limits.mime.max_field_bytes) truncated = true;
    thread_local std::string unfolded;  // its buffer serves every field
    mime::unfold_into(raw_value.substr(0, limits.mime.max_field_bytes), unfolded);
    auto d = mime::decode_header_value(unfolded, limits.mime);
    if (d.truncated) truncated = true;
    return charset::normalize(d.text);
}

Texts gather(const RuleSet& rs, std::string_view raw, const Limits& limits) {
    Texts t;
    const auto& rules = rs.rules();
    bool header_rules = false;
    for (const auto& r : rules) header_rules = header_rules || r.target == Target::Header;
    if (header_rules) t.headers.resize(rules.size());
    mime::HeaderReader reader(raw, limits.mime);
    mime::HeaderField f;
    while (reader.next(f)) {
        const bool is_subject = iequals(f.name, "subject");
        std::optional<std::string> value;
        const auto get = [&]() -> const std::string& {
            if (!value) value = decode_normalized(f.value, limits, t.truncated);
            return *value;
        };
        for (std::size_t i = 0; header_rules && i < rules.size(); ++i) {
            if (rules[i].target == Target::Header && iequals(rules[i].header, f.name)) {
                t.headers[i].push_back(get());
            }
        }
        if (is_subject) {
            get();
            t.subjects.push_back(std::move(*value));  // the last use: no copy
        }
    }
    if (reader.truncated()) t.truncated = true;
    return t;
}

// The body is walked only when a body rule is reached: a header rule with an
// action that matched first makes it unnecessary, and the body is usually
// most of the message.
void gather_body(std::string_view raw, const Limits& limits, Texts& t) {
    auto w = mime::text_parts(raw, limits.mime);
    if (w.truncated) t.truncated = true;
    t.bodies.reserve(w.parts.size());
    for (auto& p : w.parts) t.bodies.push_back(charset::normalize(p.text));
}

}  // namespace

Verdict classify(const RuleSet& rs, std::string_view raw, const Limits& limits) {
    Verdict v;
    Texts t = gather(rs, raw, limits);
    bool have_body = false;
    const auto& rules = rs.rules();
    bool any_score = false;
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const Rule& r = rules[i];
        if (r.target == Target::Body && !have_body) {
            gather_body(raw, limits, t);
            have_body = true;
        }
        const std::vector<std::string>& texts = r.target == Target::Subject ? t.subjects
                                                : r.target == Target::Body  ? t.bodies
                                                                            : t.headers.at(i);
        const CompiledRegex* re = rs.regex(i);
        bool hit = false;
        for (const auto& s : texts) {
            if (re != nullptr) {
                const RegexResult m = regex_search(*re, s, limits);
                if (m == RegexResult::Limit) v.truncated = true;
                hit = m == RegexResult::Match;
            } else {
                hit = s.find(r.pattern) != std::string::npos;
            }
            if (hit) break;
        }
        if (!hit) continue;
        if (r.action == "score") {
            v.score += r.score;
            any_score = true;
            continue;
        }
        v.matched = true;
        v.rule = r.name;
        v.action = r.action;
        v.text = r.text;
        v.truncated = v.truncated || t.truncated;
        return v;
    }
    v.truncated = v.truncated || t.truncated;
    if (any_score && v.score >= rs.threshold()) {
        v.matched = true;
        v.rule = "score";
        v.action = rs.threshold_action();
    }
    return v;
}

std::vector<SubjectView> subjects(std::string_view raw, const Limits& limits) {
    std::vector<SubjectView> out;
    mime::HeaderReader reader(raw, limits.mime);
    mime::HeaderField f;
    while (reader.next(f)) {
        if (!iequals(f.name, "subject")) continue;
        const std::string unfolded = mime::unfold(f.value.substr(0, limits.mime.max_field_bytes));
        SubjectView s;
        s.decoded = mime::decode_header_value(unfolded, limits.mime).text;
        s.normalized = charset::normalize(s.decoded);
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace yubin::rules
