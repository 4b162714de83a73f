#!/usr/bin/env bash
# The old how-to's whole walkthrough against the stack scripts/demo starts:
# send with AUTH over STARTTLS on submission -> delivered by yubin-lda ->
# read over IMAPS and POP3S with the same credentials; a second domain and
# user added with yubinctl and mailed without a restart; relays refused; an
# 11 MB message refused; 未承諾広告 in ISO-2022-JP, Shift_JIS and UTF-8
# Subjects rejected; every yubin daemon stopped and restarted under load,
# and every accepted message delivered exactly once.
source "$(dirname "$0")/../lib/tap.sh"
: "${YUBIN_BIN:?}" "${YUBIN_SRC:?}"
DEMO=$T/demo
BASE=28000
SMTP=$((BASE + 25)) SUBMISSION=$((BASE + 587)) SMTPS=$((BASE + 465))
IMAPS=$((BASE + 144)) POP3S=$((BASE + 146))
export YUBIN_DEMO_DIR=$DEMO YUBIN_DEMO_PORT_BASE=$BASE YUBIN_DEMO_NO_BUILD=1 YUBIN_BIN
cleanup_hooks+=("'$YUBIN_SRC/scripts/demo' stop >/dev/null 2>&1")

if "$YUBIN_SRC/scripts/demo" >"$T/demo.out" 2>&1; then ok "scripts/demo starts the stack and shows mail flowing"; else
    not_ok "scripts/demo failed"; sed 's/^/#   /' "$T/demo.out" | tail -30; finish; exit 1; fi
USER_ADDR=$(sed -n 1p "$DEMO/account")
PW=$(sed -n 2p "$DEMO/account")
CF=$DEMO/etc/yubin.cf
ctl() { "$YUBIN_BIN/yubinctl" -c "$CF" "$@"; }
PFLOG=$DEMO/postfix/log/postfix.log

cat >"$T/mbox.py" <<'PY'
# mbox.py PROTO PORT USER PASS NEEDLE: count messages containing NEEDLE over IMAPS or POP3S.
import imaplib, poplib, ssl, sys
proto, port, user, pw, needle = sys.argv[1:6]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
n = 0
if proto == "imaps":
    c = imaplib.IMAP4_SSL("127.0.0.1", int(port), ssl_context=ctx, timeout=20)
    c.login(user, pw); c.select("INBOX")
    typ, data = c.search(None, "BODY", needle)
    n = len(data[0].split()) if data and data[0] else 0
    c.logout()
else:
    c = poplib.POP3_SSL("127.0.0.1", int(port), context=ctx, timeout=20)
    c.user(user); c.pass_(pw)
    for i in range(1, len(c.list()[1]) + 1):
        if needle.encode() in b"\n".join(c.retr(i)[1]): n += 1
    c.quit()
print(n)
PY
count() { /usr/bin/python3 "$T/mbox.py" "$@" 2>"$T/mbox.err" || echo "error: $(tail -1 "$T/mbox.err")"; }
wait_count() {  # wait_count WANT PROTO PORT USER PASS NEEDLE
    local want=$1 got i
    shift
    for i in $(seq 1 60); do
        got=$(count "$@")
        [[ $got == "$want" ]] && break
        sleep 0.5
    done
    echo "$got"
}

# --- 1. submission with STARTTLS + AUTH, read back over IMAPS and POP3S ----------
tag="walkthrough-$$-$RANDOM"
check_status "submission: STARTTLS + AUTH PLAIN, mail to self" 0 \
    swaks --server 127.0.0.1:$SUBMISSION --tls --auth PLAIN --auth-user "$USER_ADDR" \
    --auth-password "$PW" --from "$USER_ADDR" --to "$USER_ADDR" --body "$tag"
