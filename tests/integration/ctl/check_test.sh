#!/bin/bash
# yubinctl check against a real stack on loopback ports 27025-27146: Postfix
# (smtpd on 27025, submission 27587 with STARTTLS + smtpd_tls_auth_only,
# smtps 27465 in wrapper mode, SASL through Dovecot, delivery over Dovecot's
# LMTP, yubin-milter for the 未承諾広告 filter), Dovecot (IMAP 27143, IMAPS
# 27144, POP3 27145, POP3S 27146) and a certificate from yubinctl cert: every
# check passes. Then the checks that must fail do: a deliberately open
# Postfix (mynetworks = 0.0.0.0/0, no milter) on 27026 announcing "Postfix"
# in its banner fails the relay and banner checks and exits 1; a wrong
# password fails the AUTH checks; a wrong --max-size fails ehlo-size; without
# the milter, yubin-lda files 未承諾広告 into Junk (ok) and, with lda_filter =
# no, into INBOX (FAIL); fake
# hostile servers (silence, endless lines and replies, garbage, a slow drip,
# STARTTLS plaintext injection) fail cleanly in bounded time.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/postfix.sh"
source "$(dirname "$0")/../lib/dovecot.sh"
BIN=${YUBIN_BIN:?}
SMTP=27025 OPEN=27026 SUBMISSION=27587 SMTPS=27465 DOVECOT_BASE=27143
PF=$T/postfix
OPF=$T/open
DC=$T/dovecot
yubinctl() { "$BIN/yubinctl" "$@"; }
# CHECK_KEEP=DIR keeps a copy of the test directory (logs, queues) for debugging.
cleanup_hooks+=('[[ -z "${CHECK_KEEP:-}" ]] || cp -a "$T" "$CHECK_KEEP"')

for p in $SMTP $OPEN $SUBMISSION $SMTPS $DOVECOT_BASE $((DOVECOT_BASE + 1)) $((DOVECOT_BASE + 2)) $((DOVECOT_BASE + 3)); do
    if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then not_ok "port $p already in use"; finish; exit 1; fi
done

# --- certificate from yubinctl cert, used by Postfix and Dovecot
mkdir -p "$DC/ssl"
check_status "yubinctl cert for mail.example.test and 127.0.0.1" 0 \
    yubinctl cert --host mail.example.test --host 127.0.0.1 --key "$DC/ssl/key.pem" --cert "$DC/ssl/cert.pem"
CA=$DC/ssl/cert.pem

# --- the store (for yubin-milter) and Dovecot's passwd-file: one user
mkdir -p "$T/db" "$T/vmail"
cat >"$T/yubin.cf" <<CF
store = sqlite:$T/db/yubin.db
virtual_mailbox_base = $T/vmail
milter_listen = unix:$T/milter.sock
milter_user = nobody
milter_trusted_networks = 127.0.0.2/32
CF
yubinctl -c "$T/yubin.cf" domain add example.test >/dev/null
yubinctl -c "$T/yubin.cf" user add taro@example.test --password-stdin <<<"taro-pw" >/dev/null
chown -R nobody "$T/db" "$T/vmail"
echo 'taro@example.test:{PLAIN}taro-pw' >"$DC/passwd"
dovecot_setup "$DC" "$DOVECOT_BASE" "passdb {
  driver = passwd-file
  args = $DC/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$T/vmail/%d/%n
}
disable_plaintext_auth = yes"
if ! dovecot_start "$DC"; then not_ok "dovecot start"; finish; exit 1; fi

"$BIN/yubin-milter" -c "$T/yubin.cf" -f 2>"$T/milter.log" &
MILTER_PID=$!
cleanup_hooks+=("kill $MILTER_PID 2>/dev/null; wait $MILTER_PID 2>/dev/null")
for i in $(seq 1 50); do [[ -S "$T/milter.sock" ]] && break; sleep 0.1; done
[[ -S "$T/milter.sock" ]] || { not_ok "yubin-milter starts"; cat "$T/milter.log"; finish; exit 1; }

# --- the closed Postfix, set up as contrib/ describes
postfix_setup "$PF" "$SMTP"
echo 'taro@example.test x' >"$PF/etc/vmailbox"
postfix_conf "$PF" \
    "virtual_mailbox_domains = example.test" \
    "virtual_mailbox_maps = texthash:$PF/etc/vmailbox" \
    "virtual_transport = lmtp:unix:$DC/run/lmtp" \
    "message_size_limit = 10240000" \
    "smtpd_tls_cert_file = $DC/ssl/cert.pem" \
    "smtpd_tls_key_file = $DC/ssl/key.pem" \
    "smtpd_tls_security_level = may" \
    "smtpd_tls_auth_only = yes" \
    "smtpd_sasl_type = dovecot" \
    "smtpd_sasl_path = $DC/run/auth-client" \
    "smtpd_milters = unix:$T/milter.sock" \
    "milter_default_action = tempfail" \
    "default_transport = discard" "relay_transport = discard"
