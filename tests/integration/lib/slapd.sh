# A private OpenLDAP slapd for tests: its own cn=config directory and mdb
# database in DIR, listening on ldap://127.0.0.1:PORT/ only, loaded with the
# yubin schema (contrib/ldap/yubin.ldif) and the test tree below.
#
# Source it (functions slapd_setup, slapd_start, slapd_stop) or run it:
#   slapd.sh start DIR PORT [provider | consumer PROVIDER_PORT]
#   slapd.sh stop DIR
#   slapd.sh resume DIR     (start again after stop, same database)
# "provider" adds the syncprov overlay; "consumer" starts empty and
# replicates dc=example,dc=com from the provider (refreshAndPersist).
#
# The test tree (suffix dc=example,dc=com):
#   cn=admin,dc=example,dc=com   rootdn, password "admin-secret"
#   cn=yubin,dc=example,dc=com   the store's service DN, password in
#                                DIR/bind.pw ("yubin-secret"); may read and
#                                write everything, userPassword included
#   ou=yubin,dc=example,dc=com   an empty store base
# Anonymous clients may only bind. Nothing outside DIR is written.
#
# TLS: with SLAPD_TLS_CERT and SLAPD_TLS_KEY (PEM files) set when
# slapd_setup runs, slapd offers StartTLS with that certificate; with
# SLAPD_LDAPS_PORT also set it listens on ldaps://127.0.0.1:SLAPD_LDAPS_PORT/.
#
# SLAPD_SCHEMA: the yubin schema LDIF to load (default contrib/ldap/yubin.ldif).
# SLAPD_LDAPI: a socket path; slapd also listens on ldapi:// there, and root
# (SASL EXTERNAL) may manage cn=config, as on a Debian slapd.

SLAPD_SUFFIX="dc=example,dc=com"
SLAPD_ADMIN_DN="cn=admin,dc=example,dc=com"
SLAPD_ADMIN_PW="admin-secret"
SLAPD_BIND_DN="cn=yubin,dc=example,dc=com"
SLAPD_BIND_PW="yubin-secret"
SLAPD_BASE_DN="ou=yubin,dc=example,dc=com"
SLAPD_SRC=${YUBIN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}

# slapd_setup DIR PORT [provider | consumer PROVIDER_PORT]
slapd_setup() {
    local dir=$1 port=$2 role=${3:-plain} pport=${4:-}
    mkdir -p "$dir/slapd.d" "$dir/db" || return 1
    printf '%s' "$SLAPD_BIND_PW" >"$dir/bind.pw"
    chmod 0600 "$dir/bind.pw"
    echo "$port" >"$dir/port"
    local modules="olcModuleLoad: back_mdb" tls=""
    if [[ -n ${SLAPD_TLS_CERT:-} ]]; then
        tls=$'\n'"olcTLSCertificateFile: $SLAPD_TLS_CERT"$'\n'"olcTLSCertificateKeyFile: $SLAPD_TLS_KEY"
        [[ -n ${SLAPD_LDAPS_PORT:-} ]] && echo "$SLAPD_LDAPS_PORT" >"$dir/ldaps_port"
    fi
    [[ $role == provider ]] && modules+=$'\n'"olcModuleLoad: syncprov"
    local config_access="olcAccess: {0}to * by * none"
    if [[ -n ${SLAPD_LDAPI:-} ]]; then
        config_access="olcAccess: {0}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * none"
        echo "$SLAPD_LDAPI" >"$dir/ldapi"
    fi
    {
        cat <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $dir/slapd.pid
olcArgsFile: $dir/slapd.args
olcLogLevel: none$tls

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
$modules

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file:///etc/ldap/schema/cosine.ldif

include: file:///etc/ldap/schema/inetorgperson.ldif

include: file://${SLAPD_SCHEMA:-$SLAPD_SRC/contrib/ldap/yubin.ldif}

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: unlimited

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
$config_access

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $SLAPD_SUFFIX
olcDbDirectory: $dir/db
olcDbMaxSize: 268435456
olcDbNoSync: TRUE
olcRootDN: $SLAPD_ADMIN_DN
olcRootPW: $SLAPD_ADMIN_PW
olcLimits: dn.exact="$SLAPD_BIND_DN" size=unlimited time=unlimited
olcDbIndex: objectClass eq
olcDbIndex: mail eq,sub
olcDbIndex: yubinAliasSource eq,sub
olcDbIndex: entryCSN,entryUUID eq
olcAccess: {0}to attrs=userPassword by dn.exact="$SLAPD_BIND_DN" write by anonymous auth by * none
olcAccess: {1}to * by dn.exact="$SLAPD_BIND_DN" write by users read by * none
EOF
        if [[ $role == consumer ]]; then
            cat <<EOF
olcSyncrepl: rid=001 provider=ldap://127.0.0.1:$pport/ bindmethod=simple
  binddn="$SLAPD_ADMIN_DN" credentials=$SLAPD_ADMIN_PW searchbase="$SLAPD_SUFFIX"
  type=refreshAndPersist retry="1 +" timeout=3
EOF
        fi
        if [[ $role == provider ]]; then
            cat <<EOF

dn: olcOverlay=syncprov,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: syncprov
EOF
        fi
    } >"$dir/config.ldif"
    slapadd -n0 -F "$dir/slapd.d" -l "$dir/config.ldif" >"$dir/slapadd.log" 2>&1 || {
        cat "$dir/slapadd.log" >&2
        return 1
    }
    [[ $role == consumer ]] && return 0
    cat >"$dir/tree.ldif" <<EOF
dn: $SLAPD_SUFFIX
objectClass: dcObject
objectClass: organization
dc: example
o: yubin test

dn: $SLAPD_BIND_DN
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: yubin
userPassword: $SLAPD_BIND_PW

dn: $SLAPD_BASE_DN
objectClass: organizationalUnit
ou: yubin
EOF
    slapadd -n1 -F "$dir/slapd.d" -l "$dir/tree.ldif" >>"$dir/slapadd.log" 2>&1 || {
        cat "$dir/slapadd.log" >&2
        return 1
    }
}

