#!/bin/bash
# yubin-lda behind a real Postfix: mailbox_command for a local user, pipe(8)
# for a virtual domain; byte-identical delivery, folders, junk, quota,
# unknown user, and an unreadable store (deferred, then delivered).
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/postfix.sh"
source "$(dirname "$0")/lib.sh"
LDA_PORT=23025

if ! lda_setup; then not_ok "setup"; finish; exit 1; fi
ok "private Postfix with yubin-lda as mailbox_command and pipe transport"

msg() {  # msg FILE SUBJECT [BODYBYTES]: a message whose headers Postfix will not touch
    {
        printf 'From: Alice <alice@sender.example>\r\n'
        printf 'To: someone@example.net\r\n'
        printf 'Subject: %s\r\n' "$2"
        printf 'Date: Sun, 29 Nov 2026 10:00:00 +0000\r\n'
        printf 'Message-ID: <%s@sender.example>\r\n' "$RANDOM$RANDOM"
        printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n'
        printf 'Content-Transfer-Encoding: 8bit\r\n\r\n'
        printf 'Hello.\r\n.leading dot\r\nFrom the start of a line\r\n\xe6\x97\xa5\xe6\x9c\xac\r\n'
        head -c "${3:-0}" /dev/zero | tr '\0' 'x'
        printf '\r\n'
    } >"$1"
}

# 1. local user through mailbox_command
home=$T/home/$LDA_LOCAL_USER
msg "$T/m1" "local delivery"
lda_send alice@sender.example "$LDA_LOCAL_USER@local.example.test" "$T/m1"
if f=$(lda_wait_file "$home/Maildir/new/*"); then
    ok "mailbox_command: delivered into ~/Maildir/new"
    check_status "mailbox_command: byte-identical, Return-Path and Delivered-To once" 0 lda_same_message "$T/m1" "$f"
    check_eq "mailbox_command: file owned by the recipient" "$(stat -c %U "$f")" "$LDA_LOCAL_USER"
    check_eq "mailbox_command: file mode 0600" "$(stat -c %a "$f")" "600"
    check_eq "mailbox_command: name carries S=<size>" "${f##*,S=}" "$(stat -c %s "$f")"
else
    not_ok "mailbox_command: nothing delivered"; tail -5 "$(postfix_log "$PF")" | sed 's/^/#   /'
fi

# 2. user+folder into an existing folder
mkdir -p "$home/Maildir/.lists/"{cur,new,tmp}
chown -R "$LDA_LOCAL_USER" "$home/Maildir"
msg "$T/m2" "to a folder"
lda_send alice@sender.example "$LDA_LOCAL_USER+lists@local.example.test" "$T/m2"
if f=$(lda_wait_file "$home/Maildir/.lists/new/*"); then
    ok "mailbox_command: user+lists went into .lists"
else
    not_ok "mailbox_command: user+lists not in .lists"
fi


# 3. virtual user through pipe, Maildir created on first delivery
msg "$T/m3" "virtual delivery" 3000
lda_send alice@sender.example taro@example.test "$T/m3"
if f=$(lda_wait_file "$T/vmail/example.test/taro/Maildir/new/*"); then
    ok "pipe: Maildir created and message delivered"
    check_status "pipe: byte-identical, Return-Path and Delivered-To once" 0 lda_same_message "$T/m3" "$f"
    check_eq "pipe: file owned by the pipe user" "$(stat -c %U "$f")" "$LDA_VUSER"
    check_eq "pipe: no file left in tmp/" "$(ls "$T/vmail/example.test/taro/Maildir/tmp" | wc -l)" "0"
else
    not_ok "pipe: nothing delivered"; tail -5 "$(postfix_log "$PF")" | sed 's/^/#   /'
fi

# 4. 未承諾広告 in the Subject (shipped rule) -> .Junk, subscribed
{
    printf 'From: spam@sender.example\r\nTo: taro@example.net\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\n'
    printf 'Message-ID: <spam1@sender.example>\r\n'
    printf 'Subject: =?ISO-2022-JP?B?GyRCTCQ+NUJ6OS05cCIoGyhC?= sale\r\n\r\nbuy\r\n'
} >"$T/m4"
lda_send spam@sender.example taro@example.test "$T/m4"
if f=$(lda_wait_file "$T/vmail/example.test/taro/Maildir/.Junk/new/*"); then
    ok "pipe: 未承諾広告 filed into .Junk"
    check_contains "pipe: junk marked with the rule" "X-Yubin-Filter: junk; rule=jp-unsolicited-ad" "$f"
    check_contains "pipe: Junk subscribed" "Junk" "$T/vmail/example.test/taro/Maildir/subscriptions"
