#!/usr/bin/env bash
# yubinctl driven as an administrator would: domains, users, aliases,
# passwords, auth test, import of the old four-file setup, errors and exit
# codes, two processes writing at once, a locked database.
source "$(dirname "$0")/../lib/tap.sh"
: "${YUBIN_BIN:?}"
ctl=("$YUBIN_BIN/yubinctl" -c "$T/yubin.cf")

cat >"$T/yubin.cf" <<CF
# test configuration
store = sqlite:$T/db/yubin.db
store_busy_timeout = 1s
password_scheme = SHA512-CRYPT
CF

check_status "config -n shows only what the file sets" 0 "${ctl[@]}" config -n
check_contains "config -n lists store" "store = sqlite:$T/db/yubin.db" "$T/out"
if grep -q '^recipient_delimiter' "$T/out"; then not_ok "config -n printed a default"; else ok "config -n omits defaults"; fi
check_status "config shows every parameter" 0 "${ctl[@]}" config
check_contains "config lists defaults" "recipient_delimiter = +" "$T/out"

check_status "domain add" 0 "${ctl[@]}" domain add Example.COM
check_status "duplicate domain refused" 1 "${ctl[@]}" domain add example.com
check_contains "duplicate names the domain" "example.com" "$T/err"
check_status "invalid domain refused" 65 "${ctl[@]}" domain add "bad_domain!"
check_status "domain list" 0 "${ctl[@]}" domain list
check_eq "domain stored lower-case" "$(cat "$T/out")" "example.com"

echo 'secret1' >"$T/pw"
check_status "user add --password-stdin" 0 "${ctl[@]}" user add Taro@example.com --password-stdin <"$T/pw"
check_status "user add to unknown domain" 67 "${ctl[@]}" user add x@unknown.example --password-stdin <"$T/pw"
check_contains "unknown domain is named" "unknown domain unknown.example" "$T/err"
check_status "duplicate user (other case) refused" 1 "${ctl[@]}" user add taro@EXAMPLE.com --password-stdin <"$T/pw"
check_status "invalid address refused" 65 "${ctl[@]}" user add "taro@@example.com" --password-stdin <"$T/pw"
head -c 1048576 /dev/zero | tr '\0' 'p' >"$T/longpw"
check_status "a 1 MB password is refused" 65 "${ctl[@]}" user add long@example.com --password-stdin <"$T/longpw"
check_contains "says the password is too long" "password too long" "$T/err"
check_status "no tty and no --password-stdin" 65 "${ctl[@]}" user add jiro@example.com </dev/null
check_contains "tells to use --password-stdin" "--password-stdin" "$T/err"
check_status "password not accepted on argv" 64 "${ctl[@]}" user add jiro@example.com --password secret

check_status "auth test good password" 0 "${ctl[@]}" auth test taro@example.com <"$T/pw"
check_eq "auth test prints ok" "$(cat "$T/out")" "ok"
check_status "auth test lower-case login finds Taro" 0 "${ctl[@]}" auth test TARO@example.com <"$T/pw"
check_status "auth test wrong password" 1 "${ctl[@]}" auth test taro@example.com <<<"wrong"
check_eq "auth test prints fail" "$(cat "$T/out")" "fail"
check_status "auth test unknown user" 1 "${ctl[@]}" auth test nobody@example.com <"$T/pw"

check_status "user passwd" 0 "${ctl[@]}" user passwd taro@example.com --password-stdin <<<"secret2"
check_status "old password fails" 1 "${ctl[@]}" auth test taro@example.com <"$T/pw"
check_status "new password works" 0 "${ctl[@]}" auth test taro@example.com <<<"secret2"
check_status "user show" 0 "${ctl[@]}" user show taro@example.com
check_contains "show keeps the case" "address: Taro@example.com" "$T/out"
check_contains "show names the scheme" "{SHA512-CRYPT}" "$T/out"
if grep -q 'secret2\|\$6\$' "$T/out"; then not_ok "user show leaks the hash"; else ok "user show hides the hash"; fi
check_status "user set --active no" 0 "${ctl[@]}" user set taro@example.com --active no
check_status "disabled user cannot authenticate" 1 "${ctl[@]}" auth test taro@example.com <<<"secret2"
check_status "user set --active yes" 0 "${ctl[@]}" user set taro@example.com --active yes --quota 1G
check_status "domain set --active no" 0 "${ctl[@]}" domain set example.com --active no
check_status "disabled domain cannot authenticate" 1 "${ctl[@]}" auth test taro@example.com <<<"secret2"
check_status "domain set --active yes" 0 "${ctl[@]}" domain set example.com --active yes --max-message-size 10M


