#include "ctl/import.hpp"

#include <fmt/format.h>

#include "core/store/address.hpp"
#include "core/util/limits.hpp"
#include "core/util/strings.hpp"

namespace yubin::ctl {
namespace {

// Calls fn(line_number, logical_line) for every non-blank, non-comment line.
// With `continuation`, lines that start with white space are joined to the
// previous one, as Postfix's table files allow.
template <class F>
void for_each_line(std::string_view text, const std::string& file, bool continuation,
                   ImportPlan& plan, F fn) {
    std::string logical;
    std::size_t logical_line = 0;
    auto flush = [&] {
        if (logical_line != 0) fn(logical_line, std::string_view(logical));
        logical.clear();
        logical_line = 0;
    };
    std::size_t lineno = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        ++lineno;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() > limits::kMaxImportLineBytes) {
            plan.problems.push_back({{file, lineno}, "line too long, skipped"});
            continue;
        }
        if (line.find('\0') != std::string_view::npos) {
            plan.problems.push_back({{file, lineno}, "NUL byte in line, skipped"});
            continue;
        }
        std::string_view t = trim(line);
        if (t.empty() || t.front() == '#') continue;
        if (continuation && is_space(line.front()) && logical_line != 0) {
            logical += ' ';
            logical += t;
            continue;
        }
        flush();
        logical.assign(t);
        logical_line = lineno;
    }
    flush();
}

// Splits "key  rest": first white-space separated field and the remainder.
std::pair<std::string_view, std::string_view> key_rest(std::string_view line) {
    std::size_t sp = line.find_first_of(" \t");
    if (sp == std::string_view::npos) return {line, {}};
    return {line.substr(0, sp), trim(line.substr(sp))};
}

// "@domain" or "user@domain", validated. Returns the canonical text.
std::optional<std::string> alias_side(std::string_view s, std::string& why) {
    if (!s.empty() && s.front() == '@') {
        auto d = store::parse_domain(s.substr(1));
        if (!d) {
            why = d.error().what;
            return std::nullopt;
        }
        return "@" + *d;
    }
    auto a = store::parse_address(s);
    if (!a) {
        why = a.error().what;
        return std::nullopt;
    }
    return a->local + "@" + to_lower(a->domain);
}

}  // namespace

std::string to_string(const Origin& o) { return fmt::format("{}, line {}", o.file, o.line); }

std::optional<std::int64_t> parse_size(std::string_view s) {
    s = trim(s);
    if (!s.empty() && (s.back() == 'B' || s.back() == 'b')) s.remove_suffix(1);
    std::int64_t mult = 1;
    if (!s.empty()) {
        switch (s.back()) {
            case 'k': case 'K': mult = 1024; break;
            case 'm': case 'M': mult = 1024 * 1024; break;
            case 'g': case 'G': mult = 1024LL * 1024 * 1024; break;
            case 't': case 'T': mult = 1024LL * 1024 * 1024 * 1024; break;
            default: break;
        }
        if (mult != 1) s.remove_suffix(1);
    }
    auto v = parse_int(s);
    if (!v || *v < 0 || *v > INT64_MAX / mult) return std::nullopt;
    return *v * mult;
}

void parse_virtual_domains(std::string_view text, const std::string& file, ImportPlan& plan) {
    for_each_line(text, file, false, plan, [&](std::size_t n, std::string_view line) {
        auto [key, rest] = key_rest(line);
        (void)rest;
        auto d = store::parse_domain(key);
        if (!d) {
            plan.problems.push_back({{file, n}, d.error().what});
            return;
        }
        plan.domains.push_back({{file, n}, *d});
    });
}

