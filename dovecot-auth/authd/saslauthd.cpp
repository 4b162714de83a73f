#include "dovecot-auth/authd/saslauthd.hpp"

#include <algorithm>

namespace yubin::authd {

SaslauthdParse parse_saslauthd_request(std::string_view in, std::size_t max_field) {
    SaslauthdParse r;
    std::size_t pos = 0;
    for (auto& field : r.fields) {
        if (in.size() - pos < 2) return r;
        std::size_t len =
            (static_cast<unsigned char>(in[pos]) << 8) | static_cast<unsigned char>(in[pos + 1]);
        if (len > max_field) {
            r.state = SaslauthdParse::State::Error;
            r.error = "saslauthd request field too long";
            return r;
        }
        pos += 2;
        if (in.size() - pos < len) return r;
        field = in.substr(pos, len);
        pos += len;
    }
    r.state = SaslauthdParse::State::Done;
    r.consumed = pos;
    return r;
}

void append_counted(std::string& out, std::string_view s) {
    s = s.substr(0, std::min<std::size_t>(s.size(), 0xffff));
    out += static_cast<char>((s.size() >> 8) & 0xff);
    out += static_cast<char>(s.size() & 0xff);
    out += s;
}

std::string saslauthd_login(std::string_view login, std::string_view realm) {
    if (login.find('@') != std::string_view::npos || realm.empty()) return std::string(login);
    return std::string(login) + "@" + std::string(realm);
}

SaslauthdAnswer to_saslauthd_answer(auth::Outcome o) {
    switch (o) {
        case auth::Outcome::Ok:
            return {true, "OK"};
        // One answer for every refusal, so a client cannot probe which
        // logins exist or are disabled.
        case auth::Outcome::UserUnknown:
        case auth::Outcome::PasswordMismatch:
        case auth::Outcome::Disabled:
            return {true, "NO authentication failed"};
        case auth::Outcome::TempFail:
            break;
    }
    return {false, {}};
}

}  // namespace yubin::authd
