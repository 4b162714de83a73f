#!/bin/bash
# Postfix SMTP AUTH through Dovecot SASL (smtpd_sasl_type = dovecot) with the
# yubin module as Dovecot's passdb: the same store answers SMTP AUTH, at once
# after yubinctl changes.
if [[ -z ${YUBIN_TEST_NS:-} ]]; then
    exec unshare --mount --propagation private env YUBIN_TEST_NS=1 bash "$0" "$@"
fi
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/dovecot.sh"
source "$(dirname "$0")/../lib/postfix.sh"
source "$(dirname "$0")/dovecot_common.sh"

use_private_module || { not_ok "the module is visible to Dovecot"; finish; exit 1; }
yubin_site "$T/site"
printf 'secret-1\n' | yctl user add taro@example.com --password-stdin >/dev/null

PORT=21030
SMTP=21035
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
P=$T/postfix
postfix_setup "$P" $SMTP
postfix_conf "$P" "smtpd_sasl_auth_enable = yes" "smtpd_sasl_type = dovecot" \
    "smtpd_sasl_path = $D/run/auth-client" "smtpd_sasl_security_options = noanonymous" \
    "virtual_mailbox_domains = example.com"
postfix_start "$P" || { not_ok "postfix start"; finish; exit 1; }

# swaks: AUTH then a relay attempt to another domain, stopping after RCPT.
smtp() {  # MECH USER PASS
    swaks --server 127.0.0.1:$SMTP --from taro@example.com --to someone@elsewhere.example \
        --auth "$1" --auth-user "$2" --auth-password "$3" --quit-after RCPT --timeout 30 2>&1
}
no_auth_relay() {
    swaks --server 127.0.0.1:$SMTP --from taro@example.com --to someone@elsewhere.example \
        --quit-after RCPT --timeout 30 2>&1
}

smtp PLAIN taro@example.com secret-1 >"$T/s1"
check_contains "AUTH PLAIN with the store's password" "235 2.7.0" "$T/s1"
check_contains "an authenticated client may relay" "250 2.1.5" "$T/s1"
smtp LOGIN TARO@example.com secret-1 >"$T/s2"
check_contains "AUTH LOGIN, login name in another case" "235 2.7.0" "$T/s2"
smtp PLAIN taro@example.com wrong >"$T/s3"
check_contains "a wrong password is 535" "535 5.7.8" "$T/s3"
smtp PLAIN jiro@example.com secret-1 >"$T/s4"
check_contains "an unknown user is 535" "535 5.7.8" "$T/s4"
no_auth_relay >"$T/s5"
check_contains "without AUTH relaying is refused" "554 5.7.1" "$T/s5"

printf 'secret-2\n' | yctl user add jiro@example.com --password-stdin >/dev/null
smtp PLAIN jiro@example.com secret-2 >"$T/s6"
check_contains "a user added with yubinctl can AUTH at once" "235 2.7.0" "$T/s6"
yctl user set jiro@example.com --active no >/dev/null
smtp PLAIN jiro@example.com secret-2 >"$T/s7"
check_contains "a disabled user cannot" "535 5.7.8" "$T/s7"

# Dovecot answers the temporary failure ("FAIL ... temp"), but Postfix's
# Dovecot SASL client (3.7) makes every FAIL a 535 without reason: the
# client cannot tell; the logs can.
mv "$SITE/yubin.db" "$SITE/yubin.db.away"
smtp PLAIN taro@example.com secret-1 >"$T/s8"
check_contains "store gone: AUTH refused" "535 5.7.8 Error: authentication failed: (reason unavailable)" "$T/s8"
check_contains "store gone: Dovecot logged a temporary failure, not a mismatch" \
    "temporary failure: store" "$(dovecot_log "$D")"
mv "$SITE/yubin.db.away" "$SITE/yubin.db"
smtp PLAIN taro@example.com secret-1 >"$T/s9"
check_contains "store back: AUTH works again" "235 2.7.0" "$T/s9"
finish
