#!/usr/bin/env bash
# yubin-authd behind a real Postfix: virtual_mailbox_domains, virtual_mailbox_maps,
# virtual_alias_maps and smtpd_sender_login_maps via socketmap; SMTP AUTH via
# Cyrus SASL talking to authd's saslauthd socket; reject_sender_login_mismatch;
# a user added with yubinctl works at once; a store outage gives TEMP and 4xx,
# and heals. Ports 20025 (smtpd). Needs root.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/postfix.sh"
: "${YUBIN_BIN:?}"

PORT=20025
PF=$T/postfix
SM=$T/authd/socketmap
MUX=$T/authd/mux
ctl=("$YUBIN_BIN/yubinctl" -c "$T/yubin.cf")

mkdir -p "$T/db" "$T/authd" "$T/delivered"
chmod 0755 "$T/authd"
chown nobody:nogroup "$T/delivered"
# Delivery: Postfix's own virtual(8) refuses socketmap for virtual_mailbox_maps
# ("not allowed for security-sensitive data"), so mail goes to a pipe that
# files it by recipient (in production: yubin-lda or Dovecot LMTP).
cat >"$T/deliver.sh" <<'SH'
#!/bin/sh
d="$(dirname "$0")/delivered/$1"
mkdir -p "$d" && cat >"$d/$(date +%s%N).$$"
SH
chmod 0755 "$T/deliver.sh"
cat >"$T/yubin.cf" <<CF
store = sqlite:$T/db/yubin.db
password_scheme = SHA512-CRYPT
authd_socketmap_listen = unix:$SM
authd_saslauthd_listen = unix:$MUX
authd_user = nobody
authd_socket_group = postfix
CF

# --- the store -----------------------------------------------------------
"${ctl[@]}" domain add example.com >/dev/null
"${ctl[@]}" domain add old.example >/dev/null
"${ctl[@]}" domain add off.example --active no >/dev/null
"${ctl[@]}" user add taro@example.com --password-stdin <<<'taro-pw' >/dev/null
"${ctl[@]}" user add hanako@example.com --password-stdin <<<'hanako-pw' >/dev/null
"${ctl[@]}" user add jiro@off.example --password-stdin <<<'jiro-pw' >/dev/null
"${ctl[@]}" alias add info@example.com taro@example.com hanako@example.com >/dev/null
"${ctl[@]}" alias add @old.example @example.com >/dev/null
# authd runs as nobody: the store belongs to it (SQLite, run as root by
# yubinctl, gives its -wal and -shm files the database file's owner).
chown -R nobody:nogroup "$T/db"

authd_pid=
start_authd() {
    "$YUBIN_BIN/yubin-authd" -c "$T/yubin.cf" -f -v 2>>"$T/authd.log" &
    authd_pid=$!
    local i
    for i in $(seq 1 50); do [[ -S $SM && -S $MUX ]] && return 0; sleep 0.1; done
    return 1
}
stop_authd() {
    [[ -n $authd_pid ]] || return 0
    kill "$authd_pid" 2>/dev/null
    wait "$authd_pid" 2>/dev/null
    authd_pid=
    rm -f "$SM" "$MUX"  # so that start_authd waits for the new ones
}
cleanup_hooks+=("stop_authd")
# AUTHD_TEST_KEEP=DIR keeps the logs for a post-mortem.
[[ -n ${AUTHD_TEST_KEEP:-} ]] && cleanup_hooks+=("mkdir -p '$AUTHD_TEST_KEEP'; cp -r '$T/authd.log' '$PF/log' '$AUTHD_TEST_KEEP/'")
if start_authd; then ok "yubin-authd starts and creates both sockets"; else
    not_ok "yubin-authd did not start"; sed 's/^/#   /' "$T/authd.log"; finish; exit 1; fi
check_eq "socketmap socket is root:postfix 0660" "$(stat -c '%U:%G %a' "$SM")" "root:postfix 660"
sleep 0.2
check_eq "authd runs as nobody" "$(ps -o user= -p "$authd_pid" | tr -d ' ')" "nobody"

