# Shared by dovecot_module_test.sh and checkpassword_dovecot_test.sh: a yubin
# store with test users, a private Dovecot in front of it, and an IMAP/POP3
# login client. Source after tap.sh and ../lib/dovecot.sh.
#
#   yubin_site DIR           DIR/yubin.cf, DIR/yubin.db (domains example.com,
#                            off.example), DIR/vmail owned by nobody
#   yctl ARGS...             yubinctl -c $SITE/yubin.cf ARGS...
#   login PROTO MODE PORT USER PASS [MECH]
#                            PROTO imap|pop3, MODE plain|starttls|tls, MECH
#                            login (default) or cram-md5; prints "OK", "NO
#                            <server text>" or "ERROR <text>"; exit 0 / 1 / 2
#   check_login DESC WANT PROTO MODE PORT USER PASS [MECH]
#                            WANT: OK, FAIL (authentication failed) or
#                            UNAVAILABLE (temporary failure)
#   common_checks            every check both drivers must pass (below)
#   use_private_module       show $BUILD/lib/libauthdb_yubin.so to Dovecot by a
#                            bind mount over /usr/lib/dovecot/modules/auth; call
#                            only in a private mount namespace (see the tests)

BIN=${YUBIN_BIN:?YUBIN_BIN must name the bin directory of a build}
BUILD=${YUBIN_BUILD:-$BIN/..}
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)

yubin_site() {
    SITE=$1
    mkdir -p "$SITE/vmail"
    chown "$NOBODY_UID:$NOBODY_GID" "$SITE/vmail"
    cat >"$SITE/yubin.cf" <<CF
store = sqlite:$SITE/yubin.db
password_scheme = SHA512-CRYPT
virtual_mailbox_base = $SITE/vmail
virtual_uid = $NOBODY_UID
virtual_gid = $NOBODY_GID
CF
    yctl domain add example.com >/dev/null
    yctl domain add off.example >/dev/null
}

use_private_module() {
    local module=$BUILD/lib/libauthdb_yubin.so
    [[ -f $module ]] || { echo "# module $module not built"; return 1; }
    [[ -n ${YUBIN_TEST_NS:-} ]] || { echo "# not in a private mount namespace"; return 1; }
    mkdir -p "$T/modules"
    cp -a /usr/lib/dovecot/modules/auth/. "$T/modules/"
    cp "$module" "$T/modules/"
    mount --bind "$T/modules" /usr/lib/dovecot/modules/auth
}

yctl() { "$BIN/yubinctl" -c "$SITE/yubin.cf" "$@"; }

cat >"$T/login.py" <<'PY'
import imaplib, poplib, ssl, sys
proto, mode, port, user, pw = sys.argv[1:6]
mech = sys.argv[6] if len(sys.argv) > 6 else "login"
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
try:
    if proto == "imap":
        if mode == "tls":
            c = imaplib.IMAP4_SSL("127.0.0.1", int(port), ssl_context=ctx, timeout=20)
        else:
            c = imaplib.IMAP4("127.0.0.1", int(port), timeout=20)
            if mode == "starttls":
                c.starttls(ssl_context=ctx)
        try:
            if mech == "cram-md5":
                c.login_cram_md5(user, pw)
            else:
                c.login(user, pw)
            c.select("INBOX")
            c.logout()
        except imaplib.IMAP4.error as e:
            print("NO", e)
            sys.exit(1)
    else:
        if mode == "tls":
            c = poplib.POP3_SSL("127.0.0.1", int(port), context=ctx, timeout=20)
        else:
            c = poplib.POP3("127.0.0.1", int(port), timeout=20)
            if mode == "starttls":
                c.stls(context=ctx)
        try:
            c.user(user)
            c.pass_(pw)
            c.stat()
            c.quit()
        except poplib.error_proto as e:
            print("NO", e)
            sys.exit(1)
except Exception as e:
    print("ERROR", repr(e))
    sys.exit(2)
print("OK")
PY

login() { /usr/bin/python3 "$T/login.py" "$@"; }

check_login() {
    local desc=$1 want=$2
    shift 2
    local out got=0
    out=$(login "$@" 2>&1) || got=$?
    case $want in
    OK) [[ $got == 0 ]] ;;
    FAIL) [[ $got == 1 && $out != *UNAVAILABLE* && $out != *SYS/TEMP* ]] ;;
    UNAVAILABLE) [[ $got == 1 && ($out == *UNAVAILABLE* || $out == *SYS/TEMP*) ]] ;;
    esac && ok "$desc" || not_ok "$desc: want $want, got: $out"
}

