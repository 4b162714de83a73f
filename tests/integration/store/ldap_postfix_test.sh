#!/usr/bin/env bash
# The LDAP store end to end: two slapd (syncrepl provider -> consumer), yubinctl
# writing to the provider, yubin-authd reading the consumer and serving a real
# Postfix (socketmap tables, SMTP AUTH through the saslauthd protocol). A user
# added with yubinctl on the provider is accepted through the consumer after
# replication and the negative cache TTL; the consumer stopped mid-run gives
# TEMP / 4xx, never "unknown user", and heals when it returns; filter
# injection keys find nothing. Ports 26100-26125. Needs root.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/postfix.sh"
source "$(dirname "$0")/../lib/slapd.sh"
: "${YUBIN_BIN:?}"

SMTP_PORT=26125
PROVIDER=$T/provider
CONSUMER=$T/consumer
PF=$T/postfix
SM=$T/authd/socketmap
MUX=$T/authd/mux
mkdir -p "$T/authd"
chmod 0755 "$T/authd"

# --- directory: provider and consumer --------------------------------------
cleanup_hooks+=("slapd_stop '$PROVIDER'" "slapd_stop '$CONSUMER'")
if slapd_setup "$PROVIDER" 26101 provider && slapd_start "$PROVIDER"; then
    ok "slapd provider starts with the yubin schema"
else
    not_ok "slapd provider"; finish; exit 1
fi
if slapd_setup "$CONSUMER" 26102 consumer 26101 && slapd_start "$CONSUMER"; then
    ok "slapd consumer starts"
else
    not_ok "slapd consumer"; finish; exit 1
fi

# yubinctl writes to the provider; authd (user nobody) reads the consumer.
cat >"$T/provider.cf" <<CF
store = ldap:$T/provider.cf
store_ldap_uri = ldap://127.0.0.1:26101/
store_ldap_base_dn = $SLAPD_BASE_DN
store_ldap_bind_dn = $SLAPD_BIND_DN
store_ldap_bind_pw_file = $PROVIDER/bind.pw
password_scheme = SHA512-CRYPT
CF
cp "$CONSUMER/bind.pw" "$T/authd/bind.pw"
chown nobody "$T/authd/bind.pw"
cat >"$T/consumer.cf" <<CF
store = ldap:$T/consumer.cf
store_ldap_uri = ldap://127.0.0.1:26102/
store_ldap_base_dn = $SLAPD_BASE_DN
store_ldap_bind_dn = $SLAPD_BIND_DN
store_ldap_bind_pw_file = $T/authd/bind.pw
store_ldap_timeout = 2s
store_ldap_cache_ttl = 2s
store_ldap_negative_cache_ttl = 1s
password_scheme = SHA512-CRYPT
authd_socketmap_listen = unix:$SM
authd_saslauthd_listen = unix:$MUX
authd_user = nobody
authd_socket_group = postfix
CF
chmod 0644 "$T/provider.cf" "$T/consumer.cf"
ctl=("$YUBIN_BIN/yubinctl" -c "$T/provider.cf")

# --- yubinctl against LDAP --------------------------------------------------
check_status "yubinctl domain add (LDAP)" 0 "${ctl[@]}" domain add example.com
check_status "yubinctl domain add old.example" 0 "${ctl[@]}" domain add old.example
check_status "yubinctl domain add off.example, disabled" 0 "${ctl[@]}" domain add off.example --active no
check_status "yubinctl user add (LDAP)" 0 "${ctl[@]}" user add taro@example.com --password-stdin <<<'taro-pw'
check_status "yubinctl user add hanako" 0 "${ctl[@]}" user add hanako@example.com --password-stdin <<<'hanako-pw'
check_status "yubinctl user add in the disabled domain" 0 "${ctl[@]}" user add jiro@off.example --password-stdin <<<'jiro-pw'
check_status "yubinctl alias add, two targets" 0 "${ctl[@]}" alias add info@example.com taro@example.com hanako@example.com
check_status "yubinctl alias add, domain alias" 0 "${ctl[@]}" alias add @old.example @example.com
check_status "yubinctl user add: a duplicate is refused (exit 1)" 1 "${ctl[@]}" user add TARO@example.com --password-stdin <<<'x'
check_status "yubinctl user del: unknown user (exit 67)" 67 "${ctl[@]}" user del nobody@example.com
check_status "yubinctl user list" 0 "${ctl[@]}" user list example.com
check_contains "user list shows taro" "taro@example.com" "$T/out"
check_status "yubinctl auth test, right password" 0 "${ctl[@]}" auth test taro@example.com <<<'taro-pw'
check_status "yubinctl auth test, wrong password" 1 "${ctl[@]}" auth test taro@example.com <<<'nope'
check_status "the hash in the directory is a {SCHEME} string" 0 \
    ldapsearch -x -LLL -o ldif-wrap=no -H ldap://127.0.0.1:26101/ -D "$SLAPD_BIND_DN" -w "$SLAPD_BIND_PW" \
    -b "$SLAPD_BASE_DN" "(mail=taro@example.com)" userPassword