# --- Postfix -------------------------------------------------------------
postfix_setup "$PF" "$PORT"
postfix_conf "$PF" \
    "virtual_mailbox_domains = socketmap:unix:$SM:domain" \
    "virtual_mailbox_maps = socketmap:unix:$SM:mailbox" \
    "virtual_alias_maps = socketmap:unix:$SM:alias" \
    "virtual_transport = vdeliver" \
    "vdeliver_destination_recipient_limit = 1" \
    "smtpd_sender_login_maps = socketmap:unix:$SM:sender_login" \
    "smtpd_sender_restrictions = reject_sender_login_mismatch" \
    "smtpd_sasl_auth_enable = yes" \
    "smtpd_sasl_type = cyrus" \
    "smtpd_sasl_path = smtpd" \
    "cyrus_sasl_config_path = $PF/etc/sasl" \
    "smtpd_sasl_security_options = noanonymous"
postfix_service "$PF" "vdeliver unix - n n - - pipe user=nobody:nogroup argv=$T/deliver.sh \${recipient}"
# Debian's Postfix reads <config_directory>/sasl/<smtpd_sasl_path>.conf
# whatever cyrus_sasl_config_path says (and /etc/sasldb2 only with auxprop).
mkdir -p "$PF/etc/sasl"
cat >"$PF/etc/sasl/smtpd.conf" <<CONF
pwcheck_method: saslauthd
saslauthd_path: $MUX
mech_list: PLAIN LOGIN
CONF
if postfix_start "$PF"; then ok "postfix starts"; else not_ok "postfix start"; finish; exit 1; fi

q() { postmap -c "$PF/etc" -q "$1" "socketmap:unix:$SM:$2" 2>&1; }
check_eq "postmap domain" "$(q example.com domain)" "example.com"
check_eq "postmap domain, disabled" "$(q off.example domain)" ""
check_eq "postmap mailbox" "$(q taro@example.com mailbox)" "example.com/taro/Maildir/"
check_eq "postmap mailbox with extension" "$(q taro+news@example.com mailbox)" "example.com/taro/Maildir/"
check_eq "postmap mailbox unknown" "$(q nobody@example.com mailbox)" ""
check_eq "postmap alias, two targets" "$(q info@example.com alias)" "taro@example.com,hanako@example.com"
check_eq "postmap alias, domain alias" "$(q taro@old.example alias)" "taro@example.com"
check_eq "postmap sender_login" "$(q info@example.com sender_login)" "taro@example.com,hanako@example.com"
check_status "postmap unknown map is an error" 1 postmap -c "$PF/etc" -q x "socketmap:unix:$SM:nosuchmap"
check_contains "unknown map is a permanent error" "permanent error" "$T/err"

# --- mail through Postfix ------------------------------------------------
# The server's reply to RCPT TO (swaks stops after it).
rcpt_reply() {
    swaks --server 127.0.0.1 --port "$PORT" --timeout 20 --from sender@remote.example --to "$1" \
        --quit-after RCPT 2>&1 | awk '/-> RCPT TO/ { f = 1; next } f && /^<[-~*]+ +[0-9][0-9][0-9]/ { print; exit }'
}
maildir_count() { find "$T/delivered/$1" -type f 2>/dev/null | wc -l; }
wait_count() { # DIR WANT
    local i
    for i in $(seq 1 100); do [[ $(maildir_count "$1") -ge $2 ]] && return 0; sleep 0.2; done
    return 1
}

reply=$(rcpt_reply taro@example.com)
check_eq "RCPT to a mailbox is accepted" "${reply:0:7}" "<-  250"
reply=$(rcpt_reply nobody@example.com)
[[ $reply == *"550 5.1.1"* ]] && ok "unknown recipient: 550 5.1.1 at RCPT" || not_ok "unknown recipient: got '$reply'"
reply=$(rcpt_reply jiro@off.example)
[[ $reply == *" 5"[0-9][0-9]* || $reply == *"554"* ]] && ok "disabled domain refused at RCPT" || not_ok "disabled domain: got '$reply'"

check_status "mail to a mailbox" 0 swaks --server 127.0.0.1 --port "$PORT" --from a@remote.example \
    --to taro@example.com --header "Subject: one" --body "hello"
if wait_count taro@example.com 1; then ok "delivered to taro"; else not_ok "no delivery to taro"; fi
check_status "mail to an alias with two targets" 0 swaks --server 127.0.0.1 --port "$PORT" \
    --from a@remote.example --to info@example.com --body "to info"
wait_count taro@example.com 2 && wait_count hanako@example.com 1 \
    && ok "alias delivered to both targets" || not_ok "alias delivery: taro $(maildir_count taro@example.com), hanako $(maildir_count hanako@example.com)"
