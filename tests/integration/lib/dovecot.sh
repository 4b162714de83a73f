# A private Dovecot in a directory, on loopback ports, for integration tests.
# Needs root. Includes nothing from /etc/dovecot. Source after tap.sh.
#
#   dovecot_setup DIR PORT_BASE AUTH_BLOCK
#       writes DIR/dovecot.conf: imap PORT_BASE, imaps +1, pop3 +2, pop3s +3,
#       lmtp on unix DIR/run/lmtp, an auth client socket DIR/run/auth-client
#       for Postfix SASL (user/group postfix, mode 0660), a self-signed
#       certificate, auth_failure_delay = 0, no auth penalty; AUTH_BLOCK holds the passdb and
#       userdb sections (and anything else to append).
#   dovecot_start DIR     check the config, start, wait until IMAP answers; stopped on exit
#   dovecot_stop DIR
#   dovecot_reload DIR
#   dovecot_log DIR       path of the log file
#   dovecot_cert DIR      path of the certificate (CA file for clients)

dovecot_setup() {
    local dir=$1 base=$2 auth=$3
    mkdir -p "$dir/run" "$dir/state" "$dir/log" "$dir/ssl"
    chmod 0755 "$dir" "$dir/run" "$dir/log"
    touch "$dir/log/dovecot.log"
    if [[ ! -f "$dir/ssl/cert.pem" ]]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mail.example.test" \
            -addext "subjectAltName=DNS:mail.example.test,IP:127.0.0.1" \
            -keyout "$dir/ssl/key.pem" -out "$dir/ssl/cert.pem" >/dev/null 2>&1
        chmod 0600 "$dir/ssl/key.pem"
    fi
    cat >"$dir/dovecot.conf" <<CF
instance_name = dovecot-$(basename "$dir")-$base
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/log/dovecot.log
info_log_path = $dir/log/dovecot.log
protocols = imap pop3 lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <$dir/ssl/cert.pem
ssl_key = <$dir/ssl/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5
auth_failure_delay = 0
auth_verbose = yes
mail_location = maildir:~/Maildir
first_valid_uid = 1
stats_writer_socket_path =
login_trusted_networks =
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $base
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $((base + 1))
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $((base + 2))
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $((base + 3))
    ssl = yes
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
# No auth penalty: tests fail logins on purpose from one address, and the
# penalty (up to 15 s per login, tracked by anvil) would only slow them down.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  unix_listener auth-client {
    mode = 0660
    user = postfix
    group = postfix
  }
}
$auth
CF
    echo "$base" >"$dir/.imap_port"
}

dovecot_log() { echo "$1/log/dovecot.log"; }
dovecot_cert() { echo "$1/ssl/cert.pem"; }

dovecot_start() {
    local dir=$1 port
    port=$(cat "$dir/.imap_port")
    doveconf -c "$dir/dovecot.conf" -n >"$dir/log/doveconf.out" 2>&1 || {
        echo "# doveconf rejected the configuration:"; sed 's/^/#   /' "$dir/log/doveconf.out"; return 1; }
    dovecot -c "$dir/dovecot.conf" >"$dir/log/start.out" 2>&1 || {
        echo "# dovecot failed to start:"; sed 's/^/#   /' "$dir/log/start.out" "$dir/log/dovecot.log"; return 1; }
    cleanup_hooks+=("dovecot_stop '$dir'")
    local i
    for i in $(seq 1 100); do
        if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "# dovecot did not answer on port $port"
    sed 's/^/#   /' "$dir/log/dovecot.log" | tail -20
    return 1
}

dovecot_stop() {
    local dir=$1 pid
    [[ -f "$dir/run/master.pid" ]] || return 0
    pid=$(cat "$dir/run/master.pid" 2>/dev/null)
    doveadm -c "$dir/dovecot.conf" stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

dovecot_reload() { doveadm -c "$1/dovecot.conf" reload >/dev/null 2>&1; }
