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

common_checks
finish
