#!/usr/bin/env bash
# contrib/install (and the cmake --install rules it runs) into a throwaway
# root (--destdir): the files, their modes and owners, the users and groups
# in that root's /etc/passwd and /etc/group, the generated yubin.cf, the
# systemd units, and that a second run changes nothing but repairs modes.
# The real /usr, /etc and /var are not touched. Takes a few seconds.
source "$(dirname "$0")/../lib/tap.sh"
: "${YUBIN_BIN:?}" "${YUBIN_SRC:?}" "${YUBIN_BUILD:?}"
install_sh=$YUBIN_SRC/contrib/install

# A root with a copy of this system's user database, as a fresh server has.
new_root() {
    local r=$1
    mkdir -p "$r/etc"
    cp /etc/passwd /etc/group /etc/shadow /etc/gshadow "$r/etc/"
    [[ -f /etc/login.defs ]] && cp /etc/login.defs "$r/etc/"
    # This machine may already have yubin/vmail users (an earlier install):
    # the root starts without them so that the test sees them created.
    sed -i '/^\(yubin\|vmail\):/d' "$r/etc/passwd" "$r/etc/shadow" "$r/etc/group" "$r/etc/gshadow"
}
field() { awk -F: -v n="$2" -v f="$3" '$1 == n { print $f; exit }' "$1"; }
mode_owner() { stat -c '%a %u:%g' "$1"; }

R=$T/root
new_root "$R"
# uid/gid 5000 must be free in the root for the default virtual_uid.
sed -i '/^[^:]*:[^:]*:5000:/d' "$R/etc/passwd" "$R/etc/group"

check_status "bad option is a usage error" 64 "$install_sh" --bogus
check_status "relative --prefix refused" 64 "$install_sh" --prefix usr --destdir "$R"

check_status "contrib/install --destdir" 0 "$install_sh" --build "$YUBIN_BUILD" --destdir "$R"
cp "$T/out" "$T/first.out"
check_contains "prints the next steps" "systemctl enable --now yubin-authd" "$T/first.out"

# --- files ---------------------------------------------------------------
check_eq "yubinctl in /usr/sbin, 0755" "$(stat -c %a "$R/usr/sbin/yubinctl" 2>&1)" "755"
for b in yubin-authd yubin-milter yubin-policyd yubin-lda yubin-checkpassword; do
    if [[ -x $R/usr/lib/yubin/$b && -f $R/usr/lib/yubin/$b ]]; then ok "/usr/lib/yubin/$b installed"
    else not_ok "/usr/lib/yubin/$b missing"; fi
done
check_eq "yubin-lda's LDAP store module beside it, 0644" "$(stat -c %a "$R/usr/lib/yubin/yubin-store-ldap.so" 2>&1)" "644"
moduledir=$(sed -n "s/^dovecot_moduledir=['\"]\{0,1\}\([^'\"]*\).*/\1/p" /usr/lib/dovecot/dovecot-config)
check_eq "Dovecot's module dir read from dovecot-config" "$moduledir" "/usr/lib/dovecot/modules"
mod=$R$moduledir/auth/libauthdb_yubin.so
check_eq "the Dovecot module in moduledir/auth, 0644" "$(stat -c %a "$mod" 2>&1)" "644"
if cmp -s "$mod" "$YUBIN_BUILD/lib/libauthdb_yubin.so"; then ok "module is the built one"
else not_ok "installed module differs from build/lib/libauthdb_yubin.so"; fi
if nm -D --defined-only "$mod" 2>/dev/null | grep -q ' authdb_yubin_init$'; then ok "module exports authdb_yubin_init"
else not_ok "module does not export authdb_yubin_init"; fi

