#!/usr/bin/env bash
# Hostile and broken clients on both of yubin-authd's sockets: over-long
# netstrings, garbage, half requests, slow clients, 500 idle connections, a
# saslauthd field over its bound. Meanwhile Postfix's own client (postmap)
# and Cyrus's (testsaslauthd) keep getting right answers, and the daemon stays
# up. Needs root (authd drops to nobody).
source "$(dirname "$0")/../lib/tap.sh"
: "${YUBIN_BIN:?}"

SM=$T/authd/socketmap
MUX=$T/authd/mux
ctl=("$YUBIN_BIN/yubinctl" -c "$T/yubin.cf")
mkdir -p "$T/db" "$T/authd" "$T/pf"
chmod 0755 "$T/authd"
printf 'compatibility_level = 3.6\n' >"$T/pf/main.cf"
cat >"$T/yubin.cf" <<CF
store = sqlite:$T/db/yubin.db
password_scheme = SHA512-CRYPT
authd_socketmap_listen = unix:$SM
authd_saslauthd_listen = unix:$MUX
authd_user = nobody
authd_request_timeout = 2s
authd_idle_timeout = 4s
authd_max_connections = 800
authd_socketmap_max_request = 1000
CF
"${ctl[@]}" domain add example.com >/dev/null
"${ctl[@]}" user add taro@example.com --password-stdin <<<'taro-pw' >/dev/null
chown -R nobody:nogroup "$T/db"

"$YUBIN_BIN/yubin-authd" -c "$T/yubin.cf" -f 2>"$T/authd.log" &
authd_pid=$!
cleanup_hooks+=("kill $authd_pid 2>/dev/null; wait $authd_pid 2>/dev/null")
for i in $(seq 1 50); do [[ -S $SM && -S $MUX ]] && break; sleep 0.1; done
[[ -S $SM ]] && ok "authd is up" || { not_ok "authd did not start"; cat "$T/authd.log"; finish; exit 1; }

valid_lookup() { postmap -c "$T/pf" -q taro@example.com "socketmap:unix:$SM:mailbox" 2>&1; }
valid_auth() { testsaslauthd -u taro@example.com -p taro-pw -s smtp -f "$MUX" 2>&1; }

cat >"$T/abuse.py" <<'PY'
# Opens the hostile connections, reports how the server treated each kind.
import os, socket, sys, time, threading, json
sm, mux = sys.argv[1], sys.argv[2]

def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s

def read_all(s, timeout):
    s.settimeout(timeout)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return out, True  # closed by the server
            out += b
    except socket.timeout:
        return out, False
    except OSError:
        return out, True

def counted(b):
    return len(b).to_bytes(2, "big") + b

result = {}
# 500 idle socketmap connections and 50 saslauthd ones, held open.
idle = [conn(sm) for _ in range(500)]
idle_sasl = [conn(mux) for _ in range(50)]
result["idle_opened"] = len(idle) + len(idle_sasl)

# Over-long netstring: declared length above the bound, then data.
s = conn(sm); s.sendall(b"100000:" + b"x" * 5000)
out, closed = read_all(s, 5); result["overlong"] = [out.decode(errors="replace"), closed]
# A length that does not even fit: 30 digits.
s = conn(sm); s.sendall(b"9" * 30)
out, closed = read_all(s, 5); result["huge_length"] = [out.decode(errors="replace"), closed]
# Garbage.
s = conn(sm); s.sendall(os.urandom(4096).replace(b"0", b"a"))
out, closed = read_all(s, 5); result["garbage"] = [out.decode(errors="replace")[:40], closed]
# Binary in the key, then a valid request on the same connection.
def ns(b):
    return b"%d:%s," % (len(b), b)
s = conn(sm); s.sendall(ns(b"mailbox \x00\xff\r\n\x01"))
s.sendall(ns(b"mailbox taro@example.com"))
out, closed = read_all(s, 1); result["binary_key"] = [out.decode(errors="replace"), closed]
# Half request: never completed, must be closed after request_timeout (2s).
t0 = time.time(); s = conn(sm); s.sendall(b"24:mailbox taro")
out, closed = read_all(s, 8); result["half"] = [out.decode(errors="replace"), closed, round(time.time() - t0, 1)]
# Slow client: one byte every 0.5 s; cut at request_timeout although it keeps sending.
t0 = time.time(); s = conn(sm); s.setblocking(False); closed = False
for b in b"24:mailbox taro@example.com,":
    try:
        s.send(bytes([b]))
        if s.recv(1) == b"":
            closed = True; break
    except BlockingIOError:
        pass
    except OSError:
        closed = True; break
    time.sleep(0.5)