postfix_service "$PF" "127.0.0.1:$SUBMISSION inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
postfix_service "$PF" "127.0.0.1:$SMTPS inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
if ! postfix_start "$PF"; then not_ok "postfix start"; finish; exit 1; fi
ok "Postfix, Dovecot and yubin-milter running"

# From 127.0.0.3: outside Postfix's mynetworks (127.0.0.2/32), and not a
# loopback peer Dovecot would count as secure (it checks 127.0.0.1 only).
ports=(--host 127.0.0.1 --bind 127.0.0.3 --smtp-port $SMTP --submission-port $SUBMISSION --smtps-port $SMTPS
       --imap-port $DOVECOT_BASE --imaps-port $((DOVECOT_BASE + 1))
       --pop3-port $((DOVECOT_BASE + 2)) --pop3s-port $((DOVECOT_BASE + 3)) --timeout 20)

# 1. everything passes
start=$(date +%s)
yubinctl check "${ports[@]}" --user taro@example.test --password-stdin --max-size 10240000 \
    --cafile "$CA" --stream-oversize --wait 60 <<<"taro-pw" >"$T/check.out" 2>"$T/check.err"
rc=$?
secs=$(( $(date +%s) - start ))
sed 's/^/# /' "$T/check.out" "$T/check.err"
check_eq "check against the closed stack exits 0 (took ${secs}s)" "$rc" "0"
check_contains "final line: nothing failed" ", 0 failed, 0 warnings" "$T/check.out"
for name in banner ehlo ehlo-size starttls certificate size-limit submission-auth-before-tls \
            submission-starttls auth-wrong-password auth-plain relay-control-auth size-limit-stream \
            auth-login smtps relay relay-control-local spam-iso-2022-jp spam-utf-8-b spam-utf-8-q \
            spam-shift-jis spam-shift-jis-8bit spam-euc-jp imap-plaintext imap imaps pop3-plaintext pop3 \
            pop3s delivery; do
    check_eq "check $name ok" "$(grep -c "^ok $name: " "$T/check.out")" "1"
done
check_contains "relay: no relays accepted" "ok relay: no relays accepted" "$T/check.out"
check_contains "certificate verified against --cafile" "matches mail.example.test, chain verified" "$T/check.out"
check_contains "size limit refused with 552 at MAIL FROM" "ok size-limit: MAIL FROM with SIZE=10240001: 552" "$T/check.out"
spam_variants=("iso-2022-jp:ISO-2022-JP B" "utf-8-b:UTF-8 B" "utf-8-q:UTF-8 Q" "shift-jis:Shift_JIS B"
               "shift-jis-8bit:unencoded 8-bit Shift_JIS" "euc-jp:EUC-JP B")
for v in "${spam_variants[@]}"; do
    check_contains "未承諾広告 in ${v#*:} refused at SMTP by yubin-milter" \
        "ok spam-${v%%:*}: 未承諾広告 (${v#*:} Subject) refused at SMTP: 550 5.7.1" "$T/check.out"
done
check_contains "test message found over IMAP" "found in INBOX over IMAP" "$T/check.out"
nprobes=$(grep -o 'no relays accepted ([0-9]* variants' "$T/check.out" | grep -o '[0-9]*')
[[ ${nprobes:-0} -ge 30 ]] && ok "at least 30 relay variants probed ($nprobes)" || not_ok "relay variants probed: ${nprobes:-none}"

# 2. without a CA file the self-signed certificate is only a warning
yubinctl check "${ports[@]}" --skip submission auth relay smtps imap imaps pop3 pop3s spam delivery size \
    >"$T/nocafile.out" 2>&1
rc=$?
check_eq "self-signed without --cafile: exit 0" "$rc" "0"
check_contains "self-signed without --cafile: warning" "warn certificate:" "$T/nocafile.out"
check_contains "self-signed without --cafile: counted as a warning" "0 failed, 1 warning" "$T/nocafile.out"

# 3. a wrong name on the certificate fails
yubinctl check "${ports[@]}" --cafile "$CA" --tls-name other.example.test \
    --skip submission auth relay smtps imap imaps pop3 pop3s spam delivery size >"$T/badname.out" 2>&1
check_eq "wrong certificate name: exit 1" "$?" "1"
check_contains "wrong certificate name: FAIL" "FAIL certificate:" "$T/badname.out"