check_eq "found over IMAPS" "$(wait_count 1 imaps $IMAPS "$USER_ADDR" "$PW" "$tag")" "1"
check_eq "found over POP3S" "$(count pop3s $POP3S "$USER_ADDR" "$PW" "$tag")" "1"
check_status "submission refuses AUTH without TLS" 0 \
    bash -c "swaks --server 127.0.0.1:$SUBMISSION --auth PLAIN --auth-user '$USER_ADDR' --auth-password '$PW' --from '$USER_ADDR' --to '$USER_ADDR' 2>&1 | grep -q 'Host did not advertise authentication\|530'"
check_status "SMTPS: implicit TLS + AUTH LOGIN" 0 \
    swaks --server 127.0.0.1:$SMTPS --tlsc --auth LOGIN --auth-user "$USER_ADDR" \
    --auth-password "$PW" --from "$USER_ADDR" --to "$USER_ADDR" --body "$tag-smtps"
check_status "wrong password refused" 0 \
    bash -c "swaks --server 127.0.0.1:$SUBMISSION --tls --auth PLAIN --auth-user '$USER_ADDR' --auth-password wrong --from '$USER_ADDR' --to '$USER_ADDR' 2>&1 | grep -q '535'"

# --- 2. a second domain and user, live --------------------------------------------
check_status "yubinctl domain add second.example" 0 ctl domain add second.example
check_status "yubinctl user add jiro@second.example" 0 ctl user add jiro@second.example --password-stdin <<<"jiro-pw"
check_status "mail to the new user accepted at once (no postmap, no reload)" 0 \
    swaks --server 127.0.0.1:$SMTP --from someone@outside.example --to jiro@second.example --body "$tag-jiro"
check_eq "the new user reads it over IMAPS" "$(wait_count 1 imaps $IMAPS jiro@second.example jiro-pw "$tag-jiro")" "1"
check_status "unknown user in the new domain refused at RCPT" 0 \
    bash -c "swaks --server 127.0.0.1:$SMTP --from someone@outside.example --to nobody@second.example 2>&1 | grep -q '^<\*\* 550 5.1.1'"

# --- 3. relays refused ----------------------------------------------------------
relay_ok=0
relay_total=0
for rcpt in 'victim@relay.example' 'victim%relay.example@second.example' 'relay.example!victim@second.example' \
    '@second.example:victim@relay.example' '"victim@relay.example"@second.example' 'victim@relay.example.' \
    'victim@[127.0.0.1]' '"victim%relay.example"@second.example'; do
    relay_total=$((relay_total + 1))
    swaks --server 127.0.0.1:$SMTP --from spammer@outside.example --to "$rcpt" --quit-after RCPT >"$T/relay.out" 2>&1
    if grep -q '^<\*\* 5' "$T/relay.out"; then relay_ok=$((relay_ok + 1)); else echo "# relayed: $rcpt"; fi
done
check_eq "relay attempts refused" "$relay_ok/$relay_total" "$relay_total/$relay_total"
check_status "authenticated user may relay (control)" 0 \
    bash -c "swaks --server 127.0.0.1:$SUBMISSION --tls --auth PLAIN --auth-user '$USER_ADDR' --auth-password '$PW' --from '$USER_ADDR' --to friend@relay.example --quit-after RCPT 2>&1 | grep -q '^<[-~]  250 2.1.5'"

# --- 4. size limit --------------------------------------------------------------
head -c $((11 * 1024 * 1024)) /dev/zero | tr '\0' 'x' | fold -w 76 >"$T/big.txt"
swaks --server 127.0.0.1:$SMTP --from someone@outside.example --to "$USER_ADDR" --body "$T/big.txt" >"$T/big.out" 2>&1
check_contains "11 MB message refused with 552" "552" "$T/big.out"

# --- 5. 未承諾広告 in four charsets and both encodings ------------------------------------
for subj in '=?ISO-2022-JP?B?GyRCTCQ+NUJ6OS05cCIoGyhC?=' '=?Shift_JIS?B?lqKPs5H4jUyNkIGm?=' \
    '=?UTF-8?B?5pyq5om/6Ku+5bqD5ZGK4oC7?=' '=?UTF-8?Q?=E6=9C=AA=E6=89=BF=E8=AB=BE=E5=BA=83=E5=91=8A?=' \
    '=?EUC-JP?B?zKS+tcL6ua258KKopcaluaXIwfe/rg==?='; do
    swaks --server 127.0.0.1:$SMTP --from ad@outside.example --to "$USER_ADDR" \
        --header "Subject: $subj sale" >"$T/ad.out" 2>&1
    check_contains "未承諾広告 rejected ($subj)" "550 5.7.1" "$T/ad.out"
