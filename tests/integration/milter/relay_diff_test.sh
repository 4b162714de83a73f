#!/usr/bin/env bash
# Differential relay test: for every classic open-relay variant (the
# 19-test checkers of the late 1990s, rlytest, nmap's smtp-open-relay and
# the forms Postfix's documentation warns about), where a deliberately open
# Postfix (mynetworks = 0.0.0.0/0, no milter) routes the address is compared
# with what yubin-milter decides, through a second smtpd of the same Postfix
# that uses the milter (ports 24028 and 24029):
#   - whatever Postfix would relay to a foreign next hop, the milter refuses;
#   - where the milter names the domain it read, it is Postfix's next hop
#     (foreign) or Postfix's delivery domain (ours);
#   - whatever Postfix delivers here, the milter accepts, unless the address
#     holds a routing operator or a source route (deliberately stricter).
# Local to both: example.jp (virtual, from the store), the host name
# mail.example.test, localhost and [127.0.0.1] (mydestination / milter_local_domains).
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/postfix.sh"
source "$(dirname "$0")/../lib/milter.sh"
here=$(cd "$(dirname "$0")" && pwd)
probe() { /usr/bin/python3 "$here/smtp_probe.py" "$@"; }
PLAIN=24028
MILTER=24029

milter_config "milter_trusted_networks = 127.0.0.2/32" \
    "milter_local_domains = mail.example.test localhost [127.0.0.1]"
ctl domain add example.jp >/dev/null
ctl user add taro@example.jp --no-password >/dev/null
milter_mailboxes taro@example.jp
milter_start -v || { not_ok "yubin-milter starts"; milter_log_tail; finish; exit 1; }

pf="$T/pf"
postfix_setup "$pf" $PLAIN
milter_postfix_mailboxes "$pf" example.jp
postfix_conf "$pf" "mynetworks = 0.0.0.0/0" "mydestination = \$myhostname localhost" \
    "default_transport = discard" "milter_default_action = tempfail" \
    "smtpd_error_sleep_time = 0" "smtpd_soft_error_limit = 1000" "smtpd_hard_error_limit = 1000" \
    "local_recipient_maps =" "smtpd_milters ="
postfix_service "$pf" "127.0.0.1:$MILTER inet n - n - - smtpd -o smtpd_milters=unix:$T/milter.sock"
postfix_start "$pf" && ok "open Postfix starts" || { not_ok "open Postfix starts"; finish; exit 1; }

# Server: mail.example.test = [127.0.0.1]; our domain example.jp; victim relay.example.net.
cat >"$T/variants" <<'EOF_V'
<relaytest@relay.example.net>
<RelayTest@RELAY.EXAMPLE.NET>
<relaytest@relay.example.net.>
relaytest@relay.example.net
< relaytest@relay.example.net >
<relaytest%relay.example.net@mail.example.test>
<relaytest%relay.example.net@[127.0.0.1]>
<relaytest%relay.example.net@localhost>
<relaytest%relay.example.net@example.jp>
<relaytest%relay.example.net@MAIL.EXAMPLE.TEST.>
relaytest%relay.example.net@mail.example.test
<"relaytest@relay.example.net">
<"relaytest%relay.example.net">
<"relaytest@relay.example.net"@mail.example.test>
<"relaytest@relay.example.net"@[127.0.0.1]>
<"relaytest@relay.example.net"@example.jp>
<"relaytest%relay.example.net"@mail.example.test>
<"relay.example.net!relaytest"@mail.example.test>
<relaytest@relay.example.net@mail.example.test>
<relaytest@relay.example.net@[127.0.0.1]>
<relaytest@relay.example.net@example.jp>
<relaytest\@relay.example.net@mail.example.test>
<@mail.example.test:relaytest@relay.example.net>
<@[127.0.0.1]:relaytest@relay.example.net>
<@example.jp:relaytest@relay.example.net>
<@mail.example.test,@example.jp:relaytest@relay.example.net>
@mail.example.test:relaytest@relay.example.net
<@relay.example.net:taro@example.jp>
<relay.example.net!relaytest>
<relay.example.net!relaytest@mail.example.test>
<relay.example.net!relaytest@[127.0.0.1]>
<relay.example.net!relaytest@example.jp>
relay.example.net!relaytest
<mail.example.test!relay.example.net!relaytest@mail.example.test>
<relay.example.net!relaytest%mail.example.test@mail.example.test>
<relaytest%relay.example.net%mail.example.test@mail.example.test>
<relaytest%relay.example.net.@mail.example.test>
<relaytest@example.jp.relay.example.net>
<relaytest@mail.example.test.relay.example.net>
<relaytest@[192.0.2.99]>
<relaytest%[192.0.2.99]@mail.example.test>
<taro@example.jp>
<Taro@EXAMPLE.JP.>
taro@example.jp
<taro+tag@example.jp>
<"taro"@example.jp>
<someone@mail.example.test>
<Someone@Mail.Example.Test.>
<someone@[127.0.0.1]>
<someone@localhost>
<postmaster@mail.example.test>
<postmaster>
EOF_V
n=$(wc -l <"$T/variants")

probe route $PLAIN attacker@client.example.net <"$T/variants" >"$T/plain.out" 2>&1
probe rcpts $MILTER attacker@client.example.net <"$T/variants" >"$T/milter.out" 2>&1
check_eq "every variant answered without the milter" "$(wc -l <"$T/plain.out")" "$n"
check_eq "every variant answered with the milter" "$(wc -l <"$T/milter.out")" "$n"
postfix_wait_queue_empty "$pf" 60 || true
sleep 1
/usr/bin/python3 "$here/relay_diff.py" "$T/variants" "$T/plain.out" "$T/milter.out" \
    "$(postfix_log "$pf")" "$T/milter.log" >"$T/diff.out"
sed 's/^/# /' "$T/diff.out"
summary=$(tail -1 "$T/diff.out")
get() { echo "$summary" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
check_eq "no variant that Postfix relays gets through the milter" "$(get holes)" 0
check_eq "the milter reads the domain Postfix routes to (foreign)" "$(get foreign_domain_mismatch)" 0
check_eq "the milter reads the domain Postfix delivers in (ours)" "$(get ours_domain_mismatch)" 0
check_eq "the milter refuses nothing Postfix delivers here without routing tricks" \
    "$(get ours_refused_without_routing)" 0
foreign=$(get foreign)
if [[ $foreign -ge 25 ]]; then ok "control: the open Postfix alone would relay $foreign of $n variants"
else not_ok "control: the open Postfix alone relays only $foreign of $n variants"; fi
if [[ $(get ours) -ge 8 ]]; then ok "$(get ours) variants are delivered here (local mail still works)"
else not_ok "only $(get ours) variants delivered here"; fi
finish
