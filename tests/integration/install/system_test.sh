#!/usr/bin/env bash
# contrib/install on the real paths (no --destdir): getent, useradd, chown by
# name, /usr/lib/dovecot/modules/auth. It runs in a private mount namespace
# with overlays over /usr, /etc and /var whose upper layers are a tmpfs, so
# nothing reaches the real system. Then the layout is used as a server uses
# it: yubinctl (root) creates the store, yubin-lda as vmail delivers a message
# from it, yubin-authd as yubin answers a socketmap lookup from it.
source "$(dirname "$0")/../lib/tap.sh"
: "${YUBIN_BIN:?}" "${YUBIN_SRC:?}" "${YUBIN_BUILD:?}"

if [[ -z ${YUBIN_INSTALL_NS:-} ]]; then
    # Re-run inside the namespace; the tap counters come back in its output.
    unshare --mount --propagation private env YUBIN_INSTALL_NS="$T" bash "$0" "$@"
    exit $?
fi
layers=$T/layers
mkdir -p "$layers"
mount -t tmpfs tmpfs "$layers"
cleanup_hooks+=("umount /usr /etc /var 2>/dev/null; umount '$layers'")
for d in usr etc var; do
    mkdir -p "$layers/$d/upper" "$layers/$d/work"
    mount -t overlay overlay -o "lowerdir=/$d,upperdir=$layers/$d/upper,workdir=$layers/$d/work" "/$d"
done
# Start from a system without yubin: an earlier real install must not hide
# what this one creates.
if getent passwd yubin >/dev/null || getent passwd vmail >/dev/null; then
    for u in vmail yubin; do userdel "$u" 2>/dev/null || true; groupdel "$u" 2>/dev/null || true; done
fi
rm -rf /usr/lib/yubin /etc/yubin /var/lib/yubin /var/spool/vmail
# As scripts/install-deps leaves a machine: policy-rc.d, no main.cf.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
rm -f /etc/postfix/main.cf

check_status "contrib/install on / (inside the namespace)" 0 "$YUBIN_SRC/contrib/install" --build "$YUBIN_BUILD"
check_contains "added user vmail" "added user vmail" "$T/out"
check_contains "warns about install-deps' policy-rc.d" "remove it on a server" "$T/out"
check_contains "says there is no main.cf" "/etc/postfix/main.cf does not exist" "$T/out"
check_contains "no store yet: nothing to upgrade" "nothing to upgrade" "$T/out"
check_status "getent sees yubin" 0 getent passwd yubin
check_eq "vmail is uid 5000" "$(id -u vmail 2>&1)" "5000"
if id -nG vmail | tr ' ' '\n' | grep -qx yubin; then ok "vmail in group yubin"; else not_ok "vmail groups: $(id -nG vmail)"; fi
check_eq "/var/lib/yubin 2750 root:yubin" "$(stat -c '%a %U:%G' /var/lib/yubin)" "2750 root:yubin"
check_eq "/var/spool/vmail 0750 vmail:vmail" "$(stat -c '%a %U:%G' /var/spool/vmail)" "750 vmail:vmail"
check_eq "/etc/yubin/yubin.cf 0640 root:yubin" "$(stat -c '%a %U:%G' /etc/yubin/yubin.cf)" "640 root:yubin"
check_eq "Dovecot module in /usr/lib/dovecot/modules/auth" \
    "$(stat -c '%a' /usr/lib/dovecot/modules/auth/libauthdb_yubin.so 2>&1)" "644"
check_status "second run" 0 "$YUBIN_SRC/contrib/install" --build "$YUBIN_BUILD"
if grep -q 'added' "$T/out"; then not_ok "second run added something"; else ok "second run adds nothing"; fi