# Policy overrides (yubin-policyd) and the filter opt-out (yubin-milter).
check_status "domain show" 0 "${ctl[@]}" domain show example.com
check_contains "domain show: rate limit inherits yubin.cf" "rate_limit: inherit (policyd_rate_sasl_user)" "$T/out"
check_contains "domain show: filter inherits (on)" "spam_filter: inherit (on)" "$T/out"
check_contains "domain show: size as set" "max_message_size: 10485760" "$T/out"
check_status "domain set overrides" 0 "${ctl[@]}" domain set example.com --rate-limit "messages:100/1h recipients:1000/1d" --recipient-limit 50 --spam-filter off
check_status "domain show after set" 0 "${ctl[@]}" domain show example.com
check_contains "domain rate limit stored" "rate_limit: messages:100/1h recipients:1000/1d" "$T/out"
check_contains "domain recipient limit stored" "recipient_limit: 50" "$T/out"
check_contains "domain filter off" "spam_filter: off" "$T/out"
check_status "domain list" 0 "${ctl[@]}" domain list
check_eq "domain list shows the overrides" "$(cat "$T/out")" "example.com rate_limit=messages:100/1h recipients:1000/1d recipient_limit=50 spam_filter=off"
check_status "user show: inherited from the domain" 0 "${ctl[@]}" user show taro@example.com
check_contains "user rate limit from the domain" "rate_limit: inherit (domain: messages:100/1h recipients:1000/1d)" "$T/out"
check_contains "user recipient limit from the domain" "recipient_limit: inherit (domain: 50)" "$T/out"
check_contains "user filter from the domain" "spam_filter: inherit (domain: off)" "$T/out"
check_status "user set overrides" 0 "${ctl[@]}" user set taro@example.com --rate-limit none --recipient-limit 500 --spam-filter on
check_status "user show own overrides" 0 "${ctl[@]}" user show taro@example.com
check_contains "user rate limit none" "rate_limit: none" "$T/out"
check_contains "user recipient limit" "recipient_limit: 500" "$T/out"
check_contains "user filter on" "spam_filter: on" "$T/out"
check_status "user list" 0 "${ctl[@]}" user list example.com
check_contains "user list shows the overrides" "Taro@example.com rate_limit=none recipient_limit=500 spam_filter=on" "$T/out"
check_status "a bad rate limit is refused" 65 "${ctl[@]}" user set taro@example.com --rate-limit "messages:lots/1h"
check_contains "says what is wrong" "rate_limit: bad rate" "$T/err"
check_status "a bad rate limit on a domain is refused" 65 "${ctl[@]}" domain set example.com --rate-limit "mails:5/1h"
check_status "a bad filter setting is a usage error" 64 "${ctl[@]}" user set taro@example.com --spam-filter maybe
check_status "recipient limit 0 is a usage error" 64 "${ctl[@]}" user set taro@example.com --recipient-limit 0
check_status "user show after refusals" 0 "${ctl[@]}" user show taro@example.com
check_contains "nothing was changed by the refusals" "rate_limit: none" "$T/out"
check_status "user set back to inherit" 0 "${ctl[@]}" user set taro@example.com --rate-limit inherit --recipient-limit inherit --spam-filter inherit
check_status "user show inherits again" 0 "${ctl[@]}" user show taro@example.com
check_contains "user filter inherits again" "spam_filter: inherit (domain: off)" "$T/out"
check_status "domain set back to inherit" 0 "${ctl[@]}" domain set example.com --rate-limit inherit --recipient-limit inherit --spam-filter inherit
check_status "domain list" 0 "${ctl[@]}" domain list
check_eq "domain list without overrides" "$(cat "$T/out")" "example.com"
check_status "user add with overrides" 0 "${ctl[@]}" user add bulk@example.com --no-password --rate-limit "messages:5000/1d" --spam-filter off
check_status "user show bulk" 0 "${ctl[@]}" user show bulk@example.com
check_contains "added with its rate limit" "rate_limit: messages:5000/1d" "$T/out"
check_status "user del bulk" 0 "${ctl[@]}" user del bulk@example.com
check_status "domain show unknown" 67 "${ctl[@]}" domain show unknown.example

check_status "user add hanako" 0 "${ctl[@]}" user add hanako@example.com --password-stdin <<<"hana"
check_status "user list" 0 "${ctl[@]}" user list example.com
check_eq "two users listed" "$(sort "$T/out" | tr '\n' ' ')" "Taro@example.com hanako@example.com "

