#!/bin/bash
# Dovecot with passdb/userdb driver = yubin on the LDAP store: the same
# checks the SQLite store passes (dovecot-auth/dovecot_common.sh: IMAP/POP3
# logins, live changes with yubinctl, CRAM-MD5 with an imported hash and a
# rehash written back into the directory, an outage as [UNAVAILABLE]), then
# the lookup cache: a user looked up within the TTL logs in while slapd is
# down, one not in the cache gets [UNAVAILABLE], and a user added with
# yubinctl authenticates once the negative TTL has passed.
# Ports 26201 (slapd), 26210-26213 (Dovecot). Needs root.
if [[ -z ${YUBIN_TEST_NS:-} ]]; then
    exec unshare --mount --propagation private env YUBIN_TEST_NS=1 bash "$0" "$@"
fi
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/dovecot.sh"
source "$(dirname "$0")/../lib/slapd.sh"
source "$(dirname "$0")/../dovecot-auth/dovecot_common.sh"

MODULE=$BUILD/lib/libauthdb_yubin.so
[[ -f $MODULE ]] || { not_ok "module $MODULE not built"; finish; exit 1; }
mkdir -p "$T/modules"
cp -a /usr/lib/dovecot/modules/auth/. "$T/modules/"
cp "$MODULE" "$T/modules/"
mount --bind "$T/modules" /usr/lib/dovecot/modules/auth || { not_ok "bind mount"; finish; exit 1; }

SL=$T/slapd
cleanup_hooks+=("slapd_stop '$SL'")
slapd_setup "$SL" 26201 && slapd_start "$SL" || { not_ok "slapd"; finish; exit 1; }
chmod 0644 "$SL/bind.pw"  # the auth process reads it; a test directory

# yubin_site of dovecot_common.sh, on LDAP. CACHE: "ttl negative_ttl".
ldap_site() {
    SITE=$1
    mkdir -p "$SITE/vmail"
    chmod 0755 "$SITE"
    chown "$NOBODY_UID:$NOBODY_GID" "$SITE/vmail"
    cat >"$SITE/yubin.cf" <<CF
store = ldap:$SITE/yubin.cf
store_ldap_uri = ldap://127.0.0.1:26201/
store_ldap_base_dn = $SLAPD_BASE_DN
store_ldap_bind_dn = $SLAPD_BIND_DN
store_ldap_bind_pw_file = $SL/bind.pw
store_ldap_timeout = 2s
store_ldap_cache_ttl = $2
store_ldap_negative_cache_ttl = $3
password_scheme = SHA512-CRYPT
virtual_mailbox_base = $SITE/vmail
virtual_uid = $NOBODY_UID
virtual_gid = $NOBODY_GID
CF
    chmod 0644 "$SITE/yubin.cf"
}
# common_checks takes the store away by moving the SQLite file; here that
# is stopping slapd, and moving it back starts slapd again.
mv() {
    if [[ $# == 2 && $1 == "$SITE/yubin.db" ]]; then
        slapd_stop "$SL"
    elif [[ $# == 2 && $1 == "$SITE/yubin.db.away" ]]; then
        slapd_start "$SL"
    else
        command mv "$@"
    fi
}

# --- without cache: every check of the SQLite store -------------------------
ldap_site "$T/site" 0 0
yctl domain add example.com >/dev/null
yctl domain add off.example >/dev/null
printf 'secret-1\n' | yctl user add taro@example.com --password-stdin >/dev/null
printf 'secret-4\n' | yctl user add nobody@off.example --password-stdin >/dev/null
yctl domain set off.example --active no >/dev/null

PORT=26210
D=$T/dovecot
AUTH="
passdb {
  driver = yubin
  args = $SITE/yubin.cf
}
userdb {
  driver = yubin
  args = $SITE/yubin.cf
}"
dovecot_setup "$D" $PORT "$AUTH"
dovecot_start "$D" || { not_ok "dovecot start"; finish; exit 1; }
DA=(doveadm -c "$D/dovecot.conf")
common_checks
check_status "doveadm user '*' iterates the directory" 0 "${DA[@]}" user '*'
check_eq "doveadm user '*' lists every mailbox" "$(sort "$T/out" | tr '\n' ' ')" \
    "hanako@example.com nobody@off.example taro@example.com "

# --- with the cache: TTL 30 s, negative TTL 2 s -----------------------------
dovecot_stop "$D"
ldap_site "$T/site" 30s 2s
dovecot_start "$D" || { not_ok "dovecot restart"; finish; exit 1; }
imaps=$((PORT + 1))
check_login "cached: first login" OK imap tls $imaps taro@example.com secret-1
slapd_stop "$SL"
check_login "cached: a user looked up within the TTL logs in while the directory is down" OK \
    imap tls $imaps taro@example.com secret-1
check_login "cached: a user not in the cache is [UNAVAILABLE], not refused" UNAVAILABLE \
    imap tls $imaps hanako@example.com secret
slapd_start "$SL"
check_login "cached: hanako logs in once the directory is back" OK imap tls $imaps hanako@example.com secret
t0=$(date +%s%N)
check_login "cached: an unknown user is refused" FAIL imap tls $imaps saburo@example.com secret-5
printf 'secret-5\n' | yctl user add saburo@example.com --password-stdin >/dev/null
echo "# the refused login and yubinctl user add took $((($(date +%s%N) - t0) / 1000000)) ms"
ok_login=no
for i in $(seq 1 40); do
    # doveadm, not IMAP: Dovecot's auth penalty delays logins from an
    # address that just failed by seconds, which is not what is measured.
    "${DA[@]}" auth test saburo@example.com secret-5 >"$T/try" 2>&1 && { ok_login=yes; break; }
    echo "# $((($(date +%s%N) - t0) / 1000000)) ms: $(head -c 100 "$T/try")"
    sleep 0.25
done
ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "a user added with yubinctl authenticates after the negative TTL" "$ok_login" "yes"
echo "# refused login -> yubinctl user add -> auth ok: $ms ms (negative TTL 2 s)"
[[ $ms -lt 10000 ]] && ok "soon after the negative TTL ($ms ms < 10000)" || not_ok "took $ms ms"
check_login "and logs in over IMAP" OK imap tls $imaps saburo@example.com secret-5
finish
