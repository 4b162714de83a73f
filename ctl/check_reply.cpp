#include "ctl/check_reply.hpp"

#include <array>

#include "core/util/strings.hpp"

namespace yubin::ctl::check {

std::string SmtpReply::text() const {
    std::string s;
    for (const auto& l : lines) {
        if (!s.empty()) s += " / ";
        s += l;
    }
    return s;
}

Result<bool> SmtpReplyReader::feed(std::string_view line) {
    if (line.size() < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
        line[2] < '0' || line[2] > '9')
        return fail(ErrorKind::BadInput, "malformed SMTP reply: " + sanitize_for_log(line, 80));
    if (line.size() > 3 && line[3] != ' ' && line[3] != '-')
        return fail(ErrorKind::BadInput, "malformed SMTP reply: " + sanitize_for_log(line, 80));
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (!reply_.lines.empty() && code != reply_.code)
        return fail(ErrorKind::BadInput, "SMTP reply code changed within a reply: " +
                                             sanitize_for_log(line, 80));
    if (reply_.lines.size() >= kMaxReplyLines)
        return fail(ErrorKind::BadInput, "SMTP reply longer than " +
                                             std::to_string(kMaxReplyLines) + " lines");
    reply_.code = code;
    reply_.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view{});
    return line.size() == 3 || line[3] == ' ';
}

SmtpReply SmtpReplyReader::take() {
    SmtpReply r = std::move(reply_);
    reply_ = SmtpReply{};
    return r;
}

bool Ehlo::has(std::string_view kw) const { return keywords.count(std::string(kw)) != 0; }

std::optional<std::uint64_t> Ehlo::size() const {
    auto it = keywords.find("SIZE");
    if (it == keywords.end()) return std::nullopt;
    auto v = parse_int(trim(it->second));
    if (!v || *v <= 0) return std::nullopt;
    return static_cast<std::uint64_t>(*v);
}

std::vector<std::string> Ehlo::auth_mechanisms() const {
    std::vector<std::string> out;
    auto it = keywords.find("AUTH");
    if (it == keywords.end()) return out;
    for (auto m : split_any(it->second, " ")) {
        std::string u(m);
        for (auto& c : u) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
        out.push_back(u);
    }
    return out;
}

Ehlo parse_ehlo(const SmtpReply& r) {
    Ehlo e;
    // The first line is the greeting ("mail.example.com"); keywords follow.
    for (std::size_t i = 1; i < r.lines.size(); ++i) {
        std::string_view l = trim(r.lines[i]);
        auto sp = l.find_first_of(" =");  // "AUTH=LOGIN" is an old form of "AUTH LOGIN"
        std::string kw(l.substr(0, sp));
        if (kw.empty()) continue;
        for (auto& c : kw) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
        std::string params(sp == std::string_view::npos ? std::string_view{} : trim(l.substr(sp + 1)));
        auto& slot = e.keywords[kw];
        if (!slot.empty() && !params.empty()) slot += ' ';
        slot += params;
    }
    return e;
}

namespace {

// A digit, a dot, a digit: 3.7.11, 8.15.2/8.15.2, v4.96.
bool is_version(std::string_view tok) {
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    for (std::size_t i = 0; i + 2 < tok.size(); ++i)
        if (digit(tok[i]) && tok[i + 1] == '.' && digit(tok[i + 2])) return true;
    return false;
}

}  // namespace

std::optional<std::string> banner_reveals(std::string_view text) {
    static constexpr std::array kSoftware{
        "postfix",  "sendmail", "exim",    "qmail",    "microsoft", "exchange", "smtpsvc",
        "haraka",   "opensmtpd", "courier", "zimbra",  "mdaemon",   "kerio",    "ironport",
        "debian",   "ubuntu",   "centos",  "red hat", "fedora",    "freebsd",  "openbsd",
        "netbsd",   "gnu/linux", "dovecot", "james",   "smail",     "zmailer",  "xmail",
        "hmailserver", "icewarp", "axigen", "mailenable", "communigate", "lotus", "domino"};
    text = trim(text);
    auto sp = text.find(' ');
    // The host name comes first and may contain anything a name can.
    std::string_view rest = sp == std::string_view::npos ? std::string_view{} : text.substr(sp + 1);
    std::string lower = to_lower(rest);
    for (const char* s : kSoftware) {
        if (lower.find(s) != std::string::npos) return "software name \"" + std::string(s) + "\"";
    }
    for (auto tok : split_any(rest, " \t()[];,")) {
        if (is_version(tok)) return "version \"" + sanitize_for_log(tok, 40) + "\"";
    }
    return std::nullopt;
}

