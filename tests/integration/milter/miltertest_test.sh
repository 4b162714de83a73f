#!/usr/bin/env bash
# yubin-milter driven by miltertest (no Postfix): negotiation, relay
# decisions, forged headers, reset on ABORT, the 未承諾広告 rule, hostile
# input (1 MB header, 100,000 fields, broken encodings, a 50 MB body,
# malformed packets), 100 concurrent sessions, bounded memory, SIGHUP
# changing what new connections negotiate.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/milter.sh"
here=$(cd "$(dirname "$0")" && pwd)
export MILTER_SOCKET="unix:$MILTER_SOCK" MT_LIB="$here/lua/common.lua"

milter_config "milter_trusted_networks = 192.0.2.0/24"
ctl domain add example.jp --max-message-size 20M >/dev/null
ctl user add taro@example.jp --no-password >/dev/null
milter_start || { not_ok "yubin-milter starts"; milter_log_tail; finish; exit 1; }
pid=$milter_pid

mt() {  # DESCRIPTION SCRIPT [ENV=VALUE...]
    local desc=$1 script=$2
    shift 2
    check_status "$desc" 0 env "$@" miltertest -s "$here/lua/$script"
}
mt "negotiation: only the stages used" negotiate.lua WANT_BODY=yes
mt "relay decisions, AUTH and trusted networks" relay.lua
mt "forged headers, reset on ABORT, 未承諾広告" headers.lua
# miltertest crashes on header values over ~60 KB: a protocol-level client
# sends the big ones.
start=$(date +%s)
/usr/bin/python3 "$here/milter_client.py" "unix:$MILTER_SOCK" hostile >"$T/hostile.out" 2>&1
echo "# hostile messages took $(($(date +%s) - start)) s"
check_contains "1 MB field and 100,000 fields: the ad is still found" \
    "1 MB field + 100,000 fields + ad: 550 5.7.1" "$T/hostile.out"
check_contains "a field over the 1 MB packet limit: session closed (Postfix tempfails)" \
    "2 MB field (over the packet limit): closed" "$T/hostile.out"
check_contains "broken encodings: an answer" "broken encodings: continue" "$T/hostile.out"
check_contains "50 MB body over the domain's 20 MB limit: 552 5.3.4" \
    "50 MB body: 552 5.3.4" "$T/hostile.out"
check_contains "the connection goes on after them" "next message on the same connection: continue" \
    "$T/hostile.out"

/usr/bin/python3 "$here/raw_client.py" "unix:$MILTER_SOCK" >"$T/raw.out" 2>&1
check_contains "malformed packets sent" "EOM with nothing before" "$T/raw.out"
kill -0 $pid 2>/dev/null && ok "milter survives malformed packets" || not_ok "milter died on malformed packets"
mt "still answering after malformed packets" relay.lua

# 100 concurrent sessions
start=$(date +%s%N)
for i in $(seq 1 100); do
    env miltertest -s "$here/lua/relay.lua" >"$T/c$i.out" 2>&1 &
done
fails=0
for job in $(jobs -p); do
    [[ $job == "$pid" ]] && continue
    wait "$job" || fails=$((fails + 1))
done
ms=$((($(date +%s%N) - start) / 1000000))
check_eq "100 concurrent sessions all pass" "$fails" 0
echo "# 100 concurrent sessions took $ms ms"
kill -0 $pid 2>/dev/null && ok "milter alive after 100 sessions" || not_ok "milter alive after 100 sessions"

hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo "# peak resident memory: $((hwm / 1024)) MB"
if [[ $hwm -lt 262144 ]]; then ok "peak memory bounded (${hwm} kB < 256 MB)"; else not_ok "peak memory ${hwm} kB"; fi
grep -q 'internal error' "$T/milter.log" && not_ok "no internal errors logged" || ok "no internal errors logged"

# SIGHUP: new connections negotiate with the new configuration
echo "milter_count_body = no" >>"$T/yubin.cf"
kill -HUP $pid
sleep 0.5
mt "after SIGHUP the body is negotiated away" negotiate.lua WANT_BODY=no
check_contains "reload logged" "reloaded" "$T/milter.log"

# inet: listening (port 24100), the same decisions
sed 's|^milter_listen = .*|milter_listen = inet:127.0.0.1:24100|' "$T/yubin.cf" >"$T/inet.cf"
"$YUBIN_BIN/yubin-milter" -c "$T/inet.cf" -f 2>"$T/inet.log" &
inet_pid=$!
cleanup_hooks+=("kill $inet_pid 2>/dev/null")
check_status "inet:127.0.0.1:24100 serves the same decisions" 0 \
    env MILTER_SOCKET=inet:24100@127.0.0.1 miltertest -s "$here/lua/relay.lua"
kill -TERM $inet_pid
wait $inet_pid
check_eq "inet milter stops cleanly" "$?" 0
finish
