#!/usr/bin/env bash
# yubinctl store migrate: a SQLite store made with yubinctl is copied into a
# real slapd, twice (the second run changes nothing and says so); the
# directory then answers yubinctl (user list, auth test with the migrated
# hash) and yubin-authd's socketmap as Postfix queries it. A row the target
# refuses is exit 65 with the row named, the rest copied; an unreachable
# directory is exit 75 and nothing is lost. Ports 26400-26401. Needs root.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/postfix.sh"
source "$(dirname "$0")/../lib/slapd.sh"
: "${YUBIN_BIN:?}"

SL=$T/slapd
cleanup_hooks+=("slapd_stop '$SL'")
slapd_setup "$SL" 26400 && slapd_start "$SL" || { not_ok "slapd"; finish; exit 1; }


cat >"$T/sqlite.cf" <<CF
store = sqlite:$T/old/yubin.db
password_scheme = SHA512-CRYPT
CF
cat >"$T/ldap.cf" <<CF
store = ldap:$T/ldap.cf
store_ldap_uri = ldap://127.0.0.1:26400/
store_ldap_base_dn = $SLAPD_BASE_DN
store_ldap_bind_dn = $SLAPD_BIND_DN
store_ldap_bind_pw_file = $SL/bind.pw
store_ldap_timeout = 2s
password_scheme = SHA512-CRYPT
authd_socketmap_listen = unix:$T/authd/socketmap
authd_saslauthd_listen =
authd_socket_group = postfix
authd_user = nobody
CF
chmod 0644 "$SL/bind.pw" "$T/ldap.cf"  # yubin-authd reads them as nobody; a test directory
sq=("$YUBIN_BIN/yubinctl" -c "$T/sqlite.cf")
ld=("$YUBIN_BIN/yubinctl" -c "$T/ldap.cf")

# --- the old store --------------------------------------------------------
"${sq[@]}" domain add example.com --max-message-size 10M >/dev/null &&
    "${sq[@]}" domain add old.example >/dev/null &&
    "${sq[@]}" user add taro@example.com --password-stdin --quota 1G <<<'taro-pw' >/dev/null &&
    "${sq[@]}" user add Hanako@example.com --password-stdin <<<'hanako-pw' >/dev/null &&
    "${sq[@]}" user add off@example.com --password-stdin --active no <<<'off-pw' >/dev/null &&
    "${sq[@]}" alias add info@example.com taro@example.com Hanako@example.com >/dev/null &&
    "${sq[@]}" alias add @old.example @example.com >/dev/null &&
    ok "a SQLite store made with yubinctl" || { not_ok "yubinctl on SQLite"; finish; exit 1; }

# --- migrate, twice ------------------------------------------------------
check_status "store migrate --from sqlite: --to ldap: exits 0" 0 \
    "${ld[@]}" store migrate --from "sqlite:$T/old/yubin.db" --to "ldap:$T/ldap.cf"
check_contains "it reports the domains" "domains: 2 added, 0 skipped, 0 failed" "$T/out"
check_contains "it reports the mailboxes" "mailboxes: 3 added, 0 skipped, 0 failed" "$T/out"
check_contains "it reports the alias rows" "aliases: 3 added, 0 skipped, 0 failed" "$T/out"
check_status "a second run (--to defaults to the store parameter) exits 0" 0 \
    "${ld[@]}" store migrate --from "sqlite:$T/old/yubin.db"
check_contains "the second run skips everything" "mailboxes: 0 added, 3 skipped, 0 failed" "$T/out"
check_contains "and says there was nothing to do" "nothing to do" "$T/out"
check_eq "the directory holds exactly the entries, no duplicates" \
    "$(ldapsearch -x -LLL -H ldap://127.0.0.1:26400/ -D "$SLAPD_BIND_DN" -w "$SLAPD_BIND_PW" \
        -b "$SLAPD_BASE_DN" '(|(objectClass=yubinDomain)(objectClass=yubinMailbox)(objectClass=yubinAlias))' 1.1 |
        grep -c '^dn:')" 8

# --- the directory answers ------------------------------------------------
check_status "yubinctl -c ldap.cf user list" 0 "${ld[@]}" user list
check_eq "user list from LDAP" "$(sort "$T/out" | tr '\n' ' ')" \
    "Hanako@example.com off@example.com (disabled) taro@example.com "