else
    not_ok "pipe: 未承諾広告 not in .Junk"
    qid=$(grep -F 'message-id=<spam1@' "$(postfix_log "$PF")" | head -1 | sed 's/.*: \([0-9A-F]*\): message-id.*/\1/')
    grep -F "$qid" "$(postfix_log "$PF")" | sed 's/^/#   /'
fi

# 5. unknown user (Postfix accepts it, the store does not know it): bounced 5.1.1
msg "$T/m5" "ghost"
lda_send alice@sender.example ghost@example.test "$T/m5"
if lda_wait_log "to=<ghost@example.test>"; then
    check_contains "pipe: unknown user bounced with 5.1.1" "dsn=5.1.1, status=bounced (user unknown" "$(postfix_log "$PF")"
else
    not_ok "pipe: no log line for the unknown user"
fi

# 6. over quota (2000 bytes): the first small one fits, a large one bounces 5.2.2
msg "$T/m6" "small"
lda_send alice@sender.example hana@example.test "$T/m6"
lda_wait_file "$T/vmail/example.test/hana/Maildir/new/*" >/dev/null
msg "$T/m7" "large" 3000
lda_send alice@sender.example hana@example.test "$T/m7"
if lda_wait_log "dsn=5.2.2"; then
    check_contains "pipe: over quota bounced with 5.2.2" "status=bounced (mailbox full: hana@example.test" "$(postfix_log "$PF")"
else
    not_ok "pipe: over quota not bounced"; grep 'hana' "$(postfix_log "$PF")" | tail -3 | sed 's/^/#   /'
fi
hana_md=$T/vmail/example.test/hana/Maildir
check_eq "pipe: maildirsize holds the limit and counts the one message" \
    "$(awk 'NR == 1 { l = $0 } NR > 1 { b += $1; c += $2 } END { print l, b, c }' "$hana_md/maildirsize")" \
    "2000S $(stat -c %s "$hana_md"/new/*) 1"

# 7. store unreadable: deferred (75), kept in the queue, delivered once readable
chmod 0600 "$T/db/yubin.db"
msg "$T/m8" "store outage"
lda_send alice@sender.example taro@example.test "$T/m8"
if lda_wait_log "status=deferred (user store unavailable"; then
    ok "pipe: unreadable store defers (exit 75)"
    check_eq "pipe: message still queued" "$(lda_queued_for taro@example.test)" "1"
else
    not_ok "pipe: unreadable store not deferred"; tail -3 "$(postfix_log "$PF")" | sed 's/^/#   /'
fi
chmod 0644 "$T/db/yubin.db"
postfix_flush "$PF"
if lda_wait_not_queued taro@example.test 60; then
    ok "pipe: delivered after the store came back"
    check_status "pipe: the deferred message arrived" 0 grep -rlq "store outage" "$T/vmail/example.test/taro/Maildir/new"
else
    not_ok "pipe: still queued after the store came back"
fi

# 8. Dovecot reads what yubin-lda wrote: the messages, the subscribed Junk
# folder, and the quota from maildirsize (same limit, so no recalculation).
source "$(dirname "$0")/../lib/dovecot.sh"
DV=$T/dovecot
dovecot_setup "$DV" 23143 "
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=$LDA_VUSER gid=nogroup home=$T/vmail/%d/%n
}
mail_plugins = quota
protocol imap {
  mail_plugins = quota imap_quota
}
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=2000B
}"
# Dovecot moves new/ to cur/ on SELECT: take the figures first.
hana_bytes=$(awk 'NR > 1 { b += $1 } END { print b }' "$hana_md/maildirsize")
hana_kb=$(( (hana_bytes + 1023) / 1024 ))
if dovecot_start "$DV"; then
    /usr/bin/python3 - "$T/imap.out" <<'PY'
import imaplib, sys
out = open(sys.argv[1], 'w')
for user in ('taro@example.test', 'hana@example.test'):
    m = imaplib.IMAP4('127.0.0.1', 23143)
    m.login(user, 'x')
    typ, data = m.select('INBOX')
    out.write(f"{user} INBOX {data[0].decode()}\n")
    typ, data = m.lsub('""', '*')
    out.write(f"{user} LSUB {' '.join(d.decode() for d in data if d)}\n")
    typ, data = m.getquotaroot('INBOX')
    out.write(f"{user} QUOTA {' '.join(str(x) for x in data)}\n")
    m.logout()
PY
    sed 's/^/# /' "$T/imap.out"
    check_contains "Dovecot: taro's INBOX holds the two INBOX deliveries" "taro@example.test INBOX 2" "$T/imap.out"
    check_contains "Dovecot: Junk is subscribed" '"." Junk' "$T/imap.out"
    check_contains "Dovecot: hana's quota as yubin-lda counted it" "(STORAGE $hana_kb 2)" "$T/imap.out"
else
    not_ok "dovecot start"
fi

finish
