// Interoperability with the real Dovecot: hashes made by `doveadm pw` must
// verify here, and hashes made here must verify in `doveadm pw -t`. doveadm
// (dovecot-core) is a build dependency of this repository; if it is missing
// these tests fail rather than skip.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "core/passwd/passwd.hpp"

using namespace yubin::passwd;

namespace {

struct Run {
    int status = -1;  // exit status, or -1 if it did not exit normally
    std::string out;  // stdout and stderr
};

std::string shell_quote(std::string_view s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

Run run(const std::string& cmd) {
    Run r;
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    REQUIRE_MESSAGE(p != nullptr, "popen failed for ", cmd);
    char buf[512];
    std::size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int st = pclose(p);
    if (st != -1 && WIFEXITED(st)) r.status = WEXITSTATUS(st);
    return r;
}

// `-c /dev/null`: no dovecot.conf is needed (or read) to hash and verify.
std::string doveadm_pw(std::string_view args) {
    return "doveadm -c /dev/null pw " + std::string(args);
}

const std::string kPassword = "Pa55 w\xc3\xb6rd/\xe6\x97\xa5\xe6\x9c\xac 'q\"";

}  // namespace

TEST_CASE("passwd: hashes made by doveadm pw verify") {
    struct Case {
        std::string_view scheme;
        bool want_rehash;  // with ARGON2ID as the default
    };
    const Case cases[] = {
        {"HMAC-MD5", true},
        {"CRAM-MD5", true},
        {"SHA512-CRYPT", true},
        {"ARGON2ID", false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.scheme);
        Run r = run(doveadm_pw("-s " + std::string(c.scheme) + " -p " + shell_quote(kPassword)));
        REQUIRE_MESSAGE(r.status == 0, "doveadm exit ", r.status, ": ", r.out);
        std::string stored = r.out;
        while (!stored.empty() && (stored.back() == '\n' || stored.back() == '\r'))
            stored.pop_back();
        CAPTURE(stored);
        CHECK(scheme_of(stored) == c.scheme);

        auto v = verify(kPassword, stored, "ARGON2ID");
        REQUIRE_MESSAGE(v.has_value(), "got error ", v.error().what);
        CHECK(v->match);
        CHECK(v->needs_rehash == c.want_rehash);
        auto w = verify(kPassword + "x", stored, "ARGON2ID");
        REQUIRE(w.has_value());
        CHECK(!w->match);
    }
}

TEST_CASE("passwd: hashes made here verify in doveadm pw -t") {
    for (std::string_view scheme : {"ARGON2ID", "SHA512-CRYPT", "BLF-CRYPT", "SSHA512"}) {
        CAPTURE(scheme);
        auto h = hash(kPassword, scheme);
        REQUIRE_MESSAGE(h.has_value(), "got error ", h.error().what);
        CAPTURE(*h);

        Run ok = run(doveadm_pw("-t " + shell_quote(*h) + " -p " + shell_quote(kPassword)));
        CHECK_MESSAGE(ok.status == 0, "doveadm exit ", ok.status, ": ", ok.out);
        CHECK_MESSAGE(ok.out.find("(verified)") != std::string::npos, "doveadm said: ", ok.out);

        // And doveadm really checks: a wrong password must fail there too.
        Run bad = run(doveadm_pw("-t " + shell_quote(*h) + " -p " + shell_quote(kPassword + "x")));
        CHECK_MESSAGE(bad.status != 0, "doveadm accepted a wrong password: ", bad.out);
        CHECK(bad.out.find("(verified)") == std::string::npos);
    }
}
