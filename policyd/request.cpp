#include "policyd/request.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

#include "core/util/strings.hpp"

namespace yubin::policyd {
namespace {

struct Attr {
    std::string_view name;
    std::string Request::*member;
    bool numeric;
};

constexpr auto kAttrs = std::to_array<Attr>({
    {"request", &Request::request, false},
    {"protocol_state", &Request::protocol_state, false},
    {"protocol_name", &Request::protocol_name, false},
    {"helo_name", &Request::helo_name, false},
    {"queue_id", &Request::queue_id, false},
    {"sender", &Request::sender, false},
    {"recipient", &Request::recipient, false},
    {"recipient_count", &Request::recipient_count, true},
    {"client_address", &Request::client_address, false},
    {"client_name", &Request::client_name, false},
    {"client_port", &Request::client_port, true},
    {"reverse_client_name", &Request::reverse_client_name, false},
    {"instance", &Request::instance, false},
    {"sasl_method", &Request::sasl_method, false},
    {"sasl_username", &Request::sasl_username, false},
    {"sasl_sender", &Request::sasl_sender, false},
    {"size", &Request::size, true},
    {"ccert_subject", &Request::ccert_subject, false},
    {"ccert_issuer", &Request::ccert_issuer, false},
    {"ccert_fingerprint", &Request::ccert_fingerprint, false},
    {"ccert_pubkey_fingerprint", &Request::ccert_pubkey_fingerprint, false},
    {"encryption_protocol", &Request::encryption_protocol, false},
    {"encryption_cipher", &Request::encryption_cipher, false},
    {"encryption_keysize", &Request::encryption_keysize, true},
    {"etrn_domain", &Request::etrn_domain, false},
    {"stress", &Request::stress, false},
    {"policy_context", &Request::policy_context, false},
    {"server_address", &Request::server_address, false},
    {"server_port", &Request::server_port, true},
    {"compatibility_level", &Request::compatibility_level, false},
    {"mail_version", &Request::mail_version, false},
});
static_assert(kAttrs.size() <= 64, "seen_ bit set holds 64 attributes");

// The attributes grouped by name length: a lookup compares only the names
// of its length (at most six), not all of them (this runs for every line).
constexpr std::size_t kMaxNameLen = 32;
struct ByLength {
    std::array<std::uint8_t, kAttrs.size()> index{};     // attribute indices, by length
    std::array<std::uint8_t, kMaxNameLen + 2> start{};  // per length: first slot in index
};
constexpr ByLength kByLength = [] {
    ByLength t;
    std::size_t n = 0;
    for (std::size_t len = 0; len <= kMaxNameLen; ++len) {
        t.start[len] = static_cast<std::uint8_t>(n);
        for (std::size_t i = 0; i < kAttrs.size(); ++i)
            if (kAttrs[i].name.size() == len) t.index[n++] = static_cast<std::uint8_t>(i);
    }
    t.start[kMaxNameLen + 1] = static_cast<std::uint8_t>(n);
    return t;
}();
static_assert(kByLength.start[kMaxNameLen + 1] == kAttrs.size(), "a name longer than kMaxNameLen");

int find_attr(std::string_view name) {
    if (name.size() > kMaxNameLen) return -1;
    for (std::size_t k = kByLength.start[name.size()]; k < kByLength.start[name.size() + 1]; ++k)
        if (kAttrs[kByLength.index[k]].name == name) return kByLength.index[k];
    return -1;
}

bool all_digits(std::string_view v) {
    for (char c : v)
        if (c < '0' || c > '9') return false;
    return true;
}

std::int64_t saturating_value(const std::string& v) {
    if (v.empty()) return 0;
    if (auto n = parse_int(v)) return *n;
    return std::numeric_limits<std::int64_t>::max();  // digits checked: only overflow is left
}

}  // namespace

std::int64_t Request::recipient_count_value() const {
    return saturating_value(recipient_count);
}
std::int64_t Request::size_value() const {
    return saturating_value(size);
}

std::string Request::*attribute_member(std::string_view name) {
    int i = find_attr(name);
    return i < 0 ? nullptr : kAttrs[static_cast<std::size_t>(i)].member;
}
std::size_t known_attribute_count() {
    return kAttrs.size();
}
std::string_view known_attribute_name(std::size_t i) {
    return kAttrs.at(i).name;
}

bool RequestParser::fail(std::string why) {
    failed_ = true;
    error_ = std::move(why);
    return false;
}

RequestParser::Step RequestParser::feed(std::string_view data) {
    if (failed_) return {Status::Error, 0};
    if (complete_) return {Status::Complete, 0};
    std::size_t i = 0;
    while (i < data.size()) {
        // The ordinary bytes up to the next event are appended at once (memchr,
        // not a byte at a time); the event is the byte that goes over the size
        // bound, a NUL or a newline, whichever comes first (at one position
        // the bound is checked first).
        std::string_view rest = data.substr(i);
        std::size_t over_at = limits_.max_request_bytes - bytes_;  // bytes_ <= max here
        std::size_t nl_at = rest.find('\n');
        std::size_t nul_at = rest.substr(0, std::min(nl_at, rest.size())).find('\0');
        std::size_t at = std::min({over_at, nl_at, nul_at, rest.size()});
        // A line that is whole in `data` is parsed where it is, without a copy.
        bool direct = line_.empty() && at < rest.size();
        if (!direct) line_.append(rest.data(), at);
        bytes_ += at;
        i += at;
        if (at == rest.size()) break;
        ++bytes_;
        ++i;
        if (at == over_at) {
            fail("request longer than " + std::to_string(limits_.max_request_bytes) + " bytes");
            return {Status::Error, i};
        }
        if (at == nul_at) {
            fail("NUL byte in request");
            return {Status::Error, i};
        }
        if (!finish_line(direct ? rest.substr(0, at) : std::string_view(line_)))
            return {Status::Error, i};
        if (complete_) return {Status::Complete, i};
    }
    return {Status::NeedMore, i};
}

bool RequestParser::finish_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
        if (attributes_ == 0) return fail("empty request");
        if (current_.request != "smtpd_access_policy")
            return fail("not an smtpd_access_policy request");
        complete_ = true;
        line_.clear();
        return true;
    }
    if (++attributes_ > limits_.max_attributes)
        return fail("more than " + std::to_string(limits_.max_attributes) + " attributes");
    auto eq = line.find('=');
    if (eq == std::string_view::npos)
        return fail("line without '=': " + sanitize_for_log(line, 60));
    if (eq == 0) return fail("attribute without a name");
    std::string_view name = line.substr(0, eq), value = line.substr(eq + 1);
    int idx = find_attr(name);
    if (idx >= 0) {
        const Attr& a = kAttrs[static_cast<std::size_t>(idx)];
        std::uint64_t bit = std::uint64_t{1} << idx;
        if (seen_ & bit) return fail("duplicate attribute " + std::string(a.name));
        seen_ |= bit;
        if (a.numeric && !all_digits(value))
            return fail("attribute " + std::string(a.name) +
                        " is not a number: " + sanitize_for_log(value, 40));
        current_.*(a.member) = value;
    }
    line_.clear();
    return true;
}

Request RequestParser::take() {
    Request r;
    take_into(r);
    return r;
}

void RequestParser::take_into(Request& out) {
    // Member by member: both sides keep their strings' buffers, so a server
    // that recycles `out` allocates nothing per request once warm.
    for (const auto& a : kAttrs) {
        (out.*(a.member)).swap(current_.*(a.member));
        (current_.*(a.member)).clear();
    }
    line_.clear();
    bytes_ = 0;
    attributes_ = 0;
    seen_ = 0;
    complete_ = false;
}

std::string format_reply(std::string_view action) {
    std::string out;
    append_reply(out, action);
    return out;
}

void append_reply(std::string& out, std::string_view action) {
    std::size_t at = out.size();
    out.reserve(at + action.size() + 9);
    out += "action=";
    out += action;
    for (std::size_t i = at + 7; i < out.size(); ++i)
        if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
    out += "\n\n";
}

}  // namespace yubin::policyd
