#!/bin/bash
# yubin-policyd behind a real Postfix (check_policy_service in
# smtpd_recipient_restrictions and smtpd_end_of_data_restrictions) with SMTP
# AUTH through a private Dovecot: per-user rate limit deferred at RCPT and at
# END-OF-MESSAGE while another user is not; sender/login mismatch refused;
# quota-exceeded recipient refused at RCPT; greylisting defers, then accepts
# on retry; garbage on the policy socket while Postfix keeps being served;
# SIGHUP reload; SIGTERM stop. A second instance in dry-run mode
# (policyd_check) listens on a unix socket in Postfix's private/ directory
# (policyd_socket_group, policyd_socket_mode) and only logs.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/postfix.sh"
source "$(dirname "$0")/../lib/dovecot.sh"
SMTP_PORT=22025
POLICY_PORT=22031
DOVECOT_BASE=22110
BIN=${YUBIN_BIN:?}
PF=$T/postfix
DC=$T/dovecot

for p in $SMTP_PORT $POLICY_PORT $DOVECOT_BASE; do
    if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then not_ok "port $p already in use"; finish; exit 1; fi
done

# --- the store: two users, an alias, a full mailbox
mkdir -p "$T/store" "$T/vmail"
cat >"$T/yubin.cf" <<CF
store = sqlite:$T/store/yubin.db
virtual_mailbox_base = $T/vmail
policyd_listen = inet:127.0.0.1:$POLICY_PORT
policyd_user = nobody
policyd_rate_sasl_user = messages:3/1h recipients:5/1h
policyd_greylist_mode = enforce
policyd_greylist_delay = 2s
policyd_idle_timeout = 30s
CF
ctl() { "$BIN/yubinctl" -c "$T/yubin.cf" "$@"; }
ctl domain add example.com >/dev/null
ctl user add taro@example.com --password-stdin <<<"taro-pw" >/dev/null
ctl user add jiro@example.com --password-stdin <<<"jiro-pw" >/dev/null
ctl user add hanako@example.com --no-password --quota 1000 >/dev/null
ctl alias add info@example.com taro@example.com >/dev/null
check_eq "store has three users" "$(ctl user list | wc -l)" "3"
mkdir -p "$T/vmail/example.com/hanako/Maildir"
printf '1000S\n1500 3\n' >"$T/vmail/example.com/hanako/Maildir/maildirsize"
# Store overrides: saburo has his own limits (1 message per hour, 2
# recipients per message); every user of bulk.example has no rate limit.
ctl user add saburo@example.com --password-stdin --rate-limit messages:1/1h --recipient-limit 2 <<<"saburo-pw" >/dev/null
ctl domain add bulk.example --rate-limit none >/dev/null
ctl user add news@bulk.example --password-stdin <<<"news-pw" >/dev/null
chmod -R a+rX "$T/vmail"
chown -R nobody "$T/store"

# --- Dovecot for SASL only (passwords in a passwd-file: this test is about policyd)
mkdir -p "$DC"
printf 'taro@example.com:{PLAIN}taro-pw\njiro@example.com:{PLAIN}jiro-pw\nsaburo@example.com:{PLAIN}saburo-pw\nnews@bulk.example:{PLAIN}news-pw\n' >"$DC/passwd"
dovecot_setup "$DC" "$DOVECOT_BASE" "passdb {
  driver = passwd-file
  args = $DC/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$T/vmail/%d/%n
}"
if ! dovecot_start "$DC"; then not_ok "dovecot start"; finish; exit 1; fi

# --- yubin-policyd
"$BIN/yubin-policyd" -c "$T/yubin.cf" -f -v 2>"$T/policyd.log" &
POLICYD_PID=$!
cleanup_hooks+=("kill $POLICYD_PID 2>/dev/null; wait $POLICYD_PID 2>/dev/null")
up=no
for i in $(seq 1 100); do
    if (exec 3<>/dev/tcp/127.0.0.1/$POLICY_PORT) 2>/dev/null; then up=yes; break; fi
    sleep 0.1