check_status "alias add with two targets" 0 "${ctl[@]}" alias add info@example.com taro@example.com hanako@example.com
check_status "duplicate alias refused" 1 "${ctl[@]}" alias add info@example.com taro@example.com
check_status "domain alias needs a known source domain" 67 "${ctl[@]}" alias add @old.example @example.com
check_status "domain add old.example" 0 "${ctl[@]}" domain add old.example
check_status "domain alias" 0 "${ctl[@]}" alias add @old.example @example.com
check_status "@domain target needs @domain source" 65 "${ctl[@]}" alias add a@example.com @old.example
check_status "alias list" 0 "${ctl[@]}" alias list
check_contains "alias listed" "info@example.com hanako@example.com" "$T/out"
check_contains "domain alias listed" "@old.example @example.com" "$T/out"
check_status "alias del one target" 0 "${ctl[@]}" alias del info@example.com hanako@example.com
check_status "alias del unknown" 67 "${ctl[@]}" alias del nothing@example.com

check_status "domain del refuses a domain with users" 1 "${ctl[@]}" domain del example.com
check_contains "points to --force" "--force" "$T/err"

# --- import of the old four-file setup, with a real doveadm HMAC-MD5 hash ---
mkdir -p "$T/old"
hmac=$(doveadm -o stats_writer_socket_path= pw -s HMAC-MD5 -p oldpass 2>"$T/doveadm.err") || { cat "$T/doveadm.err"; hmac=""; }
check_eq "doveadm pw made a HMAC-MD5 hash" "${hmac:0:10}" "{HMAC-MD5}"
cat >"$T/old/virtual_domains" <<EOF2
# hosted domains
example.net
example.org
not_valid!
EOF2
cat >"$T/old/virtual" <<EOF2
user1@example.net   example.net/user1/Maildir/
user2@example.net   example.net/user2/Maildir/
user3@example.org   example.org/user3/Maildir/
broken-line
EOF2
cat >"$T/old/aliases" <<EOF2
postmaster@example.net  user1@example.net, user2@example.net
@example.org            user3@example.org
EOF2
cat >"$T/old/passwd" <<EOF2
user1@example.net:$hmac
user2@example.net:$hmac::::
user3@example.org:{PLAIN}plainpass:5000:5000::/var/spool/vmail/example.org/user3::userdb_quota_rule=*:storage=100M
EOF2
imp=("${ctl[@]}" import --virtual-domains "$T/old/virtual_domains" --virtual "$T/old/virtual"
     --aliases "$T/old/aliases" --dovecot-passwd "$T/old/passwd")
check_status "import --strict with bad lines writes nothing" 65 "${imp[@]}" --strict
check_contains "strict names file and line" "virtual_domains, line 4" "$T/err"
check_status "nothing was imported" 0 "${ctl[@]}" domain list
if grep -q example.net "$T/out"; then not_ok "strict import wrote domains"; else ok "strict import wrote nothing"; fi
check_status "import --dry-run" 65 "${imp[@]}" --dry-run
check_contains "dry run says so" "dry run" "$T/out"
check_status "import reports bad lines but imports the rest" 65 "${imp[@]}"
check_contains "bad line reported with line number" "virtual, line 4" "$T/err"
check_contains "import counts" "domains 2 added, 0 skipped; mailboxes 3 added, 0 skipped; passwords 3 set, 0 kept; aliases 3 added" "$T/out"
check_status "import again is idempotent" 65 "${imp[@]}"
check_contains "second import adds nothing" "domains 0 added, 2 skipped; mailboxes 0 added, 3 skipped; passwords 0 set, 3 kept; aliases 0 added, 3 skipped" "$T/out"
check_status "imported HMAC-MD5 password verifies" 0 "${ctl[@]}" auth test user1@example.net <<<"oldpass"
check_contains "HMAC-MD5 marked for rehash" "rehash" "$T/err"
check_status "imported HMAC-MD5 wrong password fails" 1 "${ctl[@]}" auth test user2@example.net <<<"wrongpass"
check_status "imported PLAIN password verifies" 0 "${ctl[@]}" auth test user3@example.org <<<"plainpass"
check_status "imported user shows quota" 0 "${ctl[@]}" user show user3@example.org
check_contains "quota from userdb_quota_rule" "quota_bytes: 104857600" "$T/out"
check_contains "maildir from the map" "example.org/user3/Maildir/" "$T/out"

check_status "an import file without end is refused, not read into memory" 66 "${ctl[@]}" import --virtual-domains /dev/zero
check_contains "says the file is too large" "larger than" "$T/err"

# --- errors around the configuration and the store ---
check_status "missing -c file" 78 "$YUBIN_BIN/yubinctl" -c "$T/nonexistent.cf" domain list
echo "stor = x" >"$T/bad.cf"
check_status "unknown parameter" 78 "$YUBIN_BIN/yubinctl" -c "$T/bad.cf" domain list
check_contains "error names file and line" "bad.cf, line 1" "$T/err"

