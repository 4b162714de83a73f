#!/usr/bin/env bash
# yubin-milter behind real Postfix instances on loopback (ports 24025/24026):
#  (1) a closed Postfix: local mail accepted, relays refused, a trusted
#      client may relay;
#  (2) a deliberately open Postfix (mynetworks = 0.0.0.0/0): the same relay
#      tricks are accepted without the milter (control) and every one is
#      refused with it, while local mail still goes through;
#  (3) size limits per domain and per mailbox, by SIZE= and by counting;
#  (4) 未承諾広告 in several encodings rejected, then (after SIGHUP) tagged and
#      quarantined; an ordinary Japanese message delivered byte for byte;
#      forged X-Yubin-* fields removed; recipients that opted out of the
#      filter in the store (a mailbox, a whole domain) get it untouched, and
#      a message to opted-in and opted-out recipients at once is delivered
#      to both, tagged only;
#  and a fast, clean SIGTERM.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/postfix.sh"
source "$(dirname "$0")/../lib/dovecot.sh"
source "$(dirname "$0")/../lib/milter.sh"
here=$(cd "$(dirname "$0")" && pwd)
probe() { /usr/bin/python3 "$here/smtp_probe.py" "$@"; }
CLOSED=24025
OPEN=24026

milter_config "milter_trusted_networks = 127.0.0.2/32" "milter_sender_login_mismatch = reject"
ctl domain add example.jp >/dev/null
ctl domain add small.example --max-message-size 20000 >/dev/null
ctl user add taro@example.jp --no-password >/dev/null
ctl user add tiny@example.jp --no-password --max-message-size 10000 >/dev/null
ctl user add big@small.example --no-password >/dev/null
# The filter opt-out: one mailbox, and every mailbox of small.example.
ctl user add optout@example.jp --no-password --spam-filter off >/dev/null
ctl domain set small.example --spam-filter off >/dev/null
/usr/bin/python3 "$here/make_messages.py" "$T"
milter_mailboxes taro@example.jp tiny@example.jp big@small.example optout@example.jp

milter_start && ok "yubin-milter starts" || { not_ok "yubin-milter starts"; cat "$T/milter.log"; finish; exit 1; }

setup_pf() {  # DIR PORT MYNETWORKS
    postfix_setup "$1" "$2"
    milter_postfix_mailboxes "$1" example.jp small.example
    postfix_conf "$1" "mynetworks = $3" \
        "default_transport = discard" "message_size_limit = 10240000" \
        "smtpd_milters = unix:$T/milter.sock" "milter_default_action = tempfail" \
        "recipient_delimiter = +" "smtpd_error_sleep_time = 0" \
        "smtpd_soft_error_limit = 1000" "smtpd_hard_error_limit = 1000"
}
setup_pf "$T/closed" $CLOSED 127.0.0.2/32
# SMTP AUTH on the closed Postfix through a private Dovecot (ports 24143-24146)
echo "taro@example.jp:{PLAIN}secret::::::" >"$T/passwd"
dovecot_setup "$T/dovecot" 24143 "passdb {
  driver = passwd-file
  args = $T/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$T/home
}"
dovecot_start "$T/dovecot" && ok "Dovecot (SASL) starts" || not_ok "Dovecot (SASL) starts"
postfix_conf "$T/closed" "smtpd_sasl_auth_enable = yes" "smtpd_sasl_type = dovecot" \
    "smtpd_sasl_path = $T/dovecot/run/auth-client"
setup_pf "$T/open" $OPEN 0.0.0.0/0
postfix_conf "$T/open" "smtpd_milters ="   # the control run first
postfix_start "$T/closed" && ok "closed Postfix starts" || not_ok "closed Postfix starts"
postfix_start "$T/open" && ok "open Postfix starts" || not_ok "open Postfix starts"

