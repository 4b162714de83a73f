#include "dovecot-auth/authd/netstring.hpp"

namespace yubin::authd {

NetstringParse parse_netstring(std::string_view in, std::size_t max_payload) {
    NetstringParse r;
    std::size_t len = 0;
    std::size_t i = 0;
    for (;; ++i) {
        if (i == in.size()) return r;  // the prefix is not complete yet
        char c = in[i];
        if (c == ':') break;
        if (c < '0' || c > '9') {
            r.state = NetstringParse::State::Error;
            r.error = "malformed netstring length";
            return r;
        }
        if (i == kMaxLengthDigits) {
            r.state = NetstringParse::State::Error;
            r.error = "netstring length has too many digits";
            return r;
        }
        len = len * 10 + static_cast<std::size_t>(c - '0');  // at most 10 digits: no overflow
    }
    if (i == 0) {
        r.state = NetstringParse::State::Error;
        r.error = "empty netstring length";
        return r;
    }
    if (len > max_payload) {
        r.state = NetstringParse::State::Error;
        r.error = "netstring too long";
        return r;
    }
    const std::size_t start = i + 1;
    if (in.size() - start < len + 1) return r;  // payload or ',' still missing
    if (in[start + len] != ',') {
        r.state = NetstringParse::State::Error;
        r.error = "netstring not terminated by ','";
        return r;
    }
    r.state = NetstringParse::State::Done;
    r.payload = in.substr(start, len);
    r.consumed = start + len + 1;
    return r;
}

void append_netstring(std::string& out, std::string_view payload) {
    out += std::to_string(payload.size());
    out += ':';
    out += payload;
    out += ',';
}

}  // namespace yubin::authd
