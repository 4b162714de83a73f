#!/usr/bin/env bash
# bench/milter: Postfix throughput with and without a milter, side by side.
#
#   smtp-source (8 sessions) -> Postfix smtpd -> queue -> smtp -> smtp-sink
#
# One Postfix with three smtpd services that differ only in smtpd_milters,
# so switching configuration needs no reload:
#   none    port 24525, no milter
#   yubin   port 24527, yubin-milter with every check: relay decision with
#           store lookups per recipient (no trusted networks), size limits
#           counted over the body, the default 未承諾広告 rule on the Subject
#   python  port 24528, a trivial python3-milter that only reads the Subject
# A round sends MESSAGES messages of SIZE bytes through each service, in an
# order that rotates from round to round, timed from the first connection
# until smtp-source has handed over the last message (the milter works
# during that phase; the queue is drained untimed before the next run). A
# run counts only if every message was delivered to smtp-sink. Short rounds,
# many of them, and a ratio per round (each milter against "none" of the
# same round) keep a change in machine load from favouring one side; the
# summary is the median ratio with its spread (quartiles, min-max).
# CPU time per message of each milter process (user+sys over the whole
# benchmark, libmilter's and Python's threads included) and the peak
# resident memory (VmHWM) do not depend on the machine's load. Neither does
# the CPU time Postfix spends per message in each configuration (smtpd,
# cleanup and the rest: queue manager, smtp client, rewriting; from the
# start of a run until its queue is drained, Postfix's processes kept alive
# by max_use/max_idle so that none takes its times away when it exits): on
# a machine busy enough for wall time to mean little, "CPU ratio" (Postfix
# alone / Postfix + milter, per message) is the throughput a CPU-bound
# server keeps.
#
# Usage (root): YUBIN_BIN=build-rel/bin bench/milter/run.sh [MESSAGES] [ROUNDS] [SIZE] [PER_SESSION]
# PER_SESSION "many": each session sends its messages over one connection
# (smtp-source -d), which leaves out the cost of connecting and negotiating;
# default "one": one message per connection, as most of an MX's mail comes.
# Ports 24525-24528. Run it in scripts/isolated.
set -u
: "${YUBIN_BIN:?set YUBIN_BIN to the directory holding yubin-milter and yubinctl}"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../tests/integration/lib/tap.sh"
source "$here/../../tests/integration/lib/postfix.sh"
MESSAGES=${1:-400}
ROUNDS=${2:-12}
SIZE=${3:-4096}
PER_SESSION=${4:-one}
reuse=()
[[ $PER_SESSION == many ]] && reuse=(-d)
SINK=24526
declare -A PORT=([none]=24525 [yubin]=24527 [python]=24528)
CONFIGS=(none yubin python)

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

postfix_setup "$T/pf" "${PORT[none]}"
postfix_conf "$T/pf" "mynetworks = 127.0.0.0/8" "relay_domains = example.jp" \
    "relayhost = [127.0.0.1]:$SINK" "milter_default_action = tempfail" \
    "default_destination_concurrency_limit = 20" "smtpd_milters =" \
    "max_use = 1000000" "max_idle = 3600"
for c in yubin python; do
    postfix_service "$T/pf" "127.0.0.1:${PORT[$c]} inet n - n - - smtpd -o smtpd_milters=unix:$T/$c.sock"
done
postfix_start "$T/pf" || exit 1
master_pid=$(tr -d ' ' <"$T/pf/queue/pid/master.pid")

# pf_ticks: CPU ticks so far of Postfix's "smtpd cleanup other" processes
# (a child that exited is in the master's cutime+cstime: other).
pf_ticks() {
    local p
    {
        awk '{print "master", $14 + $15 + $16 + $17}' "/proc/$master_pid/stat"
        for p in $(pgrep -P "$master_pid"); do
            awk '{gsub(/[()]/, "", $2); print $2, $14 + $15}' "/proc/$p/stat" 2>/dev/null
        done
    } | awk '{n = ($1 == "smtpd" || $1 == "cleanup") ? $1 : "other"; t[n] += $2}
             END {printf "%d %d %d\n", t["smtpd"], t["cleanup"], t["other"]}'
}