cat >"$T/relays" <<'EOF_R'
<relaytest@relay.example.net>
<RelayTest@RELAY.EXAMPLE.NET>
<relaytest@relay.example.net.>
relaytest@relay.example.net
<relaytest%relay.example.net@example.jp>
<relaytest%relay.example.net@[127.0.0.1]>
<"relaytest@relay.example.net">
<"relaytest%relay.example.net">
<relaytest@relay.example.net@example.jp>
<relaytest@relay.example.net@[127.0.0.1]>
<"relaytest@relay.example.net"@example.jp>
<"relaytest@relay.example.net"@[127.0.0.1]>
<"relay.example.net!relaytest"@example.jp>
<@example.jp:relaytest@relay.example.net>
<@[127.0.0.1]:relaytest@relay.example.net>
<@mail.example.test:relaytest@relay.example.net>
<@example.jp,@mail.example.test:relaytest@relay.example.net>
<@relay.example.net:taro@example.jp>
<relay.example.net!relaytest>
<relay.example.net!relaytest@example.jp>
<relay.example.net!relaytest@[127.0.0.1]>
<relaytest\@relay.example.net@example.jp>
<relaytest@[127.0.0.1]>
<relaytest@example.jp.relay.example.net>
EOF_R
nrelays=$(wc -l <"$T/relays")
cat >"$T/locals" <<'EOF_L'
<taro@example.jp>
<Taro@EXAMPLE.JP>
<taro@example.jp.>
taro@example.jp
<taro+tag@example.jp>
<"taro"@example.jp>
EOF_L
nlocals=$(wc -l <"$T/locals")

count() { grep -c "$1" "$2" || true; }

# --- (2) control: the open Postfix without the milter relays the tricks
probe rcpts $OPEN attacker@client.example.net <"$T/relays" >"$T/open-nomilter.out"
relayed=$(count '^250' "$T/open-nomilter.out")
if [[ $relayed -ge $((nrelays / 2)) ]]; then ok "control: open Postfix alone accepts $relayed of $nrelays relay tricks"
else not_ok "control: open Postfix alone accepted only $relayed of $nrelays"; sed 's/^/#   /' "$T/open-nomilter.out"; fi

postfix_conf "$T/open" "smtpd_milters = unix:$T/milter.sock"
postfix_reload "$T/open"
sleep 1.5
probe rcpts $OPEN attacker@client.example.net <"$T/relays" >"$T/open.out"
check_eq "open Postfix + milter: no relay trick accepted" "$(count '^2' "$T/open.out")" 0
# Each trick the open Postfix relayed alone is now refused by the milter.
n=$(paste "$T/open-nomilter.out" "$T/open.out" | grep -c '^250.*	554 5.7.1 .*Relay access denied' || true)
check_eq "open Postfix + milter: the milter refused all $relayed with 554 5.7.1" "$n" "$relayed"
[[ $n == "$relayed" ]] || sed 's/^/#   /' "$T/open.out"
n=$(count 'reject: RCPT from .*Relay access denied' "$T/milter.log")
if [[ $n -ge $relayed ]]; then ok "milter logged each refusal"; else not_ok "milter logged $n refusals"; fi
probe rcpts $OPEN sender@client.example.net <"$T/locals" >"$T/open-local.out"
check_eq "open Postfix + milter: local mail accepted" "$(count '^250' "$T/open-local.out")" "$nlocals"

# --- (1) closed Postfix
probe rcpts $CLOSED attacker@client.example.net <"$T/relays" >"$T/closed.out"
check_eq "closed Postfix + milter: no relay trick accepted" "$(count '^2' "$T/closed.out")" 0
probe rcpts $CLOSED sender@client.example.net <"$T/locals" >"$T/closed-local.out"
check_eq "closed Postfix + milter: local mail accepted" "$(count '^250' "$T/closed-local.out")" "$nlocals"
echo '<friend@relay.example.net>' | PROBE_SOURCE=127.0.0.2 probe rcpts $CLOSED taro@example.jp >"$T/trusted.out"
check_contains "a client in the trusted networks may relay" "250" "$T/trusted.out"
echo '<friend@relay.example.net>' | PROBE_LOGIN=taro@example.jp:secret probe rcpts $CLOSED taro@example.jp >"$T/auth.out" 2>&1
check_contains "an authenticated client may relay" "250" "$T/auth.out"
echo '<friend@relay.example.net>' | PROBE_LOGIN=taro@example.jp:secret probe rcpts $CLOSED hanako@example.jp >"$T/mismatch.out" 2>&1
check_contains "an authenticated client may not send as somebody else" \
    "553 5.7.1 <hanako@example.jp>: Sender address rejected: not owned by user taro@example.jp" "$T/mismatch.out"
