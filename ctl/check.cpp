#include "ctl/check.hpp"

#include <unistd.h>

#include <ctime>
#include <ostream>
#include <random>
#include <thread>

#include "core/util/strings.hpp"
#include "ctl/check_mailbox.hpp"
#include "ctl/check_relay.hpp"
#include "ctl/check_reply.hpp"
#include "ctl/check_smtp.hpp"

namespace yubin::ctl::check {
namespace {

using Clock = std::chrono::steady_clock;

// 未承諾広告※テスト送信 ("unsolicited advertisement: test send") as mass
// mailers in Japan send it: each variant is one check, spam-<name>, so a
// filter that knows only one charset or one encoding shows up.
struct SpamVariant {
    const char* name;     // check name after "spam-"
    const char* label;    // how the result line describes the Subject
    const char* subject;  // the Subject field body, already encoded
    const char* charset;  // Content-Type charset of the body
    const char* cte;      // Content-Transfer-Encoding
    const char* body;
};
constexpr SpamVariant kSpamVariants[] = {
    {"iso-2022-jp", "ISO-2022-JP B", "=?ISO-2022-JP?B?GyRCTCQ+NUJ6OS05cCIoJUYlOSVIQXc/LhsoQg==?=",
     "ISO-2022-JP", "7bit", "\x1b$B$3$l$O\x1b(B yubinctl check \x1b$B$N;n839-9p$G$9!#\x1b(B\r\n"},
    {"utf-8-b", "UTF-8 B", "=?UTF-8?B?5pyq5om/6Ku+5bqD5ZGK4oC744OG44K544OI6YCB5L+h?=", "UTF-8", "8bit",
     "\xe3\x81\x93\xe3\x82\x8c\xe3\x81\xaf yubinctl check test\r\n"},
    // Two encoded words (one may hold at most 75 characters), folded.
    {"utf-8-q", "UTF-8 Q",
     "=?UTF-8?Q?=E6=9C=AA=E6=89=BF=E8=AB=BE=E5=BA=83=E5=91=8A?=\r\n"
     " =?UTF-8?Q?=E2=80=BB=E3=83=86=E3=82=B9=E3=83=88=E9=80=81=E4=BF=A1?=",
     "UTF-8", "8bit", "\xe3\x81\x93\xe3\x82\x8c\xe3\x81\xaf yubinctl check test\r\n"},
    {"shift-jis", "Shift_JIS B", "=?Shift_JIS?B?lqKPs5H4jUyNkIGmg2WDWINnkZeQTQ==?=", "Shift_JIS", "8bit",
     "\x82\xb1\x82\xea\x82\xcd yubinctl check test\r\n"},
    // Raw 8-bit CP932 in the header, no encoded word: common in old mass mailers.
    {"shift-jis-8bit", "unencoded 8-bit Shift_JIS",
     "\x96\xa2\x8f\xb3\x91\xf8\x8dL\x8d\x90\x81\xa6\x83\x65\x83X\x83g\x91\x97\x90M", "Shift_JIS", "8bit",
     "\x82\xb1\x82\xea\x82\xcd yubinctl check test\r\n"},
    {"euc-jp", "EUC-JP B", "=?EUC-JP?B?zKS+tcL6ua258KKopcaluaXIwfe/rg==?=", "EUC-JP", "8bit",
     "\xa4\xb3\xa4\xec\xa4\xcf yubinctl check test\r\n"},
};
constexpr std::size_t kRelayBatch = 5;   // probes per connection: stays under smtpd_soft_error_limit
constexpr std::size_t kMaxFolders = 100;

// Server text, made safe to print.
std::string reply_text(const SmtpReply& r) {
    return std::to_string(r.code) + " " + sanitize_for_log(r.text(), 300);
}

std::string domain_of(const std::string& address) {
    auto at = address.rfind('@');
    return at == std::string::npos ? std::string{} : address.substr(at + 1);
}

std::string default_helo() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) == 0 && std::string_view(buf).find('.') != std::string_view::npos)
        return buf;
    return "yubinctl-check.invalid";
}

std::string unique_token() {
    std::random_device rd;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%lx.%d.%08x%08x", static_cast<long>(std::time(nullptr)),
                  static_cast<int>(::getpid()), rd(), rd());
    return buf;
}

std::string rfc5322_date() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

bool is_loopback(const std::string& ip) { return ip.starts_with("127.") || ip == "::1"; }

// Dovecot counts a client on the server's own address or loopback as secure
// and allows plaintext logins to it whatever disable_plaintext_auth says.
std::string loopback_hint(const std::string& peer) {
    return is_loopback(peer) ? "; tested over loopback, which Dovecot treats as secure: use --bind "
                               "with another address or test from another host"
                             : "";
}