check_status "mail to a domain alias" 0 swaks --server 127.0.0.1 --port "$PORT" \
    --from a@remote.example --to hanako@old.example --body "old domain"
wait_count hanako@example.com 2 && ok "domain alias delivered" || not_ok "domain alias delivery"

# A new user works at once: no postmap, no reload.
reply=$(rcpt_reply saburo@example.com)
[[ $reply == *"550 5.1.1"* ]] && ok "saburo unknown before yubinctl" || not_ok "saburo before: '$reply'"
# authd caches NOTFOUND as well as OK (authd_socketmap_cache_size): asked
# often enough that every event loop has cached the NOTFOUND, the answer
# must still turn OK with the commit.
before=
for i in 1 2 3 4 5 6; do before+="[$(q saburo@example.com mailbox)]"; done
check_eq "saburo NOTFOUND on every lookup before yubinctl" "$before" "[][][][][][]"
"${ctl[@]}" user add saburo@example.com --password-stdin <<<'saburo-pw' >/dev/null
after=
for i in 1 2 3 4 5 6; do after+="[$(q saburo@example.com mailbox)]"; done
check_eq "saburo OK on every lookup right after yubinctl user add" "$after" \
    "$(for i in 1 2 3 4 5 6; do printf '[example.com/saburo/Maildir/]'; done)"
check_status "mail to the new user accepted at once" 0 swaks --server 127.0.0.1 --port "$PORT" \
    --from a@remote.example --to saburo@example.com --body "welcome"
wait_count saburo@example.com 1 && ok "new user delivered" || not_ok "new user delivery"

# --- SMTP AUTH through Cyrus SASL -> saslauthd socket -------------------
auth() { # USER PASS [swaks args...]
    local u=$1 p=$2
    shift 2
    swaks --server 127.0.0.1 --port "$PORT" --timeout 20 --auth PLAIN --auth-user "$u" \
        --auth-password "$p" "$@" >"$T/auth.out" 2>&1
}
auth taro@example.com taro-pw --from taro@example.com --to someone@remote.example --quit-after AUTH
check_contains "AUTH PLAIN with the right password: 235" "235 2.7.0" "$T/auth.out"
auth taro@example.com wrong --quit-after AUTH
check_contains "AUTH with a wrong password: 535" "535 5.7.8" "$T/auth.out"
auth nobody@example.com x --quit-after AUTH
check_contains "AUTH for an unknown user: 535" "535 5.7.8" "$T/auth.out"
auth jiro@off.example jiro-pw --quit-after AUTH
check_contains "AUTH for a user of a disabled domain: 535" "535 5.7.8" "$T/auth.out"
auth saburo@example.com saburo-pw --quit-after AUTH
check_contains "AUTH for the user just added: 235" "235 2.7.0" "$T/auth.out"
swaks --server 127.0.0.1 --port "$PORT" --timeout 20 --auth LOGIN --auth-user hanako@example.com \
    --auth-password hanako-pw --quit-after AUTH >"$T/auth.out" 2>&1
check_contains "AUTH LOGIN: 235" "235 2.7.0" "$T/auth.out"

# Relay for the authenticated user, sender owned.
auth taro@example.com taro-pw --from taro@example.com --to someone@remote.example --quit-after RCPT
check_contains "authenticated taro may relay as taro" "<-  250 2.1.5" "$T/auth.out"
auth taro@example.com taro-pw --from info@example.com --to someone@remote.example --quit-after RCPT
check_contains "taro may send as info@ (an alias pointing to him)" "<-  250 2.1.5" "$T/auth.out"
auth hanako@example.com hanako-pw --from taro@example.com --to someone@remote.example --quit-after RCPT
check_contains "hanako may not send as taro: 553 5.7.1" "553 5.7.1" "$T/auth.out"
check_contains "the reason is the login mismatch" "not owned by user hanako@example.com" "$T/auth.out"
reply=$(rcpt_reply someone@remote.example)
[[ $reply == *"554 5.7.1"* ]] && ok "unauthenticated relay refused" || not_ok "relay: '$reply'"

check_contains "authd logged the successful login" "saslauthd: login=taro@example.com service=smtp: ok" "$T/authd.log"
check_contains "authd logged the failed login" "login=taro@example.com service=smtp: authentication failed" "$T/authd.log"
if grep -q 'taro-pw\|hanako-pw' "$T/authd.log"; then not_ok "a password reached the log"; else ok "no password in the log"; fi

