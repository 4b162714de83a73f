#!/bin/bash
# libauthdb_yubin.so behind a real Dovecot: passdb and userdb driver yubin.
# The module is made visible to Dovecot by a bind mount over
# /usr/lib/dovecot/modules/auth in a private mount namespace, so the system
# directory is never written.
if [[ -z ${YUBIN_TEST_NS:-} ]]; then
    exec unshare --mount --propagation private env YUBIN_TEST_NS=1 bash "$0" "$@"
fi
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/dovecot.sh"
source "$(dirname "$0")/dovecot_common.sh"

MODULE=$BUILD/lib/libauthdb_yubin.so
[[ -f $MODULE ]] || { not_ok "module $MODULE not built"; finish; exit 1; }
mkdir -p "$T/modules"
cp -a /usr/lib/dovecot/modules/auth/. "$T/modules/"
cp "$MODULE" "$T/modules/"
mount --bind "$T/modules" /usr/lib/dovecot/modules/auth || { not_ok "bind mount"; finish; exit 1; }

yubin_site "$T/site"
printf 'secret-1\n' | yctl user add taro@example.com --password-stdin >/dev/null
printf 'secret-4\n' | yctl user add nobody@off.example --password-stdin >/dev/null
yctl domain set off.example --active no >/dev/null

PORT=21010
D=$T/dovecot
dovecot_setup "$D" $PORT "
passdb {
  driver = yubin
  args = $SITE/yubin.cf
}
userdb {
  driver = yubin
  args = $SITE/yubin.cf
}"
dovecot_start "$D" || { not_ok "dovecot start"; finish; exit 1; }
DA=(doveadm -c "$D/dovecot.conf")

# --- doveadm auth test / doveadm user ---------------------------------------
check_status "doveadm auth test: right password" 0 "${DA[@]}" auth test taro@example.com secret-1
check_status "doveadm auth test: login name is case-insensitive" 0 \
    "${DA[@]}" auth test TARO@Example.COM secret-1
check_status "doveadm auth test: wrong password" 77 "${DA[@]}" auth test taro@example.com nope
check_status "doveadm auth test: unknown user" 77 "${DA[@]}" auth test jiro@example.com secret-1
check_status "doveadm user taro" 0 "${DA[@]}" user taro@example.com
check_contains "doveadm user: home" $'home\t'"$SITE/vmail/example.com/taro" "$T/out"
check_contains "doveadm user: mail" $'mail\tmaildir:'"$SITE/vmail/example.com/taro/Maildir" "$T/out"
check_contains "doveadm user: uid" $'uid\t'"$NOBODY_UID" "$T/out"
check_status "doveadm user: unknown user" 67 "${DA[@]}" user jiro@example.com
yctl user set taro@example.com --quota 1M >/dev/null
check_status "doveadm user after quota change" 0 "${DA[@]}" user taro@example.com
check_contains "doveadm user: quota rule in bytes" $'quota_rule\t*:storage=1048576B' "$T/out"
check_status "doveadm user '*'" 0 "${DA[@]}" user '*'
check_eq "doveadm user '*' lists every mailbox" "$(sort "$T/out" | tr '\n' ' ')" \
    "nobody@off.example taro@example.com "

# --- IMAP and POP3 logins -----------------------------------------------------
check_login "IMAP STARTTLS login" OK imap starttls $PORT taro@example.com secret-1
check_login "IMAPS login" OK imap tls $((PORT + 1)) taro@example.com secret-1
check_login "POP3 login" OK pop3 plain $((PORT + 2)) taro@example.com secret-1
check_login "POP3S login" OK pop3 tls $((PORT + 3)) taro@example.com secret-1
check_login "IMAP wrong password" FAIL imap starttls $PORT taro@example.com secret-2
check_login "POP3 wrong password" FAIL pop3 plain $((PORT + 2)) taro@example.com secret-2
check_login "IMAP unknown user" FAIL imap tls $((PORT + 1)) jiro@example.com secret-1
check_login "IMAP user of a disabled domain" FAIL imap tls $((PORT + 1)) nobody@off.example secret-4
if [[ -d $SITE/vmail/example.com/taro/Maildir ]]; then ok "Dovecot created the Maildir as the virtual user"; else
    not_ok "no Maildir under $SITE/vmail/example.com/taro"; fi

# --- live changes, no restart -------------------------------------------------
printf 'secret-2\n' | yctl user add jiro@example.com --password-stdin >/dev/null
check_login "a user added with yubinctl logs in at once" OK imap tls $((PORT + 1)) jiro@example.com secret-2
printf 'secret-3\n' | yctl user passwd jiro@example.com --password-stdin >/dev/null
check_login "after a password change the old one fails" FAIL imap tls $((PORT + 1)) jiro@example.com secret-2
check_login "and the new one works" OK imap tls $((PORT + 1)) jiro@example.com secret-3
yctl user set jiro@example.com --active no >/dev/null
check_login "a disabled user cannot log in" FAIL imap tls $((PORT + 1)) jiro@example.com secret-3
check_contains "the log says why" "login refused: mailbox is disabled" "$(dovecot_log "$D")"
check_status "doveadm user still finds a disabled mailbox" 0 "${DA[@]}" user jiro@example.com
yctl user set jiro@example.com --active yes >/dev/null
check_login "enabled again, it logs in" OK pop3 tls $((PORT + 3)) jiro@example.com secret-3
yctl user del jiro@example.com >/dev/null
check_login "a deleted user cannot log in" FAIL pop3 tls $((PORT + 3)) jiro@example.com secret-3

# --- imported HMAC-MD5 hash: CRAM-MD5, then rehash on a plaintext login -------
# doveadm pw -s HMAC-MD5 -p secret
printf 'hanako@example.com:{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56::::::\n' \
    >"$T/passwd"
yctl import --dovecot-passwd "$T/passwd" >/dev/null
check_login "CRAM-MD5 with an imported HMAC-MD5 hash" OK imap starttls $PORT hanako@example.com secret cram-md5
check_login "CRAM-MD5 with a wrong password" FAIL imap starttls $PORT hanako@example.com wrong cram-md5
check_login "plaintext login with the imported hash" OK imap tls $((PORT + 1)) hanako@example.com secret
yctl user show hanako@example.com >"$T/show" 2>&1
check_contains "the login rehashed it into password_scheme" "SHA512-CRYPT" "$T/show"
check_contains "and logged it" "password rehashed from HMAC-MD5 to SHA512-CRYPT" "$(dovecot_log "$D")"
check_login "the rehashed password still logs in" OK pop3 plain $((PORT + 2)) hanako@example.com secret

# --- store outage: a temporary failure, never "wrong password" ----------------
mv "$SITE/yubin.db" "$SITE/yubin.db.away"
check_login "store gone: IMAP answers [UNAVAILABLE]" UNAVAILABLE imap tls $((PORT + 1)) taro@example.com secret-1
check_login "store gone: even for a wrong password" UNAVAILABLE imap starttls $PORT taro@example.com wrong
check_status "store gone: doveadm user is a temporary failure" 75 "${DA[@]}" user taro@example.com
check_contains "store gone: logged as an error" "temporary failure: store" "$(dovecot_log "$D")"
mv "$SITE/yubin.db.away" "$SITE/yubin.db"
check_login "store back: logins work again without a restart" OK imap tls $((PORT + 1)) taro@example.com secret-1

if grep -q "Fatal\|Panic" "$(dovecot_log "$D")"; then
    not_ok "Dovecot logged a fatal error"; grep "Fatal\|Panic" "$(dovecot_log "$D")" | head -5
else ok "no fatal error or panic in Dovecot's log"; fi
finish