units=(yubin-authd yubin-lmtp yubin-milter yubin-policyd)
for u in "${units[@]}"; do
    f=$R/usr/lib/systemd/system/$u.service
    if [[ -f $f ]]; then
        exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$f")
        if [[ $exe == /usr/lib/yubin/* && -x $R$exe ]]; then ok "$u.service runs installed $exe"
        else not_ok "$u.service ExecStart \"$exe\" is not an installed binary"; fi
    else
        not_ok "$u.service not installed"
    fi
done
if command -v systemd-analyze >/dev/null; then
    # Syntax and ExecStart of the installed units, checked inside the root
    # (so /usr/lib/yubin/... must be there). The root holds no systemd and no
    # /bin/kill: those two complaints are the root's, not the units'.
    systemd-analyze verify --man=no --root="$R" "${units[@]/%/.service}" >"$T/verify" 2>&1 || true
    grep '^yubin-\|yubin-[a-z]*\.service' "$T/verify" |
        grep -v 'sysinit.target not found\|Command /bin/kill is not executable\|Command /usr/bin/install is not executable' \
            >"$T/verify.bad" || true
    if [[ ! -s $T/verify.bad ]]; then ok "systemd-analyze verify accepts the units"
    else not_ok "systemd-analyze verify"; sed 's/^/#   /' "$T/verify.bad" | head; fi
fi
check_eq "README in /usr/share/doc/yubin" "$(cmp -s "$R/usr/share/doc/yubin/README.md" "$YUBIN_SRC/README.md" && echo same)" "same"
check_eq "example yubin.cf shipped" "$(cmp -s "$R/usr/share/doc/yubin/examples/yubin.cf" "$YUBIN_SRC/contrib/yubin.cf" && echo same)" "same"
for f in postfix/main.cf postfix/master.cf dovecot/90-yubin.conf ldap/yubin.ldif rules/README.md; do
    if [[ -f $R/usr/share/doc/yubin/examples/$f ]]; then ok "example $f shipped"; else not_ok "example $f missing"; fi
done
if [[ -e $R/usr/share/doc/yubin/examples/install ]]; then not_ok "the install script is shipped as an example"
else ok "the install script itself is not an example"; fi
# The shipped Postfix and Dovecot examples parse, with no unknown parameter.
ex=$R/usr/share/doc/yubin/examples
mkdir -p "$T/pf"
cp "$ex/postfix/main.cf" "$T/pf/main.cf"
cat /usr/share/postfix/master.cf.dist "$ex/postfix/master.cf" >"$T/pf/master.cf"
postconf -c "$T/pf" -n >/dev/null 2>"$T/postconf.err"
if [[ ! -s $T/postconf.err ]]; then ok "postconf reads examples/postfix/main.cf without a warning"
else not_ok "postconf on examples/postfix/main.cf"; sed 's/^/#   /' "$T/postconf.err" | head; fi
check_eq "master.cf example: submission and smtps services" \
    "$(postconf -c "$T/pf" -M submission/inet smtps/inet 2>&1 | awk '{print $1}' | tr '\n' ' ')" "submission smtps "
"$R/usr/sbin/yubinctl" cert --host mail.example.com --key "$T/dc/k.key" --cert "$T/dc/c.crt" >/dev/null
sed -e "s|/etc/yubin/ssl/mail.example.com.crt|$T/dc/c.crt|" -e "s|/etc/yubin/ssl/mail.example.com.key|$T/dc/k.key|" \
    "$ex/dovecot/90-yubin.conf" >"$T/dc/90-yubin.conf"
printf 'ssl_dh = </usr/share/dovecot/dh.pem\n!include %s\n' "$T/dc/90-yubin.conf" >"$T/dc/dovecot.conf"
if doveconf -c "$T/dc/dovecot.conf" -n >"$T/doveconf.out" 2>&1 && grep -q 'driver = yubin' "$T/doveconf.out"; then
    ok "doveconf reads examples/dovecot/90-yubin.conf (passdb and userdb yubin)"
else not_ok "doveconf on examples/dovecot/90-yubin.conf"; sed 's/^/#   /' "$T/doveconf.out" | head; fi
n_outside=$(cd "$R" && find . -type f ! -path './etc/*' ! -path './usr/*' | wc -l)
check_eq "no file outside /etc and /usr" "$n_outside" "0"

# --- users and groups --------------------------------------------------------
yubin_uid=$(field "$R/etc/passwd" yubin 3)
yubin_gid=$(field "$R/etc/group" yubin 3)
if [[ -n $yubin_uid && $yubin_uid -lt 1000 ]]; then ok "system user yubin ($yubin_uid)"; else not_ok "user yubin: uid \"$yubin_uid\""; fi
check_eq "yubin's primary group is yubin" "$(field "$R/etc/passwd" yubin 4)" "$yubin_gid"
check_eq "yubin cannot log in" "$(field "$R/etc/passwd" yubin 7)" "/usr/sbin/nologin"
check_eq "vmail uid 5000 (virtual_uid)" "$(field "$R/etc/passwd" vmail 3)" "5000"
check_eq "vmail gid 5000 (virtual_gid)" "$(field "$R/etc/group" vmail 3)" "5000"
check_eq "vmail home is the Maildir base" "$(field "$R/etc/passwd" vmail 6)" "/var/spool/vmail"
check_eq "vmail is in group yubin (reads the store)" "$(field "$R/etc/group" yubin 4)" "vmail"
if grep -q '^yubin:' "$R/etc/shadow" && grep -q '^vmail:' "$R/etc/shadow"; then ok "shadow entries written"
else not_ok "shadow entries missing"; fi

# --- directories and configuration ------------------------------------------
check_eq "/etc/yubin 0750 root:yubin" "$(mode_owner "$R/etc/yubin")" "750 0:$yubin_gid"
check_eq "/var/lib/yubin 2750 root:yubin" "$(mode_owner "$R/var/lib/yubin")" "2750 0:$yubin_gid"
check_eq "/var/spool/vmail 0750 vmail:vmail" "$(mode_owner "$R/var/spool/vmail")" "750 5000:5000"
cf=$R/etc/yubin/yubin.cf
check_eq "/etc/yubin/yubin.cf 0640 root:yubin" "$(mode_owner "$cf")" "640 0:$yubin_gid"
check_status "installed yubinctl reads the installed yubin.cf" 0 "$R/usr/sbin/yubinctl" -c "$cf" config -n
check_eq "yubin.cf sets only what the units need" "$(cat "$T/out")" \
    "$(printf 'lda_lmtp_listen = unix:/var/spool/postfix/private/yubin-lmtp\nmilter_user = yubin')"
if head -n "$(wc -l <"$YUBIN_SRC/contrib/yubin.cf")" "$cf" | cmp -s - "$YUBIN_SRC/contrib/yubin.cf"; then
    ok "yubin.cf starts with the commented example"
else not_ok "yubin.cf does not start with contrib/yubin.cf"; fi
check_status "installed yubinctl config --example" 0 "$R/usr/sbin/yubinctl" config --example
if cmp -s "$T/out" "$YUBIN_SRC/contrib/yubin.cf"; then ok "config --example is contrib/yubin.cf"
else not_ok "config --example differs from contrib/yubin.cf"; fi

# --- a second run: idempotent, keeps the configuration, repairs modes ----------
echo "syslog_name = mine" >>"$cf"
sum_users=$(cat "$R/etc/passwd" "$R/etc/group" "$R/etc/shadow" "$R/etc/gshadow" | md5sum)
chmod 0777 "$R/var/spool/vmail"
chmod 0755 "$R/etc/yubin"
check_status "second run" 0 "$install_sh" --build "$YUBIN_BUILD" --destdir "$R"
check_contains "says it kept yubin.cf" "kept the existing /etc/yubin/yubin.cf" "$T/out"
if grep -q 'added user\|added group' "$T/out"; then not_ok "second run added users again"; sed 's/^/#   /' "$T/out"
else ok "second run adds no user"; fi
check_eq "user database unchanged" "$(cat "$R/etc/passwd" "$R/etc/group" "$R/etc/shadow" "$R/etc/gshadow" | md5sum)" "$sum_users"
check_eq "yubin.cf kept" "$(tail -n 1 "$cf")" "syslog_name = mine"
check_eq "/var/spool/vmail mode repaired" "$(mode_owner "$R/var/spool/vmail")" "750 5000:5000"
check_eq "/etc/yubin mode repaired" "$(mode_owner "$R/etc/yubin")" "750 0:$yubin_gid"

# --- uid 5000 taken; another prefix ------------------------------------------
R2=$T/root2
new_root "$R2"
sed -i '/^[^:]*:[^:]*:5000:/d' "$R2/etc/passwd" "$R2/etc/group"
echo "someone:x:5000:5000::/home/someone:/bin/sh" >>"$R2/etc/passwd"
echo "someone:x:5000:" >>"$R2/etc/group"
check_status "install with uid 5000 taken, prefix /usr/local" 0 \
    "$install_sh" --build "$YUBIN_BUILD" --destdir "$R2" --prefix /usr/local
v_uid=$(field "$R2/etc/passwd" vmail 3)
v_gid=$(field "$R2/etc/group" vmail 3)
if [[ -n $v_uid && $v_uid != 5000 ]]; then ok "vmail got another uid ($v_uid)"; else not_ok "vmail uid \"$v_uid\""; fi
check_status "yubin.cf parses" 0 "$R2/usr/local/sbin/yubinctl" -c "$R2/etc/yubin/yubin.cf" config -n
check_contains "virtual_uid follows vmail" "virtual_uid = $v_uid" "$T/out"
check_contains "virtual_gid follows vmail" "virtual_gid = $v_gid" "$T/out"
check_eq "Maildir base owned by that vmail" "$(mode_owner "$R2/var/spool/vmail")" "750 $v_uid:$v_gid"
check_eq "unit names the prefix's binary" \
    "$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$R2/usr/local/lib/systemd/system/yubin-authd.service")" \
    "/usr/local/lib/yubin/yubin-authd"
if [[ -x $R2/usr/local/lib/yubin/yubin-authd ]]; then ok "binaries under /usr/local/lib/yubin"; else not_ok "no /usr/local/lib/yubin/yubin-authd"; fi
check_eq "the Dovecot module still goes where Dovecot looks" \
    "$(stat -c %a "$R2$moduledir/auth/libauthdb_yubin.so" 2>&1)" "644"

finish
