#!/bin/bash
# yubin-lda --lmtp behind a real Postfix (virtual_transport = lmtp:unix:...):
# per-recipient replies, one file hard-linked for several recipients,
# unknown users refused at RCPT, clean stop on SIGTERM.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/postfix.sh"
source "$(dirname "$0")/lib.sh"
LDA_PORT=23125

PF=$T/postfix
mkdir -p "$T/db" "$T/vmail" "$T/run"
chown "$LDA_VUSER" "$T/vmail"
cat >"$T/yubin.cf" <<CF
store = sqlite:$T/db/yubin.db
virtual_mailbox_base = $T/vmail
lda_lmtp_listen = unix:$T/run/lmtp
lda_lmtp_user = $LDA_VUSER
lda_rules_file = $T/rules
CF
# At first: no rule matches "reload-probe"; after SIGHUP one files it as junk.
cat >"$T/rules" <<'RULES'
rule first
    target  = subject
    literal = never-in-this-test
    action  = junk
RULES
chmod 0644 "$T/rules"
if ! "$BIN/yubinctl" -c "$T/yubin.cf" domain add example.test >/dev/null; then not_ok "yubinctl domain add"; finish; exit 1; fi
for u in taro hana jiro; do "$BIN/yubinctl" -c "$T/yubin.cf" user add $u@example.test --no-password >/dev/null; done
chmod 0755 "$T/db"; chmod 0644 "$T/db/"*

"$BIN/yubin-lda" -c "$T/yubin.cf" --lmtp -L 2>"$T/lda.log" &
lda_pid=$!
cleanup_hooks+=("kill $lda_pid 2>/dev/null")
for i in $(seq 1 50); do [[ -S $T/run/lmtp ]] && break; sleep 0.1; done
if [[ -S $T/run/lmtp ]]; then ok "yubin-lda --lmtp listens"; else not_ok "no LMTP socket"; cat "$T/lda.log"; finish; exit 1; fi
check_eq "LMTP daemon dropped root" "$(ps -o user= -p $lda_pid | tr -d ' ')" "$LDA_VUSER"

postfix_setup "$PF" "$LDA_PORT"
postfix_conf "$PF" \
    "virtual_mailbox_domains = example.test" \
    "virtual_mailbox_maps = texthash:$T/vmailbox" \
    "virtual_transport = lmtp:unix:$T/run/lmtp" \
    "lmtp_connection_cache_on_demand = no"
printf '%s OK\n' taro@example.test hana@example.test jiro@example.test ghost@example.test >"$T/vmailbox"
if postfix_start "$PF"; then ok "private Postfix with virtual_transport = lmtp"; else not_ok "postfix start"; finish; exit 1; fi

{
    printf 'From: alice@sender.example\r\nTo: list@example.net\r\nSubject: to three\r\n'
    printf 'Date: Sun, 29 Nov 2026 10:00:00 +0000\r\nMessage-ID: <lmtp1@sender.example>\r\n\r\n'
    printf '.dot line\r\nbody \xe6\x97\xa5\r\n'
} >"$T/m1"
/usr/bin/python3 - "$LDA_PORT" "$T/m1" <<'PY'
import smtplib, sys
with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30) as s:
    s.sendmail('alice@sender.example',
               ['taro@example.test', 'hana@example.test', 'jiro@example.test', 'ghost@example.test'],
               open(sys.argv[2], 'rb').read())
PY
ft=$(lda_wait_file "$T/vmail/example.test/taro/Maildir/new/*")
fh=$(lda_wait_file "$T/vmail/example.test/hana/Maildir/new/*")
fj=$(lda_wait_file "$T/vmail/example.test/jiro/Maildir/new/*")
if [[ -n $ft && -n $fh && -n $fj ]]; then
    ok "LMTP: delivered to all three mailboxes"
    check_eq "LMTP: one file, hard-linked three times" "$(stat -c %h "$ft")" "3"
    check_eq "LMTP: same inode for taro and jiro" "$(stat -c %i "$ft")" "$(stat -c %i "$fj")"
    check_status "LMTP: body byte-identical (CRLF as LF, dots unstuffed)" 0 \
        /usr/bin/python3 -c 'import sys; a=open(sys.argv[1],"rb").read().replace(b"\r\n",b"\n"); b=open(sys.argv[2],"rb").read(); sys.exit(0 if b.endswith(a) and b.startswith(b"Return-Path: <alice@sender.example>\n") else 1)' "$T/m1" "$ft"
else
    not_ok "LMTP: not delivered to all three"; tail -5 "$(postfix_log "$PF")" | sed 's/^/#   /'; sed 's/^/#   /' "$T/lda.log"
fi
if lda_wait_log "to=<ghost@example.test>"; then
    check_contains "LMTP: unknown user refused at RCPT with 550 5.1.1" "said: 550 5.1.1 user unknown" "$(postfix_log "$PF")"
else
    not_ok "LMTP: no result for the unknown user"
fi
check_contains "LMTP: one log line per recipient with the queue id" "to=<jiro@example.test>, from=<alice@sender.example>" "$T/lda.log"
qid=$(grep -F 'message-id=<lmtp1@' "$(postfix_log "$PF")" | head -1 | sed 's/.*: \([0-9A-F]*\): message-id.*/\1/')
check_contains "LMTP: log line carries the Postfix queue id" "$qid: to=<taro@example.test>" "$T/lda.log"

