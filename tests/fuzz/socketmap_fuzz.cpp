// libFuzzer target: yubin-authd's socketmap input path. The input is a byte
// stream from a socketmap client; it is framed exactly as a connection frames
// it (parse_netstring at the request bound, one reply per request, stop at the
// first framing error) and each request is answered by SocketmapService over a
// small real SQLite store (domains, mailboxes, aliases, a catch-all, a domain
// alias, disabled entries), so hostile keys go through the address parser and
// the Postfix-table semantics too. Built by scripts/fuzz.
//
// Checked: a frame lies inside the input and consumes what it declares; a
// frame written back with append_netstring parses to the same payload; every
// prefix of the input is NeedMore or the same answer (a reply never depends on
// where the bytes were cut); every reply is a well-formed "OK value" /
// "NOTFOUND " / "PERM reason" (never TEMP: the store is healthy) within
// kSocketmapMaxPayload.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "core/log/logger.hpp"
#include "core/log/sink.hpp"
#include "core/store/store.hpp"
#include "dovecot-auth/authd/netstring.hpp"
#include "dovecot-auth/authd/socketmap.hpp"

using namespace yubin;

namespace {

class NullSink final : public log::Sink {
public:
    void write(log::Level, std::string_view) override {}
};

void check(bool ok) {
    if (!ok) std::abort();
}

std::unique_ptr<store::Store> make_store() {
    char dir[] = "/tmp/yubin-socketmap-fuzz.XXXXXX";
    check(::mkdtemp(dir) != nullptr);
    const std::string path = std::string(dir) + "/s.db";
    {
        auto s = store::open_store("sqlite:" + path, {});
        check(s.has_value());
        auto& st = **s;
        check(st.add_domain({.name = "example.com"}).has_value());
        check(st.add_domain({.name = "old.example"}).has_value());
        check(st.add_domain({.name = "off.example", .active = false}).has_value());
        check(st.add_mailbox({.address = "Taro@example.com"}).has_value());
        check(st.add_mailbox({.address = "hanako@example.com"}).has_value());
        check(st.add_mailbox({.address = "jiro@example.com", .active = false}).has_value());
        check(st.add_mailbox({.address = "saburo@off.example"}).has_value());
        check(st.add_alias({.source = "info@example.com", .target = "taro@example.com"})
                  .has_value());
        check(st.add_alias({.source = "info@example.com", .target = "hanako@example.com"})
                  .has_value());
        check(st.add_alias({.source = "@old.example", .target = "@example.com"}).has_value());
        check(st.add_alias({.source = "@example.com", .target = "hanako@example.com"})
                  .has_value());
    }
    // The daemon's view: read only.
    auto s = store::open_store("sqlite:" + path, {.read_only = true});
    check(s.has_value());
    return std::move(*s);
}

bool well_formed(std::string_view reply) {
    if (reply.size() > authd::kSocketmapMaxPayload) return false;
    return reply.rfind("OK ", 0) == 0 || reply == "NOTFOUND " || reply.rfind("PERM ", 0) == 0;
}

// The replies a connection would send for `in`, framed as the server does.
std::string serve(authd::SocketmapService& svc, std::string_view in, std::size_t max) {
    std::string out;
    std::size_t off = 0;
    for (;;) {
        auto p = authd::parse_netstring(in.substr(off), max);
        if (p.state == authd::NetstringParse::State::NeedMore) break;
        if (p.state == authd::NetstringParse::State::Error) {
            check(!p.error.empty());
            authd::append_netstring(out, "PERM " + std::string(p.error));
            break;
        }
        const std::string_view rest = in.substr(off);
        check(p.consumed <= rest.size() && p.consumed >= p.payload.size() + 3);
        check(p.payload.data() >= rest.data() &&
              p.payload.data() + p.payload.size() <= rest.data() + p.consumed);
        check(p.payload.size() <= max);
        std::string again;
        authd::append_netstring(again, p.payload);
        check(again == rest.substr(0, p.consumed) || rest[0] == '0');  // "007:" is accepted
        auto q = authd::parse_netstring(again, max);
        check(q.state == authd::NetstringParse::State::Done && q.payload == p.payload);

        const std::string reply = svc.answer(p.payload);
        check(well_formed(reply));
        authd::append_netstring(out, reply);
        off += p.consumed;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static NullSink sink;
    static log::Logger log(sink, true);  // verbose: the debug lines are formatted too
    // Opened once: a healthy store is never reset, so a second open is a bug.
    static authd::StoreSource source(
        [] {
            static bool opened = false;
            check(!opened);
            opened = true;
            return Result<std::unique_ptr<store::Store>>(make_store());
        },
        std::chrono::seconds(1));
    static authd::SocketmapService svc(source, "+-", log);

    const std::string_view in(reinterpret_cast<const char*>(data), size);
    // A small bound makes the too-long path reachable; the default one too.
    const std::size_t max = size > 0 && (data[0] & 1) ? 64 : authd::kSocketmapMaxPayload;
    const std::string whole = serve(svc, in, max);
    // Cut at a few points: the replies so far are a prefix of the whole.
    for (std::size_t cut : {size / 3, size / 2, size - size / 4}) {
        const std::string part = serve(svc, in.substr(0, cut), max);
        check(whole.compare(0, part.size(), part) == 0);
    }
    return 0;
}