# 4. a wrong password fails the AUTH checks; a wrong --max-size fails ehlo-size
yubinctl check "${ports[@]}" --cafile "$CA" --user taro@example.test --password-stdin --max-size 5M \
    --skip relay spam delivery imap imaps pop3 pop3s <<<"not-the-password" >"$T/badpw.out" 2>&1
check_eq "wrong password: exit 1" "$?" "1"
check_contains "wrong password: auth-plain FAIL" "FAIL auth-plain: 535" "$T/badpw.out"
check_contains "wrong password: auth-login FAIL" "FAIL auth-login: 535" "$T/badpw.out"
check_contains "wrong --max-size: ehlo-size FAIL" "FAIL ehlo-size: SIZE 10240000, want 5242880" "$T/badpw.out"

# 5. --json: one document, the same counts
yubinctl check "${ports[@]}" --cafile "$CA" --json --skip relay spam delivery auth >"$T/json.out" 2>&1
check_eq "--json: exit 0" "$?" "0"
check_eq "--json parses, failed = 0, passed > 5" \
    "$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["failed"] == 0 and d["passed"] > 5 and all(c["result"] in ("ok","warn") for c in d["checks"]))' "$T/json.out")" "True"

# 6. a deliberately open Postfix that names itself
postfix_setup "$OPF" "$OPEN"
postfix_conf "$OPF" "mynetworks = 0.0.0.0/0" \
    "smtpd_banner = \$myhostname ESMTP Postfix (Debian/GNU)" \
    "virtual_mailbox_domains = example.test" \
    "virtual_mailbox_maps = texthash:$PF/etc/vmailbox" \
    "virtual_transport = discard" "default_transport = discard" "relay_transport = discard" \
    "message_size_limit = 10240000"
if ! postfix_start "$OPF"; then not_ok "open postfix start"; finish; exit 1; fi
only_relay=(--skip banner ehlo starttls certificate size submission auth smtps imap imaps pop3 pop3s spam delivery)
yubinctl check --host 127.0.0.1 --smtp-port $OPEN --local-rcpt taro@example.test --timeout 20 "${only_relay[@]}" \
    >"$T/open.out" 2>&1
rc=$?
sed 's/^/# /' "$T/open.out" | head -12
check_eq "open relay: check exits 1" "$rc" "1"
check_contains "open relay: relay check FAILS" "FAIL relay: OPEN RELAY:" "$T/open.out"
check_contains "open relay: the plain foreign recipient is listed" \
    "accepted: unauthenticated foreign sender and recipient: MAIL FROM:<spamtest@relay-test.example.net> RCPT TO:<relaytest@relay-test.example.net> -> 250" "$T/open.out"
check_contains "open relay: the percent hack is listed" "accepted: percent hack at the server's IP literal" "$T/open.out"
check_contains "open relay: a source route is listed" "accepted: source route via the server's name" "$T/open.out"
check_contains "local control still ok on the open server" "ok relay-control-local:" "$T/open.out"
check_contains "open relay: only the relay check failed" "1 passed, 1 failed, 0 warnings" "$T/open.out"
yubinctl check --host 127.0.0.1 --smtp-port $OPEN --timeout 20 --skip relay ehlo starttls certificate size \
    submission auth smtps imap imaps pop3 pop3s spam delivery >"$T/banner.out" 2>&1
check_eq "banner naming Postfix: check exits 1" "$?" "1"
check_contains "banner naming Postfix FAILS" 'FAIL banner: "220 mail.example.test ESMTP Postfix (Debian/GNU)" reveals a software name "postfix"' "$T/banner.out"
check_contains "banner: the only check run" "0 passed, 1 failed, 0 warnings" "$T/banner.out"
sleep 1
check_eq "open relay: no probe was queued (RSET, never DATA)" "$(postfix_queue_count "$OPF")" "0"

# 7. nothing listening: a FAIL, not a hang
start=$(date +%s)
yubinctl check --host 127.0.0.1 --smtp-port 27999 --submission-port 27998 --smtps-port 27997 \
    --imap-port 27996 --imaps-port 27995 --pop3-port 27994 --pop3s-port 27993 --timeout 3 >"$T/down.out" 2>&1
rc=$?
check_eq "nothing listening: exit 1" "$rc" "1"
check_contains "nothing listening: smtp FAIL" "FAIL smtp: port 27999: cannot connect" "$T/down.out"
[[ $(( $(date +%s) - start )) -lt 30 ]] && ok "nothing listening: done quickly" || not_ok "nothing listening took too long"

