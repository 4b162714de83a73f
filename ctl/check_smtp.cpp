#include "ctl/check_smtp.hpp"

#include "core/util/strings.hpp"

namespace yubin::ctl::check {

Result<SmtpReply> SmtpSession::read_reply() {
    SmtpReplyReader reader;
    for (;;) {
        auto line = conn_.read_line();
        if (!line) return fail(line.error());
        auto done = reader.feed(*line);
        if (!done) return fail(done.error());
        if (*done) return reader.take();
    }
}

Result<SmtpReply> SmtpSession::command(std::string_view line) {
    if (line.find_first_of("\r\n") != std::string_view::npos)
        return fail(ErrorKind::BadInput, "CR or LF in an SMTP command");
    std::string out(line);
    out += "\r\n";
    if (auto w = conn_.write(out); !w) return fail(w.error());
    return read_reply();
}

Result<Ehlo> SmtpSession::ehlo(const std::string& helo_name) {
    auto r = command("EHLO " + helo_name);
    if (!r) return fail(r.error());
    if (r->code != 250) return fail(ErrorKind::Perm, "EHLO refused: " + std::to_string(r->code) +
                                                         " " + sanitize_for_log(r->text()));
    return parse_ehlo(*r);
}

Status SmtpSession::starttls(const TlsContext& ctx, const std::string& name) {
    auto r = command("STARTTLS");
    if (!r) return fail(r.error());
    if (r->code != 220)
        return fail(ErrorKind::Perm, "STARTTLS refused: " + std::to_string(r->code) + " " +
                                         sanitize_for_log(r->text()));
    return conn_.start_tls(ctx, name);
}

Result<SmtpReply> SmtpSession::auth_plain(const std::string& user, const std::string& pass) {
    std::string token;
    token += '\0';
    token += user;
    token += '\0';
    token += pass;
    return command("AUTH PLAIN " + base64_encode(token));
}

Result<SmtpReply> SmtpSession::auth_login(const std::string& user, const std::string& pass) {
    auto r = command("AUTH LOGIN");
    if (!r || r->code != 334) return r;
    r = command(base64_encode(user));
    if (!r || r->code != 334) return r;
    return command(base64_encode(pass));
}

std::string smtp_data_payload(std::string_view message) {
    std::string out;
    out.reserve(message.size() + message.size() / 40 + 8);
    std::size_t pos = 0;
    while (pos < message.size()) {
        auto nl = message.find('\n', pos);
        std::string_view line = message.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
        pos = nl == std::string_view::npos ? message.size() : nl + 1;
        if (line.ends_with('\r')) line.remove_suffix(1);
        if (line.starts_with('.')) out += '.';
        out += line;
        out += "\r\n";
    }
    out += ".\r\n";
    return out;
}

Result<SmtpReply> SmtpSession::data(std::string_view message) {
    auto r = command("DATA");
    if (!r || r->code != 354) return r;
    if (auto w = conn_.write(smtp_data_payload(message)); !w) return fail(w.error());
    return read_reply();
}

void SmtpSession::quit() {
    if (conn_.write("QUIT\r\n")) (void)read_reply();
}

}  // namespace yubin::ctl::check