std::string tls_summary(const TlsInfo& i) { return i.version + " " + i.cipher; }

std::string join(const std::vector<std::string>& v, std::string_view sep) {
    std::string s;
    for (const auto& x : v) {
        if (!s.empty()) s += sep;
        s += x;
    }
    return s;
}

// The mailbox name at the end of an untagged LIST response.
std::optional<std::string> list_mailbox(const ImapLine& l) {
    if (!istarts_with(l.text, "LIST ")) return std::nullopt;
    std::string_view t = l.text;
    if (t.ends_with('"')) {
        auto open = t.rfind('"', t.size() - 2);
        if (open == std::string_view::npos || open + 1 >= t.size()) return std::nullopt;
        std::string out;
        for (std::size_t i = open + 1; i + 1 < t.size(); ++i) {
            if (t[i] == '\\' && i + 2 < t.size()) ++i;
            out += t[i];
        }
        return out;
    }
    auto sp = t.rfind(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    return std::string(t.substr(sp + 1));
}

class Checker {
public:
    Checker(const CheckOptions& o, Report& r, std::shared_ptr<TlsContext> ctx)
        : o_(o), report_(r), ctx_(std::move(ctx)), helo_(o.helo.empty() ? default_helo() : o.helo) {}

    void run() {
        tls_name_ = o_.tls_name;
        smtp_checks();
        if (tls_name_.empty()) tls_name_ = o_.host;
        submission_checks();
        smtps_check();
        relay_checks();
        spam_send();
        imap_check(false);
        imap_check(true);
        pop3_check(false);
        pop3_check(true);
        mailbox_checks();
    }

private:
    [[nodiscard]] bool skipped(std::string_view name) const {
        for (const auto& s : o_.skip) {
            if (name == s) return true;
            if (name.size() > s.size() && name.starts_with(s) && name[s.size()] == '-') return true;
        }
        return false;
    }
    [[nodiscard]] std::string local_rcpt() const { return o_.local_rcpt.empty() ? o_.user : o_.local_rcpt; }

    // Connects (with TLS at once when IMPLICIT), reads the 220 greeting.
    Result<std::pair<SmtpSession, SmtpReply>> smtp_open(int port, bool implicit) {
        auto c = Connection::open(o_.host, port, o_.timeout, o_.bind);
        if (!c) return fail(c.error());
        if (implicit) {
            if (auto t = c->start_tls(*ctx_, tls_name_); !t) return fail(t.error());
        }
        SmtpSession s(std::move(*c));
        auto banner = s.read_reply();
        if (!banner) return fail(banner.error());
        if (banner->code != 220)
            return fail(ErrorKind::Perm, "greeting " + sanitize_for_log(reply_text(*banner)));
        return std::pair<SmtpSession, SmtpReply>(std::move(s), std::move(*banner));
    }

    void smtp_checks() {
        bool want = !skipped("banner") || !skipped("ehlo") || !skipped("starttls") ||
                    !skipped("certificate") || !skipped("size") || !skipped("relay") || !skipped("spam");
        if (!want) return;
        auto opened = smtp_open(o_.smtp_port, false);
        if (!opened) {
            report_.fail("smtp", "port " + std::to_string(o_.smtp_port) + ": " + opened.error().what);
            return;
        }
        auto& [s, banner] = *opened;
        server_ip_ = s.conn().peer_address();
        std::string first = banner.lines.empty() ? std::string{} : sanitize_for_log(banner.lines.front());
        auto sp = first.find(' ');
        std::string host = first.substr(0, sp);
        if (host.find('.') != std::string::npos && host.find_first_of("[]:") == std::string::npos)
            server_name_ = host;
        if (tls_name_.empty()) tls_name_ = server_name_;
        if (tls_name_.empty()) tls_name_ = o_.host;
        if (!skipped("banner")) {
            if (auto what = banner_reveals(first))
                report_.fail("banner", "\"220 " + first + "\" reveals a " + *what);
            else
                report_.ok("banner", "\"220 " + first + "\" names no software or version");
        }
        auto ehlo = s.ehlo(helo_);
        if (!ehlo) {
            report_.fail("ehlo", ehlo.error().what);
            return;
        }
        std::vector<std::string> missing;
        for (const char* kw : {"SIZE", "STARTTLS", "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"})
            if (!ehlo->has(kw)) missing.emplace_back(kw);
        auto size = ehlo->size();
        size_limit_ = o_.max_size ? o_.max_size : size;
        if (!skipped("ehlo")) {
            if (missing.empty())
                report_.ok("ehlo", "SIZE STARTTLS PIPELINING 8BITMIME ENHANCEDSTATUSCODES advertised");
            else
                report_.fail("ehlo", "not advertised: " + join(missing, " "));
            if (!size)
                report_.fail("ehlo-size", "no SIZE limit advertised");
            else if (o_.max_size && *size != *o_.max_size)
                report_.fail("ehlo-size", "SIZE " + std::to_string(*size) + ", want " +
                                              std::to_string(*o_.max_size));
            else
                report_.ok("ehlo-size", "SIZE " + std::to_string(*size));
        }
        if (!skipped("starttls") || !skipped("certificate")) {
            auto t = s.starttls(*ctx_, tls_name_);
            if (!t) {
                report_.fail("starttls", "port " + std::to_string(o_.smtp_port) + ": " + t.error().what);
                return;
            }
            auto again = s.ehlo(helo_);
            if (!skipped("starttls")) {
                if (again)
                    report_.ok("starttls", "port " + std::to_string(o_.smtp_port) + ": " +
                                               tls_summary(s.conn().tls_info()));
                else
                    report_.fail("starttls", "EHLO after STARTTLS: " + again.error().what);
            }
            if (!skipped("certificate")) report_.add(judge_certificate(s.conn().tls_info(), !o_.cafile.empty()));
            if (!again) return;
        }
        if (!skipped("size")) size_check(s);
        s.quit();
    }

    void size_check(SmtpSession& s) {
        if (!size_limit_) {
            report_.warn("size-limit", "no limit known (give --max-size or advertise SIZE)");
            return;
        }
        std::string over = std::to_string(*size_limit_ + 1);
        auto r = s.command("MAIL FROM:<spamtest@" + o_.relay_domain + "> SIZE=" + over);
        if (!r) {
            report_.fail("size-limit", r.error().what);
            return;
        }
        std::string what = "MAIL FROM with SIZE=" + over + ": " + reply_text(*r);
        if (r->code == 552)
            report_.ok("size-limit", what);
        else if (r->code >= 500)
            report_.warn("size-limit", what + " (refused, but not with 552)");
        else
            report_.fail("size-limit", what);
        (void)s.command("RSET");
    }

    void submission_checks() {
        bool auth_checks = !o_.user.empty() &&
                           (!skipped("auth") || !skipped("relay-control-auth") || !skipped("delivery"));
        if (skipped("submission") && !auth_checks) return;
        auto opened = smtp_open(o_.submission_port, false);
        if (!opened) {
            report_.fail("submission", "port " + std::to_string(o_.submission_port) + ": " + opened.error().what);
            return;
        }
        auto& s = opened->first;
        auto e1 = s.ehlo(helo_);
        if (!e1) {
            report_.fail("submission", e1.error().what);
            return;
        }
        if (!skipped("submission")) {
            auto m = e1->auth_mechanisms();
            if (m.empty())
                report_.ok("submission-auth-before-tls", "AUTH not offered before STARTTLS");
            else
                report_.fail("submission-auth-before-tls", "AUTH " + join(m, " ") + " offered before STARTTLS");
        }
        if (auto t = s.starttls(*ctx_, tls_name_); !t) {
            report_.fail("submission-starttls", t.error().what);
            return;
        }
        auto e2 = s.ehlo(helo_);
        if (!e2) {
            report_.fail("submission-starttls", "EHLO after STARTTLS: " + e2.error().what);
            return;
        }
        auto mechs = e2->auth_mechanisms();
        if (!skipped("submission")) {
            if (mechs.empty())
                report_.fail("submission-starttls", tls_summary(s.conn().tls_info()) + ", but no AUTH offered");
            else
                report_.ok("submission-starttls", tls_summary(s.conn().tls_info()) + ", AUTH " + join(mechs, " "));
        }
        if (o_.user.empty()) {
            report_.warn("auth", "no --user given: SMTP AUTH, authenticated relay and delivery not tested");
            return;
        }
        if (!skipped("auth-wrong-password")) {
            auto r = s.auth_plain(o_.user, o_.password + "-wrong");
            if (!r)
                report_.fail("auth-wrong-password", r.error().what);
            else if (r->code >= 500)
                report_.ok("auth-wrong-password", "refused: " + reply_text(*r));
            else if (r->code == 235)
                report_.fail("auth-wrong-password", "a wrong password was accepted: " + reply_text(*r));
            else
                report_.warn("auth-wrong-password", reply_text(*r));
            if (!r || r->code == 235) return;
        }
        auto plain = s.auth_plain(o_.user, o_.password);
        bool authed = plain && plain->code == 235;
        if (!skipped("auth-plain")) {
            if (authed)
                report_.ok("auth-plain", reply_text(*plain));
            else
                report_.fail("auth-plain", plain ? reply_text(*plain) : plain.error().what);
        }
        if (authed) {
            if (!skipped("relay-control-auth")) relay_control_auth(s);
            if (!skipped("delivery")) send_test_message(s);
            if (o_.stream_oversize && !skipped("size")) stream_oversize(s);
        }
        s.quit();
        if (!skipped("auth-login")) auth_login();
    }

    void relay_control_auth(SmtpSession& s) {
        auto m = s.command("MAIL FROM:<" + o_.user + ">");
        auto r = m && m->positive() ? s.command("RCPT TO:<relaytest@" + o_.relay_domain + ">") : m;
        if (r && r->positive())
            report_.ok("relay-control-auth", "authenticated user may relay: " + reply_text(*r));
        else
            report_.fail("relay-control-auth", "authenticated relaying refused: " +
                                                   (r ? reply_text(*r) : r.error().what));
        (void)s.command("RSET");
    }

    void send_test_message(SmtpSession& s) {
        std::string id = "<yubinctl-check." + unique_token() + "@" + helo_ + ">";
        std::string msg = "From: <" + o_.user + ">\r\nTo: <" + o_.user + ">\r\nSubject: yubinctl check " +
                          "test message\r\nDate: " + rfc5322_date() + "\r\nMessage-ID: " + id +
                          "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" +
                          "Sent by yubinctl check to test delivery. It may be deleted.\r\n";
        auto m = s.command("MAIL FROM:<" + o_.user + ">");
        auto r = m && m->positive() ? s.command("RCPT TO:<" + o_.user + ">") : m;
        if (r && r->positive()) r = s.data(msg);
        if (r && r->code == 250) {
            test_id_ = id;
            sent_at_ = Clock::now();
        } else {
            report_.fail("delivery", "test message not accepted on port " + std::to_string(o_.submission_port) +
                                         ": " + (r ? reply_text(*r) : r.error().what));
            (void)s.command("RSET");
        }
    }

    // A message just over the limit, without SIZE=: the server must count.
    void stream_oversize(SmtpSession& s) {
        if (!size_limit_) return;
        auto m = s.command("MAIL FROM:<" + o_.user + ">");
        auto r = m && m->positive() ? s.command("RCPT TO:<" + o_.user + ">") : m;
        if (r && r->positive()) {
            std::string msg = "Subject: yubinctl check oversized message\r\n\r\n";
            std::string line(998, 'x');
            line += "\r\n";
            while (msg.size() <= *size_limit_ + 1024) msg += line;
            r = s.data(msg);
        }
        if (r && r->code == 552)
            report_.ok("size-limit-stream", std::to_string(*size_limit_ + 1024) + " bytes refused: " + reply_text(*r));
        else if (r && r->code >= 500)
            report_.warn("size-limit-stream", "refused, but not with 552: " + reply_text(*r));
        else
            report_.fail("size-limit-stream", r ? "oversized message: " + reply_text(*r) : r.error().what);
        (void)s.command("RSET");
    }

    void auth_login() {
        auto opened = smtp_open(o_.submission_port, false);
        Result<SmtpReply> r = fail(ErrorKind::Temp, "");
        if (!opened) {
            r = fail(opened.error());
        } else {
            auto& s = opened->first;
            auto e = s.ehlo(helo_);
            Status t = e ? s.starttls(*ctx_, tls_name_) : Status(fail(e.error()));
            if (t) e = s.ehlo(helo_);
            r = !t ? Result<SmtpReply>(fail(t.error()))
                   : !e ? Result<SmtpReply>(fail(e.error())) : s.auth_login(o_.user, o_.password);
            s.quit();
        }
        if (r && r->code == 235)
            report_.ok("auth-login", reply_text(*r));
        else
            report_.fail("auth-login", r ? reply_text(*r) : r.error().what);
    }

    void smtps_check() {
        if (skipped("smtps")) return;
        auto opened = smtp_open(o_.smtps_port, true);
        if (!opened) {
            report_.fail("smtps", "port " + std::to_string(o_.smtps_port) + ": " + opened.error().what);
            return;
        }
        auto& s = opened->first;
        auto e = s.ehlo(helo_);
        if (!e)
            report_.fail("smtps", e.error().what);
        else
            report_.ok("smtps", "port " + std::to_string(o_.smtps_port) + ": " + tls_summary(s.conn().tls_info()) +
                                    (e->auth_mechanisms().empty() ? "" : ", AUTH " + join(e->auth_mechanisms(), " ")));
        s.quit();
    }

    void relay_checks() {
        if (skipped("relay")) return;
        RelayTarget t;
        t.relay_domain = o_.relay_domain;
        t.local_domain = domain_of(local_rcpt());
        t.server_name = server_name_;
        t.server_ip = server_ip_;
        auto probes = relay_probes(t);
        std::vector<std::string> accepted, temporary;
        std::string error;
        for (std::size_t i = 0; i < probes.size() && error.empty(); i += kRelayBatch) {
            auto opened = smtp_open(o_.smtp_port, false);
            if (!opened) {
                error = opened.error().what;
                break;
            }
            auto& s = opened->first;
            if (auto e = s.ehlo(helo_); !e) {
                error = e.error().what;
                break;
            }
            for (std::size_t j = i; j < std::min(i + kRelayBatch, probes.size()); ++j) {
                const auto& p = probes[j];
                std::string what = p.name + ": MAIL FROM:" + p.mail_from + " RCPT TO:" + p.rcpt_to;
                auto m = s.command("MAIL FROM:" + p.mail_from);
                if (!m) {
                    error = what + ": " + m.error().what;
                    break;
                }
                if (m->positive()) {
                    auto r = s.command("RCPT TO:" + p.rcpt_to);
                    if (!r) {
                        error = what + ": " + r.error().what;
                        break;
                    }
                    if (r->positive()) accepted.push_back(what + " -> " + reply_text(*r));
                    else if (r->code < 500) temporary.push_back(what + " -> " + reply_text(*r));
                }
                if (auto rs = s.command("RSET"); !rs) {
                    error = "RSET: " + rs.error().what;
                    break;
                }
            }
            s.quit();
        }
        CheckResult res{"relay", Outcome::Ok, "", {}};
        std::string n = std::to_string(probes.size());
        if (!accepted.empty()) {
            res.outcome = Outcome::Fail;
            res.detail = "OPEN RELAY: " + std::to_string(accepted.size()) + " of " + n + " relay variants accepted";
            for (auto& a : accepted) res.notes.push_back("accepted: " + a);
        } else if (!error.empty()) {
            res.outcome = Outcome::Fail;
            res.detail = "relay test incomplete: " + error;
        } else if (!temporary.empty()) {
            res.outcome = Outcome::Warn;
            res.detail = "no relays accepted, but " + std::to_string(temporary.size()) + " of " + n +
                         " variants got a temporary answer (inconclusive)";
            for (auto& a : temporary) res.notes.push_back("temporary: " + a);
        } else {
            res.detail = "no relays accepted (" + n + " variants refused)";
        }
        if (res.outcome != Outcome::Ok && is_loopback(server_ip_) && o_.bind.empty())
            res.notes.push_back("tested over loopback, which Postfix's default mynetworks trusts: "
                                "run from another host or use --bind");
        report_.add(std::move(res));

        if (skipped("relay-control-local")) return;
        if (local_rcpt().empty()) {
            report_.warn("relay-control-local", "no --local-rcpt or --user: local delivery not tested");
            return;
        }
        auto opened = smtp_open(o_.smtp_port, false);
        Result<SmtpReply> r = opened ? opened->first.ehlo(helo_).map([](Ehlo) { return SmtpReply{}; })
                                     : Result<SmtpReply>(fail(opened.error()));
        if (r) r = opened->first.command("MAIL FROM:<spamtest@" + o_.relay_domain + ">");
        if (r && r->positive()) r = opened->first.command("RCPT TO:<" + local_rcpt() + ">");
        if (r && r->positive())
            report_.ok("relay-control-local", "mail for <" + local_rcpt() + "> accepted: " + reply_text(*r));
        else if (r && r->code < 500)
            report_.warn("relay-control-local", "mail for <" + local_rcpt() + "> deferred: " + reply_text(*r));
        else
            report_.fail("relay-control-local", "mail for <" + local_rcpt() + "> refused: " +
                                                    (r ? reply_text(*r) : r.error().what));
        if (opened) {
            (void)opened->first.command("RSET");
            opened->first.quit();
        }
    }

    void spam_send() {
        bool any = false;
        for (const auto& v : kSpamVariants) any = any || !skipped(std::string("spam-") + v.name);
        if (!any) return;
        std::string rcpt = local_rcpt();
        if (rcpt.empty()) {
            report_.warn("spam", "no --local-rcpt or --user: the 未承諾広告 filter not tested");
            return;
        }
        for (const auto& v : kSpamVariants) {
            std::string check = std::string("spam-") + v.name;
            if (!skipped(check)) spam_send_one(v, check, rcpt);
        }
    }

    void spam_send_one(const SpamVariant& v, const std::string& check, const std::string& rcpt) {
        std::string what = std::string("未承諾広告 (") + v.label + " Subject)";
        std::string id = "<yubinctl-spam." + unique_token() + "@" + helo_ + ">";
        std::string msg = "From: <spamtest@" + o_.relay_domain + ">\r\nTo: <" + rcpt + ">\r\nSubject: " +
                          v.subject + "\r\nDate: " + rfc5322_date() + "\r\nMessage-ID: " + id +
                          "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=" + v.charset +
                          "\r\nContent-Transfer-Encoding: " + v.cte + "\r\n\r\n" + v.body;
        auto opened = smtp_open(o_.smtp_port, false);
        Result<SmtpReply> r = opened ? opened->first.ehlo(helo_).map([](Ehlo) { return SmtpReply{}; })
                                     : Result<SmtpReply>(fail(opened.error()));
        if (r) r = opened->first.command("MAIL FROM:<spamtest@" + o_.relay_domain + ">");
        if (r && r->positive()) r = opened->first.command("RCPT TO:<" + rcpt + ">");
        if (r && r->positive()) r = opened->first.data(msg);
        if (opened) opened->first.quit();
        if (!r) {
            report_.fail(check, r.error().what);
        } else if (r->code >= 500) {
            report_.ok(check, what + " refused at SMTP: " + reply_text(*r));
        } else if (r->code != 250) {
            report_.warn(check, what + " test message not accepted for <" + rcpt + ">: " + reply_text(*r));
        } else if (rcpt != o_.user || o_.password.empty()) {
            report_.warn(check, what + " accepted at SMTP (" + reply_text(*r) +
                                    "); give --user to see where it was filed");
        } else {
            spam_.push_back(SpamSent{check, what, id, reply_text(*r), {}});
            if (!sent_at_) sent_at_ = Clock::now();
        }
    }

    // Opens an IMAP session over STARTTLS (143) or implicit TLS (993); with
    // PLAINTEXT, reports whether LOGIN was offered before STARTTLS.
    Result<ImapSession> imap_open(bool implicit, bool plaintext = false) {
        int port = implicit ? o_.imaps_port : o_.imap_port;
        auto c = Connection::open(o_.host, port, o_.timeout, o_.bind);
        if (!c) return fail(c.error());
        if (implicit) {
            if (auto t = c->start_tls(*ctx_, tls_name_); !t) return fail(t.error());
        }
        ImapSession s(std::move(*c));
        if (auto g = s.greeting(); !g) return fail(g.error());
        if (!implicit && plaintext && !skipped("imap-plaintext")) {
            auto caps = s.command("CAPABILITY");
            bool disabled = false;
            if (caps && caps->ok())
                for (const auto& u : caps->untagged)
                    disabled = disabled || (istarts_with(u.text, "CAPABILITY ") &&
                                            to_lower(u.text).find(" logindisabled") != std::string::npos);
            if (!caps || !caps->ok())
                report_.warn("imap-plaintext", "CAPABILITY failed before STARTTLS");
            else if (disabled)
                report_.ok("imap-plaintext", "LOGINDISABLED before STARTTLS: no password in clear text");
            else
                report_.warn("imap-plaintext", "LOGIN allowed before STARTTLS: passwords may cross in clear "
                                               "text (Dovecot: disable_plaintext_auth = yes)" +
                                               loopback_hint(s.conn().peer_address()));
        }
        if (!implicit) {
            if (auto t = s.starttls(*ctx_, tls_name_); !t) return fail(t.error());
        }
        return s;
    }

    void imap_check(bool implicit) {
        std::string name = implicit ? "imaps" : "imap";
        if (skipped(name)) return;
        int port = implicit ? o_.imaps_port : o_.imap_port;
        auto s = imap_open(implicit, true);
        if (!s) {
            report_.fail(name, "port " + std::to_string(port) + ": " + s.error().what);
            return;
        }
        std::string how = "port " + std::to_string(port) + ": " + (implicit ? "" : "STARTTLS, ") +
                          tls_summary(s->conn().tls_info());
        if (o_.user.empty()) {
            report_.ok(name, how + " (no --user: login not tested)");
        } else {
            auto l = s->login(o_.user, o_.password);
            if (l && l->ok())
                report_.ok(name, how + ", LOGIN ok");
            else
                report_.fail(name, how + ", LOGIN failed: " + (l ? sanitize_for_log(l->tagged.text) : l.error().what));
        }
        s->logout();
    }

    void pop3_check(bool implicit) {
        std::string name = implicit ? "pop3s" : "pop3";
        if (skipped(name)) return;
        int port = implicit ? o_.pop3s_port : o_.pop3_port;
        auto c = Connection::open(o_.host, port, o_.timeout, o_.bind);
        Status st = c ? Status{} : Status(fail(c.error()));
        if (st && implicit) st = c->start_tls(*ctx_, tls_name_);
        std::optional<Pop3Session> s;
        if (st) {
            s.emplace(std::move(*c));
            if (auto g = s->greeting(); !g) st = fail(g.error());
        }
        if (st && !implicit && !skipped("pop3-plaintext")) {
            // USER in CAPA before STLS: the server takes passwords in clear text.
            auto capa = s->command("CAPA");
            Result<std::vector<std::string>> lines =
                capa && capa->kind == Pop3Status::Kind::Ok ? s->multiline(1000)
                                                           : Result<std::vector<std::string>>(std::vector<std::string>{});
            bool user = false;
            if (lines)
                for (const auto& l : *lines) user = user || iequals(trim(l), "USER");
            if (!lines)
                st = fail(lines.error());
            else if (!capa || capa->kind != Pop3Status::Kind::Ok)
                report_.warn("pop3-plaintext", "CAPA failed before STLS");
            else if (user)
                report_.warn("pop3-plaintext", "USER/PASS allowed before STLS: passwords may cross in clear "
                                               "text (Dovecot: disable_plaintext_auth = yes)" +
                                               loopback_hint(s->conn().peer_address()));
            else
                report_.ok("pop3-plaintext", "no USER before STLS: no password in clear text");
        }
        if (st && !implicit) st = s->stls(*ctx_, tls_name_);
        if (!st) {
            report_.fail(name, "port " + std::to_string(port) + ": " + st.error().what);
            return;
        }
        std::string how = "port " + std::to_string(port) + ": " + (implicit ? "" : "STLS, ") +
                          tls_summary(s->conn().tls_info());
        if (o_.user.empty()) {
            report_.ok(name, how + " (no --user: login not tested)");
        } else {
            auto l = s->login(o_.user, o_.password);
            if (l && l->kind == Pop3Status::Kind::Ok) {
                auto stat = s->command("STAT");
                report_.ok(name, how + ", login ok" +
                                     (stat && stat->kind == Pop3Status::Kind::Ok ? ", STAT " + sanitize_for_log(stat->text) : ""));
            } else {
                report_.fail(name, how + ", login failed: " + (l ? sanitize_for_log(l->text) : l.error().what));
            }
        }
        s->quit();
    }

    // Where the test messages ended up: polls IMAP until both are found or
    // delivery_wait has passed.
    void mailbox_checks() {
        if (test_id_.empty() && spam_.empty()) return;
        bool implicit = !skipped("imaps");
        auto s = imap_open(implicit);
        Result<ImapResponse> l = s ? s->login(o_.user, o_.password) : Result<ImapResponse>(fail(s.error()));
        if (!l || !l->ok()) {
            std::string why = "cannot look: IMAP " + (l ? sanitize_for_log(l->tagged.text) : l.error().what);
            if (!test_id_.empty()) report_.fail("delivery", why);
            for (const auto& m : spam_) report_.warn(m.check, m.what + " accepted at SMTP (" + m.reply + "); " + why);
            return;
        }
        std::string test_found;
        auto spam_pending = [&] {
            for (const auto& m : spam_)
                if (m.found.empty()) return true;
            return false;
        };
        auto deadline = *sent_at_ + o_.delivery_wait;
        double test_secs = 0;
        for (;;) {
            // Listed again each round: the Junk folder may be created by the
            // delivery. The usual names are tried even when not listed: a
            // folder made by another program in the same second as the last
            // LIST may be missing from the server's list index for a while.
            std::vector<std::string> folders{"INBOX"};
            if (!spam_.empty()) {
                std::vector<std::string> names{"Junk", "Spam"};
                auto list = s->command("LIST \"\" \"*\"");
                if (list && list->ok()) {
                    for (const auto& u : list->untagged)
                        if (auto f = list_mailbox(u)) names.push_back(*f);
                }
                for (const auto& n : names) {
                    bool dup = false;
                    for (const auto& f : folders) dup = dup || iequals(f, n);
                    if (!dup && folders.size() < kMaxFolders) folders.push_back(n);
                }
            }
            for (const auto& f : folders) {
                if ((test_id_.empty() || !test_found.empty()) && !spam_pending()) break;
                auto q = imap_quote(f);
                if (!q) continue;
                auto ex = s->command("EXAMINE " + *q);
                if (!ex) break;  // the connection is gone: the report says not found
                if (!ex->ok()) continue;  // no such folder (yet)
                if (f == "INBOX" && !test_id_.empty() && test_found.empty() && search(*s, test_id_)) {
                    test_found = f;
                    test_secs = std::chrono::duration<double>(Clock::now() - *sent_at_).count();
                }
                for (auto& m : spam_)
                    if (m.found.empty() && search(*s, m.id)) m.found = f;
            }
            bool done = (test_id_.empty() || !test_found.empty()) && !spam_pending();
            if (done || Clock::now() >= deadline) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
        std::string wait_s = std::to_string(o_.delivery_wait.count() / 1000) + " s";
        if (!test_id_.empty()) {
            if (!test_found.empty()) {
                char buf[32];
                std::snprintf(buf, sizeof buf, "%.1f", test_secs);
                report_.ok("delivery", "test message " + test_id_ + " found in INBOX over IMAP after " + buf + " s");
            } else {
                report_.fail("delivery", "test message " + test_id_ + " not in INBOX after " + wait_s);
            }
        }
        for (const auto& m : spam_) {
            if (m.found.empty())
                report_.warn(m.check, m.what + " accepted at SMTP (" + m.reply + ") and not found in any folder after " +
                                          wait_s + " (still queued, discarded or quarantined?)");
            else if (m.found == "INBOX")
                report_.fail(m.check, m.what + " accepted at SMTP and delivered to INBOX");
            else
                report_.ok(m.check, m.what + " accepted and junked into folder " + m.found);
        }
        s->logout();
    }

    bool search(ImapSession& s, const std::string& id) {
        auto q = imap_quote(id);
        if (!q) return false;
        auto r = s.command("SEARCH HEADER Message-ID " + *q);
        if (!r || !r->ok()) return false;
        for (const auto& u : r->untagged)
            if (!imap_search_numbers(u.text).empty()) return true;
        return false;
    }

    const CheckOptions& o_;
    Report& report_;
    std::shared_ptr<TlsContext> ctx_;
    std::string helo_;
    std::string tls_name_, server_name_, server_ip_;
    std::optional<std::uint64_t> size_limit_;
    struct SpamSent {
        std::string check, what, id, reply, found;  // found: the folder, once seen
    };
    std::string test_id_;
    std::vector<SpamSent> spam_;
    std::optional<Clock::time_point> sent_at_;
};

}  // namespace

const std::vector<std::string>& check_names() {
    static const std::vector<std::string> names{
        "smtp", "banner", "ehlo", "ehlo-size", "starttls", "certificate", "size-limit", "size-limit-stream",
        "submission-auth-before-tls", "submission-starttls", "auth-wrong-password", "auth-plain", "auth-login",
        "relay-control-auth", "smtps", "relay", "relay-control-local", "spam-iso-2022-jp", "spam-utf-8-b",
        "spam-utf-8-q", "spam-shift-jis", "spam-shift-jis-8bit", "spam-euc-jp", "imap", "imap-plaintext", "imaps",
        "pop3", "pop3-plaintext", "pop3s",
        "delivery"};
    return names;
}

CheckResult judge_certificate(const TlsInfo& i, bool have_cafile) {
    CheckResult r{"certificate", Outcome::Ok, "", {}};
    if (!i.has_cert) {
        r.outcome = Outcome::Fail;
        r.detail = "the server sent no certificate";
        return r;
    }
    std::string who = i.subject + " (issuer " + i.issuer + ")";
    std::vector<std::string> problems;
    if (!i.name_matches) {
        r.outcome = Outcome::Fail;
        problems.push_back("does not match the name " + i.name + " (give --tls-name if the server has another)");
    }
    if (!i.chain_errors.empty()) {
        if (i.only_self_signed && !have_cafile) {
            if (r.outcome == Outcome::Ok) r.outcome = Outcome::Warn;
            problems.push_back("self-signed: clients will warn (give --cafile to trust it)");
        } else {
            r.outcome = Outcome::Fail;
            problems.push_back("chain not trusted: " + join(i.chain_errors, "; "));
        }
    }
    if (i.days_left < 0) {
        r.outcome = Outcome::Fail;
        problems.push_back("expired " + std::to_string(-i.days_left) + " days ago");
    } else if (i.days_left < 30) {
        if (r.outcome == Outcome::Ok) r.outcome = Outcome::Warn;
        problems.push_back("expires in " + std::to_string(i.days_left) + " days");
    }
    if (problems.empty())
        r.detail = who + ": matches " + i.name + ", chain verified, " + std::to_string(i.days_left) + " days left";
    else
        r.detail = who + ": " + join(problems, "; ");
    return r;
}

int run_check(const CheckOptions& o, std::ostream& out, std::ostream& err) {
    auto ctx = TlsContext::make(o.cafile);
    if (!ctx) {
        err << "yubinctl: check: " << ctx.error().what << '\n';
        return 78;
    }
    Report report(o.json ? nullptr : &out);
    Checker(o, report, *ctx).run();
    if (o.json)
        report.print_json(out);
    else
        out << report.summary() << '\n';
    return report.failed() == 0 ? 0 : 1;
}

}  // namespace yubin::ctl::check