done
swaks --server 127.0.0.1:$SMTP --from friend@outside.example --to "$USER_ADDR" \
    --header "Subject: =?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=" --body "$tag-legit" >"$T/legit.out" 2>&1
check_contains "ordinary Japanese mail accepted" "250 2.0.0 Ok: queued" "$T/legit.out"
check_eq "ordinary Japanese mail delivered" "$(wait_count 1 imaps $IMAPS "$USER_ADDR" "$PW" "$tag-legit")" "1"

# (no DNS here: the demo leaves out reject_unknown_recipient_domain)
# --- 6. restart every yubin daemon under load: each accepted message exactly once --
maildir=$DEMO/vmail/second.example/jiro/Maildir
before=$(find "$maildir/new" "$maildir/cur" -type f | wc -l)
sent_before=$(grep -c 'status=sent' "$PFLOG" || true)
smtp-source -c -m 300 -s 4 -l 2048 -f load@outside.example -t jiro@second.example 127.0.0.1:$SMTP \
    >"$T/load.out" 2>&1 &
loadpid=$!
restart() {
    local name=$1 pid
    pid=$(cat "$DEMO/run/$name.pid")
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    case $name in
        yubin-lda) "$YUBIN_BIN/yubin-lda" -c "$CF" --lmtp -L >>"$DEMO/log/$name.log" 2>&1 & ;;
        *) "$YUBIN_BIN/$name" -c "$CF" -f >>"$DEMO/log/$name.log" 2>&1 & ;;
    esac
    echo $! >"$DEMO/run/$name.pid"
}
sleep 1
for d in yubin-milter yubin-authd yubin-policyd yubin-lda; do
    restart $d
    sleep 1
done
wait $loadpid || true
postfix -c "$DEMO/postfix/etc" flush >/dev/null 2>&1 || true
for _ in $(seq 1 120); do
    q=$(find "$DEMO/postfix/queue/incoming" "$DEMO/postfix/queue/active" "$DEMO/postfix/queue/deferred" -type f | wc -l)
    [[ $q -eq 0 ]] && break
    sleep 1
    (( _ % 10 == 0 )) && postqueue -c "$DEMO/postfix/etc" -f >/dev/null 2>&1
done
check_eq "queue drained after the restarts" "$q" "0"
accepted=$(grep -E 'postfix/qmgr.*from=<load@outside.example>' "$PFLOG" | awk '{print $6}' | sort -u | wc -l)
delivered_ids=$(grep -E 'postfix/lmtp.*to=<jiro@second.example>.*status=sent' "$PFLOG" | awk '{print $6}' | sort | uniq -c | awk '$1 > 1' | wc -l)
after=$(find "$maildir/new" "$maildir/cur" -type f | wc -l)
echo "# load: $accepted messages accepted by Postfix; $((after - before)) new files in the Maildir"
if (( accepted > 0 )); then ok "messages were accepted under load ($accepted)"; else not_ok "no message accepted under load"; fi
check_eq "every accepted message delivered exactly once" "$((after - before))" "$accepted"
check_eq "no queue id delivered twice" "$delivered_ids" "0"
for d in yubin-milter yubin-authd yubin-policyd yubin-lda; do
    kill -0 "$(cat "$DEMO/run/$d.pid")" 2>/dev/null && ok "$d running after restart" || not_ok "$d not running after restart"
done

check_status "scripts/demo stop" 0 "$YUBIN_SRC/scripts/demo" stop
sleep 1
if pgrep -f "$DEMO" >/dev/null; then not_ok "processes left after stop: $(pgrep -af "$DEMO" | head -3)"; else ok "nothing left running"; fi
finish
