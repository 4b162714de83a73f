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

use_private_module || { not_ok "the module is visible to Dovecot"; finish; exit 1; }

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

common_checks

# Only the module: quota rules, user iteration.
yctl user set taro@example.com --quota 1M --quota-messages 500 >/dev/null
check_status "doveadm user after a quota change" 0 "${DA[@]}" user taro@example.com
check_contains "doveadm user: quota rule in bytes" $'quota_rule\t*:storage=1048576B:messages=500' "$T/out"
check_status "doveadm user '*'" 0 "${DA[@]}" user '*'
check_eq "doveadm user '*' lists every mailbox" "$(sort "$T/out" | tr '\n' ' ')" \
    "hanako@example.com nobody@off.example taro@example.com "
finish
