# A private Postfix in a directory, on loopback ports, for integration tests.
# Needs root. Touches nothing in /etc/postfix. Source after tap.sh.
#
#   postfix_setup DIR SMTP_PORT     write DIR/etc/{main,master}.cf, queue and log dirs;
#                                   smtpd listens on 127.0.0.1:SMTP_PORT
#   postfix_conf DIR 'name = value' ...   set main.cf parameters (postconf -e)
#   postfix_service DIR 'master.cf line'  append a master.cf service line
#   postfix_start DIR               check, start, wait until smtpd answers; stopped on exit
#   postfix_stop DIR
#   postfix_reload DIR
#   postfix_log DIR                 path of the mail log
#   postfix_queue_count DIR         messages in the queue (all queues)
#   postfix_wait_queue_empty DIR [SECONDS]
#
# Defaults: myhostname mail.example.test, mydestination empty, mynetworks
# 127.0.0.2/32 (so a client on 127.0.0.1 is NOT trusted: relay tests see the
# real restrictions), no chroot, maillog_file in DIR/log, compatibility_level 3.6.

postfix_setup() {
    local dir=$1 port=$2
    mkdir -p "$dir/etc" "$dir/queue" "$dir/data" "$dir/log"
    chmod 0755 "$dir" "$dir/etc" "$dir/log"
    chown postfix "$dir/data"
    chmod 0700 "$dir/data"
    cat >"$dir/etc/main.cf" <<CF
compatibility_level = 3.6
config_directory = $dir/etc
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.example.test
mydomain = example.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.2/32
smtpd_banner = \$myhostname ESMTP
maillog_file = $dir/log/postfix.log
maillog_file_prefixes = $dir/log
alias_maps =
alias_database =
local_recipient_maps =
relayhost =
smtp_host_lookup = native
disable_dns_lookups = yes
smtp_dns_support_level = disabled
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
biff = no
delay_warning_time = 0
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
shlib_directory = /usr/lib/postfix
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
CF
    cat >"$dir/etc/master.cf" <<CF
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$port inet n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
    echo "$port" >"$dir/.smtp_port"
}

postfix_conf() {
    local dir=$1
    shift
    postconf -c "$dir/etc" -e "$@"
}

postfix_service() {
    local dir=$1
    echo "$2" >>"$dir/etc/master.cf"
}

postfix_log() { echo "$1/log/postfix.log"; }

postfix_start() {
    local dir=$1 port
    port=$(cat "$dir/.smtp_port")
    postfix -c "$dir/etc" check >"$dir/log/check.out" 2>&1 || {
        echo "# postfix check failed:"; sed 's/^/#   /' "$dir/log/check.out"; return 1; }
    # postfix start prints its errors only to a terminal.
    script -qec "postfix -c '$dir/etc' start" /dev/null >"$dir/log/start.out" 2>&1 || {
        echo "# postfix start failed:"; sed 's/^/#   /' "$dir/log/start.out" "$dir/log/postfix.log"; return 1; }
    cleanup_hooks+=("postfix_stop '$dir'")
    local i
    for i in $(seq 1 100); do
        if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "# postfix did not answer on port $port"
    sed 's/^/#   /' "$dir/log/postfix.log" | tail -20
    return 1
}

postfix_stop() {
    local dir=$1
    [[ -f "$dir/queue/pid/master.pid" ]] || return 0
    postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
    local i
    for i in $(seq 1 50); do
        [[ -f "$dir/queue/pid/master.pid" ]] || return 0
        local pid
        pid=$(tr -d ' ' <"$dir/queue/pid/master.pid" 2>/dev/null)
        [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    postfix -c "$dir/etc" abort >/dev/null 2>&1 || true
}

postfix_reload() { postfix -c "$1/etc" reload >/dev/null 2>&1; }

postfix_queue_count() {
    find "$1/queue/incoming" "$1/queue/active" "$1/queue/deferred" "$1/queue/hold" \
         "$1/queue/maildrop" -type f 2>/dev/null | wc -l
}

postfix_wait_queue_empty() {
    local dir=$1 secs=${2:-30} i
    for i in $(seq 1 $((secs * 10))); do
        [[ $(postfix_queue_count "$dir") -eq 0 ]] && return 0
        sleep 0.1
    done
    return 1
}

# postfix_flush DIR: ask the queue manager to retry deferred mail now.
postfix_flush() { postqueue -c "$1/etc" -f >/dev/null 2>&1 || true; }