# --- store outage ----------------------------------------------------------
stop_authd
chmod 000 "$T/db/yubin.db"
start_authd || not_ok "authd restart with an unreadable store"
out=$(q taro@example.com mailbox)
[[ $out == *"temporary error"* ]] && ok "outage: postmap sees TEMP" || not_ok "outage: postmap said '$out'"
reply=$(rcpt_reply taro@example.com)
[[ $reply == *"451 4.3.0"* ]] && ok "outage: RCPT deferred with 451 4.3.0" || not_ok "outage: RCPT got '$reply'"
auth taro@example.com taro-pw --quit-after AUTH
if grep -q '454 4.7.0' "$T/auth.out"; then ok "outage: AUTH is a temporary failure (454 4.7.0)"; else
    not_ok "outage: AUTH reply"; grep -E '^<~? *[0-9]{3}' "$T/auth.out" | sed 's/^/#   /'; fi
reply=$(rcpt_reply nobody@example.com)
[[ $reply == *"451 4.3.0"* ]] && ok "outage: even an unknown user is deferred, not rejected" || not_ok "outage: unknown user got '$reply'"
check_contains "authd logged the TEMP answer" "TEMP" "$T/authd.log"
chmod 640 "$T/db/yubin.db"
healed=no
for i in $(seq 1 30); do
    [[ $(q taro@example.com mailbox) == "example.com/taro/Maildir/" ]] && { healed=yes; break; }
    sleep 0.2
done
check_eq "the store heals without a restart" "$healed" "yes"
# Every loop retries its store once a second: within a few seconds all answer.
for i in $(seq 1 25); do
    reply=$(rcpt_reply taro@example.com)
    [[ ${reply:0:7} == "<-  250" ]] && break
    sleep 0.2
done
check_eq "RCPT accepted again after the outage" "${reply:0:7}" "<-  250"
sleep 1.5
healed_all=yes
for i in $(seq 1 10); do [[ $(q taro@example.com mailbox) == "example.com/taro/Maildir/" ]] || healed_all=no; done
check_eq "every loop answers again" "$healed_all" "yes"

# --- a restore: another database file renamed into place --------------------
mkdir -p "$T/db2"
sed "s|$T/db/|$T/db2/|" "$T/yubin.cf" >"$T/yubin2.cf"
"$YUBIN_BIN/yubinctl" -c "$T/yubin2.cf" domain add example.com >/dev/null
"$YUBIN_BIN/yubinctl" -c "$T/yubin2.cf" user add restored@example.com --no-password >/dev/null
"$YUBIN_BIN/yubinctl" -c "$T/yubin2.cf" user list >/dev/null  # leaves a checkpointed file
chown -R nobody:nogroup "$T/db2"
mv -f "$T/db2/yubin.db" "$T/db/yubin.db"
rm -f "$T/db/yubin.db-wal" "$T/db/yubin.db-shm"
# Each event loop notices within a second; postmap may reach any of them.
restored=no
for i in $(seq 1 30); do
    if [[ $(q restored@example.com mailbox) == "example.com/restored/Maildir/" &&
          $(q restored@example.com mailbox) == "example.com/restored/Maildir/" &&
          -z $(q taro@example.com mailbox) && -z $(q taro@example.com mailbox) ]]; then
        restored=yes
        break
    fi
    sleep 0.2
done
check_eq "a database file restored by rename is picked up without a restart" "$restored" "yes"
stable=yes
for i in $(seq 1 10); do [[ -z $(q taro@example.com mailbox) ]] || stable=no; done
check_eq "and the old contents stay gone" "$stable" "yes"

# --- SIGHUP keeps serving; SIGTERM stops -----------------------------------
kill -HUP "$authd_pid"
sleep 0.3
check_eq "after SIGHUP lookups still work" "$(q example.com domain)" "example.com"
check_contains "reload logged" "reloaded $T/yubin.cf" "$T/authd.log"
pid=$authd_pid
kill "$pid"
stopped=no
for i in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || { stopped=yes; break; }; sleep 0.1; done
check_eq "SIGTERM stops authd within 3 s" "$stopped" "yes"
wait "$pid" 2>/dev/null
check_eq "exit status 0 after SIGTERM" "$?" "0"
authd_pid=

finish
