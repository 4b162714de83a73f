#!/usr/bin/env bash
# bench/milter: Postfix throughput with and without a milter, side by side.
#
#   smtp-source (8 sessions) -> Postfix smtpd -> queue -> smtp -> smtp-sink
#
# Three configurations, interleaved over ROUNDS rounds so that a change in
# machine load hits all of them alike:
#   none    Postfix without a milter
#   yubin   yubin-milter with every check: relay decision with a store
#           lookup per recipient (no trusted networks), size limits counted
#           over the body, the default 未承諾広告 rule on the Subject
#   python  a trivial python3-milter that only reads the Subject
# Each run sends MESSAGES messages of SIZE bytes and is timed from the first
# connection until smtp-source has handed over the last one (the milter works
# during that phase; delivery to smtp-sink does not involve it, and the queue
# is drained untimed before the next run). A run counts only if Postfix
# queued every message (log lines "queued as" / smtp-sink). Prints
# messages/s per run, the medians, the ratios to "none" and the peak resident
# memory and CPU time per message of each milter process over the whole
# benchmark (throughput on a shared machine is noisy; CPU time is not).
#
# Usage (root): YUBIN_BIN=build/bin bench/milter/run.sh [MESSAGES] [ROUNDS] [SIZE]
# Ports 24525 (smtpd) and 24526 (smtp-sink).
set -u
: "${YUBIN_BIN:?set YUBIN_BIN to the directory holding yubin-milter and yubinctl}"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../tests/integration/lib/tap.sh"
source "$here/../../tests/integration/lib/postfix.sh"
MESSAGES=${1:-2000}
ROUNDS=${2:-3}
SIZE=${3:-4096}
SMTP=24525
SINK=24526

cat >"$T/yubin.cf" <<CF
store = sqlite:$T/db/yubin.db
milter_listen = unix:$T/yubin.sock
milter_user = nobody
milter_trusted_networks =
CF
"$YUBIN_BIN/yubinctl" -c "$T/yubin.cf" domain add example.jp --max-message-size 10M >/dev/null
"$YUBIN_BIN/yubinctl" -c "$T/yubin.cf" user add taro@example.jp --no-password >/dev/null
chown -R nobody "$T/db"

"$YUBIN_BIN/yubin-milter" -c "$T/yubin.cf" -f 2>"$T/yubin.log" &
yubin_pid=$!
cleanup_hooks+=("kill $yubin_pid 2>/dev/null")
/usr/bin/python3 "$here/subject_milter.py" "unix:$T/python.sock" 2>"$T/python.log" &
python_pid=$!
cleanup_hooks+=("kill $python_pid 2>/dev/null")
smtp-sink -u postfix 127.0.0.1:$SINK 1000 &
sink_pid=$!
cleanup_hooks+=("kill $sink_pid 2>/dev/null")
for i in $(seq 1 50); do [[ -S "$T/yubin.sock" && -S "$T/python.sock" ]] && break; sleep 0.1; done
chmod 0666 "$T/python.sock"

postfix_setup "$T/pf" $SMTP
postfix_conf "$T/pf" "mynetworks = 127.0.0.0/8" "relay_domains = example.jp" \
    "relayhost = [127.0.0.1]:$SINK" "milter_default_action = tempfail" \
    "default_destination_concurrency_limit = 20" "smtpd_milters ="
postfix_start "$T/pf" || exit 1

run() {  # CONFIG -> messages/s
    local milter=""
    case $1 in
        yubin) milter="unix:$T/yubin.sock" ;;
        python) milter="unix:$T/python.sock" ;;
    esac
    postfix_conf "$T/pf" "smtpd_milters = $milter"
    postfix_reload "$T/pf"
    sleep 2
    local start end before after
    before=$(grep -c ' status=sent' "$T/pf/log/postfix.log")
    start=$(date +%s%N)
    smtp-source -s 8 -m "$MESSAGES" -l "$SIZE" -f sender@client.example.net -t taro@example.jp \
        127.0.0.1:$SMTP >"$T/source.out" 2>&1
    end=$(date +%s%N)
    postfix_wait_queue_empty "$T/pf" 600
    sleep 0.5
    after=$(grep -c ' status=sent' "$T/pf/log/postfix.log")
    if [[ $((after - before)) -ne $MESSAGES ]]; then
        echo "run $1: only $((after - before)) of $MESSAGES delivered:" >&2
        sed 's/^/  /' "$T/source.out" | head -5 >&2
        echo 0
        return
    fi
    echo "$MESSAGES $start $end" | awk '{printf "%.0f", $1 / (($3 - $2) / 1e9)}'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

declare -A results cpu
cpu[yubin]=0
cpu[python]=0
hz=$(getconf CLK_TCK)
for r in $(seq 1 "$ROUNDS"); do
    for c in none yubin python; do
        [[ $c == yubin ]] && before=$(cpu_ticks $yubin_pid)
        [[ $c == python ]] && before=$(cpu_ticks $python_pid)
        v=$(run $c)
        [[ $c == yubin ]] && cpu[yubin]=$((cpu[yubin] + $(cpu_ticks $yubin_pid) - before))
        [[ $c == python ]] && cpu[python]=$((cpu[python] + $(cpu_ticks $python_pid) - before))
        results[$c]+="$v "
        echo "round $r: $c $v msg/s"
    done
done
rejected=$(grep -c 'reject\|defer' "$T/yubin.log" || true)
none=$(echo ${results[none]} | tr ' ' '\n' | median)
echo
echo "messages per run: $MESSAGES x $SIZE bytes, 8 sessions, $ROUNDS rounds (medians)"
for c in none yubin python; do
    m=$(echo ${results[$c]} | tr ' ' '\n' | median)
    printf '%-7s %6s msg/s   ratio %s\n' "$c" "$m" "$(awk -v a="$m" -v b="$none" 'BEGIN {printf "%.2f", a / b}')"
done
# CPU per message is independent of what else runs on the machine.
for c in yubin python; do
    echo "$c milter CPU: $(awk -v t="${cpu[$c]}" -v hz="$hz" -v n=$((MESSAGES * ROUNDS)) \
        'BEGIN {printf "%.3f ms per message", t * 1000 / hz / n}')"
done
echo "yubin-milter peak memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$yubin_pid/status)"
echo "python milter peak memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$python_pid/status)"
echo "yubin-milter refusals or deferrals during the run: $rejected (want 0)"