# --- two processes changing the store at once ---
for i in $(seq 1 40); do echo "a$i"; done >"$T/list-a"
(
    for i in $(seq 1 40); do "${ctl[@]}" user add "a$i@example.com" --no-password >/dev/null || echo "fail a$i"; done
) >"$T/par-a" 2>&1 &
pa=$!
(
    for i in $(seq 1 40); do "${ctl[@]}" user add "b$i@example.com" --no-password >/dev/null || echo "fail b$i"; done
) >"$T/par-b" 2>&1 &
pb=$!
wait $pa $pb
check_eq "concurrent writers: no failures" "$(cat "$T/par-a" "$T/par-b")" ""
check_status "user list after concurrent adds" 0 "${ctl[@]}" user list example.com
check_eq "all 80 concurrent users plus 2 present" "$(wc -l <"$T/out")" "82"
check_eq "database integrity" "$(sqlite3 "$T/db/yubin.db" 'PRAGMA integrity_check')" "ok"

# --- a locked database: temporary failure, exit 75 ---
/usr/bin/python3 - "$T/db/yubin.db" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[1] + ".locked", "w").close()
time.sleep(4)
c.execute("ROLLBACK")
PY
locker=$!
for _ in $(seq 50); do [[ -e "$T/db/yubin.db.locked" ]] && break; sleep 0.1; done
start=$(date +%s%N)
check_status "locked database gives exit 75" 75 "${ctl[@]}" user add locked@example.com --no-password
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
check_contains "locked message says try again" "try again" "$T/err"
if (( elapsed < 3500 )); then ok "gave up after the busy timeout (${elapsed} ms)"; else not_ok "waited ${elapsed} ms"; fi
wait $locker
check_status "works again once unlocked" 0 "${ctl[@]}" user add locked@example.com --no-password

# --- store upgrade: a version-1 database (before the override columns) ---
mkdir -p "$T/up"
up=("$YUBIN_BIN/yubinctl" -c "$T/up/yubin.cf")
printf 'store = sqlite:%s\npassword_scheme = SHA512-CRYPT\n' "$T/up/yubin.db" >"$T/up/yubin.cf"
check_status "store upgrade before any database exists" 0 "${up[@]}" store upgrade
check_contains "says there is nothing to upgrade" "does not exist yet" "$T/out"
[[ ! -e $T/up/yubin.db ]] && ok "store upgrade created no database" || not_ok "store upgrade created a database"
"${up[@]}" domain add old.example >/dev/null
"${up[@]}" user add kept@old.example --no-password >/dev/null
sqlite3 "$T/up/yubin.db" "
  ALTER TABLE domains DROP COLUMN rate_limit; ALTER TABLE domains DROP COLUMN recipient_limit;
  ALTER TABLE domains DROP COLUMN spam_filter; ALTER TABLE mailboxes DROP COLUMN rate_limit;
  ALTER TABLE mailboxes DROP COLUMN recipient_limit; ALTER TABLE mailboxes DROP COLUMN spam_filter;
  PRAGMA user_version = 1;"
check_eq "database made version 1" "$(sqlite3 "$T/up/yubin.db" 'PRAGMA user_version')" "1"
check_status "store upgrade of a version-1 database" 0 "${up[@]}" store upgrade
check_contains "says the schema is current" "schema is current" "$T/out"
check_eq "database is version 2 after the upgrade" "$(sqlite3 "$T/up/yubin.db" 'PRAGMA user_version')" "2"
check_status "upgraded store keeps its mailbox" 0 "${up[@]}" user show kept@old.example
check_contains "and the new fields read back" "spam_filter" "$T/out"
check_status "store upgrade again changes nothing" 0 "${up[@]}" store upgrade

# --- filter test on the public sample ---
corpus="$YUBIN_SRC/tests/data/spam-corpus"
check_status "filter test: ISO-2022-JP ad" 0 "$YUBIN_BIN/yubinctl" filter test <"$corpus/b-iso2022jp.eml"
check_eq "ad matched by the default rule" "$(cat "$T/out")" "match jp-unsolicited-ad reject"
check_status "filter test: ordinary Japanese mail" 0 "$YUBIN_BIN/yubinctl" filter test <"$corpus/legit-ja.eml"
check_eq "ordinary mail is clean" "$(cat "$T/out")" "clean"
check_status "filter test -v" 0 "$YUBIN_BIN/yubinctl" filter test -v <"$corpus/b-shiftjis.eml"
check_contains "-v shows the decoded Subject" "未承諾広告" "$T/out"
printf 'rule x\n    target = nowhere\n' >"$T/bad.rules"
check_status "bad rules file gives exit 78" 78 "$YUBIN_BIN/yubinctl" filter test --rules "$T/bad.rules" <"$corpus/legit-ja.eml"
check_contains "rules error names the line" "bad.rules:2" "$T/err"

finish