grep -q '^userPassword:: ' "$T/out" && base64 -d <<<"$(awk '/^userPassword:: /{print $2}' "$T/out")" | grep -q '^{SHA512-CRYPT}\$6\$' \
    && ok "userPassword holds {SHA512-CRYPT}\$6\$..." || not_ok "userPassword: $(cat "$T/out")"

# --- replication ------------------------------------------------------------
replicated() { # FILTER: waits up to 15 s for an entry on the consumer
    local i
    for i in $(seq 1 75); do
        ldapsearch -x -LLL -H ldap://127.0.0.1:26102/ -D "$SLAPD_BIND_DN" -w "$SLAPD_BIND_PW" \
            -b "$SLAPD_BASE_DN" "$1" 1.1 2>/dev/null | grep -q '^dn:' && return 0
        sleep 0.2
    done
    return 1
}
replicated "(mail=taro@example.com)" && replicated "(yubinAliasSource=@old.example)" \
    && ok "the consumer has the entries written on the provider" || not_ok "syncrepl did not replicate"

# --- yubin-authd on the consumer, Postfix in front ---------------------------
authd_pid=
start_authd() {
    "$YUBIN_BIN/yubin-authd" -c "$T/consumer.cf" -f -v 2>>"$T/authd.log" &
    authd_pid=$!
    local i
    for i in $(seq 1 50); do [[ -S $SM && -S $MUX ]] && return 0; sleep 0.1; done
    return 1
}
stop_authd() {
    [[ -n $authd_pid ]] || return 0
    kill "$authd_pid" 2>/dev/null
    wait "$authd_pid" 2>/dev/null
    authd_pid=
}
cleanup_hooks+=("stop_authd")
if start_authd; then ok "yubin-authd starts on the LDAP store"; else
    not_ok "yubin-authd did not start"; sed 's/^/#   /' "$T/authd.log"; finish; exit 1; fi

postfix_setup "$PF" "$SMTP_PORT"
postfix_conf "$PF" \
    "virtual_mailbox_domains = socketmap:unix:$SM:domain" \
    "virtual_mailbox_maps = socketmap:unix:$SM:mailbox" \
    "virtual_alias_maps = socketmap:unix:$SM:alias" \
    "smtpd_sasl_auth_enable = yes" \
    "smtpd_sasl_type = cyrus" \
    "smtpd_sasl_path = smtpd" \
    "cyrus_sasl_config_path = $PF/etc/sasl" \
    "smtpd_sasl_security_options = noanonymous"
mkdir -p "$PF/etc/sasl"
cat >"$PF/etc/sasl/smtpd.conf" <<CONF
pwcheck_method: saslauthd
saslauthd_path: $MUX
mech_list: PLAIN LOGIN
CONF
if postfix_start "$PF"; then ok "postfix starts"; else not_ok "postfix start"; finish; exit 1; fi

q() { postmap -c "$PF/etc" -q "$1" "socketmap:unix:$SM:$2" 2>&1; }
check_eq "socketmap domain from LDAP" "$(q example.com domain)" "example.com"
check_eq "socketmap domain, disabled" "$(q off.example domain)" ""
check_eq "socketmap mailbox from LDAP" "$(q taro@example.com mailbox)" "example.com/taro/Maildir/"
check_eq "socketmap mailbox with extension" "$(q taro+news@example.com mailbox)" "example.com/taro/Maildir/"
check_eq "socketmap mailbox unknown" "$(q nobody@example.com mailbox)" ""
check_eq "socketmap alias, two targets" "$(q info@example.com alias)" "taro@example.com,hanako@example.com"
check_eq "socketmap alias, domain alias" "$(q taro@old.example alias)" "taro@example.com"
for key in '*@example.com' '*)(mail=*' 'taro@example.com)(mail=*' '*' 't*@example.com' '\2a@example.com'; do
    check_eq "injection key '$key' finds no mailbox" "$(q "$key" mailbox)" ""
    check_eq "injection key '$key' finds no alias" "$(q "$key" alias)" ""
done