run() {  # CONFIG -> messages/s (0 if a message was lost)
    local start end before after
    before=$(grep -c ' status=sent' "$T/pf/log/postfix.log")
    start=$(date +%s%N)
    smtp-source "${reuse[@]}" -s 8 -m "$MESSAGES" -l "$SIZE" -f sender@client.example.net -t taro@example.jp \
        127.0.0.1:"${PORT[$1]}" >"$T/source.out" 2>&1
    end=$(date +%s%N)
    postfix_wait_queue_empty "$T/pf" 600
    sleep 0.3
    after=$(grep -c ' status=sent' "$T/pf/log/postfix.log")
    if [[ $((after - before)) -ne $MESSAGES ]]; then
        echo "run $1: only $((after - before)) of $MESSAGES delivered:" >&2
        sed 's/^/  /' "$T/source.out" | head -5 >&2
        echo 0
        return
    fi
    echo "$MESSAGES $start $end" | awk '{printf "%.1f", $1 / (($3 - $2) / 1e9)}'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# stats: numbers on stdin -> "median q1 q3 min max"
stats() {
    sort -g | awk '{a[NR] = $1}
        function q(p,   i) { i = 1 + p * (NR - 1); return a[int(i)] + (i - int(i)) * (a[int(i) + 1] - a[int(i)]) }
        END {printf "%.3f %.3f %.3f %.3f %.3f\n", q(0.5), q(0.25), q(0.75), a[1], a[NR]}'
}

# One unmeasured message through each service first: smtpd processes,
# milter connections and the store are warm for every configuration alike.
for c in "${CONFIGS[@]}"; do
    smtp-source -m 8 -s 8 -f sender@client.example.net -t taro@example.jp 127.0.0.1:"${PORT[$c]}" \
        >/dev/null 2>&1
done
postfix_wait_queue_empty "$T/pf" 60

declare -A rate ratio pf_smtpd pf_cleanup pf_other
ticks_yubin=0
ticks_python=0
for c in "${CONFIGS[@]}"; do pf_smtpd[$c]=0 pf_cleanup[$c]=0 pf_other[$c]=0; done
hz=$(getconf CLK_TCK)
for r in $(seq 1 "$ROUNDS"); do
    shift_by=$(((r - 1) % 3))
    order=("${CONFIGS[@]:shift_by}" "${CONFIGS[@]:0:shift_by}")
    declare -A v=()
    for c in "${order[@]}"; do
        [[ $c == yubin ]] && t0=$(cpu_ticks $yubin_pid)
        [[ $c == python ]] && t0=$(cpu_ticks $python_pid)
        read -r s0 c0 o0 < <(pf_ticks)
        v[$c]=$(run "$c")
        read -r s1 c1 o1 < <(pf_ticks)
        pf_smtpd[$c]=$((pf_smtpd[$c] + s1 - s0))
        pf_cleanup[$c]=$((pf_cleanup[$c] + c1 - c0))
        pf_other[$c]=$((pf_other[$c] + o1 - o0))
        [[ $c == yubin ]] && ticks_yubin=$((ticks_yubin + $(cpu_ticks $yubin_pid) - t0))
        [[ $c == python ]] && ticks_python=$((ticks_python + $(cpu_ticks $python_pid) - t0))
        rate[$c]+="${v[$c]} "
    done
    line="round $r:"
    for c in "${CONFIGS[@]}"; do line+=" $c ${v[$c]}"; done
    for c in yubin python; do
        x=$(awk -v a="${v[$c]}" -v b="${v[none]}" 'BEGIN {if (b > 0) printf "%.3f", a / b; else print "nan"}')
        [[ $x != nan ]] && ratio[$c]+="$x "
        line+="  $c/none $x"
    done
    echo "$line msg/s"
done

echo
echo "$MESSAGES x $SIZE-byte messages per run, 8 sessions, messages per connection: $PER_SESSION," \
    "$ROUNDS interleaved rounds"
printf '%-7s %28s   %s\n' "" "msg/s median [q1-q3] min-max" "ratio to none per round: median [q1-q3] min-max"
for c in "${CONFIGS[@]}"; do
    read -r m q1 q3 lo hi < <(echo ${rate[$c]} | tr ' ' '\n' | stats)
    line=$(printf '%-7s %6.0f [%4.0f-%4.0f] %4.0f-%-4.0f' "$c" "$m" "$q1" "$q3" "$lo" "$hi")
    if [[ $c != none ]]; then
        read -r m q1 q3 lo hi < <(echo ${ratio[$c]} | tr ' ' '\n' | stats)
        line+=$(printf '        %.2f [%.2f-%.2f] %.2f-%.2f' "$m" "$q1" "$q3" "$lo" "$hi")
    fi
    echo "$line"
done
total=$((MESSAGES * ROUNDS))
echo
echo "CPU ms per message (user+sys, $total messages per configuration):"
printf '%-7s %7s %7s %7s %7s %7s %7s   %s\n' "" smtpd cleanup other postfix milter total "CPU ratio"
none_total=$(((pf_smtpd[none] + pf_cleanup[none] + pf_other[none])))
for c in "${CONFIGS[@]}"; do
    m=0
    [[ $c != none ]] && { t=ticks_$c; m=${!t}; }
    awk -v c="$c" -v s="${pf_smtpd[$c]}" -v cl="${pf_cleanup[$c]}" -v o="${pf_other[$c]}" -v m="$m" \
        -v base="$none_total" -v hz="$hz" -v n="$total" 'BEGIN {
            f = 1000 / hz / n; p = s + cl + o
            printf "%-7s %7.3f %7.3f %7.3f %7.3f %7.3f %7.3f   %.2f\n", c, s * f, cl * f, o * f, p * f,
                m * f, (p + m) * f, base / (p + m)}'
done
echo "yubin-milter peak memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$yubin_pid/status)"
echo "python milter peak memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$python_pid/status)"
rejected=$(grep -c 'reject\|defer\|error' "$T/yubin.log" || true)
echo "yubin-milter refusals, deferrals or errors during the run: $rejected (want 0)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