# --- the layout in use -------------------------------------------------------
check_status "yubinctl domain add (root)" 0 /usr/sbin/yubinctl domain add example.com
check_status "yubinctl user add (root)" 0 /usr/sbin/yubinctl user add taro@example.com --password-stdin <<<"pw-taro"
check_eq "store is root:yubin 0640 (setgid directory)" "$(stat -c '%a %U:%G' /var/lib/yubin/yubin.db)" "640 root:yubin"
check_status "install over a store (an upgrade)" 0 "$YUBIN_SRC/contrib/install" --build "$YUBIN_BUILD"
check_contains "it brings the store's schema up to date" "schema is current" "$T/out"
check_eq "store still root:yubin 0640" "$(stat -c '%a %U:%G' /var/lib/yubin/yubin.db)" "640 root:yubin"
printf 'From: a@example.org\nTo: taro@example.com\nSubject: hello\n\nbody\n' >"$T/msg"
check_status "yubin-lda as vmail delivers from the store" 0 \
    setpriv --reuid=vmail --regid=vmail --init-groups /usr/lib/yubin/yubin-lda -L \
    -f a@example.org -d taro@example.com <"$T/msg"
check_eq "message in taro's Maildir" "$(ls /var/spool/vmail/example.com/taro/Maildir/new 2>/dev/null | wc -l)" "1"

mkdir -p "$T/pf" && : >"$T/pf/main.cf"   # postmap wants a main.cf; Debian's may not exist
{ cat /etc/yubin/yubin.cf; echo "authd_socketmap_listen = unix:$T/authd.sock"; } >"$T/authd.cf"
/usr/lib/yubin/yubin-authd -c "$T/authd.cf" -f 2>"$T/authd.log" &
authd_pid=$!
cleanup_hooks+=("kill $authd_pid 2>/dev/null; wait $authd_pid 2>/dev/null")
for _ in $(seq 50); do [[ -S $T/authd.sock ]] && break; sleep 0.1; done
check_eq "yubin-authd runs as yubin" "$(ps -o user= -p "$authd_pid" 2>&1 | tr -d ' ')" "yubin"
check_eq "yubin-authd (user yubin) reads the store" \
    "$(postmap -c "$T/pf" -q taro@example.com "socketmap:unix:$T/authd.sock:mailbox" 2>&1)" "example.com/taro/Maildir/"
kill "$authd_pid"

# yubin-policyd drops to vmail (policyd_user) and checks sender/login against the store.
{ cat /etc/yubin/yubin.cf; echo "policyd_listen = unix:$T/policy.sock"; } >"$T/policyd.cf"
/usr/lib/yubin/yubin-policyd -c "$T/policyd.cf" -f 2>"$T/policyd.log" &
policyd_pid=$!
cleanup_hooks+=("kill $policyd_pid 2>/dev/null; wait $policyd_pid 2>/dev/null")
for _ in $(seq 50); do [[ -S $T/policy.sock ]] && break; sleep 0.1; done
check_eq "yubin-policyd runs as vmail" "$(ps -o user= -p "$policyd_pid" 2>&1 | tr -d ' ')" "vmail"
policy() {  # SENDER -> the action line
    /usr/bin/python3 - "$T/policy.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\nsasl_username=taro@example.com\n"
           "sender=%s\nrecipient=x@example.org\nclient_address=192.0.2.1\n\n" % sys.argv[2]).encode())
print(s.recv(4096).decode().split("\n")[0])
PY
}
check_eq "policyd (as vmail) lets taro send as taro" "$(policy taro@example.com 2>&1)" "action=DUNNO"
got=$(policy jiro@example.com 2>&1)
if [[ $got == action=REJECT* || $got == action=553* ]]; then ok "policyd (as vmail) read the store: another sender refused ($got)"
else not_ok "policyd for a foreign sender: $got"; sed 's/^/#   /' "$T/policyd.log" | tail -5; fi
kill "$policyd_pid"

# yubin-milter drops to milter_user = yubin, as contrib/install configured it.
{ cat /etc/yubin/yubin.cf; echo "milter_listen = unix:$T/milter.sock"; } >"$T/milter.cf"
/usr/lib/yubin/yubin-milter -c "$T/milter.cf" -f 2>"$T/milter.log" &
milter_pid=$!
cleanup_hooks+=("kill $milter_pid 2>/dev/null; wait $milter_pid 2>/dev/null")
for _ in $(seq 50); do [[ -S $T/milter.sock ]] && break; sleep 0.1; done
sleep 0.3
check_eq "yubin-milter runs as yubin" "$(ps -o user= -p "$milter_pid" 2>&1 | tr -d ' ')" "yubin"
kill "$milter_pid"

finish
