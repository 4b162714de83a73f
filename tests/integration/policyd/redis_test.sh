#!/bin/bash
# Two yubin-policyd instances (two "MX hosts") sharing their rate-limit and
# greylist state in a real redis-server started here: a limit counted on one
# is enforced on the other; a Redis outage answers policyd_state_failure_action
# (DUNNO) and is logged once, not per request; after Redis returns, limits
# apply again.
source "$(dirname "$0")/../lib/tap.sh"
BIN=${YUBIN_BIN:?}
REDIS_PORT=22380
PORT_A=22032
PORT_B=22033
for p in $REDIS_PORT $PORT_A $PORT_B; do
    if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then not_ok "port $p already in use"; finish; exit 1; fi
done

start_redis() {
    redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" --appendonly no --dir "$T" \
        >>"$T/redis.log" 2>&1 &
    REDIS_PID=$!
    for i in $(seq 1 50); do
        (exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT) 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
start_redis || { not_ok "redis-server start"; finish; exit 1; }
cleanup_hooks+=('kill $REDIS_PID 2>/dev/null; wait $REDIS_PID 2>/dev/null')

mkdir -p "$T/store"
echo "store = sqlite:$T/store/yubin.db" >"$T/ctl.cf"
"$BIN/yubinctl" -c "$T/ctl.cf" domain add example.com >/dev/null
chown -R nobody "$T/store"
for host in A B; do
    port=PORT_$host
    cat >"$T/$host.cf" <<CF
store = sqlite:$T/store/yubin.db
policyd_listen = inet:127.0.0.1:${!port}
policyd_user = nobody
policyd_state = redis:127.0.0.1:$REDIS_PORT
policyd_rate_sasl_user = messages:3/1h
policyd_sender_login_mode = off
policyd_greylist_mode = enforce
policyd_greylist_delay = 1s
CF
    "$BIN/yubin-policyd" -c "$T/$host.cf" -f 2>"$T/$host.log" &
    eval "PID_$host=$!"
    cleanup_hooks+=("kill \$PID_$host 2>/dev/null; wait \$PID_$host 2>/dev/null")
done
for port in $PORT_A $PORT_B; do
    for i in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done

# ask PORT STATE SASL_USER [SENDER RECIPIENT CLIENT]: one request on a new connection; prints the action
ask() {
    /usr/bin/python3 - "$@" <<'PY'
import socket, sys
port, state, user = int(sys.argv[1]), sys.argv[2], sys.argv[3]
sender = sys.argv[4] if len(sys.argv) > 4 else user
rcpt = sys.argv[5] if len(sys.argv) > 5 else "x@example.org"
client = sys.argv[6] if len(sys.argv) > 6 else "192.0.2.1"
req = (f"request=smtpd_access_policy\nprotocol_state={state}\nprotocol_name=ESMTP\n"
       f"client_address={client}\nclient_name=c.example.net\nsasl_username={user}\n"
       f"sender={sender}\nrecipient={rcpt}\nrecipient_count=1\nsize=100\nqueue_id=ABC123\n\n")
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(req.encode())
buf = b""
while not buf.endswith(b"\n\n"):
    chunk = s.recv(4096)
    if not chunk: break
    buf += chunk
print(buf.decode().strip().removeprefix("action="))
PY
}

check_eq "host A: message 1 counted" "$(ask $PORT_A END-OF-MESSAGE taro@example.com)" "DUNNO"
check_eq "host B: message 2 counted" "$(ask $PORT_B END-OF-MESSAGE taro@example.com)" "DUNNO"
check_eq "host A: message 3 counted" "$(ask $PORT_A END-OF-MESSAGE taro@example.com)" "DUNNO"
got=$(ask $PORT_B END-OF-MESSAGE taro@example.com)
check_eq "host B: message 4 deferred by the shared count" "${got%% (*}" "DEFER_IF_PERMIT 4.7.1 Rate limit exceeded"
got=$(ask $PORT_A RCPT taro@example.com)
check_eq "host A: RCPT of message 5 deferred too" "${got%% (*}" "DEFER_IF_PERMIT 4.7.1 Rate limit exceeded"
check_eq "another user on host B is not limited" "$(ask $PORT_B END-OF-MESSAGE jiro@example.com)" "DUNNO"

got=$(ask $PORT_A RCPT "" stranger@example.net taro@example.com 198.51.100.9)
check_eq "greylisting on host A" "${got%% in*}" "DEFER_IF_PERMIT 4.7.1 Greylisted, try again"
sleep 1.2
check_eq "the retry passes on host B (shared triplet)" "$(ask $PORT_B RCPT "" stranger@example.net taro@example.com 198.51.100.9)" "DUNNO"

kill $REDIS_PID; wait $REDIS_PID 2>/dev/null
for i in 1 2 3 4 5; do
    check_eq "Redis down: request $i answered DUNNO (policyd_state_failure_action)" \
        "$(ask $PORT_A END-OF-MESSAGE taro@example.com)" "DUNNO"
done
check_eq "the outage is logged once, not per request" \
    "$(grep -c 'policy state unavailable' "$T/A.log")" "1"
start_redis || not_ok "redis-server restart"
sleep 1.2  # policyd reconnects at most once a second
for i in 1 2 3; do ask $PORT_A END-OF-MESSAGE hanako@example.com >/dev/null; done
got=$(ask $PORT_B END-OF-MESSAGE hanako@example.com)
check_eq "after Redis returns, shared limits apply again" "${got%% (*}" "DEFER_IF_PERMIT 4.7.1 Rate limit exceeded"
check_status "both daemons alive" 0 kill -0 $PID_A $PID_B
finish
