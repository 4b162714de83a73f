#!/usr/bin/env bash
# A directory that loaded an older yubin.ldif (before yubinRateLimit,
# yubinRecipientLimit and yubinSpamFilter) keeps working with this yubin:
# reads see the new fields unset, a change that sets one fails with the
# server's schema error and changes nothing. The upgrade README.md documents
# (contrib/ldap/schema-upgrade-ldif | ldapmodify -Y EXTERNAL -H ldapi:///)
# then adds the attributes in place: existing entries and passwords are
# untouched, the new fields can be set, a second run changes nothing, and
# everything survives a slapd restart. Port 26430. Needs root.
source "$(dirname "$0")/../lib/tap.sh"
source "$(dirname "$0")/../lib/slapd.sh"
: "${YUBIN_BIN:?}"
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)

SL=$T/slapd
LDAPI=$T/ldapi
cleanup_hooks+=("slapd_stop '$SL'")
SLAPD_SCHEMA=$here/yubin-v1.ldif SLAPD_LDAPI=$LDAPI slapd_setup "$SL" 26430 && slapd_start "$SL" ||
    { not_ok "slapd with the old schema"; finish; exit 1; }
ok "slapd runs with the old yubin schema (no override attributes)"
H="ldapi://$(sed 's|/|%2F|g' <<<"$LDAPI")"
subschema() { ldapsearch -Q -LLL -Y EXTERNAL -H "$H" -s base -b cn=Subschema attributeTypes 2>/dev/null; }

cat >"$T/yubin.cf" <<CF
store = ldap:$T/yubin.cf
store_ldap_uri = ldap://127.0.0.1:26430/
store_ldap_base_dn = $SLAPD_BASE_DN
store_ldap_bind_dn = $SLAPD_BIND_DN
store_ldap_bind_pw_file = $SL/bind.pw
store_ldap_cache_ttl = 0
store_ldap_negative_cache_ttl = 0
password_scheme = SHA512-CRYPT
CF
ctl() { "$YUBIN_BIN/yubinctl" -c "$T/yubin.cf" "$@"; }
ctl domain add example.jp --max-message-size 20M >/dev/null &&
    ctl user add taro@example.jp --password-stdin <<<'taro-pw' >/dev/null &&
    ctl alias add info@example.jp taro@example.jp >/dev/null &&
    ok "the old schema holds a domain, a user and an alias written by this yubin" ||
    { not_ok "yubinctl on the old schema"; finish; exit 1; }
check_status "the user's password verifies" 0 ctl auth test taro@example.jp <<<'taro-pw'
ctl user show taro@example.jp >"$T/show.before" 2>&1
check_contains "user show reads the entry (overrides unset)" "taro@example.jp" "$T/show.before"

rc=0
ctl user set taro@example.jp --rate-limit messages:5/1h >"$T/set.out" 2>&1 || rc=$?
[[ $rc -ne 0 ]] && ok "setting a rate limit on the old schema fails (exit $rc)" ||
    not_ok "setting a rate limit on the old schema succeeded"
grep -qi "yubinRateLimit\|undefined\|schema" "$T/set.out" && ok "... naming the schema problem: $(head -c 160 "$T/set.out")" ||
    { not_ok "error text"; sed 's/^/#   /' "$T/set.out"; }
ctl user show taro@example.jp >"$T/show.after-fail" 2>&1
check_eq "... and changed nothing" "$(diff "$T/show.before" "$T/show.after-fail" && echo same)" "same"

# --- the documented upgrade --------------------------------------------------
dn=$(ldapsearch -Q -LLL -Y EXTERNAL -H "$H" -b cn=schema,cn=config '(cn=*yubin)' dn | sed -n 's/^dn: //p')
[[ $dn == cn=\{*\}yubin,cn=schema,cn=config ]] && ok "the loaded schema entry is found: $dn" ||
    { not_ok "schema entry: '$dn'"; finish; exit 1; }
check_status "schema-upgrade-ldif refuses a DN that is not a yubin schema entry" 64 \
    "$src/contrib/ldap/schema-upgrade-ldif" "cn={0}core,cn=schema,cn=config"
if "$src/contrib/ldap/schema-upgrade-ldif" "$dn" | ldapmodify -Q -Y EXTERNAL -H "$H" >"$T/modify.out" 2>&1; then
    ok "schema-upgrade-ldif | ldapmodify applies"
else
    not_ok "ldapmodify"; sed 's/^/#   /' "$T/modify.out"
fi
for a in yubinRateLimit yubinRecipientLimit yubinSpamFilter; do
    subschema | tr -d '\n ' | grep -q "NAME'$a'" && ok "the server knows $a" || not_ok "$a missing from cn=Subschema"
done
check_status "the password still verifies" 0 ctl auth test taro@example.jp <<<'taro-pw'
check_status "a rate limit and a recipient limit can now be set" 0 \
    ctl user set taro@example.jp --rate-limit messages:5/1h --recipient-limit 3
check_status "a domain's spam filter can now be turned off" 0 ctl domain set example.jp --spam-filter off
ctl user show taro@example.jp >"$T/show.new" 2>&1
check_contains "user show gives the rate limit" "messages:5/1h" "$T/show.new"
ctl domain show example.jp >"$T/dshow.new" 2>&1
check_contains "domain show keeps the domain's 20M limit" "max_message_size: 20971520" "$T/dshow.new"
check_contains "domain show gives the filter off" "spam_filter: off" "$T/dshow.new"
check_status "a second run of the upgrade is harmless" 0 \
    bash -c "'$src/contrib/ldap/schema-upgrade-ldif' '$dn' | ldapmodify -Q -Y EXTERNAL -H '$H'"
slapd_stop "$SL" && slapd_start "$SL" && ok "slapd restarts on the upgraded cn=config" || not_ok "slapd restart"
ctl user show taro@example.jp >"$T/show.restart" 2>&1
check_eq "after the restart the entry reads the same" "$(diff "$T/show.new" "$T/show.restart" && echo same)" "same"
check_eq "the alias still resolves" "$(ctl alias list 2>/dev/null | grep -c 'info@example.jp')" "1"
finish
