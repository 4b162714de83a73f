#!/usr/bin/env bash
# Every part reads the LDAP store with no other change than "store = ldap:":
# yubin-lda in LMTP mode accepts a directory user at RCPT and delivers, and
# refuses an unknown one; yubin-checkpassword checks a directory password and
# hands Dovecot the userdb fields; yubin-milter knows the directory's domains
# (local recipients yes, relay no) and applies a domain's max message size
# from the directory at RCPT; yubin-policyd's sender/login check answers from
# the directory (its mailboxes and aliases). Then slapd stops: each part
# gives a temporary failure (LMTP 451, checkpassword 111, milter 451,
# DEFER_IF_PERMIT), never "unknown" or a rejection. Ports 26420-26421.
# Needs root.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/slapd.sh"
: "${YUBIN_BIN:?}"
here=$(cd "$(dirname "$0")" && pwd)

SL=$T/slapd
cleanup_hooks+=("slapd_stop '$SL'")
slapd_setup "$SL" 26420 && slapd_start "$SL" || { not_ok "slapd"; finish; exit 1; }
chmod 0644 "$SL/bind.pw"  # the parts run as nobody; a test directory
mkdir -p "$T/vmail" "$T/run"
chown nobody:nogroup "$T/vmail"
chmod 0755 "$T/run"

# No cache: every lookup below goes to slapd, so the outage shows at once.
cat >"$T/yubin.cf" <<CF
store = ldap:$T/yubin.cf
store_ldap_uri = ldap://127.0.0.1:26420/
store_ldap_base_dn = $SLAPD_BASE_DN
store_ldap_bind_dn = $SLAPD_BIND_DN
store_ldap_bind_pw_file = $SL/bind.pw
store_ldap_timeout = 2s
store_ldap_cache_ttl = 0
store_ldap_negative_cache_ttl = 0
password_scheme = SHA512-CRYPT
virtual_mailbox_base = $T/vmail
milter_listen = unix:$T/run/milter
milter_user = nobody
milter_filter = no
lda_lmtp_listen = unix:$T/run/lmtp
lda_lmtp_user = nobody
lda_filter = no
policyd_listen = inet:127.0.0.1:26421
policyd_user = nobody
policyd_quota_mode = off
CF
chmod 0644 "$T/yubin.cf"
ctl=("$YUBIN_BIN/yubinctl" -c "$T/yubin.cf")
"${ctl[@]}" domain add example.jp --max-message-size 20M >/dev/null &&
    "${ctl[@]}" user add taro@example.jp --password-stdin <<<'taro-pw' >/dev/null &&
    "${ctl[@]}" user add hanako@example.jp --password-stdin <<<'hanako-pw' >/dev/null &&
    "${ctl[@]}" alias add info@example.jp taro@example.jp >/dev/null &&
    ok "directory loaded with yubinctl" || { not_ok "yubinctl"; finish; exit 1; }

