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
    const std::string unfolded = mime::unfold(raw_value.substr(0, limits.mime.max_field_bytes));
    auto d = mime::decode_header_value(unfolded, limits.mime);
    if (d.truncated) truncated = true;
    return charset::normalize(d.text);
}

Texts gather(const RuleSet& rs, std::string_view raw, const Limits& limits) {
    Texts t;
    const auto& rules = rs.rules();
    t.headers.resize(rules.size());
    mime::HeaderReader reader(raw, limits.mime);
    mime::HeaderField f;
    while (reader.next(f)) {
        const bool is_subject = iequals(f.name, "subject");
        std::optional<std::string> value;
        const auto get = [&]() -> const std::string& {
            if (!value) value = decode_normalized(f.value, limits, t.truncated);
            return *value;
        };
        if (is_subject) t.subjects.push_back(get());
        for (std::size_t i = 0; i < rules.size(); ++i) {
            if (rules[i].target == Target::Header && iequals(rules[i].header, f.name)) {
                t.headers[i].push_back(get());
            }
        }
    }
    if (reader.truncated()) t.truncated = true;
    if (rs.needs_body()) {
        auto w = mime::text_parts(raw, limits.mime);
        if (w.truncated) t.truncated = true;
        for (auto& p : w.parts) t.bodies.push_back(charset::normalize(p.text));
    }
    return t;
}

}  // namespace

Verdict classify(const RuleSet& rs, std::string_view raw, const Limits& limits) {
    Verdict v;
    const Texts t = gather(rs, raw, limits);
    v.truncated = t.truncated;
    const auto& rules = rs.rules();
    bool any_score = false;
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const Rule& r = rules[i];
        const std::vector<std::string>& texts = r.target == Target::Subject ? t.subjects
                                                : r.target == Target::Body  ? t.bodies
                                                                            : t.headers[i];
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
        return v;
    }
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
