#!/usr/bin/env bash
# The LDAP store over TLS against a real slapd whose certificate is made by
# the test (yubinctl cert, subjectAltName IP:127.0.0.1): StartTLS and ldaps://
# work with store_ldap_tls_ca_file naming that certificate, and fail as a
# temporary failure (exit 75, socketmap TEMP) with a certificate the store
# does not trust or a host name the certificate does not carry -- never
# "unknown user". Ports 26410-26411. Needs root.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/postfix.sh"
source "$(dirname "$0")/../lib/slapd.sh"
: "${YUBIN_BIN:?}"

mkdir -p "$T/ssl"
"$YUBIN_BIN/yubinctl" cert --host 127.0.0.1 --type ec --days 2 \
    --key "$T/ssl/slapd.key" --cert "$T/ssl/slapd.crt" >/dev/null &&
    "$YUBIN_BIN/yubinctl" cert --host 127.0.0.1 --type ec --days 2 \
        --key "$T/ssl/other.key" --cert "$T/ssl/other.crt" >/dev/null &&
    ok "two self-signed certificates for 127.0.0.1 (yubinctl cert)" ||
    { not_ok "yubinctl cert"; finish; exit 1; }

SL=$T/slapd
cleanup_hooks+=("slapd_stop '$SL'")
SLAPD_TLS_CERT=$T/ssl/slapd.crt SLAPD_TLS_KEY=$T/ssl/slapd.key SLAPD_LDAPS_PORT=26411 \
    slapd_setup "$SL" 26410 && slapd_start "$SL" || { not_ok "slapd with TLS"; finish; exit 1; }
check_status "slapd serves ldaps with the test certificate (ldapsearch)" 0 \
    env LDAPTLS_CACERT="$T/ssl/slapd.crt" ldapsearch -x -LLL -H ldaps://127.0.0.1:26411/ \
    -D "$SLAPD_BIND_DN" -w "$SLAPD_BIND_PW" -b "$SLAPD_BASE_DN" -s base 1.1

# site NAME URI START_TLS CA_FILE: a yubin.cf for that connection.
site() {
    cat >"$T/$1.cf" <<CF
store = ldap:$T/$1.cf
store_ldap_uri = $2
store_ldap_start_tls = $3
store_ldap_tls_ca_file = $4
store_ldap_base_dn = $SLAPD_BASE_DN
store_ldap_bind_dn = $SLAPD_BIND_DN
store_ldap_bind_pw_file = $SL/bind.pw
store_ldap_timeout = 2s
store_ldap_cache_ttl = 0
store_ldap_negative_cache_ttl = 0
password_scheme = SHA512-CRYPT
authd_socketmap_listen = unix:$T/authd/socketmap
authd_saslauthd_listen =
authd_user = nobody
CF
}
site starttls ldap://127.0.0.1:26410/ yes "$T/ssl/slapd.crt"
site ldaps ldaps://127.0.0.1:26411/ no "$T/ssl/slapd.crt"
site starttls-untrusted ldap://127.0.0.1:26410/ yes "$T/ssl/other.crt"
site ldaps-untrusted ldaps://127.0.0.1:26411/ no "$T/ssl/other.crt"
site ldaps-wrong-name ldaps://localhost:26411/ no "$T/ssl/slapd.crt"
site starttls-no-ca-file ldap://127.0.0.1:26410/ yes "$T/ssl/missing.crt"

y() { local s=$1; shift; "$YUBIN_BIN/yubinctl" -c "$T/$s.cf" "$@"; }

# --- trusted: StartTLS and ldaps work -------------------------------------------
check_status "StartTLS, trusted certificate: domain add" 0 y starttls domain add example.jp
check_status "StartTLS: user add" 0 y starttls user add taro@example.jp --password-stdin <<<'taro-pw'
check_status "StartTLS: auth test" 0 y starttls auth test taro@example.jp <<<'taro-pw'
check_status "ldaps, trusted certificate: user list" 0 y ldaps user list
check_eq "ldaps: the user written over StartTLS" "$(cat "$T/out")" "taro@example.jp"
check_status "ldaps: auth test" 0 y ldaps auth test taro@example.jp <<<'taro-pw'
check_status "ldaps: a wrong password is still 'fail' (exit 1)" 1 y ldaps auth test taro@example.jp <<<'nope'

# --- untrusted: temporary failure, never "unknown" ------------------------------
tempfail() {  # DESCRIPTION SITE WHAT-THE-ERROR-SAYS
    check_status "$1: user show is exit 75, not 67" 75 y "$2" user show taro@example.jp
    grep -q "temporary failure" "$T/err" && grep -qiE -- "$3" "$T/err" \
        && ok "$1: the message says temporary failure and $3" || not_ok "$1: stderr: $(cat "$T/err")"
    check_status "$1: auth test is 75, not 'fail'" 75 y "$2" auth test taro@example.jp <<<'taro-pw'
}
tempfail "StartTLS, untrusted certificate" starttls-untrusted "StartTLS: .*certificate did not verify"
tempfail "ldaps, untrusted certificate" ldaps-untrusted "Can't contact LDAP server.*TLS certificate did not verify"
tempfail "ldaps, certificate without that host name" ldaps-wrong-name "certificate did not verify"
tempfail "StartTLS, CA file missing" starttls-no-ca-file "store_ldap_tls_ca_file"

# --- a daemon: yubin-authd's socketmap over ldaps --------------------------------
mkdir -p "$T/authd" && chmod 0755 "$T/authd"
chmod 0644 "$SL/bind.pw" "$T"/*.cf "$T/ssl/slapd.crt" "$T/ssl/other.crt"
postfix_setup "$T/pf" 26412  # only main.cf, for postmap -c; not started
q() { postmap -c "$T/pf/etc" -q "$1" "socketmap:unix:$T/authd/socketmap:$2" 2>&1; }
authd() {  # SITE: runs yubin-authd on that site, queries taro's mailbox
    rm -f "$T/authd/socketmap"
    "$YUBIN_BIN/yubin-authd" -c "$T/$1.cf" -f 2>>"$T/authd.log" &
    local pid=$! i
    for i in $(seq 1 50); do [[ -S $T/authd/socketmap ]] && break; sleep 0.1; done
    q taro@example.jp mailbox
    kill "$pid"; wait "$pid" 2>/dev/null
}
check_eq "socketmap over ldaps, trusted" "$(authd ldaps)" "example.jp/taro/Maildir/"
out=$(authd ldaps-untrusted)
[[ $out == *"temporary error"* ]] && ok "socketmap over ldaps, untrusted: TEMP" || not_ok "untrusted socketmap: '$out'"
if grep -q 'yubin-secret\|taro-pw' "$T/authd.log" "$T/err"; then not_ok "a password in a message"; else
    ok "no password in the messages"; fi
finish
