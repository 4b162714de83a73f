#include "ctl/cert.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <ostream>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/util/fd.hpp"
#include "core/util/strings.hpp"
#include "ctl/ctl.hpp"

namespace yubin::ctl {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
    void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

// The last OpenSSL error as text, the queue cleared.
std::string ssl_error(std::string_view what) {
    std::string s(what);
    unsigned long e = ERR_get_error();
    if (e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        s += ": ";
        s += buf;
    }
    ERR_clear_error();
    return s;
}

bool is_ip(const std::string& h) {
    unsigned char buf[16];
    return ::inet_pton(AF_INET, h.c_str(), buf) == 1 || ::inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

// A DNS name for a certificate: LDH labels of 1..63 bytes, at most 253 bytes,
// a single label allowed (localhost), a leading "*." wildcard allowed.
bool is_dns_name(std::string_view h) {
    if (h.starts_with("*.")) h.remove_prefix(2);
    if (h.empty() || h.size() > 253) return false;
    std::size_t label = 0;
    char prev = '.';
    for (char c : h) {
        if (c == '.') {
            if (label == 0 || prev == '-') return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   (c == '-' && label > 0)) {
            if (++label > 63) return false;
        } else {
            return false;
        }
        prev = c;
    }
    return label > 0 && prev != '-';
}

std::string san_value(const std::vector<std::string>& hosts, std::vector<std::string>& names) {
    std::string v;
    for (const auto& h : hosts) {
        std::string item = (is_ip(h) ? "IP:" : "DNS:") + (is_ip(h) ? h : to_lower(h));
        bool dup = false;
        for (const auto& n : names) dup = dup || n == item;
        if (dup) continue;
        names.push_back(item);
        if (!v.empty()) v += ',';
        v += item;
    }
    return v;
}

Result<PkeyPtr> generate_key(const CertOptions& o) {
    EVP_PKEY* k = o.type == KeyType::Ec ? EVP_EC_gen("P-256")
                                        : EVP_RSA_gen(static_cast<unsigned>(o.rsa_bits));
    if (k == nullptr) return fail(ErrorKind::Internal, ssl_error("key generation failed"));
    return PkeyPtr(k);
}

Result<NamePtr> subject_name(const std::string& host) {
    NamePtr name(X509_NAME_new());
    if (!name) return fail(ErrorKind::Internal, ssl_error("X509_NAME_new"));
    // The CN is at most 64 bytes (RFC 5280 ub-common-name); longer names live
    // in subjectAltName only, which is what clients check anyway.
    std::string cn = host.size() <= 64 ? host : std::string("yubin mail server");
    if (X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                   0) != 1)
        return fail(ErrorKind::Internal, ssl_error("subject name"));
    return name;
}

Status add_ext(X509* x, X509V3_CTX* ctx, int nid, const std::string& value) {
    ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(x, ext.get(), -1) != 1)
        return fail(ErrorKind::Internal, ssl_error("certificate extension " + value));
    return {};
}

Result<X509Ptr> self_signed(EVP_PKEY* key, const CertOptions& o, const std::string& san) {
    X509Ptr x(X509_new());
    if (!x) return fail(ErrorKind::Internal, ssl_error("X509_new"));
    X509_set_version(x.get(), 2);
    // 127 random bits: unique, positive, at most 20 octets (RFC 5280 4.1.2.2).
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1)
        return fail(ErrorKind::Internal, ssl_error("RAND_bytes"));
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    BnPtr bn(BN_bin2bn(serial, sizeof serial, nullptr));
    if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x.get())) == nullptr)
        return fail(ErrorKind::Internal, ssl_error("serial number"));
    if (X509_gmtime_adj(X509_getm_notBefore(x.get()), 0) == nullptr ||
        X509_time_adj_ex(X509_getm_notAfter(x.get()), o.days, 0, nullptr) == nullptr)
        return fail(ErrorKind::Internal, ssl_error("validity"));
    auto name = subject_name(o.hosts.front());
    if (!name) return fail(name.error());
    if (X509_set_subject_name(x.get(), name->get()) != 1 ||
        X509_set_issuer_name(x.get(), name->get()) != 1 || X509_set_pubkey(x.get(), key) != 1)
        return fail(ErrorKind::Internal, ssl_error("certificate fields"));
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
    // CA:FALSE: this key serves mail; a client told to trust this file must
    // not thereby trust certificates it might sign for other names.
    for (auto [nid, value] : {std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
                              std::pair{NID_ext_key_usage, std::string("serverAuth")},
                              std::pair{NID_subject_key_identifier, std::string("hash")},
                              std::pair{NID_subject_alt_name, san}}) {
        if (auto s = add_ext(x.get(), &ctx, nid, value); !s) return fail(s.error());
    }
    if (X509_sign(x.get(), key, EVP_sha256()) == 0)
        return fail(ErrorKind::Internal, ssl_error("signing the certificate"));
    return x;
}