# milter_sender_login_mismatch = warn: accepted and logged; off: accepted silently
set_mismatch() {
    sed -i "s/^milter_sender_login_mismatch = .*/milter_sender_login_mismatch = $1/" "$T/yubin.cf"
    kill -HUP "$milter_pid"
    sleep 0.5
}
set_mismatch warn
echo '<friend@relay.example.net>' | PROBE_LOGIN=taro@example.jp:secret probe rcpts $CLOSED hanako@example.jp >"$T/mismatch-warn.out" 2>&1
check_contains "sender/login mismatch = warn: accepted" "250" "$T/mismatch-warn.out"
check_eq "sender/login mismatch = warn: logged" \
    "$(count 'warn: MAIL from .*sender <hanako@example.jp> not owned by user taro@example.jp' "$T/milter.log")" 1
set_mismatch off
echo '<friend@relay.example.net>' | PROBE_LOGIN=taro@example.jp:secret probe rcpts $CLOSED hanako@example.jp >"$T/mismatch-off.out" 2>&1
check_contains "sender/login mismatch = off: accepted" "250" "$T/mismatch-off.out"
check_eq "sender/login mismatch = off: not logged" \
    "$(count 'warn: MAIL from .*sender <hanako@example.jp> not owned' "$T/milter.log")" 1
set_mismatch reject

# --- (3) size limits
send() { probe send $CLOSED sender@client.example.net "$@"; }
check_eq "domain limit: SIZE= over it refused at RCPT" \
    "$(send big@small.example "$T/big.eml" --stage | cut -c1-14)" "RCPT 552 5.3.4"
# The sender's own limit: a local sender announcing more than its mailbox may send.
check_eq "mailbox limit: SIZE= over the sender's own limit refused at MAIL" \
    "$(probe send $CLOSED tiny@example.jp taro@example.jp "$T/mid.eml" --stage | cut -c1-14)" \
    "MAIL 552 5.3.4"
check_eq "mailbox limit: the same sender under its limit" \
    "$(probe send $CLOSED tiny@example.jp taro@example.jp "$T/small.eml" --stage | cut -c1-8)" "DATA 250"
check_eq "domain limit: counted size refused at end of data" \
    "$(send big@small.example "$T/big.eml" --no-size --stage | cut -c1-14)" "DATA 552 5.3.4"
check_eq "domain limit: smaller message accepted" "$(send big@small.example "$T/small.eml" | cut -c1-3)" "250"
check_eq "mailbox limit: counted size refused" "$(send tiny@example.jp "$T/mid.eml" --no-size | cut -c1-9)" "552 5.3.4"
check_eq "mailbox limit does not touch another mailbox" "$(send taro@example.jp "$T/mid.eml" --no-size | cut -c1-3)" "250"

# --- (4) the filter, default rules: reject
for m in ad-jis ad-utf8 ad-sjis ad-raw8bit ad-split; do
    check_eq "未承諾広告 ($m) refused 550 5.7.1" "$(send taro@example.jp "$T/$m.eml" | cut -c1-9)" "550 5.7.1"
done
: >"$T/vmail/example.jp/taro" 2>/dev/null || true
check_eq "ordinary Japanese message accepted" "$(send taro@example.jp "$T/plain-jp.eml" | cut -c1-3)" "250"
check_eq "message with forged X-Yubin fields accepted" "$(send taro@example.jp "$T/forged.eml" | cut -c1-3)" "250"
postfix_wait_queue_empty "$T/closed" 30 || true
mbox="$T/vmail/example.jp/taro"
# The Japanese message arrives untouched: its header lines and body as sent.
/usr/bin/python3 - "$T/plain-jp.eml" "$mbox" >"$T/untouched.out" <<'PY'
import sys
sent = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
box = open(sys.argv[2], "rb").read()
head, body = sent.split(b"\n\n", 1)
missing = [l for l in head.split(b"\n") if l not in box.split(b"\n")]
print("missing header lines:", missing)
print("body intact:", body in box)
PY
check_contains "Japanese message: every header line as sent" "missing header lines: []" "$T/untouched.out"
check_contains "Japanese message: body as sent" "body intact: True" "$T/untouched.out"
check_contains "the message with forged fields was delivered" "Subject: ordinary" "$mbox"
if grep -qi '^X-Yubin' "$mbox"; then not_ok "forged X-Yubin fields were removed"; grep -i '^X-Yubin' "$mbox" | sed 's/^/#   /'
else ok "forged X-Yubin fields were removed"; fi
check_contains "the forgery is logged" "removed 2 forged X-Yubin-Spam" "$T/milter.log"

