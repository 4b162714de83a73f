#!/usr/bin/env bash
# The README's socket layout behind a Postfix whose services run chrooted as
# in Debian's default master.cf (chroot column "y" for smtpd, cleanup,
# trivial-rewrite, lmtp, ...): every yubin socket lives inside the queue
# directory, the chroot. A chrooted smtpd reaches yubin-milter by
# `unix:yubin/milter` and yubin-policyd by `unix:private/yubin-policy`
# (names relative to the chroot), a chrooted cleanup reaches the milter for
# sendmail(1) mail (non_smtpd_milters), the chrooted lmtp client delivers to
# yubin-lda at `lmtp:unix:private/yubin-lmtp`, and the recipient tables come
# from yubin-authd through `proxy:socketmap:` (proxymap is not chrooted).
# The other integration tests turn chroot off; this one keeps it on.
# Ports 29025 (smtpd). Needs root.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/postfix.sh"
: "${YUBIN_BIN:?}"

PORT=29025
PF=$T/postfix
Q=$PF/queue
ctl() { "$YUBIN_BIN/yubinctl" -c "$T/yubin.cf" "$@"; }

if (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then not_ok "port $PORT already in use"; finish; exit 1; fi

postfix_setup "$PF" "$PORT"
# Debian's chroot column (/usr/share/postfix/master.cf.dist): "y" for every
# service but qmgr, proxymap, proxywrite, local, virtual and postlog.
awk 'BEGIN { split("qmgr proxymap proxywrite local virtual postlog", a); for (i in a) keep[a[i]] = 1 }
     /^#/ || NF < 8 { print; next }
     { if (!($1 in keep)) $5 = "y"; print }' "$PF/etc/master.cf" >"$PF/etc/master.cf.new" &&
    mv "$PF/etc/master.cf.new" "$PF/etc/master.cf"
check_eq "master.cf chroots 19 services, as Debian's does" \
    "$(awk '!/^#/ && $5 == "y"' "$PF/etc/master.cf" | wc -l)" "19"
# What Debian's postfix init script copies into the chroot.
mkdir -p "$Q/etc"
for f in localtime services resolv.conf hosts nsswitch.conf host.conf; do
    [[ -e /etc/$f ]] && cp -L "/etc/$f" "$Q/etc/$f"
done
# Postfix creates private/ at start; the daemons below create their sockets in
# it before, so make it as postfix-script would.
mkdir -p "$Q/private" "$Q/yubin" "$T/db" "$T/vmail"
chown postfix "$Q/private" "$Q/yubin"
chmod 0700 "$Q/private"
chmod 0750 "$Q/yubin"
chown nobody:nogroup "$T/vmail"

cat >"$T/yubin.cf" <<CF
store = sqlite:$T/db/yubin.db
virtual_mailbox_base = $T/vmail
authd_socketmap_listen = unix:$Q/private/yubin-authd
authd_user = nobody
authd_socket_group = postfix
milter_listen = unix:$Q/yubin/milter
milter_user = nobody
milter_trusted_networks =
milter_socket_group = postfix
policyd_listen = unix:$Q/private/yubin-policy
policyd_user = nobody
policyd_socket_group = postfix
lda_lmtp_listen = unix:$Q/private/yubin-lmtp
lda_lmtp_user = nobody
CF
chmod 0644 "$T/yubin.cf"
ctl domain add example.jp >/dev/null &&
    ctl user add taro@example.jp --password-stdin <<<'taro-pw' >/dev/null &&
    ctl user add hanako@example.jp --no-password --quota 1000 >/dev/null &&
    ctl alias add info@example.jp taro@example.jp >/dev/null &&
    ok "store: example.jp with taro, hanako (quota 1000 bytes) and info -> taro" ||
    { not_ok "yubinctl"; finish; exit 1; }
chown -R nobody:nogroup "$T/db"
mkdir -p "$T/vmail/example.jp/hanako/Maildir"
printf '1000S\n1500 3\n' >"$T/vmail/example.jp/hanako/Maildir/maildirsize"
chown -R nobody:nogroup "$T/vmail"

pids=()
start() {  # start NAME SOCKET COMMAND...: run a daemon in the foreground, wait for its socket
    local name=$1 sock=$2 i
    shift 2
    "$@" 2>"$T/$name.log" &
    pids+=($!)
    cleanup_hooks+=("kill $! 2>/dev/null; wait $! 2>/dev/null")
    for i in $(seq 1 100); do [[ -S $sock ]] && return 0; sleep 0.1; done
    echo "# $name did not create $sock"; sed 's/^/#   /' "$T/$name.log" | tail -5
    return 1
}
start authd "$Q/private/yubin-authd" "$YUBIN_BIN/yubin-authd" -c "$T/yubin.cf" -f &&
    start milter "$Q/yubin/milter" "$YUBIN_BIN/yubin-milter" -c "$T/yubin.cf" -f &&
    start policyd "$Q/private/yubin-policy" "$YUBIN_BIN/yubin-policyd" -c "$T/yubin.cf" -f &&
    start lda "$Q/private/yubin-lmtp" "$YUBIN_BIN/yubin-lda" -c "$T/yubin.cf" --lmtp -L &&
    ok "authd, milter, policyd and the LMTP server listen inside the queue directory" ||
    { not_ok "a yubin daemon did not start"; finish; exit 1; }

SM="socketmap:unix:$Q/private/yubin-authd"
# An open relay by Postfix's own rules: only the milter stands in the way.
postfix_conf "$PF" \
    "mynetworks = 0.0.0.0/0" \
    "virtual_mailbox_domains = proxy:$SM:domain" \
    "virtual_mailbox_maps = proxy:$SM:mailbox" \
    "virtual_alias_maps = proxy:$SM:alias" \
    "virtual_transport = lmtp:unix:private/yubin-lmtp" \
    "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination" \
    "smtpd_milters = unix:yubin/milter" \
    "non_smtpd_milters = unix:yubin/milter" \
    "milter_default_action = tempfail" \
    "milter_protocol = 6"
# With permit_mynetworks first (and every client is in mynetworks here) no
# restriction after it would run: the policy service goes before it.
postfix_conf "$PF" \
    "smtpd_recipient_restrictions = check_policy_service unix:private/yubin-policy, permit_mynetworks, reject_unauth_destination"
if postfix_start "$PF"; then ok "Postfix starts with its services chrooted"; else
    not_ok "postfix start"; finish; exit 1; fi

# Is smtpd really chrooted? Open a session and look at its root directory.
exec 5<>/dev/tcp/127.0.0.1/$PORT
read -r -t 10 banner <&5
smtpd_root=
for pid in $(pgrep -x smtpd); do
    r=$(readlink "/proc/$pid/root")
    [[ $r == "$Q" ]] && smtpd_root=$r
done
printf 'QUIT\r\n' >&5
exec 5>&-
check_eq "the smtpd serving the test runs with its root in the queue directory" "$smtpd_root" "$Q"
[[ $banner == 220* ]] && ok "smtpd answers: ${banner%$'\r'}" || not_ok "banner: $banner"

check_eq "proxymap answers the mailbox map from authd (postmap -q proxy:socketmap)" \
    "$(postmap -c "$PF/etc" -q taro@example.jp "proxy:$SM:mailbox" 2>&1)" "example.jp/taro/Maildir/"

smtp() {  # smtp FROM TO [SUBJECT]: one transaction; prints the last reply code + status
    /usr/bin/python3 - "$PORT" "$@" <<'PY'
import smtplib, sys
from email.header import Header
port, frm, to = sys.argv[1:4]
subject = sys.argv[4] if len(sys.argv) > 4 else "chroot test"
msg = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
       "Content-Type: text/plain; charset=UTF-8\r\n\r\nhello from %s\r\n") % (
    frm, to, Header(subject, "iso-2022-jp").encode(), to)
try:
    c = smtplib.SMTP("127.0.0.1", int(port), timeout=30)
    c.ehlo("client.example.net")
    c.sendmail(frm, [to], msg.encode())
    c.quit()
    print("250")
except smtplib.SMTPRecipientsRefused as e:
    code, text = list(e.recipients.values())[0]
    print(code, text.decode().split(" ")[0])
except smtplib.SMTPDataError as e:
    print(e.smtp_code, e.smtp_error.decode().split(" ")[0])
except smtplib.SMTPResponseException as e:
    print(e.smtp_code, e.smtp_error.decode().split(" ")[0])
PY
}
delivered() {  # delivered USER NEEDLE: messages in USER's new/ containing NEEDLE, after waiting
    local dir=$T/vmail/example.jp/$1/Maildir/new i n=0
    for i in $(seq 1 100); do
        n=$(grep -lF -- "$2" "$dir"/* 2>/dev/null | wc -l)
        [[ $n -gt 0 ]] && break
        sleep 0.1
    done
    echo "$n"
}

check_eq "mail to a store user is accepted by the chrooted smtpd" \
    "$(smtp a@remote.example taro@example.jp)" "250"
check_eq "... and the chrooted lmtp client delivers it through yubin-lda" \
    "$(delivered taro 'hello from taro@example.jp')" "1"
check_eq "an alias resolves through proxymap and is delivered to its target" \
    "$(smtp a@remote.example info@example.jp; delivered taro 'hello from info@example.jp')" "250
1"
check_eq "an unknown user is refused at RCPT (proxymap -> authd)" \
    "$(smtp a@remote.example nobody@example.jp)" "550 5.1.1"
check_eq "a relay through this open Postfix is refused by the milter" \
    "$(smtp a@remote.example victim@elsewhere.example)" "554 5.7.1"
check_eq "a relay to an IP literal is refused by the milter" \
    "$(smtp a@remote.example 'victim@[192.0.2.1]')" "554 5.7.1"
check_eq "a mailbox over quota is refused at RCPT by yubin-policyd" \
    "$(smtp a@remote.example hanako@example.jp)" "552 5.2.2"
check_eq "未承諾広告 (ISO-2022-JP) is refused at end of data by the milter's filter" \
    "$(smtp a@remote.example taro@example.jp '未承諾広告※ 今だけ')" "550 5.7.1"

# sendmail(1): postdrop -> pickup -> cleanup, both chrooted; cleanup reaches
# the milter by the same relative name, and the milter removes a forged
# X-Yubin-Spam field (logged with the queue id).
printf 'From: root@mail.example.test\nTo: taro@example.jp\nX-Yubin-Spam: yes\nSubject: local submission\n\nhello via sendmail\n' |
    sendmail -C "$PF/etc" -f root@mail.example.test taro@example.jp
check_eq "sendmail(1) mail passes the chrooted pickup and cleanup and is delivered" \
    "$(delivered taro 'hello via sendmail')" "1"
f=$(grep -lF 'hello via sendmail' "$T/vmail/example.jp/taro/Maildir/new"/* 2>/dev/null | head -1)
if [[ -n $f ]] && ! grep -qi '^X-Yubin-Spam' "$f" &&
    grep -q '[0-9A-F]\{6,\}: warning: removed 1 forged X-Yubin-Spam' "$T/milter.log"; then
    ok "cleanup reached the milter: the forged X-Yubin-Spam field is gone, logged with the queue id"
else
    not_ok "cleanup and the milter"
    sed 's/^/#   milter: /' "$T/milter.log" | tail -5
    grep -i milter "$PF/log/postfix.log" | sed 's/^/#   /' | tail -5
fi
check_eq "Postfix logged no warning about a yubin socket" \
    "$(grep -cE 'warning: .*(yubin|private/yubin)' "$PF/log/postfix.log")" "0"
finish