# a single recipient gets Delivered-To too
lda_send alice@sender.example taro@example.test "$T/m1"
for i in $(seq 1 300); do [[ $(ls "$T/vmail/example.test/taro/Maildir/new" 2>/dev/null | wc -l) -ge 2 ]] && break; sleep 0.1; done
f2=$(ls -t "$T/vmail/example.test/taro/Maildir/new/"* 2>/dev/null | head -1)
check_status "LMTP: single recipient byte-identical with Return-Path and Delivered-To" 0 lda_same_message "$T/m1" "$f2"

# SIGHUP: the new rules apply to the next message; a broken file is refused
# and the running rules stay.
probe() {  # probe N: a message whose Subject is "reload-probe N"
    { printf 'From: alice@sender.example\r\nTo: taro@example.test\r\nSubject: reload-probe %s\r\n' "$1"
      printf 'Message-ID: <probe%s@sender.example>\r\n\r\nbody\r\n' "$1"; } >"$T/p$1"
    lda_send alice@sender.example taro@example.test "$T/p$1"
}
where_is() {  # where_is N: "inbox", "junk" or "" when it arrives
    local i
    for i in $(seq 1 300); do
        grep -lq "probe$1@" "$T/vmail/example.test/taro/Maildir/new/"* 2>/dev/null && { echo inbox; return; }
        grep -lq "probe$1@" "$T/vmail/example.test/taro/Maildir/.Junk/new/"* 2>/dev/null && { echo junk; return; }
        sleep 0.1
    done
}
probe 1
check_eq "before SIGHUP: the probe goes to INBOX" "$(where_is 1)" "inbox"
cat >"$T/rules" <<'RULES'
rule second
    target  = subject
    literal = reload-probe
    action  = junk
RULES
kill -HUP $lda_pid
for i in $(seq 1 50); do grep -q "reloaded" "$T/lda.log" && break; sleep 0.1; done
check_contains "SIGHUP: logged" "reloaded $T/yubin.cf" "$T/lda.log"
probe 2
check_eq "after SIGHUP: the new rule files the probe into Junk" "$(where_is 2)" "junk"
printf 'rule broken\n    target = nowhere\n' >"$T/rules"
kill -HUP $lda_pid
for i in $(seq 1 50); do grep -q "reload failed" "$T/lda.log" && break; sleep 0.1; done
check_contains "SIGHUP with a broken rules file: refused and logged" "reload failed, keeping the running configuration" "$T/lda.log"
probe 3
check_eq "after a failed reload: the running rules stay (Junk)" "$(where_is 3)" "junk"
check_status "after a failed reload: still running" 0 kill -0 $lda_pid

# The filter opt-out (spam_filter) is read from the store at RCPT: taro opts
# out, and a message the running rule files as junk stays in his INBOX,
# unmarked; sent to taro and hana (still filtered) at once, it goes to both
# INBOXes with X-Yubin-Filter only, and the skipped action is logged.
check_status "yubinctl user set --spam-filter off" 0 \
    "$BIN/yubinctl" -c "$T/yubin.cf" user set taro@example.test --spam-filter off
chmod 0644 "$T/db/"*
probe 4
check_eq "spam_filter off: the junk probe goes to INBOX" "$(where_is 4)" "inbox"
f4=$(grep -l "probe4@" "$T/vmail/example.test/taro/Maildir/new/"* 2>/dev/null | head -1)
check_status "spam_filter off: no X-Yubin-Filter field" 1 grep -q '^X-Yubin-Filter' "$f4"
{ printf 'From: alice@sender.example\r\nTo: taro@example.test\r\nSubject: reload-probe 5\r\n'
  printf 'Message-ID: <probe5@sender.example>\r\n\r\nbody\r\n'; } >"$T/p5"
/usr/bin/python3 - "$LDA_PORT" "$T/p5" <<'PY'
import smtplib, sys
with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30) as s:
    s.sendmail('alice@sender.example', ['taro@example.test', 'hana@example.test'],
               open(sys.argv[2], 'rb').read())
PY
check_eq "mixed opt-out: taro's copy in INBOX" "$(where_is 5)" "inbox"
f5=
for i in $(seq 1 100); do
    f5=$(grep -l "probe5@" "$T/vmail/example.test/hana/Maildir/new/"* 2>/dev/null | head -1)
    [[ -n $f5 ]] && break; sleep 0.1
done
if [[ -n $f5 ]]; then
    check_contains "mixed opt-out: hana's copy in INBOX with X-Yubin-Filter" "X-Yubin-Filter: junk; rule=second" "$f5"
else
    not_ok "mixed opt-out: hana's copy not in INBOX"; ls -R "$T/vmail/example.test/hana/Maildir" | sed 's/^/#   /'
fi
check_status "mixed opt-out: no Junk folder for hana" 1 test -e "$T/vmail/example.test/hana/Maildir/.Junk"
check_contains "mixed opt-out: the action not applied is logged" \
    "action junk not applied: 1 of 2 recipients opted out" "$T/lda.log"

kill -TERM $lda_pid
for i in $(seq 1 50); do kill -0 $lda_pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $lda_pid 2>/dev/null; then not_ok "LMTP: still running 5 s after SIGTERM"; else
    wait $lda_pid; check_eq "LMTP: SIGTERM stops it with status 0" "$?" "0"; fi
finish