# the filter opt-out (spam_filter = off in the store), default rules (reject)
optbox="$T/vmail/example.jp/optout"
bigbox="$T/vmail/small.example/big"
: >"$mbox"
check_eq "opt-out mailbox: 未承諾広告 accepted" "$(send optout@example.jp "$T/ad-jis.eml" | cut -c1-3)" "250"
check_eq "opt-out domain: 未承諾広告 accepted" "$(send big@small.example "$T/ad-utf8.eml" | cut -c1-3)" "250"
postfix_wait_queue_empty "$T/closed" 30 || true
check_contains "opt-out mailbox: delivered" "Subject: =?" "$optbox"
if grep -qi '^X-Yubin' "$optbox" "$bigbox"; then not_ok "opted-out recipients get no X-Yubin fields"
else ok "opted-out recipients get no X-Yubin fields"; fi
: >"$optbox"
check_eq "mixed recipients: 未承諾広告 accepted for both" \
    "$(send taro@example.jp,optout@example.jp "$T/ad-jis.eml" | cut -c1-3)" "250"
postfix_wait_queue_empty "$T/closed" 30 || true
check_contains "mixed: the opted-in recipient gets it tagged" "X-Yubin-Spam: yes" "$mbox"
check_contains "mixed: with the rule's name" "X-Yubin-Rule: jp-unsolicited-ad" "$mbox"
check_contains "mixed: the opted-out recipient gets it too" "X-Yubin-Spam: yes" "$optbox"
check_contains "mixed: the log says why it was not refused" \
    "(action reject not applied: 1 of 2 recipients opted out of the filter)" "$T/milter.log"
ctl user set optout@example.jp --spam-filter inherit >/dev/null
check_eq "opt-out undone with yubinctl: refused again at once" \
    "$(send optout@example.jp "$T/ad-jis.eml" | cut -c1-9)" "550 5.7.1"
: >"$mbox"

# tag, after SIGHUP
cat >"$T/tag.rules" <<'EOF_T'
rule jp-ad
    target  = subject
    literal = 未承諾広告
    action  = tag
    text    = [SPAM]
EOF_T
echo "milter_rules_file = $T/tag.rules" >>"$T/yubin.cf"
kill -HUP "$milter_pid"
sleep 0.5
check_contains "SIGHUP reloads" "reloaded" "$T/milter.log"
: >"$mbox"
check_eq "tag: 未承諾広告 accepted" "$(send taro@example.jp "$T/ad-jis.eml" | cut -c1-3)" "250"
postfix_wait_queue_empty "$T/closed" 30 || true
check_contains "tag: X-Yubin-Spam added" "X-Yubin-Spam: yes" "$mbox"
check_contains "tag: X-Yubin-Rule added" "X-Yubin-Rule: jp-ad" "$mbox"
check_contains "tag: Subject prefixed" "Subject: [SPAM] =?" "$mbox"

# quarantine
sed -i 's/action  = tag/action  = quarantine/' "$T/tag.rules"
kill -HUP "$milter_pid"
sleep 0.5
check_eq "quarantine: accepted" "$(send taro@example.jp "$T/ad-utf8.eml" | cut -c1-3)" "250"
sleep 1
check_eq "quarantine: one message on hold" "$(find "$T/closed/queue/hold" -type f | wc -l)" 1

# a bad rules file on SIGHUP keeps the running rules
echo "rule broken" >"$T/tag.rules"
kill -HUP "$milter_pid"
sleep 0.5
check_contains "bad rules: reload refused" "reload failed, keeping the running configuration" "$T/milter.log"
check_eq "bad rules: old rules still apply" "$(send taro@example.jp "$T/ad-sjis.eml" | cut -c1-3)" "250"
sleep 1
check_eq "bad rules: the old quarantine rule held it" "$(find "$T/closed/queue/hold" -type f | wc -l)" 2
grep -q '[0-9A-F]\{10,\}: hold: END-OF-MESSAGE' "$T/milter.log" && ok "log lines carry the queue id" \
    || not_ok "log lines carry the queue id"

# --- SIGTERM: clean and fast
start=$(date +%s%N)
kill -TERM "$milter_pid"
wait "$milter_pid"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check_eq "SIGTERM: exit status 0" "$rc" 0
if [[ $ms -lt 2000 ]]; then ok "SIGTERM: stopped in $ms ms"; else not_ok "SIGTERM took $ms ms"; fi
check_eq "with the milter gone Postfix tempfails (milter_default_action)" \
    "$(send taro@example.jp "$T/small.eml" | cut -c1-1)" "4"
finish
