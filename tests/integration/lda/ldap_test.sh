#!/bin/bash
# yubin-lda on the LDAP store (a real slapd): the LDAP backend is a module
# (yubin-store-ldap.so next to the program) that yubin-lda loads only when
# "store = ldap:" is configured, so the program itself does not link libldap.
# Pipe mode: delivered, unknown user 67, directory down 75, module missing 75
# with the reason. Ports 23401.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/slapd.sh"
source "$(dirname "$0")/lib.sh"

SL=$T/slapd
cleanup_hooks+=("slapd_stop '$SL'")
if slapd_setup "$SL" 23401 && slapd_start "$SL"; then ok "slapd starts"; else not_ok "slapd"; finish; exit 1; fi
mkdir -p "$T/vmail" "$T/etc"
chown "$LDA_VUSER" "$T/vmail"
cp "$SL/bind.pw" "$T/etc/bind.pw"
chown "$LDA_VUSER" "$T/etc/bind.pw"
cat >"$T/etc/yubin.cf" <<CF
store = ldap:$T/etc/yubin.cf
store_ldap_uri = ldap://127.0.0.1:23401/
store_ldap_base_dn = $SLAPD_BASE_DN
store_ldap_bind_dn = $SLAPD_BIND_DN
store_ldap_bind_pw_file = $T/etc/bind.pw
store_ldap_timeout = 2s
virtual_mailbox_base = $T/vmail
CF
chmod 0755 "$T/etc"; chmod 0644 "$T/etc/yubin.cf"
"$BIN/yubinctl" -c "$T/etc/yubin.cf" domain add example.test >/dev/null &&
    "$BIN/yubinctl" -c "$T/etc/yubin.cf" user add taro@example.test --no-password >/dev/null ||
    { not_ok "yubinctl on LDAP"; finish; exit 1; }

if ldd "$BIN/yubin-lda" | grep -q 'libldap'; then
    not_ok "yubin-lda links libldap (it should load the module only for ldap:)"
else
    ok "yubin-lda does not link libldap"
fi

lda() {  # lda BINARY RECIPIENT: exit status; output in $T/out
    printf 'From: a@sender.example\nSubject: via ldap\nMessage-ID: <l1@sender.example>\n\nhello\n' |
        setpriv --reuid="$LDA_VUSER" --regid=nogroup --clear-groups \
            "$1" -c "$T/etc/yubin.cf" -f a@sender.example -d "$2" -L >"$T/out" 2>"$T/err"
}
lda "$BIN/yubin-lda" taro@example.test
check_eq "LDAP store: delivered (exit 0)" "$?" "0"
f=$(lda_wait_file "$T/vmail/example.test/taro/Maildir/new/*" 2)
check_status "LDAP store: the message is in the user's Maildir" 0 grep -q '^Message-ID: <l1@' "$f"
lda "$BIN/yubin-lda" ghost@example.test
check_eq "LDAP store: unknown user exit 67" "$?" "67"
check_contains "LDAP store: unknown user says 5.1.1" "5.1.1" "$T/out"

# Without the module next to the program: a temporary failure that says why.
mkdir -p "$T/alone"; cp "$BIN/yubin-lda" "$T/alone/"; chmod 0755 "$T/alone" "$T/alone/yubin-lda"
lda "$T/alone/yubin-lda" taro@example.test
check_eq "module missing: exit 75" "$?" "75"
check_contains "module missing: the log names the module" "yubin-store-ldap.so" "$T/err"

slapd_stop "$SL"
lda "$BIN/yubin-lda" taro@example.test
check_eq "directory down: exit 75" "$?" "75"
finish