check_status "alias list from LDAP" 0 "${ld[@]}" alias list
check_eq "alias rows from LDAP" "$(sort "$T/out" | tr '\n' ' ')" \
    "@old.example @example.com info@example.com Hanako@example.com info@example.com taro@example.com "
check_status "domain list from LDAP" 0 "${ld[@]}" domain list
check_status "user show from LDAP" 0 "${ld[@]}" user show taro@example.com
grep -q '1073741824' "$T/out" && ok "the quota came along" || not_ok "user show: $(tr '\n' ' ' <"$T/out")"
check_status "the migrated password hash verifies against LDAP" 0 \
    "${ld[@]}" auth test taro@example.com <<<'taro-pw'
check_status "a wrong password does not" 1 "${ld[@]}" auth test taro@example.com <<<'nope'
check_status "the disabled mailbox stays disabled (right password: fail)" 1 \
    "${ld[@]}" auth test off@example.com <<<'off-pw'

mkdir -p "$T/authd"
chmod 0755 "$T/authd"
"$YUBIN_BIN/yubin-authd" -c "$T/ldap.cf" -f 2>"$T/authd.log" &
authd_pid=$!
cleanup_hooks+=("kill $authd_pid 2>/dev/null; wait $authd_pid 2>/dev/null")
for i in $(seq 1 50); do [[ -S $T/authd/socketmap ]] && break; sleep 0.1; done
postfix_setup "$T/pf" 26401  # only its main.cf, for postmap -c; not started
q() { postmap -c "$T/pf/etc" -q "$1" "socketmap:unix:$T/authd/socketmap:$2" 2>&1; }
check_eq "socketmap mailbox from the migrated directory" "$(q hanako@example.com mailbox)" \
    "example.com/hanako/Maildir/"
check_eq "socketmap alias from the migrated directory" "$(q info@example.com alias)" \
    "taro@example.com,Hanako@example.com"
check_eq "socketmap domain alias" "$(q taro@old.example alias)" "taro@example.com"

# --- a row the directory refuses: 65, named, the rest copied ---------------
"${sq[@]}" user add jiro@example.com --password-stdin <<<'jiro-pw' >/dev/null
"${sq[@]}" user add kuro@example.com --password-stdin <<<'kuro-pw' >/dev/null
sqlite3 "$T/old/yubin.db" "UPDATE mailboxes SET maildir = '../../etc/' WHERE address = 'kuro@example.com'"
check_status "a refused row: exit 65" 65 \
    "${ld[@]}" store migrate --from "sqlite:$T/old/yubin.db" --to "ldap:$T/ldap.cf"
check_contains "the refused row is named" "migrate: mailbox kuro@example.com:" "$T/out"
check_contains "the others are copied" "mailboxes: 1 added, 3 skipped, 1 failed" "$T/out"
check_status "jiro arrived" 0 "${ld[@]}" auth test jiro@example.com <<<'jiro-pw'

# --- the directory away: 75, then a rerun finishes ---------------------------
"${sq[@]}" user add saburo@example.com --password-stdin <<<'saburo-pw' >/dev/null
slapd_stop "$SL"
check_status "directory down: exit 75" 75 \
    "${ld[@]}" store migrate --from "sqlite:$T/old/yubin.db" --to "ldap:$T/ldap.cf"
grep -q 'temporary failure' "$T/err" && ok "it says temporary failure" || not_ok "stderr: $(cat "$T/err")"
check_status "a missing source file: exit 66, nothing created" 66 \
    "${ld[@]}" store migrate --from "sqlite:$T/nope/yubin.db"
[[ ! -e $T/nope ]] && ok "no empty database made for a mistyped source" || not_ok "$T/nope created"
check_status "--from and --to the same store: usage" 64 \
    "${ld[@]}" store migrate --from "ldap:$T/ldap.cf" --to "ldap:$T/ldap.cf"
slapd_start "$SL" || not_ok "slapd restart"
check_status "after the outage a rerun copies the rest" 65 \
    "${ld[@]}" store migrate --from "sqlite:$T/old/yubin.db" --to "ldap:$T/ldap.cf"
check_contains "saburo added, kuro still refused" "mailboxes: 1 added, 4 skipped, 1 failed" "$T/out"
check_status "saburo logs in against LDAP" 0 "${ld[@]}" auth test saburo@example.com <<<'saburo-pw'
if grep -rq 'taro-pw\|yubin-secret' "$T/out" "$T/err" "$T/authd.log"; then not_ok "a password was printed"; else
    ok "no password printed"; fi
finish