result["slow"] = [closed, round(time.time() - t0, 1)]
# saslauthd: a field over the bound, garbage, a half request.
s = conn(mux); s.sendall(counted(b"taro@example.com") + b"\xff\xff" + b"p" * 3000)
out, closed = read_all(s, 5); result["sasl_overlong"] = [len(out), closed]
s = conn(mux); s.sendall(os.urandom(8192))
out, closed = read_all(s, 5); result["sasl_garbage"] = [len(out), closed]
t0 = time.time(); s = conn(mux); s.sendall(counted(b"taro@example.com") + b"\x00\x10pa")
out, closed = read_all(s, 8); result["sasl_half"] = [len(out), closed, round(time.time() - t0, 1)]
# The idle ones are closed after idle_timeout (4 s).
time.sleep(3)
closed_idle = sum(1 for c in idle if read_all(c, 0.01)[1])
result["idle_closed"] = closed_idle
print(json.dumps(result))
PY

/usr/bin/python3 "$T/abuse.py" "$SM" "$MUX" >"$T/abuse.json" 2>"$T/abuse.err" &
abuse_pid=$!
# Valid requests keep being answered while the abuse runs.
good=0 bad=0
t_end=$((SECONDS + 12))
while kill -0 "$abuse_pid" 2>/dev/null && ((SECONDS < t_end)); do
    [[ $(valid_lookup) == "example.com/taro/Maildir/" ]] && good=$((good + 1)) || bad=$((bad + 1))
    [[ $(valid_auth) == *'OK "Success."'* ]] && good=$((good + 1)) || bad=$((bad + 1))
    sleep 0.2
done
wait "$abuse_pid"
check_eq "python abuse script ran" "$?" "0"
((good >= 10 && bad == 0)) && ok "valid requests answered during the abuse ($good good, $bad bad)" \
    || not_ok "valid requests during the abuse: $good good, $bad bad"

j() { /usr/bin/python3 -c "import json,sys; print(json.load(open('$T/abuse.json'))$1)" 2>/dev/null; }
sed 's/^/# /' "$T/abuse.json" "$T/abuse.err"
check_eq "550 idle connections were accepted" "$(j "['idle_opened']")" "550"
check_eq "over-long netstring: PERM then close" "$(j "['overlong']")" "['23:PERM netstring too long,', True]"
check_eq "30-digit length: PERM then close" "$(j "['huge_length']")" "['41:PERM netstring length has too many digits,', True]"
[[ $(j "['garbage'][1]") == True ]] && ok "garbage: connection closed" || not_ok "garbage: $(j "['garbage']")"
check_eq "binary key: NOTFOUND, then the next request answered" "$(j "['binary_key'][0]")" \
    "9:NOTFOUND ,28:OK example.com/taro/Maildir/,"
half=$(j "['half']")
[[ $half == "['', True, "[23].* ]] && ok "half request closed after request_timeout ($half)" || not_ok "half request: $half"
slow=$(j "['slow']")
[[ $slow == "[True, "[2-4].* ]] && ok "slow client cut at about request_timeout ($slow)" || not_ok "slow client: $slow"
check_eq "saslauthd field over the bound: closed without answer" "$(j "['sasl_overlong']")" "[0, True]"
[[ $(j "['sasl_garbage'][1]") == True ]] && ok "saslauthd garbage: closed" || not_ok "saslauthd garbage: $(j "['sasl_garbage']")"
sh=$(j "['sasl_half']")
[[ $sh == "[0, True, "[23].* ]] && ok "saslauthd half request closed after request_timeout ($sh)" || not_ok "saslauthd half: $sh"
check_eq "idle connections closed after idle_timeout" "$(j "['idle_closed']")" "500"

kill -0 "$authd_pid" 2>/dev/null && ok "authd still running" || not_ok "authd died"
check_eq "still answering afterwards" "$(valid_lookup)" "example.com/taro/Maildir/"
check_contains "over-long request logged" "netstring too long: closing the connection" "$T/authd.log"
if grep -q 'taro-pw' "$T/authd.log"; then not_ok "password in the log"; else ok "no password in the log"; fi
finish
