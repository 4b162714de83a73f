#include "ctl/check_mailbox.hpp"

#include "core/util/strings.hpp"

namespace yubin::ctl::check {

namespace {
Status no_crlf(std::string_view s) {
    if (s.find_first_of("\r\n") != std::string_view::npos)
        return fail(ErrorKind::BadInput, "CR or LF in a command");
    return {};
}
}  // namespace

Result<ImapLine> ImapSession::greeting() {
    auto l = conn_.read_line();
    if (!l) return fail(l.error());
    ImapLine g = parse_imap_line(*l);
    if (g.kind != ImapLine::Kind::Untagged || (g.status != "OK" && g.status != "PREAUTH"))
        return fail(ErrorKind::Perm, "unexpected IMAP greeting: " + sanitize_for_log(*l));
    return g;
}

// One response line with any literals it announces folded away (their
// contents are not needed by the check).
Result<ImapLine> ImapSession::read_response_line() {
    auto l = conn_.read_line();
    if (!l) return fail(l.error());
    std::string line = *l;
    for (int i = 0; i < 100; ++i) {
        auto lit = imap_literal_length(line, kMaxImapLiteral);
        if (!lit) return fail(lit.error());
        if (!lit->has_value()) break;
        if (auto b = conn_.read_bytes(**lit); !b) return fail(b.error());
        auto more = conn_.read_line();
        if (!more) return fail(more.error());
        line = line.substr(0, line.rfind('{')) + "\"\"" + *more;
        if (line.size() > kMaxReplyLine * 4)
            return fail(ErrorKind::BadInput, "IMAP response too long");
    }
    return parse_imap_line(line);
}

Result<ImapResponse> ImapSession::finish(const std::string& tag) {
    ImapResponse resp;
    for (;;) {
        auto l = read_response_line();
        if (!l) return fail(l.error());
        if (l->kind == ImapLine::Kind::Tagged) {
            if (l->tag != tag)
                return fail(ErrorKind::BadInput, "IMAP reply for an unknown tag " + sanitize_for_log(l->tag));
            resp.tagged = std::move(*l);
            return resp;
        }
        if (l->kind == ImapLine::Kind::Malformed)
            return fail(ErrorKind::BadInput, "malformed IMAP response");
        if (l->kind == ImapLine::Kind::Untagged && l->status == "BYE")
            return fail(ErrorKind::Temp, "IMAP server said BYE: " + sanitize_for_log(l->text));
        if (resp.untagged.size() >= kMaxImapUntagged)
            return fail(ErrorKind::BadInput, "too many IMAP untagged responses");
        resp.untagged.push_back(std::move(*l));
    }
}

Result<ImapResponse> ImapSession::command(std::string_view cmd) {
    if (auto s = no_crlf(cmd); !s) return fail(s.error());
    std::string tag = "y" + std::to_string(next_tag_++);
    if (auto w = conn_.write(tag + " " + std::string(cmd) + "\r\n"); !w) return fail(w.error());
    return finish(tag);
}

Status ImapSession::starttls(const TlsContext& ctx, const std::string& name) {
    auto r = command("STARTTLS");
    if (!r) return fail(r.error());
    if (!r->ok()) return fail(ErrorKind::Perm, "STARTTLS refused: " + sanitize_for_log(r->tagged.text));
    return conn_.start_tls(ctx, name);
}

Result<ImapResponse> ImapSession::login(const std::string& user, const std::string& pass) {
    std::string tag = "y" + std::to_string(next_tag_++);
    std::string line = tag + " LOGIN";
    for (const std::string* arg : {&user, &pass}) {
        if (auto q = imap_quote(*arg)) {
            line += ' ' + *q;
            continue;
        }
        // A synchronizing literal: announce, wait for "+", then the bytes.
        line += " {" + std::to_string(arg->size()) + "}\r\n";
        if (auto w = conn_.write(line); !w) return fail(w.error());
        auto cont = read_response_line();
        if (!cont) return fail(cont.error());
        if (cont->kind != ImapLine::Kind::Continuation)
            return fail(ErrorKind::Perm, "IMAP server refused a literal: " + sanitize_for_log(cont->text));
        line = *arg;
    }
    line += "\r\n";
    if (auto w = conn_.write(line); !w) return fail(w.error());
    return finish(tag);
}

void ImapSession::logout() { (void)command("LOGOUT"); }

Result<Pop3Status> Pop3Session::greeting() {
    auto l = conn_.read_line();
    if (!l) return fail(l.error());
    auto s = parse_pop3_status(*l);
    if (s.kind != Pop3Status::Kind::Ok)
        return fail(ErrorKind::Perm, "unexpected POP3 greeting: " + sanitize_for_log(*l));
    return s;
}

Result<Pop3Status> Pop3Session::command(std::string_view line) {
    if (auto s = no_crlf(line); !s) return fail(s.error());
    if (auto w = conn_.write(std::string(line) + "\r\n"); !w) return fail(w.error());
    auto l = conn_.read_line();
    if (!l) return fail(l.error());
    auto s = parse_pop3_status(*l);
    if (s.kind == Pop3Status::Kind::Malformed)
        return fail(ErrorKind::BadInput, "malformed POP3 reply: " + sanitize_for_log(*l));
    return s;
}

Status Pop3Session::stls(const TlsContext& ctx, const std::string& name) {
    auto r = command("STLS");
    if (!r) return fail(r.error());
    if (r->kind != Pop3Status::Kind::Ok) return fail(ErrorKind::Perm, "STLS refused: " + sanitize_for_log(r->text));
    return conn_.start_tls(ctx, name);
}

Result<Pop3Status> Pop3Session::login(const std::string& user, const std::string& pass) {
    auto r = command("USER " + user);
    if (!r || r->kind != Pop3Status::Kind::Ok) return r;
    return command("PASS " + pass);
}

Result<std::vector<std::string>> Pop3Session::multiline(std::size_t max) {
    std::vector<std::string> out;
    for (;;) {
        auto l = conn_.read_line();
        if (!l) return fail(l.error());
        if (*l == ".") return out;
        if (out.size() >= max) return fail(ErrorKind::BadInput, "POP3 response too long");
        out.push_back(l->starts_with('.') ? l->substr(1) : *l);
    }
}

void Pop3Session::quit() { (void)command("QUIT"); }

}  // namespace yubin::ctl::check