done
check_eq "yubin-policyd listens" "$up" "yes"
check_eq "yubin-policyd runs as policyd_user" "$(ps -o user= -p $POLICYD_PID | tr -d ' ')" "nobody"

# --- Postfix
postfix_setup "$PF" "$SMTP_PORT"

# --- a second yubin-policyd in dry-run mode (policyd_check) on a unix socket
# in Postfix's private/ directory, group postfix mode 0660, asked after the
# first one: it logs what it would have done and always answers DUNNO.
mkdir -p "$PF/queue/private"
chown postfix "$PF/queue/private"
chmod 0700 "$PF/queue/private"
sed -e "s|^policyd_listen = .*|policyd_listen = unix:$PF/queue/private/yubin-policy|" \
    -e '/^policyd_rate_sasl_user/d' -e '/^policyd_greylist/d' "$T/yubin.cf" >"$T/dry.cf"
cat >>"$T/dry.cf" <<CF
policyd_socket_group = postfix
policyd_socket_mode = 0660
policyd_check = yes
policyd_rate_sasl_user = messages:1/1h
CF
"$BIN/yubin-policyd" -c "$T/dry.cf" -f -v 2>"$T/policyd-dry.log" &
DRY_PID=$!
cleanup_hooks+=("kill $DRY_PID 2>/dev/null; wait $DRY_PID 2>/dev/null")
for i in $(seq 1 100); do
    [ -S "$PF/queue/private/yubin-policy" ] && break
    sleep 0.1
done
check_eq "dry-run policyd's socket: root, group postfix, mode 0660" \
    "$(stat -c '%U %G %a' "$PF/queue/private/yubin-policy" 2>&1)" "root postfix 660"
printf 'taro@example.com x\njiro@example.com x\nhanako@example.com x\ninfo@example.com x\n' >"$PF/etc/vmailbox"
postfix_conf "$PF" \
    "virtual_mailbox_domains = example.com" \
    "virtual_mailbox_maps = texthash:$PF/etc/vmailbox" \
    "virtual_transport = discard:" \
    "relay_domains = example.org" \
    "relay_transport = discard:" \
    "smtpd_sasl_auth_enable = yes" \
    "smtpd_sasl_type = dovecot" \
    "smtpd_sasl_path = $DC/run/auth-client" \
    "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$POLICY_PORT check_policy_service unix:private/yubin-policy" \
    "smtpd_end_of_data_restrictions = check_policy_service inet:127.0.0.1:$POLICY_PORT check_policy_service unix:private/yubin-policy"
if ! postfix_start "$PF"; then not_ok "postfix start"; finish; exit 1; fi
ok "Postfix, Dovecot SASL and yubin-policyd running"

# send NAME [swaks args...]: one SMTP session; output in $T/NAME.out
send() {
    local name=$1
    shift
    swaks --server 127.0.0.1:$SMTP_PORT --helo client.example.net --timeout 20 \
        --header "Subject: $name" "$@" >"$T/$name.out" 2>&1
}
auth() { echo --auth PLAIN --auth-user "$1" --auth-password "$2"; }

# 1. rate limit per SASL user: 3 messages per hour. Message 2 uses taro's
# alias as sender (allowed), message 3 goes to a local address (an
# authenticated client is never greylisted).
send taro1 $(auth taro@example.com taro-pw) --from taro@example.com --to a1@example.org
check_contains "taro message 1 accepted" "250 2.0.0 Ok: queued" "$T/taro1.out"
send taro2 $(auth taro@example.com taro-pw) --from info@example.com --to a2@example.org
check_contains "taro message 2 from his alias info@ accepted" "250 2.0.0 Ok: queued" "$T/taro2.out"
send taro3 $(auth taro@example.com taro-pw) --from taro@example.com --to jiro@example.com
check_contains "taro message 3 to a local user accepted, not greylisted" "250 2.0.0 Ok: queued" "$T/taro3.out"
send taro4 $(auth taro@example.com taro-pw) --from taro@example.com --to a4@example.org
check_contains "taro message 4 deferred (rate limit, at RCPT)" \
    "450 4.7.1 <a4@example.org>: Recipient address rejected: Rate limit exceeded (3 messages per 1h)" "$T/taro4.out"