void parse_virtual_mailboxes(std::string_view text, const std::string& file, ImportPlan& plan) {
    for_each_line(text, file, false, plan, [&](std::size_t n, std::string_view line) {
        auto [key, rest] = key_rest(line);
        if (rest.empty()) {
            plan.problems.push_back({{file, n}, fmt::format("\"{}\": missing mailbox path",
                                                            sanitize_for_log(key))});
            return;
        }
        if (rest.find_first_of(" \t,") != std::string_view::npos) {
            plan.problems.push_back({{file, n}, "more than one mailbox path"});
            return;
        }
        if (key.front() == '@') {
            plan.problems.push_back({{file, n}, "catch-all mailbox entries are not imported; "
                                                "use an alias instead"});
            return;
        }
        auto a = store::parse_address(key);
        if (!a) {
            plan.problems.push_back({{file, n}, a.error().what});
            return;
        }
        // Maildir paths in virtual_mailbox_maps are relative to virtual_mailbox_base;
        // an absolute path or ".." would let a map entry point anywhere.
        if (rest.front() == '/' || rest.find("..") != std::string_view::npos) {
            plan.problems.push_back({{file, n}, fmt::format("mailbox path \"{}\" must be relative "
                                                            "and must not contain \"..\"",
                                                            sanitize_for_log(rest))});
            return;
        }
        plan.mailboxes.push_back({{file, n}, a->local + "@" + to_lower(a->domain),
                                  std::string(rest)});
    });
}

void parse_virtual_aliases(std::string_view text, const std::string& file, ImportPlan& plan) {
    for_each_line(text, file, true, plan, [&](std::size_t n, std::string_view line) {
        auto [key, rest] = key_rest(line);
        if (key.find('@') == std::string_view::npos) {
            // "example.com  anything": declares a virtual alias domain.
            auto d = store::parse_domain(key);
            if (!d) {
                plan.problems.push_back({{file, n}, d.error().what});
                return;
            }
            plan.domains.push_back({{file, n}, *d});
            return;
        }
        std::string why;
        auto source = alias_side(key, why);
        if (!source) {
            plan.problems.push_back({{file, n}, why});
            return;
        }
        ImportAlias alias{{file, n}, *source, {}};
        for (std::string_view t : split_any(rest, ", \t")) {
            auto target = alias_side(t, why);
            if (!target) {
                plan.problems.push_back({{file, n}, fmt::format("target: {}", why)});
                return;
            }
            alias.targets.push_back(*target);
        }
        if (alias.targets.empty()) {
            plan.problems.push_back({{file, n}, fmt::format("\"{}\": no target address",
                                                            sanitize_for_log(key))});
            return;
        }
        if (alias.targets.size() > limits::kMaxAliasTargets) {
            plan.problems.push_back({{file, n}, "too many targets"});
            return;
        }
        plan.aliases.push_back(std::move(alias));
    });
}

void parse_dovecot_passwd(std::string_view text, const std::string& file, ImportPlan& plan) {
    for_each_line(text, file, false, plan, [&](std::size_t n, std::string_view line) {
        // Fields are ':'-separated, but the password may itself hold ':'
        // only in exotic schemes; Dovecot splits on ':' too, so do the same.
        std::vector<std::string_view> f;
        std::size_t start = 0;
        for (std::size_t i = 0; i <= line.size(); ++i) {
            if (i == line.size() || line[i] == ':') {
                f.push_back(line.substr(start, i - start));
                start = i + 1;
            }
        }
        if (f.size() < 2 || f[1].empty()) {
            plan.problems.push_back({{file, n}, "expected user:password[:uid:gid:gecos:home:shell:extra]"});
            return;
        }
        auto a = store::parse_address(f[0]);
        if (!a) {
            plan.problems.push_back({{file, n}, fmt::format("user: {}", a.error().what)});
            return;
        }
        ImportPassword p{{file, n}, a->local + "@" + to_lower(a->domain), std::string(f[1]), 0};
        // passwd-file's default scheme is CRYPT.
        if (p.hash.front() != '{') p.hash = "{CRYPT}" + p.hash;
        if (f.size() >= 8) {
            // Extra fields: white-space separated key=value; we understand the quota rule.
            std::string extra;
            for (std::size_t i = 7; i < f.size(); ++i) {
                if (i > 7) extra += ':';
                extra += f[i];
            }
            for (std::string_view kv : split_any(extra, " \t")) {
                constexpr std::string_view kQuota = "userdb_quota_rule=*:storage=";
                if (istarts_with(kv, kQuota)) {
                    auto q = parse_size(kv.substr(kQuota.size()));
                    if (!q) {
                        plan.problems.push_back({{file, n}, "bad userdb_quota_rule storage value"});
                        return;
                    }
                    p.quota_bytes = *q;
                }
            }
        }
        plan.passwords.push_back(std::move(p));
    });
}

}  // namespace yubin::ctl
