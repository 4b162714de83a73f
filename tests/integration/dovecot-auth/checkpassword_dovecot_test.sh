#!/bin/bash
# yubin-checkpassword behind a real Dovecot: passdb and userdb driver
# checkpassword (Dovecot 2.3), the same store and the same answers as the
# module.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/dovecot.sh"
source "$(dirname "$0")/dovecot_common.sh"

CP=$BIN/yubin-checkpassword
[[ -x $CP ]] || { not_ok "$CP not built"; finish; exit 1; }

yubin_site "$T/site"
printf 'secret-1\n' | yctl user add taro@example.com --password-stdin >/dev/null
printf 'secret-4\n' | yctl user add nobody@off.example --password-stdin >/dev/null
yctl domain set off.example --active no >/dev/null
# Dovecot runs checkpassword programs from its auth process, as user dovecot:
# the documented setup gives group dovecot read and write (rehash) access to
# the store's files.
ls "$SITE"/yubin.db* >/dev/null
chgrp dovecot "$SITE"/yubin.db*
chmod 0660 "$SITE"/yubin.db*

PORT=21020
D=$T/dovecot
dovecot_setup "$D" $PORT "
passdb {
  driver = checkpassword
  args = $CP -f -c $SITE/yubin.cf
}
userdb {
  driver = checkpassword
  args = $CP -f -c $SITE/yubin.cf
}"
dovecot_start "$D" || { not_ok "dovecot start"; finish; exit 1; }
DA=(doveadm -c "$D/dovecot.conf")
LOG=$(dovecot_log "$D")

check_status "doveadm auth test: right password" 0 "${DA[@]}" auth test taro@example.com secret-1
check_status "doveadm auth test: wrong password" 77 "${DA[@]}" auth test taro@example.com nope
check_status "doveadm auth test: unknown user" 77 "${DA[@]}" auth test jiro@example.com secret-1
check_status "doveadm user taro" 0 "${DA[@]}" user taro@example.com
check_contains "doveadm user: home" $'home\t'"$SITE/vmail/example.com/taro" "$T/out"
check_contains "doveadm user: mail" $'mail\tmaildir:'"$SITE/vmail/example.com/taro/Maildir" "$T/out"
check_contains "doveadm user: uid" $'uid\t'"$NOBODY_UID" "$T/out"
check_status "doveadm user: unknown user" 67 "${DA[@]}" user jiro@example.com

check_login "IMAP STARTTLS login" OK imap starttls $PORT taro@example.com secret-1
check_login "IMAPS login" OK imap tls $((PORT + 1)) taro@example.com secret-1
check_login "POP3 login" OK pop3 plain $((PORT + 2)) taro@example.com secret-1
check_login "POP3S login" OK pop3 tls $((PORT + 3)) taro@example.com secret-1
check_login "IMAP wrong password" FAIL imap starttls $PORT taro@example.com secret-2
check_login "IMAP unknown user" FAIL imap tls $((PORT + 1)) jiro@example.com secret-1
check_login "IMAP user of a disabled domain" FAIL imap tls $((PORT + 1)) nobody@off.example secret-4
check_contains "the log says why" "login refused: domain off.example is disabled" "$LOG"

printf 'secret-2\n' | yctl user add jiro@example.com --password-stdin >/dev/null
check_login "a user added with yubinctl logs in at once" OK imap tls $((PORT + 1)) jiro@example.com secret-2
yctl user set jiro@example.com --active no >/dev/null
check_login "a disabled user cannot log in" FAIL imap tls $((PORT + 1)) jiro@example.com secret-2
yctl user del jiro@example.com >/dev/null
check_login "a deleted user cannot log in" FAIL pop3 tls $((PORT + 3)) jiro@example.com secret-2

printf 'hanako@example.com:{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56::::::\n' \
    >"$T/passwd"
yctl import --dovecot-passwd "$T/passwd" >/dev/null
check_login "CRAM-MD5 with an imported HMAC-MD5 hash (credentials lookup)" OK \
    imap starttls $PORT hanako@example.com secret cram-md5
check_login "CRAM-MD5 with a wrong password" FAIL imap starttls $PORT hanako@example.com wrong cram-md5
check_login "plaintext login with the imported hash" OK imap tls $((PORT + 1)) hanako@example.com secret
yctl user show hanako@example.com >"$T/show" 2>&1
check_contains "the login rehashed it into password_scheme" "SHA512-CRYPT" "$T/show"

mv "$SITE/yubin.db" "$SITE/yubin.db.away"
check_login "store gone: IMAP answers [UNAVAILABLE]" UNAVAILABLE imap tls $((PORT + 1)) taro@example.com secret-1
check_status "store gone: doveadm user is a temporary failure" 75 "${DA[@]}" user taro@example.com
check_contains "store gone: logged" "temporary failure: store" "$LOG"
mv "$SITE/yubin.db.away" "$SITE/yubin.db"
check_login "store back: logins work again" OK imap tls $((PORT + 1)) taro@example.com secret-1

if grep -q "Fatal\|Panic" "$LOG"; then
    not_ok "Dovecot logged a fatal error"; grep "Fatal\|Panic" "$LOG" | head -5
else ok "no fatal error or panic in Dovecot's log"; fi
finish