# --- yubin-lda (LMTP; pipe mode on LDAP is tests/integration/lda/ldap_test.sh) ---
"$YUBIN_BIN/yubin-lda" -c "$T/yubin.cf" --lmtp -L 2>"$T/lda.log" &
lda_pid=$!
cleanup_hooks+=("kill $lda_pid 2>/dev/null; wait $lda_pid 2>/dev/null")
for i in $(seq 1 50); do [[ -S $T/run/lmtp ]] && break; sleep 0.1; done
# lmtp RCPT...: one transaction; prints each RCPT's reply, then DATA's per
# accepted recipient.
lmtp() {
    /usr/bin/python3 - "$T/run/lmtp" "$@" <<'PY'
import smtplib, sys
c = smtplib.LMTP(sys.argv[1], timeout=20)
c.ehlo("client.example.net")
c.mail("a@remote.example")
ok = []
for r in sys.argv[2:]:
    code, text = c.rcpt(r)
    print("RCPT", r, code, text.decode().split(" ")[0])
    if code == 250: ok.append(r)
if ok:
    c.putcmd("data")
    code, _ = c.getreply()
    if code == 354:
        c.send(b"From: a@remote.example\r\nSubject: ldap lmtp\r\n\r\nhello\r\n.\r\n")
        for r in ok:
            code, text = c.getreply()
            print("DATA", r, code, text.decode().split(" ")[0])
c.close()
PY
}
lmtp taro+news@example.jp nobody@example.jp >"$T/l.out" 2>&1
check_contains "lda: LMTP RCPT of an LDAP user (extension too): 250" "RCPT taro+news@example.jp 250" "$T/l.out"
check_contains "lda: LMTP RCPT of an unknown user: 550 5.1.1" "RCPT nobody@example.jp 550 5.1.1" "$T/l.out"
check_contains "lda: LMTP delivery: 250" "DATA taro+news@example.jp 250" "$T/l.out"
f=$(ls "$T/vmail/example.jp/taro/Maildir/new/" 2>/dev/null | head -1)
[[ -n $f ]] && grep -q 'Subject: ldap lmtp' "$T/vmail/example.jp/taro/Maildir/new/$f" \
    && ok "lda: the message is in the Maildir the directory names" || not_ok "lda: nothing in taro's Maildir"

# --- yubin-checkpassword (Dovecot's checkpassword protocol on fd 3) -------------
cpw() {  # USER PASS: exit status of yubin-checkpassword, its reply program prints $HOME
    printf '%s\0%s\0\0' "$1" "$2" >"$T/cpw.in"
    "$YUBIN_BIN/yubin-checkpassword" -c "$T/yubin.cf" -f --no-rehash /bin/sh -c 'echo "home=$HOME"' \
        3<"$T/cpw.in"
}
check_status "checkpassword: an LDAP user's password" 0 cpw taro@example.jp taro-pw
check_contains "checkpassword: the userdb home from the directory" "home=$T/vmail/example.jp/taro" "$T/out"
check_status "checkpassword: a wrong password is 1" 1 cpw taro@example.jp wrong
check_status "checkpassword: an unknown user is 1" 1 cpw nobody@example.jp x

# --- yubin-milter -----------------------------------------------------------
"$YUBIN_BIN/yubin-milter" -c "$T/yubin.cf" -f 2>"$T/milter.log" &
milter_pid=$!
"$YUBIN_BIN/yubin-policyd" -c "$T/yubin.cf" -f 2>"$T/policyd.log" &
policyd_pid=$!
cleanup_hooks+=("kill $milter_pid $policyd_pid 2>/dev/null; wait $milter_pid $policyd_pid 2>/dev/null")
for i in $(seq 1 50); do
    [[ -S $T/run/milter ]] && (exec 3<>/dev/tcp/127.0.0.1/26421) 2>/dev/null && break
    sleep 0.1
done

# milter SIZE RCPT...: MAIL with SIZE=, prints each RCPT's reply on a line.
milter() {
    /usr/bin/python3 - "$T/run/milter" "$here/../milter" "$@" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from milter_client import Milter
m = Milter(sys.argv[1])
m.connect()
m.send(b"M", b"<a@remote.example>\0SIZE=" + sys.argv[3].encode() + b"\0")
mail = m.reply()
print("MAIL", mail)
for r in sys.argv[4:] if mail == "continue" else []:  # Postfix stops after a refused MAIL
    m.send(b"R", r.encode() + b"\0")
    print(r, m.reply())
PY
}
milter 1000 '<taro@example.jp>' '<victim@relay.example.net>' '<nobody@example.jp>' >"$T/m.out" 2>&1
check_contains "milter: a recipient in an LDAP domain is accepted" "<taro@example.jp> continue" "$T/m.out"
check_contains "milter: a foreign recipient is relay-refused" "<victim@relay.example.net> 554 5.7.1" "$T/m.out"
milter 30000000 '<taro@example.jp>' >"$T/m.out" 2>&1
check_contains "milter: SIZE over the LDAP domain's 20M limit: 552 5.3.4 at RCPT" "<taro@example.jp> 552 5.3.4" "$T/m.out"
"${ctl[@]}" domain set example.jp --max-message-size 40M >/dev/null
milter 30000000 '<taro@example.jp>' >"$T/m.out" 2>&1
check_contains "milter: the domain's new 40M limit is read from the directory" "<taro@example.jp> continue" "$T/m.out"

