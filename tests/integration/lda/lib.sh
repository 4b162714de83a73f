# Shared setup for the yubin-lda integration tests: a store with a virtual
# domain, a yubin.cf, a private Postfix that delivers local users through
# mailbox_command and the virtual domain through pipe(8), both to yubin-lda.
# Source after tap.sh and postfix.sh. Ports: LDA_PORT (23000-23999 range).

BIN=${YUBIN_BIN:?}
LDA_LOCAL_USER=ylda$$
LDA_VUSER=nobody

lda_send() {  # lda_send FROM TO FILE: SMTP to the private Postfix, exact bytes
    /usr/bin/python3 - "$LDA_PORT" "$1" "$2" "$3" <<'PY'
import smtplib, sys
port, sender, rcpt, path = sys.argv[1:]
data = open(path, 'rb').read()
with smtplib.SMTP('127.0.0.1', int(port), timeout=30) as s:
    s.sendmail(sender, [rcpt], data)
PY
}

# lda_wait_file GLOB [SECONDS]: waits until a file matches, prints it.
lda_wait_file() {
    local pattern=$1 secs=${2:-30} i f
    for i in $(seq 1 $((secs * 10))); do
        for f in $pattern; do
            if [[ -f $f ]]; then echo "$f"; return 0; fi
        done
        sleep 0.1
    done
    return 1
}

# lda_queued_for ADDRESS: messages in the Postfix queue with a recipient
# ADDRESS (bounces to the unresolvable test senders stay queued, so the total
# count says nothing about our message).
lda_queued_for() {
    postqueue -c "$PF/etc" -j 2>/dev/null | grep -c "\"address\": *\"$1\"" || true
}

# lda_wait_not_queued ADDRESS [SECONDS]: waits until nothing for ADDRESS is queued.
lda_wait_not_queued() {
    local i
    for i in $(seq 1 $((${2:-60} * 10))); do
        (( $(lda_queued_for "$1") == 0 )) && return 0
        sleep 0.1
    done
    return 1
}

# lda_wait_log TEXT [SECONDS]: waits until the Postfix log holds TEXT.
lda_wait_log() {
    local text=$1 secs=${2:-30} i
    for i in $(seq 1 $((secs * 10))); do
        grep -qF -- "$text" "$(postfix_log "$PF")" && return 0
        sleep 0.1
    done
    return 1
}

# The delivered file minus the header lines Postfix and yubin-lda add in
# front must equal the sent message with CRLF turned into LF.
lda_same_message() {  # lda_same_message SENT DELIVERED
    /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
sent = open(sys.argv[1], 'rb').read().replace(b'\r\n', b'\n')
got = open(sys.argv[2], 'rb').read()
if not got.endswith(sent):
    print("# delivered file does not end with the sent message")
    for line in got.decode('utf-8', 'replace').split('\n')[:40]: print("#   got: " + line)
    sys.exit(1)
prefix = got[:len(got) - len(sent)].decode('ascii', 'replace')
names = []
for line in prefix.split('\n')[:-1]:
    if line[:1] in (' ', '\t'): continue
    names.append(line.split(':', 1)[0].lower())
want_once = ['return-path', 'delivered-to']
for n in want_once:
    if names.count(n) != 1:
        print(f"# {n} appears {names.count(n)} times in {names}"); sys.exit(1)
extra = [n for n in names if n not in ('return-path', 'delivered-to', 'received', 'x-original-to')]
if extra:
    print(f"# unexpected added headers {extra}"); sys.exit(1)
PY
}

lda_setup() {
    PF=$T/postfix
    mkdir -p "$T/db" "$T/vmail" "$T/home"
    chown "$LDA_VUSER" "$T/vmail"
    cat >"$T/yubin.cf" <<CF
store = sqlite:$T/db/yubin.db
virtual_mailbox_base = $T/vmail
CF
    chmod 0644 "$T/yubin.cf"
    "$BIN/yubinctl" -c "$T/yubin.cf" domain add example.test >/dev/null || return 1
    "$BIN/yubinctl" -c "$T/yubin.cf" user add taro@example.test --no-password >/dev/null || return 1
    "$BIN/yubinctl" -c "$T/yubin.cf" user add hana@example.test --no-password --quota 2000 >/dev/null || return 1
    chmod 0755 "$T/db"
    chmod 0644 "$T/db/"*

    useradd -M -d "$T/home/$LDA_LOCAL_USER" -s /usr/sbin/nologin "$LDA_LOCAL_USER" || return 1
    cleanup_hooks+=("userdel '$LDA_LOCAL_USER' >/dev/null 2>&1")
    mkdir -p "$T/home/$LDA_LOCAL_USER"
    chown "$LDA_LOCAL_USER" "$T/home/$LDA_LOCAL_USER"

    postfix_setup "$PF" "$LDA_PORT"
    postfix_conf "$PF" \
        "mydestination = local.example.test" \
        "recipient_delimiter = +" \
        "mailbox_command = $BIN/yubin-lda -c $T/yubin.cf -a \"\$EXTENSION\"" \
        "virtual_mailbox_domains = example.test" \
        "virtual_mailbox_maps = texthash:$T/vmailbox" \
        "virtual_transport = yubin" \
        "yubin_destination_recipient_limit = 1"
    printf '%s OK\n' taro@example.test hana@example.test ghost@example.test >"$T/vmailbox"
    postfix_service "$PF" "yubin unix - n n - - pipe
  flags=DRhu user=$LDA_VUSER argv=$BIN/yubin-lda -c $T/yubin.cf -f \${sender} -d \${recipient} -q \${queue_id}"
    postfix_start "$PF"
}