ImapLine parse_imap_line(std::string_view line) {
    ImapLine out;
    auto sp = line.find(' ');
    std::string_view first = line.substr(0, sp);
    std::string_view rest = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    auto status_of = [](std::string_view r, std::string& status, std::string& text) {
        auto s2 = r.find(' ');
        std::string word = to_lower(r.substr(0, s2));
        for (auto& c : word) c = static_cast<char>(c - 32 * (c >= 'a' && c <= 'z'));
        if (word == "OK" || word == "NO" || word == "BAD" || word == "PREAUTH" || word == "BYE") {
            status = word;
            text = std::string(s2 == std::string_view::npos ? std::string_view{} : r.substr(s2 + 1));
        } else {
            text = std::string(r);
        }
    };
    if (first == "*") {
        out.kind = ImapLine::Kind::Untagged;
        status_of(rest, out.status, out.text);
        return out;
    }
    if (first == "+") {
        out.kind = ImapLine::Kind::Continuation;
        out.text = std::string(rest);
        return out;
    }
    if (first.empty() || first.size() > 64) return out;
    for (char c : first) {
        if (c <= ' ' || c >= 127 || c == '(' || c == ')' || c == '{' || c == '%' || c == '*' ||
            c == '"' || c == '\\' || c == '+')
            return out;
    }
    status_of(rest, out.status, out.text);
    if (out.status != "OK" && out.status != "NO" && out.status != "BAD") return ImapLine{};
    out.kind = ImapLine::Kind::Tagged;
    out.tag = std::string(first);
    return out;
}

Result<std::optional<std::size_t>> imap_literal_length(std::string_view line, std::size_t max) {
    if (!line.ends_with('}')) return std::optional<std::size_t>{};
    auto open = line.rfind('{');
    if (open == std::string_view::npos) return std::optional<std::size_t>{};
    std::string_view num = line.substr(open + 1, line.size() - open - 2);
    if (num.ends_with('+')) num.remove_suffix(1);
    auto n = parse_int(num);
    if (!n || *n < 0) return fail(ErrorKind::BadInput, "malformed IMAP literal");
    if (static_cast<std::uint64_t>(*n) > max)
        return fail(ErrorKind::BadInput, "IMAP literal of " + std::to_string(*n) + " bytes");
    return std::optional<std::size_t>(static_cast<std::size_t>(*n));
}

std::optional<std::string> imap_quote(std::string_view s) {
    std::string q = "\"";
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u == 0 || u == '\r' || u == '\n' || u >= 0x80) return std::nullopt;
        if (c == '"' || c == '\\') q += '\\';
        q += c;
    }
    q += '"';
    return q;
}

std::vector<std::uint32_t> imap_search_numbers(std::string_view text) {
    std::vector<std::uint32_t> out;
    auto toks = split_any(text, " ");
    if (toks.empty() || !iequals(toks[0], "SEARCH")) return out;
    for (std::size_t i = 1; i < toks.size() && out.size() < 100000; ++i) {
        auto n = parse_int(toks[i]);
        if (n && *n > 0 && *n <= 0xffffffffLL) out.push_back(static_cast<std::uint32_t>(*n));
    }
    return out;
}

Pop3Status parse_pop3_status(std::string_view line) {
    Pop3Status s;
    auto rest = [&](std::size_t n) {
        std::string_view r = line.substr(n);
        if (r.starts_with(' ')) r.remove_prefix(1);
        return std::string(r);
    };
    if (line.starts_with("+OK") && (line.size() == 3 || line[3] == ' ')) {
        s.kind = Pop3Status::Kind::Ok;
        s.text = rest(3);
    } else if (line.starts_with("-ERR") && (line.size() == 4 || line[4] == ' ')) {
        s.kind = Pop3Status::Kind::Err;
        s.text = rest(4);
    } else if (line.starts_with("+ ") || line == "+") {
        s.kind = Pop3Status::Kind::Continuation;
        s.text = rest(1);
    }
    return s;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                     (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += kB64[v & 63];
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
    if (in.size() % 4 != 0) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 4) {
        unsigned v = 0;
        int pad = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            char c = in[i + j];
            unsigned d = 0;
            if (c == '=') {
                if (i + 4 != in.size() || j < 2) return std::nullopt;
                ++pad;
            } else {
                if (pad > 0) return std::nullopt;
                const char* p = c == 0 ? nullptr : std::char_traits<char>::find(kB64, 64, c);
                if (p == nullptr) return std::nullopt;
                d = static_cast<unsigned>(p - kB64);
            }
            v = (v << 6) | d;
        }
        out += static_cast<char>((v >> 16) & 0xff);
        if (pad < 2) out += static_cast<char>((v >> 8) & 0xff);
        if (pad < 1) out += static_cast<char>(v & 0xff);
    }
    return out;
}

}  // namespace yubin::ctl::check