check_contains "dry-run policyd (via unix:private/yubin-policy) logged the deferral it did not make" \
    "warn: would defer: RCPT from localhost[127.0.0.1]: rate limit 1 messages per 1h exceeded for sasl_username" "$T/policyd-dry.log"
send jiro1 $(auth jiro@example.com jiro-pw) --from jiro@example.com --to b1@example.org
check_contains "jiro is not limited by taro's count" "250 2.0.0 Ok: queued" "$T/jiro1.out"

# 2. recipients per hour, known only at END-OF-MESSAGE: jiro has 4 left of 5
send jiro2 $(auth jiro@example.com jiro-pw) --from jiro@example.com --to b2@example.org,b3@example.org,b4@example.org
check_contains "jiro: 3 recipients accepted" "250 2.0.0 Ok: queued" "$T/jiro2.out"
send jiro3 $(auth jiro@example.com jiro-pw) --from jiro@example.com --to b5@example.org,b6@example.org
check_contains "jiro: deferred at END-OF-MESSAGE (recipients per hour)" \
    "450 4.7.1 <END-OF-MESSAGE>: End-of-data rejected: Rate limit exceeded (5 recipients per 1h)" "$T/jiro3.out"
check_contains "policyd logged the END-OF-MESSAGE deferral with the queue id" \
    "defer: END-OF-MESSAGE from localhost[127.0.0.1]: rate limit 5 recipients per 1h exceeded for sasl_username" "$T/policyd.log"
send jiro4 $(auth jiro@example.com jiro-pw) --from jiro@example.com --to b7@example.org
check_contains "jiro: the deferred message was not counted" "250 2.0.0 Ok: queued" "$T/jiro4.out"

# 2b. per-user and per-domain overrides from the store
send saburo1 $(auth saburo@example.com saburo-pw) --from saburo@example.com --to d1@example.org,d2@example.org,d3@example.org
check_contains "saburo: his own recipient limit (2) refuses 3 recipients at END-OF-MESSAGE" \
    "5.5.3 <END-OF-MESSAGE>: End-of-data rejected: Too many recipients (at most 2 per message)" "$T/saburo1.out"
send saburo2 $(auth saburo@example.com saburo-pw) --from saburo@example.com --to d4@example.org,d5@example.org
check_contains "saburo: 2 recipients accepted (the refused message was not counted)" "250 2.0.0 Ok: queued" "$T/saburo2.out"
send saburo3 $(auth saburo@example.com saburo-pw) --from saburo@example.com --to d6@example.org
check_contains "saburo: his own rate limit (1 per hour), not yubin.cf's 3" \
    "450 4.7.1 <d6@example.org>: Recipient address rejected: Rate limit exceeded (1 messages per 1h)" "$T/saburo3.out"
ctl user set saburo@example.com --rate-limit inherit >/dev/null
send saburo4 $(auth saburo@example.com saburo-pw) --from saburo@example.com --to d7@example.org
check_contains "saburo: back to yubin.cf's limit at once after yubinctl user set" "250 2.0.0 Ok: queued" "$T/saburo4.out"
news_ok=0
for i in 1 2 3 4 5; do
    send news$i $(auth news@bulk.example news-pw) --from news@bulk.example --to e$i@example.org
    grep -q "250 2.0.0 Ok: queued" "$T/news$i.out" && news_ok=$((news_ok + 1))
done
check_eq "news@bulk.example: the domain's 'none' lifts yubin.cf's 3 per hour (5 of 5 accepted)" "$news_ok" "5"

# 3. sender/login
send mismatch $(auth jiro@example.com jiro-pw) --from taro@example.com --to c@example.org
check_contains "sender/login mismatch refused" \
    "553 5.7.1 <c@example.org>: Recipient address rejected: Sender address <taro@example.com> not owned by user jiro@example.com" "$T/mismatch.out"