# 8. the other 未承諾広告 outcome: no milter, delivery through yubin-lda (pipe),
# which files the message into Junk; the check finds it there over IMAP
postfix_conf "$PF" "smtpd_milters =" "virtual_transport = yubin" "yubin_destination_recipient_limit = 1"
postfix_service "$PF" "yubin unix - n n - - pipe
  flags=DRhu user=nobody argv=$BIN/yubin-lda -c $T/yubin.cf -f \${sender} -d \${recipient} -q \${queue_id}"
postfix_reload "$PF"
sleep 1
spam_only() {  # OUT: only the 未承諾広告 check; its exit status in $rc
    yubinctl check "${ports[@]}" --cafile "$CA" --user taro@example.test --password-stdin --wait 60 \
        --skip banner ehlo starttls certificate size submission auth smtps relay imap imaps pop3 pop3s delivery \
        <<<"taro-pw" >"$1" 2>&1
    rc=$?
    sed 's/^/# /' "$1"
}
spam_only "$T/junk.out"
check_eq "未承諾広告 junked: exit 0" "$rc" "0"
for v in "${spam_variants[@]}"; do
    check_contains "未承諾広告 in ${v#*:} junked by yubin-lda: found in Junk over IMAP" \
        "ok spam-${v%%:*}: 未承諾広告 (${v#*:} Subject) accepted and junked into folder Junk" "$T/junk.out"
done
# and with the LDA's filter off it lands in INBOX: a FAIL
echo "lda_filter = no" >>"$T/yubin.cf"
spam_only "$T/inbox.out"
check_eq "未承諾広告 unfiltered: exit 1" "$rc" "1"
for v in "${spam_variants[@]}"; do
    check_contains "未承諾広告 in ${v#*:} unfiltered: FAIL, delivered to INBOX" \
        "FAIL spam-${v%%:*}: 未承諾広告 (${v#*:} Subject) accepted at SMTP and delivered to INBOX" "$T/inbox.out"
done

# 9. hostile servers: each check fails cleanly and in bounded time, never hangs or crashes
cat >"$T/hostile.py" <<'PY_EOF'
import socket, sys, threading, time
mode, port = sys.argv[1], int(sys.argv[2])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(16)
def serve(c):
    try:
        f = c.makefile("rb")
        if mode == "silent":
            time.sleep(30); return
        if mode == "longline":
            c.sendall(b"220 " + b"x" * 200000); time.sleep(5); return
        if mode == "endless":
            c.sendall(b"220-mail.example.test\r\n" * 5000); time.sleep(5); return
        if mode == "garbage":
            c.sendall(b"\x00\xff\x1b[2J hello\r\n"); time.sleep(5); return
        if mode == "drip":
            for b in b"220 mail.example.test ESMTP\r\n":
                c.sendall(bytes([b])); time.sleep(0.5)
            return
        c.sendall(b"220 mail.example.test ESMTP\r\n")
        while True:
            line = f.readline()
            if not line: return
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO"):
                c.sendall(b"250-mail.example.test\r\n250-STARTTLS\r\n250 SIZE 1000\r\n")
            elif cmd == b"STARTTLS":
                c.sendall(b"220 2.0.0 Ready to start TLS\r\n250 injected\r\n")  # mode inject
            else:
                c.sendall(b"250 ok\r\n")
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY_EOF
hostile() {  # MODE WANT_SUBSTRING: run one check against a fake server
    local mode=$1 want=$2 port=27030
    /usr/bin/python3 "$T/hostile.py" "$mode" $port &
    local pid=$!
    for i in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
    local start rc
    start=$(date +%s)
    yubinctl check --host 127.0.0.1 --smtp-port $port --timeout 3 \
        --skip submission auth smtps relay spam imap imaps pop3 pop3s delivery size >"$T/hostile-$mode.out" 2>&1
    rc=$?
    kill $pid 2>/dev/null; wait $pid 2>/dev/null
    check_eq "hostile server ($mode): exit 1, no crash" "$rc" "1"
    check_contains "hostile server ($mode): reported" "$want" "$T/hostile-$mode.out"
    [[ $(( $(date +%s) - start )) -le 15 ]] && ok "hostile server ($mode): bounded time" || not_ok "hostile server ($mode): took too long"
}
hostile silent "FAIL smtp: port 27030: timed out"
hostile longline "FAIL smtp: port 27030: line longer than 4096 bytes"
hostile endless "FAIL smtp: port 27030: SMTP reply longer than 200 lines"
hostile garbage "FAIL smtp: port 27030: malformed SMTP reply"
hostile drip "FAIL smtp: port 27030: timed out"
hostile inject "FAIL starttls: port 27030: the server sent data before the TLS handshake (plaintext injection)"

finish
