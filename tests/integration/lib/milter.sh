# yubin-milter in a test directory, for the milter integration tests.
# Source after tap.sh (and postfix.sh for milter_postfix_mailboxes); needs
# YUBIN_BIN.
#
#   ctl ...                         yubinctl on the test's configuration
#   milter_config [LINE...]         write $T/yubin.cf: a store in $T/db, the milter
#                                   on unix:$MILTER_SOCK as nobody, then LINEs
#   milter_mailboxes ADDRESS...     virtual mailboxes $T/vmail/DOMAIN/LOCAL (uid
#                                   65534) and their map $T/vmaps
#   milter_postfix_mailboxes DIR DOMAIN...   Postfix DIR delivers to them
#   milter_start [OPTION...]        start yubin-milter -f (log $T/milter.log, pid
#                                   in milter_pid, stopped on exit), wait for its
#                                   socket; 1 if it does not come
#   milter_log_tail                 the end of $T/milter.log as TAP comments
# MILTER_KEEP=DIR keeps a copy of the test directory (logs, queues) for debugging.
: "${YUBIN_BIN:?}"
MILTER_SOCK=$T/milter.sock
cleanup_hooks+=('[[ -z "${MILTER_KEEP:-}" ]] || cp -a "$T" "$MILTER_KEEP"')

ctl() { "$YUBIN_BIN/yubinctl" -c "$T/yubin.cf" "$@"; }

milter_config() {
    cat >"$T/yubin.cf" <<CF
store = sqlite:$T/db/yubin.db
milter_listen = unix:$MILTER_SOCK
milter_user = nobody
CF
    local line
    for line in "$@"; do echo "$line" >>"$T/yubin.cf"; done
}

milter_mailboxes() {
    local a
    for a in "$@"; do
        mkdir -p "$T/vmail/${a#*@}"
        echo "$a ${a#*@}/${a%@*}" >>"$T/vmaps"
    done
    chown -R 65534:65534 "$T/vmail"
}

milter_postfix_mailboxes() {
    local dir=$1
    shift
    postfix_conf "$dir" "virtual_mailbox_domains = $*" \
        "virtual_mailbox_base = $T/vmail" "virtual_mailbox_maps = texthash:$T/vmaps" \
        "virtual_uid_maps = static:65534" "virtual_gid_maps = static:65534"
}

milter_start() {
    # The milter runs as nobody and opens the store read-only.
    [[ -d "$T/db" ]] && chown -R nobody "$T/db"
    rm -f "$MILTER_SOCK"
    "$YUBIN_BIN/yubin-milter" -c "$T/yubin.cf" -f "$@" 2>>"$T/milter.log" &
    milter_pid=$!
    cleanup_hooks+=("kill $milter_pid 2>/dev/null")
    local i
    for i in $(seq 1 50); do [[ -S "$MILTER_SOCK" ]] && return 0; sleep 0.1; done
    return 1
}

milter_log_tail() { tail -20 "$T/milter.log" | sed 's/^/#   /'; }
