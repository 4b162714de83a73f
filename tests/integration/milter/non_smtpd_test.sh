#!/usr/bin/env bash
# yubin-milter as Postfix's non_smtpd_milters: mail submitted with
# sendmail(1) (postdrop -> pickup -> cleanup) goes through the milter too.
# A real Postfix on loopback (smtpd port 24027, unused by the checks):
#  - an ordinary local submission is delivered, its forged X-Yubin-* field
#    removed (proof that the milter saw it, with the queue id in the log);
#  - a 未承諾広告 submission is refused by the filter (milter-reject in
#    Postfix's log) and not delivered;
#  - a submission to a foreign domain is relayed (sendmail(1) reaches the
#    milter as localhost[127.0.0.1], in the default milter_trusted_networks);
#  - with the milter down, milter_default_action = tempfail keeps the
#    submission queued, and it is delivered once the milter is back.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/postfix.sh"
source "$(dirname "$0")/../lib/milter.sh"
PORT=24027

milter_config
ctl domain add example.jp >/dev/null
ctl user add taro@example.jp --no-password >/dev/null
milter_mailboxes taro@example.jp

milter_start && ok "yubin-milter starts" || { not_ok "yubin-milter starts"; cat "$T/milter.log"; finish; exit 1; }

pf="$T/pf"
postfix_setup "$pf" $PORT
milter_postfix_mailboxes "$pf" example.jp
postfix_conf "$pf" "default_transport = discard" "smtpd_milters =" \
    "non_smtpd_milters = unix:$T/milter.sock" "milter_default_action = tempfail"
postfix_start "$pf" && ok "Postfix starts" || { not_ok "Postfix starts"; finish; exit 1; }
log=$(postfix_log "$pf")
mbox="$T/vmail/example.jp/taro"

submit() {  # SENDER RCPT SUBJECT [EXTRA-HEADER]: sendmail(1) (as root: -C is refused
            # to other users unless /etc/postfix lists the directory)
    printf 'From: %s\nTo: %s\nSubject: %s\n%s\n\nhello\n' "$1" "$2" "$3" "${4:-X-Test: 1}" |
        /usr/sbin/sendmail -C "$pf/etc" -f "$1" "$2"
}
wait_log() {  # PATTERN [SECONDS]
    local i
    for i in $(seq 1 $((${2:-20} * 10))); do grep -q "$1" "$log" && return 0; sleep 0.1; done
    return 1
}

check_status "sendmail(1): an ordinary message submitted" 0 \
    submit sender@example.jp taro@example.jp "ordinary local" "X-Yubin-Spam: no"
wait_log 'to=<taro@example.jp>.*status=sent' && ok "ordinary submission delivered" \
    || { not_ok "ordinary submission delivered"; tail -20 "$log" | sed 's/^/#   /'; }
check_contains "delivered with its Subject" "Subject: ordinary local" "$mbox"
if grep -qi '^X-Yubin' "$mbox"; then not_ok "forged X-Yubin field removed from a sendmail(1) submission"
else ok "forged X-Yubin field removed from a sendmail(1) submission"; fi
grep -q '[0-9A-F]\{6,\}: warning: removed 1 forged X-Yubin-Spam' "$T/milter.log" \
    && ok "the milter logged it with the queue id" \
    || { not_ok "the milter logged it with the queue id"; sed 's/^/#   /' "$T/milter.log"; }

ad='=?UTF-8?B?5pyq5om/6Ku+5bqD5ZGK4oC7IOOCu+ODvOODqw==?='
check_status "sendmail(1): a 未承諾広告 message submitted" 0 \
    submit sender@example.jp taro@example.jp "$ad"
wait_log 'milter-reject: END-OF-MESSAGE from localhost\[127.0.0.1\]: 5.7.1' \
    && ok "未承諾広告 submission refused by the milter (milter-reject)" \
    || { not_ok "未承諾広告 submission refused by the milter"; tail -20 "$log" | sed 's/^/#   /'; }
check_contains "the milter logged the refusal" "reject: END-OF-MESSAGE from localhost[127.0.0.1]: 550 5.7.1" \
    "$T/milter.log"
n=$(grep -cF "Subject: $ad" "$mbox" || true)
check_eq "the ad was not delivered" "$n" 0

check_status "sendmail(1): a message to a foreign domain submitted" 0 \
    submit sender@example.jp friend@relay.example.net "outgoing"
wait_log 'to=<friend@relay.example.net>.*status=sent' \
    && ok "local submission to a foreign domain relayed (localhost is trusted)" \
    || { not_ok "local submission to a foreign domain relayed"; tail -20 "$log" | sed 's/^/#   /'; }

# The milter down: nothing is lost.
kill -TERM "$milter_pid"
wait "$milter_pid"
check_status "sendmail(1) with the milter down: submitted" 0 \
    submit sender@example.jp taro@example.jp "while down"
wait_log 'milter unix:.*milter.sock: can.t connect\|connect to milter' 10 || true
sleep 1
grep -q 'Subject: while down' "$mbox" && not_ok "milter down: not delivered unfiltered" \
    || ok "milter down: not delivered unfiltered"
check_eq "milter down: the submission is still queued" "$([[ $(postfix_queue_count "$pf") -ge 1 ]] && echo yes)" yes
milter_start && ok "yubin-milter restarts" || not_ok "yubin-milter restarts"
# pickup retries the maildrop queue when woken by the next submission.
submit sender@example.jp taro@example.jp "after restart" >/dev/null 2>&1
for i in $(seq 1 300); do grep -q 'Subject: while down' "$mbox" 2>/dev/null && break; sleep 0.1; done
check_contains "milter back: the held submission is delivered" "Subject: while down" "$mbox"
finish