# --- yubin-policyd: sender/login ---------------------------------------------
# policy SASL_USER SENDER: prints the action Postfix would get.
policy() {
    /usr/bin/python3 - 26421 "$1" "$2" <<'PY'
import socket, sys
port, user, sender = sys.argv[1:]
s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
req = ("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
       "client_address=198.51.100.7\nclient_name=client.example.net\nhelo_name=client\n"
       f"sender={sender}\nrecipient=someone@remote.example\nsasl_method=PLAIN\n"
       f"sasl_username={user}\ninstance=1.2.3\n\n")
s.sendall(req.encode())
data = b""
while not data.endswith(b"\n\n"):
    chunk = s.recv(4096)
    if not chunk: break
    data += chunk
print(data.decode().strip())
PY
}
check_eq "policyd: own address (LDAP mailbox, extension)" "$(policy taro@example.jp taro+x@example.jp)" "action=DUNNO"
check_eq "policyd: an LDAP alias of the login" "$(policy taro@example.jp info@example.jp)" "action=DUNNO"
out=$(policy hanako@example.jp taro@example.jp)
[[ $out == "action=553 5.7.1 "*"not owned by user hanako@example.jp" ]] \
    && ok "policyd: someone else's LDAP address is refused (553 5.7.1)" || not_ok "policyd: got '$out'"
out=$(policy hanako@example.jp info@example.jp)
[[ $out == "action=553 5.7.1 "* ]] && ok "policyd: an LDAP alias of another user is refused" \
    || not_ok "policyd: alias of another: '$out'"

# --- the directory goes away: temporary failures everywhere -------------------
slapd_stop "$SL"
lmtp taro@example.jp nobody@example.jp >"$T/l.out" 2>&1
check_contains "outage: LMTP RCPT of a user is 451 (Postfix defers)" "RCPT taro@example.jp 451" "$T/l.out"
check_contains "outage: LMTP RCPT of an unknown user is 451 too, not 550" "RCPT nobody@example.jp 451" "$T/l.out"
milter 1000 '<taro@example.jp>' '<victim@relay.example.net>' >"$T/m.out" 2>&1
check_contains "outage: milter answers 451 4.3.0" " 451 4.3.0" "$T/m.out"
grep -q ' 5[0-9][0-9] ' "$T/m.out" && not_ok "outage: a permanent milter reply: $(cat "$T/m.out")" \
    || ok "outage: no permanent milter reply"
check_status "outage: checkpassword is 111 (Dovecot: [UNAVAILABLE]), not 1" 111 cpw taro@example.jp taro-pw
out=$(policy hanako@example.jp taro@example.jp)
[[ $out == "action=DEFER_IF_PERMIT 4.3.0"* ]] && ok "outage: policyd DEFER_IF_PERMIT, not a rejection" \
    || not_ok "outage: policyd said '$out'"
slapd_start "$SL" || not_ok "slapd restart"
healed=no
for i in $(seq 1 30); do
    [[ $(policy hanako@example.jp taro@example.jp) == "action=553 5.7.1 "* ]] && { healed=yes; break; }
    sleep 0.2
done
check_eq "policyd heals when the directory returns" "$healed" "yes"
milter 1000 '<taro@example.jp>' >"$T/m.out" 2>&1
check_contains "milter heals" "<taro@example.jp> continue" "$T/m.out"
lmtp taro@example.jp >"$T/l.out" 2>&1
check_contains "lda heals" "DATA taro@example.jp 250" "$T/l.out"
if grep -q 'yubin-secret\|taro-pw' "$T/milter.log" "$T/policyd.log" "$T/lda.log"; then not_ok "a password in a log"; else
    ok "no password in the logs"; fi
finish