# The checks both drivers must pass, against the Dovecot in $D on port base
# $PORT ($DA: its doveadm). Users: taro@example.com secret-1 and
# nobody@off.example secret-4 (domain disabled), set up by the caller.
common_checks() {
    local imaps=$((PORT + 1)) pop3=$((PORT + 2)) pop3s=$((PORT + 3)) log
    log=$(dovecot_log "$D")

    check_status "doveadm auth test: right password" 0 "${DA[@]}" auth test taro@example.com secret-1
    check_status "doveadm auth test: login name is case-insensitive" 0 \
        "${DA[@]}" auth test TARO@Example.COM secret-1
    check_status "doveadm auth test: wrong password" 77 "${DA[@]}" auth test taro@example.com nope
    check_status "doveadm auth test: unknown user" 77 "${DA[@]}" auth test jiro@example.com secret-1
    check_status "doveadm user taro" 0 "${DA[@]}" user taro@example.com
    check_contains "doveadm user: home" $'home\t'"$SITE/vmail/example.com/taro" "$T/out"
    check_contains "doveadm user: mail" $'mail\tmaildir:'"$SITE/vmail/example.com/taro/Maildir" "$T/out"
    check_contains "doveadm user: uid" $'uid\t'"$NOBODY_UID" "$T/out"
    check_status "doveadm user: unknown user" 67 "${DA[@]}" user jiro@example.com

    check_login "IMAP STARTTLS login" OK imap starttls "$PORT" taro@example.com secret-1
    check_login "IMAPS login" OK imap tls $imaps taro@example.com secret-1
    check_login "POP3 login" OK pop3 plain $pop3 taro@example.com secret-1
    check_login "POP3S login" OK pop3 tls $pop3s taro@example.com secret-1
    check_login "IMAP wrong password" FAIL imap starttls "$PORT" taro@example.com secret-2
    check_login "POP3 wrong password" FAIL pop3 plain $pop3 taro@example.com secret-2
    check_login "IMAP unknown user" FAIL imap tls $imaps jiro@example.com secret-1
    check_login "IMAP user of a disabled domain" FAIL imap tls $imaps nobody@off.example secret-4
    check_contains "the log says why" "login refused: domain off.example is disabled" "$log"
    if [[ -d $SITE/vmail/example.com/taro/Maildir ]]; then ok "Dovecot created the Maildir as the virtual user"; else
        not_ok "no Maildir under $SITE/vmail/example.com/taro"; fi

    # Live changes, no restart.
    printf 'secret-2\n' | yctl user add jiro@example.com --password-stdin >/dev/null
    check_login "a user added with yubinctl logs in at once" OK imap tls $imaps jiro@example.com secret-2
    printf 'secret-3\n' | yctl user passwd jiro@example.com --password-stdin >/dev/null
    check_login "after a password change the old one fails" FAIL imap tls $imaps jiro@example.com secret-2
    check_login "and the new one works" OK imap tls $imaps jiro@example.com secret-3
    yctl user set jiro@example.com --active no >/dev/null
    check_login "a disabled user cannot log in" FAIL imap tls $imaps jiro@example.com secret-3
    check_contains "the log says why" "login refused: mailbox is disabled" "$log"
    check_status "doveadm user still finds a disabled mailbox" 0 "${DA[@]}" user jiro@example.com
    yctl user set jiro@example.com --active yes >/dev/null
    check_login "enabled again, it logs in" OK pop3 tls $pop3s jiro@example.com secret-3
    yctl user del jiro@example.com >/dev/null
    check_login "a deleted user cannot log in" FAIL pop3 tls $pop3s jiro@example.com secret-3

    # An imported HMAC-MD5 hash (doveadm pw -s HMAC-MD5 -p secret): CRAM-MD5
    # through a credentials lookup, then a rehash on a plaintext login.
    printf 'hanako@example.com:{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56::::::\n' \
        >"$T/passwd"
    yctl import --dovecot-passwd "$T/passwd" >/dev/null
    check_login "CRAM-MD5 with an imported HMAC-MD5 hash" OK imap starttls "$PORT" hanako@example.com secret cram-md5
    check_login "CRAM-MD5 with a wrong password" FAIL imap starttls "$PORT" hanako@example.com wrong cram-md5
    check_login "plaintext login with the imported hash" OK imap tls $imaps hanako@example.com secret
    yctl user show hanako@example.com >"$T/show" 2>&1
    check_contains "the login rehashed it into password_scheme" "SHA512-CRYPT" "$T/show"
    check_contains "and logged it" "password rehashed from HMAC-MD5 to SHA512-CRYPT" "$log"
    check_login "the rehashed password still logs in" OK pop3 plain $pop3 hanako@example.com secret

    # Store outage: a temporary failure, never "wrong password".
    mv "$SITE/yubin.db" "$SITE/yubin.db.away"
    check_login "store gone: IMAP answers [UNAVAILABLE]" UNAVAILABLE imap tls $imaps taro@example.com secret-1
    check_login "store gone: even for a wrong password" UNAVAILABLE imap starttls "$PORT" taro@example.com wrong
    check_login "store gone: POP3 answers [SYS/TEMP]" UNAVAILABLE pop3 plain $pop3 taro@example.com secret-1
    check_status "store gone: doveadm user is a temporary failure" 75 "${DA[@]}" user taro@example.com
    check_contains "store gone: logged as an error" "temporary failure: store" "$log"
    mv "$SITE/yubin.db.away" "$SITE/yubin.db"
    check_login "store back: logins work again without a restart" OK imap tls $imaps taro@example.com secret-1

    if grep -q "Fatal\|Panic" "$log"; then
        not_ok "Dovecot logged a fatal error"; grep "Fatal\|Panic" "$log" | head -5
    else ok "no fatal error or panic in Dovecot's log"; fi
}