Result<ReqPtr> signing_request(EVP_PKEY* key, const CertOptions& o, const std::string& san) {
    ReqPtr r(X509_REQ_new());
    if (!r) return fail(ErrorKind::Internal, ssl_error("X509_REQ_new"));
    auto name = subject_name(o.hosts.front());
    if (!name) return fail(name.error());
    if (X509_REQ_set_version(r.get(), 0) != 1 || X509_REQ_set_subject_name(r.get(), name->get()) != 1 ||
        X509_REQ_set_pubkey(r.get(), key) != 1)
        return fail(ErrorKind::Internal, ssl_error("request fields"));
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str());
    bool good = exts != nullptr && ext != nullptr && sk_X509_EXTENSION_push(exts, ext) > 0;
    if (good) ext = nullptr;  // owned by the stack now
    good = good && X509_REQ_add_extensions(r.get(), exts) == 1;
    X509_EXTENSION_free(ext);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    if (!good) return fail(ErrorKind::Internal, ssl_error("subjectAltName request extension"));
    if (X509_REQ_sign(r.get(), key, EVP_sha256()) == 0)
        return fail(ErrorKind::Internal, ssl_error("signing the request"));
    return r;
}

template <class F>
Result<std::string> pem(F write) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) return fail(ErrorKind::Internal, ssl_error("PEM encoding"));
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    std::string s(data, static_cast<std::size_t>(n));
    return s;
}

Status write_all(int fd, const std::string& data, const std::string& path) {
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(errno_error("write " + path, errno));
        off += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) return fail(errno_error("fsync " + path, errno));
    return {};
}