# slapd_start DIR: starts the slapd set up in DIR and waits (up to 15 s) until
# it answers a search.
slapd_start() {
    local dir=$1 port i urls
    port=$(cat "$dir/port")
    urls="ldap://127.0.0.1:$port/"
    [[ -s $dir/ldaps_port ]] && urls+=" ldaps://127.0.0.1:$(cat "$dir/ldaps_port")/"
    [[ -s $dir/ldapi ]] && urls+=" ldapi://$(sed 's|/|%2F|g' "$dir/ldapi")"
    slapd -F "$dir/slapd.d" -h "$urls" -n "yubin-test-slapd-$port" \
        >>"$dir/slapd.log" 2>&1 || {
        cat "$dir/slapd.log" >&2
        return 1
    }
    for ((i = 0; i < 150; i++)); do
        if ldapsearch -x -LLL -H "ldap://127.0.0.1:$port/" -D "$SLAPD_ADMIN_DN" \
            -w "$SLAPD_ADMIN_PW" -s base -b "" 1.1 >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    echo "slapd on port $port did not answer within 15 s" >&2
    return 1
}

# slapd_stop DIR: stops that slapd (by its pid file) and waits for it to exit.
slapd_stop() {
    local dir=$1 pid i
    [[ -s $dir/slapd.pid ]] || return 0
    pid=$(cat "$dir/slapd.pid")
    kill "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    return 0
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -u
    case ${1:-} in
        start)
            [[ $# -ge 3 ]] || { echo "usage: $0 start DIR PORT [provider|consumer PPORT]" >&2; exit 64; }
            slapd_setup "$2" "$3" "${4:-plain}" "${5:-}" && slapd_start "$2"
            ;;
        resume)
            [[ $# -eq 2 ]] || { echo "usage: $0 resume DIR" >&2; exit 64; }
            slapd_start "$2"
            ;;
        stop)
            [[ $# -eq 2 ]] || { echo "usage: $0 stop DIR" >&2; exit 64; }
            slapd_stop "$2"
            ;;
        *)
            echo "usage: $0 start DIR PORT [provider|consumer PPORT] | stop DIR | resume DIR" >&2
            exit 64
            ;;
    esac
fi
