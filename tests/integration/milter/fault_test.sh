#!/usr/bin/env bash
# An exception really thrown inside a libmilter callback, behind a real
# Postfix (port 24030), without a test hook: the milter runs with glibc's
# malloc in one arena (MALLOC_ARENA_MAX=1, so every allocation is bounded by
# the address-space limit) and, once warm, gets an address-space limit of
# its current size plus 2.5 MB. A message with 40 Subject fields of 90 KB
# makes the header callback's copy of the fields the filter reads grow past
# that: std::bad_alloc is thrown in the callback, the guard turns it into
# a tempfail at end of message, the client gets 451 4.3.0 (the milter's own
# reply, not milter_default_action's), the message is not delivered, and
# the same milter process serves the next session normally, and stops
# cleanly on SIGTERM.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/postfix.sh"
source "$(dirname "$0")/../lib/milter.sh"
here=$(cd "$(dirname "$0")" && pwd)
PORT=24030

milter_config
ctl domain add example.jp >/dev/null
ctl user add taro@example.jp --no-password >/dev/null
milter_mailboxes taro@example.jp
MALLOC_ARENA_MAX=1 milter_start || { not_ok "yubin-milter starts"; milter_log_tail; finish; exit 1; }
ok "yubin-milter starts"

pf="$T/pf"
postfix_setup "$pf" $PORT
milter_postfix_mailboxes "$pf" example.jp
postfix_conf "$pf" "default_transport = discard" "smtpd_milters = unix:$MILTER_SOCK" \
    "milter_default_action = tempfail" "message_size_limit = 10240000"
postfix_start "$pf" && ok "Postfix starts" || { not_ok "Postfix starts"; finish; exit 1; }
send() { /usr/bin/python3 "$here/smtp_probe.py" send $PORT sender@client.example.net taro@example.jp "$1"; }

printf 'From: sender@client.example.net\r\nTo: taro@example.jp\r\nSubject: %s\r\n\r\nhello\r\n' \
    "ordinary" >"$T/small.eml"
/usr/bin/python3 - "$T/huge.eml" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"From: sender@client.example.net\r\nTo: taro@example.jp\r\n")
    for i in range(40):
        f.write(b"Subject: " + b"x" * 90000 + b"\r\n")
    f.write(b"\r\nbody\r\n")
PY

check_eq "before the limit: an ordinary message accepted" "$(send "$T/small.eml" | cut -c1-3)" 250
check_eq "before the limit: the big-header message accepted (it fits in memory)" \
    "$(send "$T/huge.eml" | cut -c1-3)" 250
size_kb=$(awk '/^VmSize/ {print $2}' "/proc/$milter_pid/status")
# (as the milter's own user: the container may lack CAP_SYS_RESOURCE)
setpriv --reuid=nobody --regid=nogroup --clear-groups prlimit --pid "$milter_pid" --as=$(((size_kb + 2560) * 1024)) ||
    { not_ok "address-space limit set"; finish; exit 1; }
echo "# milter address space ${size_kb} kB; limit now +2.5 MB"

check_eq "under the limit: an ordinary message accepted" "$(send "$T/small.eml" | cut -c1-3)" 250
check_eq "a callback throws: the client gets the milter's tempfail" \
    "$(send "$T/huge.eml")" "451 4.3.0 Temporary failure, try again later"
check_contains "the exception was caught in the header callback" \
    "header: internal error, answering tempfail: std::bad_alloc" "$T/milter.log"
check_contains "and answered at end of message" "defer: END-OF-MESSAGE" "$T/milter.log"
kill -0 "$milter_pid" 2>/dev/null && ok "the milter process is still running" \
    || not_ok "the milter process is still running"
check_eq "the next session is served normally" "$(send "$T/small.eml" | cut -c1-3)" 250
check_eq "and the one after it" "$(send "$T/small.eml" | cut -c1-3)" 250
postfix_wait_queue_empty "$pf" 30 || true
check_eq "4 ordinary and 1 big message delivered, the failed one not" \
    "$(grep -c '^Subject: ' "$T/vmail/example.jp/taro")" $((4 + 40))
# Stopping needs no memory it does not already hold.
kill -TERM "$milter_pid"
wait "$milter_pid"
check_eq "SIGTERM under the limit: a clean stop (exit status 0)" "$?" 0
finish