send alias_from $(auth jiro@example.com jiro-pw) --from info@example.com --to c@example.org
check_contains "an alias of another user is refused" "Sender address <info@example.com> not owned by user jiro@example.com" "$T/alias_from.out"

# 4. quota: hanako's Maildir is over its 1000 bytes (unauthenticated client)
send quota --from someone@example.net --to hanako@example.com
check_contains "quota-exceeded recipient refused at RCPT" \
    "552 5.2.2 <hanako@example.com>: Recipient address rejected: Mailbox full" "$T/quota.out"
check_contains "policyd logged the quota rejection" "reject: RCPT from localhost[127.0.0.1]: mailbox full (1500 of 1000 bytes, 3 messages)" "$T/policyd.log"

# 5. greylisting (unauthenticated, 2 s delay)
send grey1 --from stranger@example.net --to taro@example.com
check_contains "greylisting: first attempt deferred" "450 4.7.1 <taro@example.com>: Recipient address rejected: Greylisted" "$T/grey1.out"
sleep 3
send grey2 --from stranger@example.net --to taro@example.com
check_contains "greylisting: retry after the delay accepted" "250 2.0.0 Ok: queued" "$T/grey2.out"
send grey3 --from stranger@example.net --to jiro@example.com
check_contains "greylisting: a new triplet is deferred again" "Greylisted" "$T/grey3.out"

# 6. garbage and floods on the policy socket do not disturb Postfix's sessions
/usr/bin/python3 - "$POLICY_PORT" >"$T/flood.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(300):
    s = socket.create_connection(("127.0.0.1", port))
    socks.append(s)
for i, s in enumerate(socks):
    kind = i % 4
    if kind == 0: s.sendall(b"\x00\xff" * 100 + b"\n\n")
    elif kind == 1: s.sendall(b"x" * 50000)
    elif kind == 2: s.sendall(b"request=smtpd_access_policy\n" + b"a=b\n" * 10000 + b"\n")
    else: s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\n")  # never finished
time.sleep(2)
print("flood done")
PY
FLOOD=$!
send during_flood --from stranger@example.net --to taro@example.com
check_contains "Postfix served during a garbage flood on the policy socket" "250 2.0.0 Ok: queued" "$T/during_flood.out"
wait $FLOOD
check_contains "policyd logged malformed requests" "malformed request from 127.0.0.1" "$T/policyd.log"
check_status "policyd still alive after the flood" 0 kill -0 $POLICYD_PID

# 7. SIGHUP: a broken file is refused, a good one applied
cp "$T/yubin.cf" "$T/yubin.cf.good"
echo "policyd_rate_sender = nonsense" >>"$T/yubin.cf"
kill -HUP $POLICYD_PID
sleep 1
check_contains "reload of a broken file keeps the old configuration" "keeping the old configuration" "$T/policyd.log"
cp "$T/yubin.cf.good" "$T/yubin.cf"
sed -i 's/^policyd_rate_sasl_user = .*/policyd_rate_sasl_user = messages:100\/1h/' "$T/yubin.cf"
kill -HUP $POLICYD_PID
sleep 1
check_contains "reload applied" "reloaded $T/yubin.cf" "$T/policyd.log"
send taro5 $(auth taro@example.com taro-pw) --from taro@example.com --to a5@example.org
check_contains "after reload taro's new limit applies (counters kept)" "250 2.0.0 Ok: queued" "$T/taro5.out"

# 8. SIGTERM
kill -TERM $POLICYD_PID
stopped=no
for i in $(seq 1 50); do
    if ! kill -0 $POLICYD_PID 2>/dev/null; then stopped=yes; break; fi
    sleep 0.1
done
check_eq "SIGTERM stops yubin-policyd within 5 s" "$stopped" "yes"
wait $POLICYD_PID
check_eq "exit status 0 after SIGTERM" "$?" "0"
check_contains "policyd logged its stop" "daemon stopped" "$T/policyd.log"

finish