// Creates PATH with MODE and CONTENT. Without force, O_EXCL refuses an
// existing file (or symlink). With force, a fresh temporary file in the same
// directory is renamed over PATH, so the old key is never opened, a symlink
// at PATH is replaced rather than followed, and a reader never sees half a key.
Status write_file(const std::string& path, const std::string& content, mode_t mode, bool force) {
    std::string target = force ? path + ".yubinctl-new" : path;
    if (force) ::unlink(target.c_str());
    UniqueFd fd(::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd) {
        int e = errno;
        if (e == EEXIST) return fail(ErrorKind::Perm, path + " exists (use --force to replace it)");
        return fail(errno_error("create " + target, e));
    }
    // The umask may have taken bits away from a certificate's 0644: set it exactly.
    if (::fchmod(fd.get(), mode) != 0) return fail(errno_error("chmod " + target, errno));
    if (auto s = write_all(fd.get(), content, target); !s) {
        ::unlink(target.c_str());
        return s;
    }
    fd.reset();
    if (force && ::rename(target.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(target.c_str());
        return fail(errno_error("rename " + target + " to " + path, e));
    }
    return {};
}

// Creates the missing directories above PATH with mode 0755 (as mkdir -p):
// /etc/yubin/ssl does not exist on a fresh server.
Status ensure_parent(const std::string& path) {
    for (auto slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        std::string dir = path.substr(0, slash);
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
            return fail(errno_error("mkdir " + dir, errno));
    }
    return {};
}

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

void complete_cert_defaults(CertOptions& o) {
    if (o.hosts.empty()) return;
    std::string base = std::string(kDefaultCertDir) + "/" + to_lower(o.hosts.front());
    if (o.key_path.empty()) o.key_path = base + ".key";
    if (o.cert_path.empty() && o.csr_path.empty()) o.cert_path = base + ".crt";
}

Status validate_cert_options(const CertOptions& o) {
    if (o.hosts.empty()) return fail(ErrorKind::BadInput, "at least one --host is required");
    for (const auto& h : o.hosts) {
        if (!is_ip(h) && !is_dns_name(h))
            return fail(ErrorKind::BadInput, "not a host name or IP address: " + sanitize_for_log(h));
    }
    if (o.days < 1 || o.days > kMaxCertDays)
        return fail(ErrorKind::BadInput, "--days must be 1.." + std::to_string(kMaxCertDays));
    if (o.key_path.empty() || (o.cert_path.empty() && o.csr_path.empty()))
        return fail(ErrorKind::BadInput, "no key or certificate path");
    if (o.key_path == o.cert_path || o.key_path == o.csr_path)
        return fail(ErrorKind::BadInput, "the key and the certificate must be different files");
    return {};
}

Result<CertFiles> make_cert(const CertOptions& o) {
    if (auto s = validate_cert_options(o); !s) return fail(s.error());
    CertFiles out;
    out.key_path = o.key_path;
    const std::string& second = o.csr_path.empty() ? o.cert_path : o.csr_path;
    if (!o.force) {
        for (const auto& p : {o.key_path, second})
            if (exists(p)) return fail(ErrorKind::Perm, p + " exists (use --force to replace it)");
    }
    std::string san = san_value(o.hosts, out.san);
    auto key = generate_key(o);
    if (!key) return fail(key.error());

    Result<std::string> body = fail(ErrorKind::Internal, "nothing made");
    if (o.csr_path.empty()) {
        auto x = self_signed(key->get(), o, san);
        if (!x) return fail(x.error());
        body = pem([&](BIO* b) { return PEM_write_bio_X509(b, x->get()); });
        out.cert_path = o.cert_path;
    } else {
        auto r = signing_request(key->get(), o, san);
        if (!r) return fail(r.error());
        body = pem([&](BIO* b) { return PEM_write_bio_X509_REQ(b, r->get()); });
        out.csr_path = o.csr_path;
    }
    if (!body) return fail(body.error());
    auto key_pem = pem([&](BIO* b) {
        return PEM_write_bio_PrivateKey(b, key->get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    if (!key_pem) return fail(key_pem.error());

    for (const auto& p : {o.key_path, second})
        if (auto s = ensure_parent(p); !s) return fail(s.error());
    if (auto s = write_file(o.key_path, *key_pem, 0600, o.force); !s) return fail(s.error());
    OPENSSL_cleanse(key_pem->data(), key_pem->size());
    if (auto s = write_file(second, *body, 0644, o.force); !s) {
        if (!o.force) ::unlink(o.key_path.c_str());  // do not leave a key without its certificate
        return fail(s.error());
    }
    return out;
}

int run_cert(CertOptions o, std::ostream& out, std::ostream& err) {
    complete_cert_defaults(o);
    // Absolute paths: the printed main.cf and dovecot.conf lines must work
    // from any directory.
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) != nullptr) {
        for (auto* p : {&o.key_path, &o.cert_path, &o.csr_path})
            if (!p->empty() && p->front() != '/') *p = std::string(cwd) + "/" + *p;
    }
    auto files = make_cert(o);
    if (!files) {
        err << "yubinctl: cert: " << files.error().what << '\n';
        return files.error().kind == ErrorKind::BadInput ? kExitUsage
                                                          : exit_code_for(files.error().kind);
    }
    std::string names;
    for (const auto& n : files->san) names += (names.empty() ? "" : ", ") + n;
    std::string kind = o.type == KeyType::Ec ? "EC P-256" : "RSA " + std::to_string(o.rsa_bits);
    out << "key:         " << files->key_path << " (" << kind << ", mode 0600)\n";
    if (!files->csr_path.empty()) {
        out << "request:     " << files->csr_path << " (" << names << ")\n\n"
            << "Send the request to your certificate authority. Install the certificate it\n"
               "returns (with its intermediate certificates appended) next to the key and\n"
               "point Postfix and Dovecot at both:\n\n";
    } else {
        out << "certificate: " << files->cert_path << " (self-signed, " << o.days << " days, "
            << names << ")\n\n"
            << "A self-signed certificate: clients warn unless told to trust it\n"
               "(yubinctl check --cafile " << files->cert_path << ").\n\n";
    }
    std::string crt = files->cert_path.empty() ? "/etc/yubin/ssl/" + to_lower(o.hosts.front()) + ".crt"
                                               : files->cert_path;
    out << "main.cf:\n"
        << "    smtpd_tls_cert_file = " << crt << '\n'
        << "    smtpd_tls_key_file = " << files->key_path << '\n'
        << "    smtpd_tls_security_level = may\n\n"
        << "dovecot.conf (conf.d/10-ssl.conf):\n"
        << "    ssl = required\n"
        << "    ssl_cert = <" << crt << '\n'
        << "    ssl_key = <" << files->key_path << '\n';
    return kExitOk;
}

}  // namespace yubin::ctl
