#!/usr/bin/env bash
# yubin-authd's start-up: configuration errors and their exit status, a TCP
# socketmap listener queried by Postfix's client, a store missing at start
# (TEMP until it appears), refusal to keep root. Port 20050. Needs root.
source "$(dirname "$0")/../lib/tap.sh"
: "${YUBIN_BIN:?}"
authd=("$YUBIN_BIN/yubin-authd" -f)
mkdir -p "$T/db" "$T/pf"
printf 'compatibility_level = 3.6\n' >"$T/pf/main.cf"

printf 'authd_no_such_parameter = 1\n' >"$T/bad.cf"
check_status "unknown parameter: exit 78" 78 "${authd[@]}" -c "$T/bad.cf"
check_contains "the error names the parameter" "authd_no_such_parameter" "$T/err"
printf 'authd_socketmap_listen = tcp:1.2.3.4\n' >"$T/bad.cf"
check_status "malformed listen address: exit 78" 78 "${authd[@]}" -c "$T/bad.cf"
printf 'authd_socketmap_listen =\nauthd_saslauthd_listen =\n' >"$T/bad.cf"
check_status "nothing to listen on: exit 78" 78 "${authd[@]}" -c "$T/bad.cf"
check_status "missing config file: exit 78" 78 "${authd[@]}" -c "$T/missing.cf"
check_status "unknown option: exit 64" 64 "${authd[@]}" --no-such-option
printf 'store = sqlite:%s/db/yubin.db\nauthd_socketmap_listen = inet:127.0.0.1:20050\nauthd_user = root\n' "$T" >"$T/root.cf"
check_status "authd_user = root is refused: exit 78" 78 "${authd[@]}" -c "$T/root.cf"

# A store that does not exist yet: TEMP, then answers once it is created.
cat >"$T/yubin.cf" <<CF
store = sqlite:$T/db/yubin.db
authd_socketmap_listen = inet:127.0.0.1:20050
authd_user = nobody
CF
chown nobody:nogroup "$T/db"
"${authd[@]}" -c "$T/yubin.cf" 2>"$T/authd.log" &
pid=$!
cleanup_hooks+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null")
up=no
for i in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/20050) 2>/dev/null && { up=yes; break; }; sleep 0.1; done
check_eq "authd listens on 127.0.0.1:20050" "$up" "yes"
q() { postmap -c "$T/pf" -q "$1" "socketmap:inet:127.0.0.1:20050:$2" 2>&1; }
out=$(q example.com domain)
[[ $out == *"temporary error"* ]] && ok "store missing: TEMP" || not_ok "store missing: '$out'"
check_contains "the missing store is logged at start" "store not available yet" "$T/authd.log"
"$YUBIN_BIN/yubinctl" -c "$T/yubin.cf" domain add example.com >/dev/null
chown -R nobody:nogroup "$T/db"
got=
for i in $(seq 1 30); do got=$(q example.com domain); [[ $got == example.com ]] && break; sleep 0.2; done
check_eq "store created: answered over TCP without a restart" "$got" "example.com"
finish
