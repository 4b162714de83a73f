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
    FAIL) [[ $got == 1 && $out != *UNAVAILABLE* && $out != *"Temporary"* ]] ;;
    UNAVAILABLE) [[ $got == 1 && ($out == *UNAVAILABLE* || $out == *"Temporary"*) ]] ;;
    esac && ok "$desc" || not_ok "$desc: want $want, got: $out"
}
