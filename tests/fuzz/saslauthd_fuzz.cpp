// libFuzzer target: the saslauthd request codec yubin-authd reads from Cyrus
// SASL clients (four counted strings). Built by scripts/fuzz.
//
// Checked: fields lie inside the input and within the bound; a request ends
// where its four fields end; every prefix of the input is NeedMore or the same
// result (the server parses a growing buffer after each read); the fields
// written back with append_counted parse to the same request; the login the
// store is asked for is built only from the login and the realm.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dovecot-auth/authd/saslauthd.hpp"

using namespace yubin::authd;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

bool same(const SaslauthdParse& a, const SaslauthdParse& b) {
    return a.state == b.state && a.fields == b.fields && a.consumed == b.consumed &&
           a.error == b.error;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    // A small bound makes the too-long path reachable; the server's one too.
    const std::size_t max = size > 0 && (data[0] & 1) ? 16 : kSaslauthdMaxField;
    const auto p = parse_saslauthd_request(in, max);
    if (p.state == SaslauthdParse::State::Error) check(!p.error.empty());
    if (p.state == SaslauthdParse::State::Done) {
        check(p.consumed <= size);
        std::size_t total = 0;
        for (const auto& f : p.fields) {
            check(f.size() <= max);
            check(f.empty() || (f.data() >= in.data() && f.data() + f.size() <= in.data() + size));
            total += 2 + f.size();
        }
        check(total == p.consumed);
        std::string again;
        for (const auto& f : p.fields) append_counted(again, f);
        check(again == in.substr(0, p.consumed));
        check(same(parse_saslauthd_request(again, max), p));  // fields compare by content
        const std::string login = saslauthd_login(p.fields[0], p.fields[3]);
        check(login == p.fields[0] ||
              login == std::string(p.fields[0]) + "@" + std::string(p.fields[3]));
    }
    // Every prefix: still waiting, or the very same outcome.
    for (std::size_t cut = 0; cut < size && cut < 4 * (2 + kSaslauthdMaxField) + 8; ++cut) {
        const auto q = parse_saslauthd_request(in.substr(0, cut), max);
        check(q.state == SaslauthdParse::State::NeedMore || same(q, p));
    }
    return 0;
}
