#!/bin/bash
# yubin-lda under faults: a Maildir on a tiny tmpfs that fills up (exit 75,
# Postfix keeps the message and delivers it once space is freed), and kill -9
# at random moments during deliveries (never a partial file in new/).
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/postfix.sh"
source "$(dirname "$0")/lib.sh"
LDA_PORT=23225

# 1. disk full behind a real Postfix
PF=$T/postfix
mkdir -p "$T/db" "$T/vmail"
if ! mount -t tmpfs -o size=512k,mode=0755,uid="$(id -u $LDA_VUSER)" yubin-lda-test "$T/vmail"; then
    not_ok "cannot mount a tmpfs"; finish; exit 1
fi
cleanup_hooks+=("umount '$T/vmail'")
cat >"$T/yubin.cf" <<CF
store = sqlite:$T/db/yubin.db
virtual_mailbox_base = $T/vmail
CF
"$BIN/yubinctl" -c "$T/yubin.cf" domain add example.test >/dev/null || { not_ok "yubinctl"; finish; exit 1; }
"$BIN/yubinctl" -c "$T/yubin.cf" user add taro@example.test --no-password >/dev/null
chmod 0755 "$T/db"; chmod 0644 "$T/db/"*
postfix_setup "$PF" "$LDA_PORT"
postfix_conf "$PF" \
    "virtual_mailbox_domains = example.test" \
    "virtual_mailbox_maps = texthash:$T/vmailbox" \
    "virtual_transport = yubin" \
    "yubin_destination_recipient_limit = 1"
echo "taro@example.test OK" >"$T/vmailbox"
postfix_service "$PF" "yubin unix - n n - - pipe
  flags=DRhu user=$LDA_VUSER argv=$BIN/yubin-lda -c $T/yubin.cf -f \${sender} -d \${recipient} -q \${queue_id}"
postfix_start "$PF" || { not_ok "postfix start"; finish; exit 1; }

md=$T/vmail/example.test/taro/Maildir
mkdir -p "$md"/{cur,new,tmp}
chown -R "$LDA_VUSER" "$T/vmail"
# Fill the filesystem, as the mailbox user would.
setpriv --reuid="$LDA_VUSER" --regid=nogroup --clear-groups dd if=/dev/zero of="$T/vmail/filler" bs=4k 2>/dev/null
{
    printf 'From: a@sender.example\r\nTo: t@example.net\r\nSubject: disk full\r\n'
    printf 'Date: Sun, 29 Nov 2026 10:00:00 +0000\r\nMessage-ID: <full1@sender.example>\r\n\r\n'
    head -c 60000 /dev/urandom | base64 | sed 's/$/\r/'
} >"$T/m1"
lda_send a@sender.example taro@example.test "$T/m1"
if lda_wait_log "status=deferred"; then
    check_contains "disk full: deferred with the reason" "No space left on device" "$(postfix_log "$PF")"
    check_eq "disk full: message still queued" "$(postfix_queue_count "$PF")" "1"
    check_eq "disk full: nothing in new/" "$(ls "$md/new" | wc -l)" "0"
    check_eq "disk full: nothing left in tmp/" "$(ls "$md/tmp" | wc -l)" "0"
else
    not_ok "disk full: not deferred"; tail -5 "$(postfix_log "$PF")" | sed 's/^/#   /'
fi
rm -f "$T/vmail/filler"
postfix_flush "$PF"
if postfix_wait_queue_empty "$PF" 60 && f=$(lda_wait_file "$md/new/*" 10); then
    ok "disk full: delivered once space was freed"
    check_status "disk full: the late delivery is byte-identical" 0 lda_same_message "$T/m1" "$f"
else
    not_ok "disk full: not delivered after space was freed"
fi

# 2. kill -9 at random moments: every file in new/ is whole
home=$T/killhome
mkdir -p "$home"; chown "$LDA_VUSER" "$home"
{ printf 'Subject: kill test\n\n'; head -c 1500000 /dev/urandom | base64; } >"$T/big"
runs=${LDA_KILL_RUNS:-300}
ok_runs=0
for i in $(seq 1 "$runs"); do
    setpriv --reuid="$LDA_VUSER" --regid=nogroup --clear-groups \
        env HOME="$home" USER=x RECIPIENT=x@example.test SENDER=s@example.org \
        "$BIN/yubin-lda" -c "$T/yubin.cf" <"$T/big" >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf "0.%03d" $((RANDOM % 200)))"
    kill -9 "$pid" 2>/dev/null
    if wait "$pid"; then ok_runs=$((ok_runs + 1)); fi
done 2>/dev/null  # the shell's "Killed" notices
in_new=$(ls "$home/Maildir/new" | wc -l)
bad=0
expected=$( { printf 'Return-Path: <s@example.org>\nDelivered-To: x@example.test\n'; cat "$T/big"; } | sha256sum | cut -d' ' -f1)
for f in "$home/Maildir/new/"*; do
    [[ -f $f ]] || continue
    [[ $(sha256sum <"$f" | cut -d' ' -f1) == "$expected" ]] || bad=$((bad + 1))
done
echo "# kill -9: $runs runs, $ok_runs completed, $in_new files in new/, $(ls "$home/Maildir/tmp" | wc -l) left in tmp/"
check_eq "kill -9: no partial or corrupt file in new/" "$bad" "0"
if (( in_new >= ok_runs && ok_runs > 0 && ok_runs < runs )); then
    ok "kill -9: every acknowledged delivery is in new/ (and some runs were killed)"
else
    not_ok "kill -9: $ok_runs acknowledged, $in_new in new/ (want some killed, none lost)"
fi
finish
