// A real slapd for the LDAP store's unit tests, started by
// tests/integration/lib/slapd.sh in a temp directory on a loopback port of
// 127.0.0.1:26000-26999 (never mocked). One shared instance serves the
// conformance suite (each fixture gets a fresh, empty base DN below it);
// tests that stop the server start their own.
#pragma once

#include <doctest/doctest.h>
#include <ldap.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/store/ldap_store.hpp"
#include "core/util/fd.hpp"

extern char** environ;

namespace yubin::store::testing {

inline constexpr const char* kAdminDn = "cn=admin,dc=example,dc=com";
inline constexpr const char* kAdminPw = "admin-secret";
inline constexpr const char* kBindDn = "cn=yubin,dc=example,dc=com";
inline constexpr const char* kBindPw = "yubin-secret";
inline constexpr const char* kSuffix = "dc=example,dc=com";

// The repository: $YUBIN_SRC, else derived from this file's path.
inline std::string source_dir() {
    if (const char* s = std::getenv("YUBIN_SRC"); s && *s) return s;
    std::string f = __FILE__;
    auto pos = f.rfind("/tests/unit/");
    REQUIRE(pos != std::string::npos);
    return f.substr(0, pos);
}

// Runs argv, waits, returns the exit status (-1 if it did not exit).
inline int run_command(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A loopback port in 26000-26999 that nothing listens on now.
inline int free_port() {
    static std::atomic<int> next{0};
    for (int i = 0; i < 1000; ++i) {
        int port = 26000 + static_cast<int>((::getpid() * 7 + next++ * 13) % 1000);
        UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(static_cast<std::uint16_t>(port));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return port;
    }
    FAIL("no free port in 26000-26999");
    return 0;
}

class Slapd {
public:
    Slapd() : port_(free_port()), script_(source_dir() + "/tests/integration/lib/slapd.sh") {
        char tmpl[] = "/tmp/yubin-slapd-XXXXXX";
        const char* p = ::mkdtemp(tmpl);
        REQUIRE(p != nullptr);
        dir_ = p;
        int rc = run_command({"bash", script_, "start", dir_, std::to_string(port_)});
        REQUIRE_MESSAGE(rc == 0, ("slapd.sh start failed; see " + dir_));
    }
    ~Slapd() {
        stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    Slapd(const Slapd&) = delete;
    Slapd& operator=(const Slapd&) = delete;

    // No doctest assertion here: it runs from a static destructor too.
    void stop() { (void)run_command({"bash", script_, "stop", dir_}); }
    // Starts it again with the same database (after stop()).
    void restart() {
        int rc = run_command({"bash", script_, "resume", dir_});
        REQUIRE_MESSAGE(rc == 0, ("slapd restart failed; see " + dir_));
    }
    [[nodiscard]] std::string uri() const {
        return "ldap://127.0.0.1:" + std::to_string(port_) + "/";
    }
    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] const std::string& dir() const { return dir_; }
    [[nodiscard]] std::string bind_pw_file() const { return dir_ + "/bind.pw"; }

    // Adds an entry as the rootdn: attrs are "name: value" pairs.
    void admin_add(const std::string& dn,
                   const std::vector<std::pair<std::string, std::string>>& attrs) const {
        LDAP* ld = admin();
        std::vector<std::string> names;
        std::vector<std::vector<std::string>> values;
        for (const auto& [n, v] : attrs) {
            auto it = std::find(names.begin(), names.end(), n);
            if (it == names.end()) {
                names.push_back(n);
                values.push_back({v});
            } else {
                values[static_cast<std::size_t>(it - names.begin())].push_back(v);
            }
        }
        std::vector<std::vector<char*>> ptrs(names.size());
        std::vector<LDAPMod> mods(names.size());
        std::vector<LDAPMod*> list;
        for (std::size_t i = 0; i < names.size(); ++i) {
            for (auto& v : values[i]) ptrs[i].push_back(v.data());
            ptrs[i].push_back(nullptr);
            mods[i].mod_op = LDAP_MOD_ADD;
            mods[i].mod_type = names[i].data();
            mods[i].mod_values = ptrs[i].data();
            list.push_back(&mods[i]);
        }
        list.push_back(nullptr);
        int rc = ldap_add_ext_s(ld, dn.c_str(), list.data(), nullptr, nullptr);
        ldap_unbind_ext_s(ld, nullptr, nullptr);
        REQUIRE_MESSAGE(rc == LDAP_SUCCESS, (dn + ": " + ldap_err2string(rc)));
    }

    // Replaces one attribute of an entry as the rootdn.
    void admin_replace(const std::string& dn, const std::string& attr,
                       const std::string& value) const {
        LDAP* ld = admin();
        std::string v = value;
        std::string a = attr;
        char* vals[] = {v.data(), nullptr};
        LDAPMod mod{};
        mod.mod_op = LDAP_MOD_REPLACE;
        mod.mod_type = a.data();
        mod.mod_values = vals;
        LDAPMod* list[] = {&mod, nullptr};
        int rc = ldap_modify_ext_s(ld, dn.c_str(), list, nullptr, nullptr);
        ldap_unbind_ext_s(ld, nullptr, nullptr);
        REQUIRE_MESSAGE(rc == LDAP_SUCCESS, (dn + ": " + ldap_err2string(rc)));
    }

    // A new, empty organizational unit below the suffix: a fresh store base.
    std::string new_base() const {
        static std::atomic<int> n{0};
        std::string ou = "t" + std::to_string(++n);
        std::string dn = "ou=" + ou + "," + kSuffix;
        admin_add(dn, {{"objectClass", "organizationalUnit"}, {"ou", ou}});
        return dn;
    }

    LdapOptions options(const std::string& base) const {
        LdapOptions o;
        o.uri = uri();
        o.base_dn = base;
        o.bind_dn = kBindDn;
        o.bind_password = kBindPw;
        o.timeout = std::chrono::milliseconds(3000);
        return o;
    }

private:
    LDAP* admin() const {
        LDAP* ld = nullptr;
        REQUIRE(ldap_initialize(&ld, uri().c_str()) == LDAP_SUCCESS);
        int version = LDAP_VERSION3;
        ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
        berval cred{static_cast<ber_len_t>(std::strlen(kAdminPw)), const_cast<char*>(kAdminPw)};
        int rc = ldap_sasl_bind_s(ld, kAdminDn, LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
        REQUIRE_MESSAGE(rc == LDAP_SUCCESS, (std::string("admin bind: ") + ldap_err2string(rc)));
        return ld;
    }

    int port_;
    std::string script_;
    std::string dir_;
};

// The slapd the whole test binary shares, started on first use, stopped at
// exit.
inline Slapd& shared_slapd() {
    static Slapd s;
    return s;
}

inline std::unique_ptr<LdapStore> must_open_ldap(const LdapOptions& o, StoreOptions so = {}) {
    auto s = LdapStore::open(o, so);
    REQUIRE_MESSAGE(s.has_value(), (s ? std::string() : s.error().what));
    return std::move(*s);
}

}  // namespace yubin::store::testing