rcpt_reply() {
    swaks --server 127.0.0.1 --port "$SMTP_PORT" --timeout 20 --from sender@remote.example --to "$1" \
        --quit-after RCPT 2>&1 | awk '/-> RCPT TO/ { f = 1; next } f && /^<[-~*]+ +[0-9][0-9][0-9]/ { print; exit }'
}
reply=$(rcpt_reply taro@example.com)
check_eq "RCPT to an LDAP mailbox is accepted" "${reply:0:7}" "<-  250"
reply=$(rcpt_reply nobody@example.com)
[[ $reply == *"550 5.1.1"* ]] && ok "unknown recipient: 550 5.1.1" || not_ok "unknown recipient: got '$reply'"

auth() { # USER PASS
    swaks --server 127.0.0.1 --port "$SMTP_PORT" --timeout 20 --auth PLAIN --auth-user "$1" \
        --auth-password "$2" --quit-after AUTH >"$T/auth.out" 2>&1
}
auth taro@example.com taro-pw
check_contains "SMTP AUTH against the LDAP store: 235" "235 2.7.0" "$T/auth.out"
auth taro@example.com wrong
check_contains "SMTP AUTH, wrong password: 535" "535 5.7.8" "$T/auth.out"

# A user added on the provider: unknown first (cached as such for at most
# store_ldap_negative_cache_ttl = 1 s), then accepted through the consumer.
reply=$(rcpt_reply saburo@example.com)
[[ $reply == *"550 5.1.1"* ]] && ok "saburo unknown before yubinctl" || not_ok "saburo before: '$reply'"
"${ctl[@]}" user add saburo@example.com --password-stdin <<<'saburo-pw' >/dev/null
t0=$(date +%s%N)
accepted=no
for i in $(seq 1 50); do
    reply=$(rcpt_reply saburo@example.com)
    [[ ${reply:0:7} == "<-  250" ]] && { accepted=yes; break; }
    sleep 0.2
done
ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "a user added on the provider is accepted at RCPT through the consumer" "$accepted" "yes"
echo "# provider write -> RCPT accepted via the consumer: $ms ms (replication + negative TTL 1 s)"
[[ $ms -lt 5000 ]] && ok "within the negative cache TTL plus replication ($ms ms < 5000)" \
    || not_ok "took $ms ms"
check_eq "socketmap agrees" "$(q saburo@example.com mailbox)" "example.com/saburo/Maildir/"
auth saburo@example.com saburo-pw
check_contains "the new user can authenticate" "235 2.7.0" "$T/auth.out"

# --- the consumer goes away mid-run -------------------------------------------
slapd_stop "$CONSUMER"
sleep 2.2  # past the positive cache TTL: nothing is answered from memory
out=$(q taro@example.com mailbox)
[[ $out == *"temporary error"* ]] && ok "outage: socketmap answers TEMP" || not_ok "outage: postmap said '$out'"
out=$(q nobody@example.com mailbox)
[[ $out == *"temporary error"* ]] && ok "outage: an unknown user is TEMP too" || not_ok "outage: unknown said '$out'"
reply=$(rcpt_reply taro@example.com)
[[ $reply == *"451 4.3.0"* ]] && ok "outage: RCPT deferred with 451 4.3.0" || not_ok "outage: RCPT got '$reply'"
reply=$(rcpt_reply nobody@example.com)
[[ $reply == *"451 4.3.0"* ]] && ok "outage: unknown recipient deferred, not rejected" || not_ok "outage: unknown got '$reply'"
auth taro@example.com taro-pw
grep -q '454 4.7.0' "$T/auth.out" && ok "outage: AUTH is a temporary failure (454 4.7.0)" \
    || not_ok "outage: AUTH reply: $(grep -E '^<~? *[0-9]{3}' "$T/auth.out" | tr '\n' ' ')"

slapd_start "$CONSUMER" || not_ok "consumer restart"
healed=no
for i in $(seq 1 50); do
    [[ $(q taro@example.com mailbox) == "example.com/taro/Maildir/" ]] && { healed=yes; break; }
    sleep 0.2
done
check_eq "lookups heal when the directory returns, without restarting authd" "$healed" "yes"
# smtpd's socketmap connection may be served by another authd event loop,
# which retries its own directory connection at most once a second.
for i in $(seq 1 50); do
    reply=$(rcpt_reply taro@example.com)
    [[ ${reply:0:7} == "<-  250" ]] && break
    sleep 0.2
done
check_eq "RCPT accepted again" "${reply:0:7}" "<-  250"
auth hanako@example.com hanako-pw
check_contains "AUTH works again" "235 2.7.0" "$T/auth.out"
if grep -q 'taro-pw\|hanako-pw\|yubin-secret' "$T/authd.log"; then not_ok "a password reached the log"; else
    ok "no password in the log"; fi

finish
