#include "core/store/validate.hpp"

#include "core/store/rate_limit.hpp"
#include "core/util/limits.hpp"
#include "core/util/strings.hpp"

namespace yubin::store::validate {
namespace {

Error bad_input(std::string what) {
    return Error{ErrorKind::BadInput, std::move(what)};
}

bool control(char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
}

}  // namespace

Status sizes(std::initializer_list<std::int64_t> values) {
    for (auto v : values)
        if (v < 0) return fail(bad_input("sizes and quotas must not be negative"));
    return {};
}

Status password(std::string_view p) {
    if (p.empty()) return {};
    if (p.size() > limits::kMaxPasswordBytes) return fail(bad_input("password hash too long"));
    std::size_t close = p.find('}');
    if (p.front() != '{' || close == std::string_view::npos || close < 2)
        return fail(bad_input("password must be a \"{SCHEME}hash\" string"));
    for (char c : p.substr(1, close - 1)) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok) return fail(bad_input("invalid password scheme name"));
    }
    for (char c : p)
        if (control(c)) return fail(bad_input("control character in password hash"));
    return {};
}

Result<std::string> maildir_for(const Address& a, std::string_view m) {
    if (m.empty()) {
        if (a.local.find('/') != std::string::npos)
            return fail(bad_input("local part contains '/': give an explicit maildir"));
        return to_lower(a.domain) + "/" + to_lower(a.local) + "/Maildir/";
    }
    if (m.size() > 1024) return fail(bad_input("maildir path too long"));
    if (m.front() == '/')
        return fail(bad_input("maildir must be relative to virtual_mailbox_base"));
    if (m.back() != '/') return fail(bad_input("maildir must end in '/'"));
    for (char c : m)
        if (control(c)) return fail(bad_input("control character in maildir"));
    for (auto part : split_any(m, "/"))
        if (part == "." || part == "..")
            return fail(bad_input("maildir must not contain \".\" or \"..\""));
    if (m.find("//") != std::string_view::npos)
        return fail(bad_input("empty component in maildir"));
    return std::string(m);
}

Status overrides(std::string_view rate_limit, std::int64_t recipient_limit) {
    if (recipient_limit < 0) return fail(bad_input("recipient_limit must not be negative"));
    if (rate_limit.empty()) return {};
    if (rate_limit.size() > 1024) return fail(bad_input("rate_limit too long"));
    for (char c : rate_limit)
        if (control(c))
            return fail(bad_input("control character in rate_limit"));
    auto rules = parse_rate_rules(rate_limit);
    if (!rules) return fail(bad_input("rate_limit: " + rules.error().what));
    if (rules->size() > kMaxRateRules)
        return fail(bad_input("rate_limit has more than " + std::to_string(kMaxRateRules) +
                              " items"));
    return {};
}

Status domain_fields(const Domain& d) {
    if (auto st = sizes({d.max_message_size, d.quota_bytes}); !st) return st;
    return overrides(d.rate_limit, d.recipient_limit);
}

Result<MailboxRow> mailbox(const Mailbox& m, MailboxWrite w) {
    auto addr = parse_address(m.address);
    if (!addr) {
        if (w == MailboxWrite::Add) return fail(addr.error());
        return fail(Error{ErrorKind::NotFound, "no mailbox " + sanitize_for_log(m.address)});
    }
    if (auto st = sizes({m.max_message_size, m.quota_bytes, m.quota_messages}); !st)
        return fail(st.error());
    if (auto st = overrides(m.rate_limit, m.recipient_limit); !st) return fail(st.error());
    if (auto st = password(m.password); !st) return fail(st.error());
    auto maildir = maildir_for(*addr, m.maildir);
    if (!maildir) return fail(maildir.error());
    MailboxRow row{*addr, canonical(*addr), to_lower(addr->domain), std::move(*maildir)};
    return row;
}

std::string canonical(const Address& a) {
    return a.local + "@" + to_lower(a.domain);
}

Result<std::string> alias_side(std::string_view s, std::string* domain) {
    if (!s.empty() && s.front() == '@') {
        auto d = parse_domain(s.substr(1));
        if (!d) return fail(d.error());
        if (domain) *domain = *d;
        return "@" + *d;
    }
    auto a = parse_address(s);
    if (!a) return fail(a.error());
    if (domain) *domain = to_lower(a->domain);
    return canonical(*a);
}

}  // namespace yubin::store::validate
