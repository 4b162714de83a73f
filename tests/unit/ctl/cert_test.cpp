// yubinctl cert: key and certificate or CSR, permissions, refusal to overwrite.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ctl/cert.hpp"
#include "unit/temp_dir.hpp"

using namespace yubin::ctl;
namespace fs = std::filesystem;

namespace {
using yubin::test::TempDir;
mode_t mode_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}
std::string slurp(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}
X509* load_cert(const fs::path& p) {
    FILE* f = std::fopen(p.c_str(), "r");
    REQUIRE(f != nullptr);
    X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    REQUIRE(x != nullptr);
    return x;
}
CertOptions options(const TempDir& d, KeyType type = KeyType::Ec) {
    CertOptions o;
    o.hosts = {"mail.example.jp", "imap.example.jp", "192.0.2.25"};
    o.key_path = fs::path(d.path()) / "mail.key";
    o.cert_path = fs::path(d.path()) / "mail.crt";
    o.type = type;
    o.rsa_bits = 2048;  // quick; the default is 3072
    o.days = 90;
    return o;
}
}  // namespace

TEST_CASE("cert: self-signed certificate with subjectAltName, key 0600, cert 0644") {
    TempDir d;
    auto o = options(d);
    ::umask(022);
    auto files = make_cert(o);
    REQUIRE_MESSAGE(files, files.error().what);
    CHECK(files->san == std::vector<std::string>{"DNS:mail.example.jp", "DNS:imap.example.jp", "IP:192.0.2.25"});
    CHECK(mode_of(o.key_path) == 0600);
    CHECK(mode_of(o.cert_path) == 0644);
    CHECK(slurp(o.key_path).starts_with("-----BEGIN PRIVATE KEY-----"));
    X509* x = load_cert(o.cert_path);
    CHECK(X509_check_host(x, "mail.example.jp", 0, 0, nullptr) == 1);
    CHECK(X509_check_host(x, "imap.example.jp", 0, 0, nullptr) == 1);
    CHECK(X509_check_host(x, "other.example.jp", 0, 0, nullptr) != 1);
    CHECK(X509_check_ip_asc(x, "192.0.2.25", 0) == 1);
    CHECK(X509_check_ca(x) == 0);  // CA:FALSE
    int days = 0, secs = 0;
    REQUIRE(ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(x)) == 1);
    CHECK(days >= 89);
    CHECK(days <= 90);
    // Self-signed: it verifies against itself as the only trust anchor.
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, x);
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, x, nullptr);
    CHECK(X509_verify_cert(ctx) == 1);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(x);
}

TEST_CASE("cert: RSA key") {
    TempDir d;
    auto o = options(d, KeyType::Rsa);
    auto files = make_cert(o);
    REQUIRE_MESSAGE(files, files.error().what);
    X509* x = load_cert(o.cert_path);
    EVP_PKEY* k = X509_get0_pubkey(x);
    CHECK(EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA);
    CHECK(EVP_PKEY_get_bits(k) == 2048);
    X509_free(x);
}

TEST_CASE("cert: existing files are refused without --force and replaced with it") {
    TempDir d;
    auto o = options(d);
    REQUIRE(make_cert(o));
    std::string key1 = slurp(o.key_path), cert1 = slurp(o.cert_path);
    auto again = make_cert(o);
    REQUIRE_FALSE(again);
    CHECK(again.error().kind == yubin::ErrorKind::Perm);
    CHECK(again.error().what.find("exists") != std::string::npos);
    CHECK(slurp(o.key_path) == key1);
    CHECK(slurp(o.cert_path) == cert1);

    // Only the certificate exists: the key is not written either.
    fs::remove(o.key_path);
    CHECK_FALSE(make_cert(o));
    CHECK_FALSE(fs::exists(o.key_path));

    o.force = true;
    REQUIRE(make_cert(o));
    CHECK(slurp(o.key_path) != key1);
    CHECK(slurp(o.cert_path) != cert1);
    CHECK(mode_of(o.key_path) == 0600);
    CHECK_FALSE(fs::exists(o.key_path + ".yubinctl-new"));
}

TEST_CASE("cert: a symlink at the key path is never followed") {
    TempDir d;
    auto o = options(d);
    fs::path victim = fs::path(d.path()) / "victim";
    { std::ofstream(victim) << "precious\n"; }
    fs::create_symlink(victim, o.key_path);
    CHECK_FALSE(make_cert(o));
    CHECK(slurp(victim) == "precious\n");
    o.force = true;
    REQUIRE(make_cert(o));  // replaces the link itself
    CHECK(slurp(victim) == "precious\n");
    CHECK_FALSE(fs::is_symlink(o.key_path));
    CHECK(mode_of(o.key_path) == 0600);
}

TEST_CASE("cert: certificate signing request") {
    TempDir d;
    auto o = options(d);
    o.cert_path.clear();
    o.csr_path = fs::path(d.path()) / "mail.csr";
    auto files = make_cert(o);
    REQUIRE_MESSAGE(files, files.error().what);
    CHECK(files->cert_path.empty());
    CHECK_FALSE(fs::exists(fs::path(d.path()) / "mail.crt"));
    CHECK(mode_of(o.csr_path) == 0644);
    FILE* f = std::fopen(o.csr_path.c_str(), "r");
    REQUIRE(f != nullptr);
    X509_REQ* r = PEM_read_X509_REQ(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    REQUIRE(r != nullptr);
    EVP_PKEY* pub = X509_REQ_get0_pubkey(r);
    CHECK(X509_REQ_verify(r, pub) == 1);
    STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(r);
    REQUIRE(exts != nullptr);
    bool san = false;
    for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i)
        san = san || OBJ_obj2nid(X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, i))) == NID_subject_alt_name;
    CHECK(san);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(r);
}

TEST_CASE("cert: options are validated and defaults filled") {
    CertOptions o;
    o.hosts = {"Mail.Example.JP"};
    complete_cert_defaults(o);
    CHECK(o.key_path == "/etc/yubin/ssl/mail.example.jp.key");
    CHECK(o.cert_path == "/etc/yubin/ssl/mail.example.jp.crt");
    CHECK(validate_cert_options(o));
    CertOptions csr;
    csr.hosts = {"mail.example.jp"};
    csr.csr_path = "/tmp/x.csr";
    complete_cert_defaults(csr);
    CHECK(csr.cert_path.empty());

    for (const char* bad : {"", "bad host", "-lead.example.jp", "trail-.example.jp", "a..b", "x_y.example",
                            "mail.example.jp/../../etc", "mail.example.jp.", "\xe9\x83\xb5\xe4\xbe\xbf.jp"}) {
        CAPTURE(bad);
        CertOptions b = o;
        b.hosts = {bad};
        CHECK_FALSE(validate_cert_options(b));
    }
    for (const char* good : {"localhost", "*.example.jp", "::1", "192.0.2.1", "xn--3kq3x.jp"}) {
        CAPTURE(good);
        CertOptions g = o;
        g.hosts = {good};
        CHECK(validate_cert_options(g));
    }
    CertOptions none;
    CHECK_FALSE(validate_cert_options(none));
    CertOptions days = o;
    days.days = 0;
    CHECK_FALSE(validate_cert_options(days));
    CertOptions same = o;
    same.cert_path = same.key_path;
    CHECK_FALSE(validate_cert_options(same));
}
