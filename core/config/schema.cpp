// The one table of yubin.cf parameters, for every part. Keep it sorted by
// name (checked at compile time). Each part's parameters carry its prefix
// (milter_, policyd_, authd_, lda_, ctl_); shared ones have none. README's
// parameter list is checked against this table, so a new row needs a doc line
// that an administrator can act on. contrib/yubin.cf is generated from this
// table too: after a change, `build/bin/yubinctl config --example >
// contrib/yubin.cf` (a unit test compares them).
#include <algorithm>
#include <array>

#include "core/config/config.hpp"

namespace yubin::config {
namespace {

constexpr std::int64_t kMaxId = 2147483647;  // uid_t/gid_t range Postfix accepts

constexpr auto kSchema = std::to_array<Param>({
    {"auth_home", Type::String, "${virtual_mailbox_base}/%d/%n", 0, 0, "",
     "Home directory Dovecot's userdb gets from the yubin auth module and yubin-checkpassword; "
     "%u address, %n local part, %d domain (lower case), %m Maildir path under "
     "virtual_mailbox_base."},
    {"auth_mail_location", Type::String, "maildir:${virtual_mailbox_base}/%m", 0, 0, "",
     "Dovecot mail location of a virtual mailbox (userdb field mail), with the placeholders of "
     "auth_home; the default is where yubin-lda delivers."},
    {"authd_auth_workers", Type::Int, "2", 1, 64, "",
     "Threads of yubin-authd that check saslauthd passwords (a hash takes tens of milliseconds; "
     "socketmap lookups never wait for them)."},
    {"authd_idle_timeout", Type::Time, "300s", 1, 86400, "",
     "yubin-authd closes a connection that has had no request for this long (Postfix reopens "
     "socketmap connections when it needs them)."},
    {"authd_max_connections", Type::Int, "1000", 1, 100000, "",
     "Most open connections to yubin-authd (both sockets together); further ones are closed at "
     "once and logged."},
    {"authd_request_timeout", Type::Time, "10s", 1, 3600, "",
     "Time a client of yubin-authd has to send a whole request once it has begun it, and to read "
     "the reply; a slower client is disconnected."},
    {"authd_saslauthd_listen", Type::Listen, "", 0, 0, "",
     "Where yubin-authd speaks the saslauthd protocol for Postfix built with Cyrus SASL "
     "(pwcheck_method: saslauthd, saslauthd_path); unix:PATH; empty = off."},
    {"authd_socket_group", Type::String, "postfix", 0, 0, "",
     "Group of yubin-authd's unix sockets (mode 0660): the Postfix processes that look up tables "
     "and check passwords must be in it; empty = leave root's group."},
    {"authd_socketmap_cache_size", Type::Int, "10000", 0, 1000000, "",
     "Socketmap replies each yubin-authd event loop keeps (OK and NOTFOUND, each at most 512 "
     "bytes); they are dropped whenever anything commits a change to the SQLite store, so a "
     "change is seen by the next request; 0 = no cache."},
    {"authd_socketmap_listen", Type::Listen, "unix:/var/spool/postfix/private/yubin-authd", 0, 0,
     "",
     "Where yubin-authd serves Postfix socketmap tables (socketmap:unix:PATH:NAME); unix:PATH or "
     "inet:HOST:PORT; empty = off."},
    {"authd_socketmap_max_request", Type::Size, "100000", 16, 100000, "",
     "Longest socketmap request in bytes (Postfix's own limit is 100000); a longer one is answered "
     "PERM and the connection closed."},
    {"authd_socketmap_threads", Type::Int, "2", 1, 64, "",
     "Event loops of yubin-authd that answer socketmap lookups, each with its own store handle; "
     "about one per CPU."},
    {"authd_user", Type::String, "yubin", 0, 0, "",
     "The user yubin-authd runs as after creating its sockets as root; it needs read access to "
     "the store."},
    {"default_max_message_size", Type::Size, "0", 0, kNoMax, "",
     "Message size limit in bytes for a mailbox when neither the mailbox nor its domain sets one; "
     "0 = no yubin limit (Postfix's message_size_limit still applies)."},
    {"default_quota", Type::Size, "0", 0, kNoMax, "",
     "Maildir++ quota in bytes given to new mailboxes; 0 = no quota."},
    {"lda_filter", Type::Bool, "yes", 0, 0, "",
     "Run the filter rules (lda_rules_file) in yubin-lda before delivery: reject, discard, junk "
     "or tag."},
    {"lda_folder_from_extension", Type::Bool, "yes", 0, 0, "",
     "Deliver user+folder@domain into the Maildir++ folder .folder when that folder exists "
     "(never creates it)."},
    {"lda_junk_folder", Type::String, "Junk", 0, 0, "",
     "Maildir++ folder for the filter's junk and quarantine actions; created and subscribed on "
     "first use."},
    {"lda_lmtp_listen", Type::Listen, "", 0, 0, "",
     "Where yubin-lda --lmtp listens (Postfix: virtual_transport = lmtp:unix:PATH); unix:PATH or "
     "inet:HOST:PORT; the unix socket gets mode 0666, so put it in a directory only Postfix can "
     "reach."},
    {"lda_lmtp_max_connections", Type::Int, "100", 1, 10000, "",
     "Most concurrent LMTP connections to yubin-lda; more are answered 421 (Postfix retries)."},
    {"lda_lmtp_timeout", Type::Time, "300s", 1, 3600, "",
     "yubin-lda --lmtp drops a connection that has sent nothing for this long."},
    {"lda_lmtp_user", Type::String, "vmail", 0, 0, "",
     "User yubin-lda --lmtp runs as after binding its socket when started as root; it owns the "
     "virtual Maildirs and must read the store."},
    {"lda_mailbox", Type::String, "Maildir/", 0, 0, "",
     "Local users' Maildir for yubin-lda as mailbox_command: relative to $HOME, or absolute."},
    {"lda_message_size_limit", Type::Size, "104857600", 0, kNoMax, "",
     "Largest message yubin-lda reads (bytes); a larger one fails with 5.3.4; 0 = no limit."},
    {"lda_quota_full_action", Type::Enum, "bounce", 0, 0, "bounce|defer",
     "A message that would exceed the Maildir++ quota: bounce (5.2.2) or defer (4.2.2, Postfix "
     "retries)."},
    {"lda_reject_action", Type::Enum, "junk", 0, 0, "junk|bounce",
     "What yubin-lda does with a rule's reject: junk files the message into lda_junk_folder "
     "(the sender, often forged, gets no bounce); bounce fails it with 5.7.1 and the rule's text."},
    {"lda_rules_file", Type::String, "", 0, 0, "",
     "Filter rules file for yubin-lda (format in contrib/rules/README.md); empty = the built-in "
     "rules."},
    {"milter_allow_discard", Type::Bool, "no", 0, 0, "",
     "yubin-milter: whether a rule with action discard may drop a message (always logged); with no, "
     "such a message is put on hold (quarantine) instead."},
    {"milter_count_body", Type::Bool, "yes", 0, 0, "",
     "yubin-milter: count the bytes of every message as they stream and refuse at end of message one "
     "larger than the smallest size limit of its recipients; no = check only the SIZE= a client "
     "declares."},
    {"milter_filter", Type::Bool, "yes", 0, 0, "",
     "yubin-milter: run the filter rules (milter_rules_file) on every message."},
    {"milter_filter_authenticated", Type::Bool, "no", 0, 0, "",
     "yubin-milter: also filter mail from SASL-authenticated clients (submission)."},
    {"milter_listen", Type::Listen, "unix:/var/spool/postfix/yubin/milter", 0, 0, "",
     "yubin-milter: where it listens, unix:PATH or inet:HOST:PORT; Postfix's smtpd_milters names "
     "the same socket."},
    {"milter_local_domains", Type::List, "", 0, 0, "",
     "yubin-milter: domains (and IP literals such as [192.0.2.1]) that count as local in addition "
     "to the domains of the store."},
    {"milter_max_message_size", Type::Size, "0", 0, kNoMax, "",
     "yubin-milter: size limit in bytes for every message, whoever sends or receives it; 0 = none."},
    {"milter_rules_file", Type::String, "", 0, 0, "",
     "yubin-milter: filter rules file (format: contrib/rules/README.md); empty = the built-in "
     "rules (reject 未承諾広告)."},
    {"milter_sender_login_mismatch", Type::Enum, "off", 0, 0, "off|warn|reject",
     "yubin-milter: whether a SASL-authenticated client may use a MAIL FROM address that is "
     "neither its login nor an alias reaching it: off, warn (log only) or reject (553 5.7.1)."},
    {"milter_socket_group", Type::String, "", 0, 0, "",
     "yubin-milter: group of the unix socket, which then gets mode 0660; empty = mode 0666 (the "
     "directory controls access)."},
    {"milter_trusted_networks", Type::List, "127.0.0.0/8 [::1]/128", 0, 0, "",
     "yubin-milter: clients in these networks may relay, as Postfix's mynetworks; authenticated "
     "clients may relay from anywhere."},
    {"milter_user", Type::String, "", 0, 0, "",
     "yubin-milter: user to run as after binding its socket when started as root; empty = stay."},
    {"password_scheme", Type::Enum, "ARGON2ID", 0, 0, "ARGON2ID|SHA512-CRYPT|BLF-CRYPT|SSHA512",
     "Dovecot password scheme used for new passwords and for rehashing on login."},
    {"policyd_check", Type::Bool, "no", 0, 0, "",
     "yubin-policyd dry run: every enforcing policy only logs what it would have answered "
     "(\"warn: would defer: ...\") and answers DUNNO."},
    {"policyd_greylist_auto_whitelist", Type::Int, "5", 0, 1000000, "",
     "Greylisting: a client (/24, /64) that has retried this many times is no longer greylisted "
     "while it keeps sending within policyd_greylist_max_age; 0 = never."},
    {"policyd_greylist_delay", Type::Time, "300s", 0, 86400, "",
     "Greylisting: a retry of the same client, sender and recipient passes after this long."},
    {"policyd_greylist_max_age", Type::Time, "35d", 1, 31622400, "",
     "Greylisting: a triplet that passed is remembered this long after its last message."},
    {"policyd_greylist_mode", Type::Enum, "off", 0, 0, "off|warn|enforce",
     "Greylisting of unauthenticated clients at RCPT (IPv4 grouped by /24, IPv6 by /64): off, warn "
     "(log only) or enforce."},
    {"policyd_greylist_retry_window", Type::Time, "2d", 1, 31622400, "",
     "Greylisting: a retry must come within this long of the first attempt, or it starts over."},
    {"policyd_greylist_whitelist", Type::List, "", 0, 0, "",
     "Never greylisted: client addresses or networks (192.0.2.0/24, 2001:db8::/32), client host "
     "names or their parent domains (example.com), recipients (postmaster@example.com, "
     "@example.org)."},
    {"policyd_idle_timeout", Type::Time, "300s", 1, 86400, "",
     "yubin-policyd closes a connection that has not completed a request for this long (Postfix "
     "reconnects when it needs to; its own smtpd_policy_service_max_idle is 300s)."},
    {"policyd_listen", Type::Listen, "inet:127.0.0.1:10031", 0, 0, "",
     "Where yubin-policyd listens: unix:PATH or inet:HOST:PORT, the address given to Postfix's "
     "check_policy_service."},
    {"policyd_max_attributes", Type::Int, "100", 10, 10000, "",
     "Most attribute lines accepted in one policy request; a longer request is logged and the "
     "connection closed without a reply."},
    {"policyd_max_connections", Type::Int, "1000", 1, 100000, "",
     "Most open client connections; further ones wait in the listen backlog."},
    {"policyd_max_request_bytes", Type::Size, "16384", 1024, 1048576, "",
     "Largest policy request in bytes; a longer one is logged and the connection closed without a "
     "reply."},
    {"policyd_memory_max_keys", Type::Int, "1000000", 1000, 100000000, "",
     "Most rate-limit and greylist entries the memory state backend holds; when full and nothing "
     "has expired, policyd_state_failure_action applies."},
    {"policyd_quota_action", Type::Enum, "reject", 0, 0, "reject|defer",
     "What a RCPT to a mailbox over its quota gets: reject (552 5.2.2) or defer (452 4.2.2)."},
    {"policyd_quota_mode", Type::Enum, "enforce", 0, 0, "off|warn|enforce",
     "Recipient quota check at RCPT against the mailbox's Maildir++ maildirsize file: off, warn or "
     "enforce."},
    {"policyd_rate_action", Type::Enum, "DEFER_IF_PERMIT", 0, 0, "DEFER_IF_PERMIT|DEFER|REJECT",
     "The access(5) action for a client over a rate limit (with a 4.7.1 or, for REJECT, a 5.7.1 "
     "text)."},
    {"policyd_rate_client", Type::String, "", 0, 0, "",
     "Rate limits per client IP address (IPv6 per /64), as KIND:COUNT/WINDOW items, KIND messages, "
     "recipients or bytes (e.g. messages:100/1h recipients:1000/1d bytes:100M/1d); empty = none."},
    {"policyd_rate_global", Type::String, "", 0, 0, "",
     "Rate limits for the whole server (all clients together), same syntax as "
     "policyd_rate_client."},
    {"policyd_rate_mode", Type::Enum, "enforce", 0, 0, "off|warn|enforce",
     "Rate limits: off, warn (log only) or enforce. Counted once per message at END-OF-MESSAGE, "
     "checked at RCPT and DATA."},
    {"policyd_rate_sasl_user", Type::String, "", 0, 0, "",
     "Rate limits per SASL login, same syntax as policyd_rate_client."},
    {"policyd_rate_sender", Type::String, "", 0, 0, "",
     "Rate limits per envelope sender address, same syntax as policyd_rate_client."},
    {"policyd_rate_sender_domain", Type::String, "", 0, 0, "",
     "Rate limits per envelope sender domain, same syntax as policyd_rate_client."},
    {"policyd_recipient_limit_authenticated", Type::Int, "0", 0, 1000000, "",
     "Most recipients of one message from a SASL-authenticated client; 0 = no limit."},
    {"policyd_recipient_limit_mode", Type::Enum, "enforce", 0, 0, "off|warn|enforce",
     "Recipient limit per message (checked at DATA and END-OF-MESSAGE): off, warn or enforce."},
    {"policyd_recipient_limit_unauthenticated", Type::Int, "0", 0, 1000000, "",
     "Most recipients of one message from a client that did not authenticate; 0 = no limit."},
    {"policyd_redis_timeout", Type::Time, "1s", 1, 60, "",
     "How long yubin-policyd waits for Redis before policyd_state_failure_action applies."},
    {"policyd_sender_login_mode", Type::Enum, "enforce", 0, 0, "off|warn|enforce",
     "An authenticated client may only use its own address and the aliases that lead to it as "
     "MAIL FROM (553 5.7.1 otherwise): off, warn or enforce."},
    {"policyd_socket_group", Type::String, "", 0, 0, "",
     "Group of yubin-policyd's unix socket (e.g. postfix, with policyd_socket_mode = 0660); empty "
     "= the starting user's group."},
    {"policyd_socket_mode", Type::String, "0666", 0, 0, "",
     "Permissions of yubin-policyd's unix socket, in octal; 0666 leaves access to the directory "
     "(as Postfix's private/), 0660 with policyd_socket_group = postfix lets only Postfix in."},
    {"policyd_socket_owner", Type::String, "", 0, 0, "",
     "Owner of yubin-policyd's unix socket; empty = the starting user (root)."},
    {"policyd_state", Type::String, "memory", 0, 0, "",
     "Where rate-limit and greylist state lives: memory (this host only), redis:HOST:PORT or "
     "redis:unix:PATH (shared by several hosts)."},
    {"policyd_state_failure_action", Type::Enum, "DUNNO", 0, 0, "DUNNO|DEFER_IF_PERMIT",
     "Answer of a state-dependent policy when the state (Redis) cannot be reached: DUNNO never "
     "blocks mail because counters are down."},
    {"policyd_user", Type::String, "vmail", 0, 0, "",
     "The user yubin-policyd runs as after binding its socket; it must read the store and the "
     "maildirsize files. Empty: keep the starting user (refused for root)."},
    {"recipient_delimiter", Type::String, "+", 0, 0, "",
     "Characters that separate a user name from its address extension (user+ext), as Postfix's "
     "recipient_delimiter; empty = no extensions."},
    {"store", Type::String, "sqlite:/var/lib/yubin/yubin.db", 0, 0, "",
     "The user and domain store: sqlite:PATH (one file, no server) or ldap:FILE (a directory; "
     "FILE holds the store_ldap_* parameters, usually this file)."},
    {"store_busy_timeout", Type::Time, "5s", 0, 3600, "",
     "How long a writer waits for a locked SQLite database before giving a temporary failure."},
    {"store_ldap_base_dn", Type::String, "", 0, 0, "",
     "Base DN of the LDAP store (store = ldap:FILE): domains, mailboxes and aliases are below it, "
     "e.g. ou=yubin,dc=example,dc=com."},
    {"store_ldap_bind_dn", Type::String, "", 0, 0, "",
     "DN the LDAP store binds as (simple bind); empty = anonymous. yubinctl needs one that may "
     "write."},
    {"store_ldap_bind_pw_file", Type::String, "", 0, 0, "",
     "File holding the bind DN's password (one line; keep it mode 0600 or 0640 with the daemons' "
     "group); the password is never put in yubin.cf."},
    {"store_ldap_cache_ttl", Type::Time, "30s", 0, 3600, "",
     "How long a found domain, mailbox or alias is remembered by each process reading the LDAP "
     "store; 0 = no cache. A change made elsewhere shows after at most this long."},
    {"store_ldap_mail_attribute", Type::String, "mail", 0, 0, "",
     "LDAP attribute that holds a mailbox's address (and names the entries yubin creates)."},
    {"store_ldap_mailbox_object_class", Type::String, "yubinMailbox", 0, 0, "",
     "Object class that marks an LDAP entry as a mailbox (contrib/ldap/yubin.schema); entries are "
     "found anywhere below store_ldap_base_dn."},
    {"store_ldap_negative_cache_ttl", Type::Time, "10s", 0, 3600, "",
     "How long an LDAP lookup that found nothing is remembered; 0 = not at all. A user added "
     "elsewhere can log in after at most this long."},
    {"store_ldap_password_attribute", Type::String, "userPassword", 0, 0, "",
     "LDAP attribute that holds a mailbox's password hash in Dovecot's {SCHEME}hash form."},
    {"store_ldap_rate_limit_attribute", Type::String, "yubinRateLimit", 0, 0, "",
     "LDAP attribute that holds a mailbox's or domain's rate_limit override for yubin-policyd "
     "(policyd_rate_sasl_user syntax, or none)."},
    {"store_ldap_recipient_limit_attribute", Type::String, "yubinRecipientLimit", 0, 0, "",
     "LDAP attribute that holds a mailbox's or domain's recipient_limit override for "
     "yubin-policyd (recipients per message)."},
    {"store_ldap_spam_filter_attribute", Type::String, "yubinSpamFilter", 0, 0, "",
     "LDAP attribute that switches yubin-milter's filter on (TRUE) or off (FALSE) for a mailbox "
     "or domain; absent = inherit."},
    {"store_ldap_start_tls", Type::Bool, "no", 0, 0, "",
     "Use StartTLS on ldap:// connections and refuse to go on without it (certificates checked as "
     "store_ldap_tls_ca_file says); ldaps:// URIs need no StartTLS."},
    {"store_ldap_timeout", Type::Time, "5s", 1, 300, "",
     "Time limit for connecting to the LDAP server and for each LDAP operation; past it the lookup "
     "is a temporary failure."},
    {"store_ldap_tls_ca_file", Type::String, "", 0, 0, "",
     "PEM file of the CA certificate(s) that sign the LDAP server's certificate (StartTLS and "
     "ldaps://), checked with the host name of store_ldap_uri; empty = the TLS_CACERT of "
     "/etc/ldap/ldap.conf. An untrusted certificate is a temporary failure."},
    {"store_ldap_uri", Type::String, "ldap://127.0.0.1/", 0, 0, "",
     "LDAP server(s) of the LDAP store, ldap:// or ldaps:// URIs separated by spaces (tried in "
     "order)."},
    {"syslog_facility", Type::Enum, "mail", 0, 0,
     "mail|local0|local1|local2|local3|local4|local5|local6|local7",
     "Syslog facility of all yubin programs."},
    {"syslog_name", Type::String, "yubin", 0, 0, "",
     "Prefix of program names in syslog (yubin-milter, ...), as Postfix's syslog_name."},
    {"virtual_gid", Type::Int, "5000", 1, kMaxId, "",
     "Group id that owns virtual mailboxes under virtual_mailbox_base."},
    {"virtual_mailbox_base", Type::String, "/var/spool/vmail", 0, 0, "",
     "Root directory of the virtual Maildirs (<base>/<domain>/<user>/Maildir)."},
    {"virtual_uid", Type::Int, "5000", 1, kMaxId, "",
     "User id that owns virtual mailboxes and that the LDA runs as for virtual delivery."},
});

constexpr bool sorted_and_unique() {
    for (std::size_t i = 1; i < kSchema.size(); ++i)
        if (!(kSchema[i - 1].name < kSchema[i].name)) return false;
    return true;
}
static_assert(sorted_and_unique(), "kSchema must be sorted by name with unique names");

}  // namespace

std::span<const Param> schema() {
    return kSchema;
}

const Param* find_param(std::string_view name) {
    auto it = std::lower_bound(kSchema.begin(), kSchema.end(), name,
                               [](const Param& p, std::string_view n) { return p.name < n; });
    return it != kSchema.end() && it->name == name ? &*it : nullptr;
}

std::string_view to_string(Type t) {
    switch (t) {
        case Type::String:
            return "string";
        case Type::Int:
            return "integer";
        case Type::Bool:
            return "boolean";
        case Type::Size:
            return "size";
        case Type::Time:
            return "time";
        case Type::Enum:
            return "enum";
        case Type::List:
            return "list";
        case Type::Listen:
            return "listen address";
    }
    return "unknown";
}

}  // namespace yubin::config
