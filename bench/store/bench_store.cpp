// bench_store MODE SECONDS USERS [LDAP-URI BASE-DN BIND-DN BIND-PW-FILE]
//
// Lookups through the Store interface as the daemons make them: find_mailbox
// for random addresses of USERS mailboxes (one in ten unknown), for SECONDS.
// MODE: sqlite (a temp file), ldap-cold (LDAP, cache off), ldap-cached
// (LDAP, store_ldap_cache_ttl 60 s). Loads the users first (the LDAP base
// must be empty). Prints "MODE lookups/s p50_us p99_us".
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/store/ldap_store.hpp"
#include "core/store/store.hpp"

using namespace yubin;
using namespace yubin::store;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_store: %s\n", what.c_str());
    std::exit(1);
}

std::string address(int i) {
    return "user" + std::to_string(i) + "@bench.example";
}

void load(Store& s, int users) {
    auto st = s.transaction([&](Store& t) -> Status {
        if (auto r = t.add_domain(Domain{.name = "bench.example"}); !r) return r;
        for (int i = 0; i < users; ++i)
            if (auto r = t.add_mailbox(Mailbox{.address = address(i), .password = "{PLAIN}x"}); !r)
                return r;
        return {};
    });
    if (!st) die("load: " + st.error().what);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) die("usage: bench_store MODE SECONDS USERS [URI BASE BIND-DN PW-FILE]");
    const std::string mode = argv[1];
    const double seconds = std::atof(argv[2]);
    const int users = std::atoi(argv[3]);
    std::unique_ptr<Store> store;
    std::string tmp;
    if (mode == "sqlite") {
        char tmpl[] = "/tmp/bench-store-XXXXXX";
        if (!::mkdtemp(tmpl)) die("mkdtemp");
        tmp = tmpl;
        auto s = open_store("sqlite:" + tmp + "/s.db", {});
        if (!s) die(s.error().what);
        store = std::move(*s);
    } else if (mode == "ldap-cold" || mode == "ldap-cached") {
        if (argc < 8) die("ldap modes need URI BASE BIND-DN PW-FILE");
        LdapOptions o;
        o.uri = argv[4];
        o.base_dn = argv[5];
        o.bind_dn = argv[6];
        std::ifstream pw(argv[7]);
        std::getline(pw, o.bind_password);
        if (mode == "ldap-cold")
            o.cache_ttl = o.negative_cache_ttl = std::chrono::milliseconds(0);
        else
            o.cache_ttl = o.negative_cache_ttl = std::chrono::seconds(60);
        auto s = LdapStore::open(o, {});
        if (!s) die(s.error().what);
        store = std::move(*s);
    } else {
        die("unknown mode " + mode);
    }
    load(*store, users);

    std::mt19937 rng(42);
    std::uniform_int_distribution<int> pick(0, users + users / 9);  // ~10% unknown
    std::vector<double> lat;
    lat.reserve(1 << 20);
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    long n = 0;
    const auto t0 = Clock::now();
    while (Clock::now() < end) {
        int i = pick(rng);
        auto a = Clock::now();
        auto m = find_mailbox(*store, address(i), "+");
        auto b = Clock::now();
        if (!m && m.error().kind != ErrorKind::NotFound) die("lookup: " + m.error().what);
        if (static_cast<bool>(m) != (i < users)) die("wrong answer for " + address(i));
        lat.push_back(std::chrono::duration<double, std::micro>(b - a).count());
        ++n;
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) { return lat[static_cast<std::size_t>(p * (lat.size() - 1))]; };
    std::printf("%s %.0f %.1f %.1f\n", mode.c_str(), n / elapsed, pct(0.5), pct(0.99));
    store.reset();
    if (!tmp.empty()) std::filesystem::remove_all(tmp);
    return 0;
}
