#!/bin/bash
# yubinctl cert: a key (0600) and a self-signed certificate (0644) with
# subjectAltName, as openssl(1) sees them; existing files refused without
# --force; a CSR for a real CA; missing directories created; the printed main.cf/dovecot.conf lines; and the certificate
# working in a real Dovecot (imaps) checked by yubinctl check.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/dovecot.sh"
BIN=${YUBIN_BIN:?}
yubinctl() { "$BIN/yubinctl" "$@"; }
D=$T/ssl

# 1. key and certificate
check_status "cert: key and self-signed certificate" 0 \
    yubinctl cert --host mail.example.jp --host mx.example.jp --host 192.0.2.25 \
    --key "$D/mail.key" --cert "$D/mail.crt" --days 400
cp "$T/out" "$T/cert.out"
check_eq "key mode 0600" "$(stat -c %a "$D/mail.key")" "600"
check_eq "certificate mode 0644" "$(stat -c %a "$D/mail.crt")" "644"
check_eq "directory created 0755" "$(stat -c %a "$D")" "755"
openssl x509 -in "$D/mail.crt" -noout -text >"$T/x509.txt" 2>&1
check_contains "SAN holds every name" "DNS:mail.example.jp, DNS:mx.example.jp, IP Address:192.0.2.25" "$T/x509.txt"
check_contains "subject CN is the first name" "Subject: CN = mail.example.jp" "$T/x509.txt"
check_contains "not a CA" "CA:FALSE" "$T/x509.txt"
check_contains "RSA 3072 by default" "Public-Key: (3072 bit)" "$T/x509.txt"
days=$(( ( $(date -d "$(openssl x509 -in "$D/mail.crt" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s) ) / 86400 ))
[[ $days -ge 399 && $days -le 400 ]] && ok "valid for --days 400 ($days)" || not_ok "validity $days days, want 400"
check_eq "key matches certificate" \
    "$(openssl pkey -in "$D/mail.key" -pubout 2>/dev/null | sha256sum)" \
    "$(openssl x509 -in "$D/mail.crt" -noout -pubkey | sha256sum)"
check_status "certificate verifies against itself" 0 openssl verify -CAfile "$D/mail.crt" "$D/mail.crt"
check_contains "prints the main.cf line" "smtpd_tls_cert_file = $D/mail.crt" "$T/cert.out"
check_contains "prints the dovecot.conf line" "ssl_key = <$D/mail.key" "$T/cert.out"

# 2. existing files
key_before=$(sha256sum <"$D/mail.key")
check_status "existing key refused without --force (exit 1)" 1 \
    yubinctl cert --host mail.example.jp --key "$D/mail.key" --cert "$D/other.crt"
check_contains "refusal names the file" "$D/mail.key exists (use --force to replace it)" "$T/err"
check_eq "refused: key unchanged" "$(sha256sum <"$D/mail.key")" "$key_before"
[[ ! -e "$D/other.crt" ]] && ok "refused: no certificate written" || not_ok "refused: a certificate was written"
check_status "--force replaces" 0 yubinctl cert --host mail.example.jp --key "$D/mail.key" --cert "$D/mail.crt" --force --type ec
[[ "$(sha256sum <"$D/mail.key")" != "$key_before" ]] && ok "--force: new key" || not_ok "--force: key unchanged"
check_eq "--force: key still 0600" "$(stat -c %a "$D/mail.key")" "600"
openssl x509 -in "$D/mail.crt" -noout -text >"$T/x509ec.txt" 2>&1
check_contains "--type ec: P-256" "NIST CURVE: P-256" "$T/x509ec.txt"
ln -s "$T/victim" "$D/link.key"
echo precious >"$T/victim"
check_status "a symlink at the key path is refused" 1 yubinctl cert --host mail.example.jp --key "$D/link.key" --cert "$D/link.crt"
check_eq "the symlink's target is untouched" "$(cat "$T/victim")" "precious"

# 3. CSR
check_status "CSR" 0 yubinctl cert --host mail.example.jp --host example.jp --key "$D/csr.key" --csr "$D/mail.csr"
openssl req -in "$D/mail.csr" -noout -text -verify >"$T/csr.txt" 2>&1
check_contains "CSR self-signature verifies" "verify OK" "$T/csr.txt"
check_contains "CSR carries the SAN" "DNS:mail.example.jp, DNS:example.jp" "$T/csr.txt"
[[ ! -e "$D/mail.example.jp.crt" ]] && ok "CSR: no certificate written" || not_ok "CSR: a certificate was written"
check_status "--csr and --cert together: usage error" 64 yubinctl cert --host a.example --csr x --cert y

# 4. bad input
check_status "bad host name: usage error" 64 yubinctl cert --host 'bad host' --key "$D/b.key" --cert "$D/b.crt"
check_status "no host: usage error" 64 yubinctl cert --key "$D/b.key" --cert "$D/b.crt"
check_status "--days 0: usage error" 64 yubinctl cert --host a.example --days 0 --key "$D/b.key" --cert "$D/b.crt"
[[ ! -e "$D/b.key" ]] && ok "bad input: nothing written" || not_ok "bad input: a key was written"

# 5. missing parent directories are created (as /etc/yubin/ssl on a fresh server)
check_status "missing directories created" 0 \
    yubinctl cert --host mail.example.jp --type ec --key "$T/new/yubin/ssl/m.key" --cert "$T/new/yubin/ssl/m.crt"
check_eq "created directories are 0755" "$(stat -c %a "$T/new/yubin") $(stat -c %a "$T/new/yubin/ssl")" "755 755"

# 6. the certificate in a real Dovecot, checked from outside
mkdir -p "$T/dc/ssl"
check_status "cert for Dovecot" 0 yubinctl cert --host mail.example.test --key "$T/dc/ssl/key.pem" --cert "$T/dc/ssl/cert.pem" --type ec
echo 'hanako@example.test:{PLAIN}pw' >"$T/dc/passwd"
dovecot_setup "$T/dc" 27243 "passdb {
  driver = passwd-file
  args = $T/dc/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$T/home/%n
}"
if dovecot_start "$T/dc"; then
    yubinctl check --host 127.0.0.1 --imaps-port 27244 --tls-name mail.example.test --cafile "$T/dc/ssl/cert.pem" \
        --user hanako@example.test --password-stdin --skip smtp banner ehlo starttls certificate size submission auth smtps relay spam imap pop3 pop3s delivery \
        <<<"pw" >"$T/imaps.out" 2>&1
    check_eq "imaps with the yubinctl certificate: check exits 0" "$?" "0"
    check_contains "imaps login over the certificate" "ok imaps: port 27244: TLSv1.3" "$T/imaps.out"
    # this Dovecot keeps dovecot.sh's disable_plaintext_auth = no: a warning each for IMAP and POP3
    yubinctl check --host 127.0.0.1 --imap-port 27243 --pop3-port 27245 --tls-name mail.example.test \
        --cafile "$T/dc/ssl/cert.pem" --skip smtp banner ehlo starttls certificate size submission auth smtps \
        relay spam imaps pop3s delivery >"$T/plain.out" 2>&1
    check_eq "plaintext login allowed: warnings only, exit 0" "$?" "0"
    check_contains "imap-plaintext warning" "warn imap-plaintext: LOGIN allowed before STARTTLS" "$T/plain.out"
    check_contains "pop3-plaintext warning" "warn pop3-plaintext: USER/PASS allowed before STLS" "$T/plain.out"
    check_contains "counted as warnings" "2 passed, 0 failed, 2 warnings" "$T/plain.out"
else
    not_ok "dovecot start"
fi

finish
