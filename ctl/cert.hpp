// yubinctl cert: a private key and a self-signed certificate (or a
// certificate signing request for a real CA) for the mail host names, with
// subjectAltName, written with safe permissions: the replacement for
// "cd /etc/pki/tls/certs; make mail.pem". OpenSSL's library only, no
// openssl(1) command.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace yubin::ctl {

enum class KeyType { Rsa, Ec };

struct CertOptions {
    std::vector<std::string> hosts;  // first = subject CN; each a DNS name or IP address
    std::string key_path;            // default /etc/yubin/ssl/<host>.key
    std::string cert_path;           // default /etc/yubin/ssl/<host>.crt
    std::string csr_path;            // non-empty: write a CSR here instead of a certificate
    int days = 825;
    KeyType type = KeyType::Rsa;
    int rsa_bits = 3072;
    bool force = false;              // replace existing files
};

inline constexpr const char* kDefaultCertDir = "/etc/yubin/ssl";
inline constexpr int kMaxCertDays = 36500;

// Fills the default paths from the first host name.
void complete_cert_defaults(CertOptions&);

// Validates hosts (DNS names or IP addresses) and days: BadInput.
[[nodiscard]] Status validate_cert_options(const CertOptions&);

struct CertFiles {
    std::string key_path, cert_path, csr_path;  // what was written
    std::vector<std::string> san;               // "DNS:mail.example.com", "IP:192.0.2.1"
};

// Generates the key and the certificate or CSR and writes them: the key with
// mode 0600, the certificate/CSR 0644, each created with O_EXCL|O_NOFOLLOW
// (with force: written to a fresh temporary name, then renamed over). Nothing
// is written when a file exists and force is off (Perm).
[[nodiscard]] Result<CertFiles> make_cert(const CertOptions&);

// The command: make_cert, then where it wrote and the main.cf/dovecot.conf
// lines. Returns the exit status.
int run_cert(CertOptions, std::ostream& out, std::ostream& err);

}  // namespace yubin::ctl
