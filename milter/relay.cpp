#include "milter/relay.hpp"

#include "core/util/strings.hpp"

namespace yubin::milter {
namespace {

bool is_routing_char(char c) {
    return c == '@' || c == '%' || c == '!';
}

}  // namespace

ParsedRecipient parse_recipient(std::string_view raw) {
    ParsedRecipient out;
    if (raw.size() > kMaxRcptBytes) {
        out.malformed = true;
        return out;
    }
    std::string_view s = trim(raw);
    const bool open = !s.empty() && s.front() == '<';
    const bool close = !s.empty() && s.back() == '>';
    if (open != close || (open && s.size() < 2)) {
        out.malformed = true;
        return out;
    }
    if (open) s = trim(s.substr(1, s.size() - 2));
    if (s.empty()) {  // the null recipient "<>"
        out.malformed = true;
        return out;
    }

    // Source route: "@a,@b:" up to the first ':' (outside quotes, which a
    // route cannot contain anyway).
    if (s.front() == '@') {
        out.source_route = true;
        const auto colon = s.find(':');
        if (colon == std::string_view::npos) {
            out.malformed = true;
            return out;
        }
        s.remove_prefix(colon + 1);
    }

    // One pass: the last '@' that is neither quoted nor escaped separates
    // local part and domain.
    bool quoted = false;
    bool escaped = false;
    std::size_t at = std::string_view::npos;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (escaped) {
            escaped = false;
        } else if (c == '\\') {
            escaped = true;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (c == '@' && !quoted) {
            at = i;
        }
    }
    if (quoted || escaped) {
        out.malformed = true;
        return out;
    }

    std::string_view local = at == std::string_view::npos ? s : s.substr(0, at);
    std::string_view domain = at == std::string_view::npos ? std::string_view{} : s.substr(at + 1);
    out.local = std::string(local);
    for (char c : local)
        if (is_routing_char(c)) out.routing = true;  // bare, quoted or escaped alike

    if (at != std::string_view::npos) {
        if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
        if (domain.empty() || domain.back() == '.' || local.empty()) {
            out.malformed = true;
            return out;
        }
        out.domain = to_lower(domain);
    }
    return out;
}

RelayDecision decide_relay(std::string_view raw_rcpt, const RelayClient& client,
                           const LocalDomainFn& is_local) {
    using V = RelayVerdict;
    if (client.authenticated) return {V::Accept, "authenticated client"};
    if (client.trusted) return {V::Accept, "trusted network"};

    const ParsedRecipient p = parse_recipient(raw_rcpt);
    if (p.malformed) return {V::Reject, "malformed recipient"};
    if (p.source_route) return {V::Reject, "source route"};
    if (p.routing) return {V::Reject, "routing operator in local part"};
    if (p.domain.empty()) {
        if (iequals(p.local, "postmaster") || iequals(p.local, "\"postmaster\""))
            return {V::Accept, "postmaster"};
        return {V::Reject, "unqualified recipient"};
    }
    auto local = is_local(p.domain);
    if (!local) return {V::TempFail, "cannot look up domain: " + local.error().what};
    // The domain the decision was made on, for the log (and for the test
    // that compares it with where Postfix routes the address).
    const std::string shown = sanitize_for_log(p.domain, 255);
    if (*local) return {V::Accept, "local domain " + shown};
    return {V::Reject, "foreign domain " + shown};
}

}  // namespace yubin::milter
