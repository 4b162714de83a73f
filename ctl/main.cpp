// NAME
//      yubinctl - administer a yubin mail server
// SYNOPSIS
//      yubinctl [-c FILE] COMMAND [ARGS]
//
//      yubinctl config [-n] [-x] | --example
//      yubinctl domain add|set DOMAIN [--max-message-size SIZE] [--quota SIZE] [--active yes|no]
//                  [--rate-limit RATES|none|inherit] [--recipient-limit N|inherit]
//                  [--spam-filter on|off|inherit]
//      yubinctl domain del|show DOMAIN [--force]
//      yubinctl domain list
//      yubinctl user add ADDRESS [--password-stdin | --no-password] [--quota SIZE]
//                  [--quota-messages N] [--max-message-size SIZE] [--active yes|no]
//      yubinctl user set ADDRESS [--quota SIZE] [--quota-messages N] [--max-message-size SIZE]
//                  [--active yes|no]
//      (user add and set also take --rate-limit, --recipient-limit, --spam-filter)
//      yubinctl user del|show ADDRESS
//      yubinctl user passwd ADDRESS [--password-stdin]
//      yubinctl user list [DOMAIN]
//      yubinctl alias add SOURCE TARGET...
//      yubinctl alias del SOURCE [TARGET]
//      yubinctl alias list [DOMAIN]
//      yubinctl auth test ADDRESS < password
//      yubinctl import [--virtual-domains FILE] [--virtual FILE] [--aliases FILE]
//                  [--dovecot-passwd FILE] [--strict] [--dry-run]
//      yubinctl store migrate --from STORE [--to STORE]
//      yubinctl store upgrade
//      yubinctl filter test [--rules FILE] [-v] < message
//      yubinctl cert --host NAME [--host NAME...] [--key FILE] [--cert FILE | --csr FILE]
//                  [--days N] [--type rsa|ec] [--force]
//      yubinctl check [--host HOST] [--smtp-port N] [--submission-port N] [--smtps-port N]
//                  [--imap-port N] [--imaps-port N] [--pop3-port N] [--pop3s-port N]
//                  [--user ADDRESS --password-stdin] [--local-rcpt ADDRESS]
//                  [--max-size SIZE] [--cafile FILE] [--tls-name NAME]
//                  [--relay-domain DOMAIN] [--helo NAME] [--bind ADDRESS]
//                  [--timeout SECONDS] [--wait SECONDS] [--stream-oversize]
//                  [--json] [--skip CHECK...]
// DESCRIPTION
//      The administrator's one command. Every change goes to the user store
//      named by the "store" parameter and is seen at once by Postfix
//      (socketmap), Dovecot (passdb/userdb) and the delivery agent: no
//      postmap, no reload.
//
//      config --example prints a yubin.cf in which every parameter is
//      commented out with its type, documentation and default, generated
//      from the parameter table (contrib/yubin.cf is this output).
//
//      Passwords are read from a prompt without echo (twice), or with
//      --password-stdin as one line from standard input; never from the
//      command line, where other users could read them in ps(1).
//
//      store migrate copies a whole store into another (SQLite into an LDAP
//      directory, or back): every domain, mailbox (password hash, limits,
//      Maildir) and alias. What the target already has is skipped and left
//      as it is, so a second run changes nothing and says so, and an
//      interrupted run is finished by running it again.
//
//      cert makes a private key (RSA 3072 or EC P-256) and a self-signed
//      certificate with subjectAltName for the given names (DNS names or IP
//      addresses), or a certificate signing request for a real CA (--csr).
//      Defaults: /etc/yubin/ssl/NAME.key and NAME.crt, 825 days. Existing
//      files are kept unless --force. It prints the main.cf and
//      dovecot.conf lines that point at the files.
//
//      check tests a running server from outside and prints one line per
//      check, "ok", "warn" or "FAIL", its name and what it saw, then
//      "N passed, M failed, W warnings" (or one JSON document with --json).
//      It never sends mail to a foreign address: relay probes stop at RCPT
//      TO and are followed by RSET. It sends two messages to the local
//      recipient: a test message (looked for over IMAP) and a 未承諾広告
//      message (refused, or looked for in the Junk folder).
// CONFIGURATION PARAMETERS
//      store, store_busy_timeout, recipient_delimiter, password_scheme,
//      virtual_mailbox_base (see yubinctl config).
// EXIT STATUS
//      0 success; 1 negative answer (auth test "fail") or refused change
//      (duplicate); 64 usage; 65 malformed input (address, import line);
//      66 import file unreadable; 67 unknown domain, user or alias;
//      75 temporary failure (store locked or unavailable: try again);
//      78 configuration error. check: 0 nothing failed, 1 a check failed.
//      store migrate: 0 everything copied (or already there); 65 some rows
//      refused by the target (the rest copied); 66 source file missing; 75
//      a store unreachable (run it again: what was copied is skipped).
// SECURITY
//      Run by root or by the owner of the store. Reads passwords from the
//      terminal or standard input only, and wipes them after hashing.
//      cert creates the key with mode 0600 through O_EXCL|O_NOFOLLOW (with
//      --force: a new file renamed over the old one). check reads
//      untrusted server output with bounded lines and timeouts (see
//      ctl/check_conn.hpp) and verifies certificates with OpenSSL.
#include <unistd.h>

#include <iostream>

#include <CLI/CLI.hpp>

#include "core/config/config.hpp"
#include "core/config/example.hpp"
#include "core/store/store.hpp"
#include "core/util/strings.hpp"
#include "ctl/cert.hpp"
#include "ctl/check.hpp"
#include "ctl/ctl.hpp"
#include "ctl/import.hpp"
#ifdef YUBIN_HAVE_FILTER
#include "ctl/filter_command.hpp"
#endif

namespace {

using yubin::ctl::DomainSettings;
using yubin::ctl::MailboxSettings;

// "--active yes|no" as an optional bool.
void add_active(CLI::App* cmd, std::optional<bool>& active, std::string& text) {
    cmd->add_option("--active", text, "yes or no")->check(CLI::IsMember({"yes", "no"}));
    cmd->callback([&] {
        if (!text.empty()) active = (text == "yes");
    });
}

// --rate-limit, --recipient-limit, --spam-filter: each takes "inherit" to
// unset it (the domain's, or yubin.cf's, applies again). The store checks
// the rate syntax.
void add_overrides(CLI::App* cmd, yubin::ctl::OverrideSettings& out) {
    cmd->add_option_function<std::string>(
        "--rate-limit",
        [&out](const std::string& v) { out.rate_limit = v == "inherit" ? std::string() : v; },
        "yubin-policyd rate limit when logged in as this user (policyd_rate_sasl_user syntax, "
        "e.g. \"messages:500/1h recipients:5000/1d\"), none, or inherit");
    cmd->add_option_function<std::string>(
        "--recipient-limit",
        [&out](const std::string& v) {
            if (v == "inherit") {
                out.recipient_limit = 0;
                return;
            }
            auto n = yubin::parse_int(v);
            if (!n || *n <= 0)
                throw CLI::ValidationError("--recipient-limit",
                                           "want a number of recipients > 0 or inherit: " + v);
            out.recipient_limit = *n;
        },
        "recipients per message when logged in as this user, or inherit");
    cmd->add_option_function<std::string>(
        "--spam-filter",
        [&out](const std::string& v) {
            auto f = yubin::store::parse_spam_filter(v);
            if (!f) throw CLI::ValidationError("--spam-filter", "want on, off or inherit: " + v);
            out.spam_filter = *f;
        },
        "yubin-milter filter for mail to it: on, off or inherit");
}

// SIZE options parsed with ctl::parse_size ("10M", "512k", plain bytes).
CLI::Option* add_size(CLI::App* cmd, const std::string& name, std::optional<std::int64_t>& out,
                      const std::string& help) {
    return cmd->add_option_function<std::string>(
        name,
        [&out, name](const std::string& v) {
            auto s = yubin::ctl::parse_size(v);
            if (!s) throw CLI::ValidationError(name, "not a size: " + v);
            out = *s;
        },
        help);
}

}  // namespace

int main(int argc, char** argv) try {
    CLI::App app{"yubinctl: administer a yubin mail server"};
    app.require_subcommand(1);
    std::string config_path;
    app.add_option("-c,--config", config_path, "configuration file (default /etc/yubin/yubin.cf)");

    // config
    bool only_non_default = false, expand = false, example = false;
    auto* config_cmd = app.add_subcommand("config", "print the effective configuration");
    config_cmd->add_flag("-n", only_non_default, "only parameters set in the file");
    config_cmd->add_flag("-x", expand, "expand $name references");
    config_cmd->add_flag("--example", example,
                         "print a yubin.cf with every parameter commented (contrib/yubin.cf)")
        ->excludes("-n")
        ->excludes("-x");

    // domain
    auto* domain = app.add_subcommand("domain", "virtual domains");
    domain->require_subcommand(1);
    std::string domain_name;
    DomainSettings dset;
    std::string dactive;
    bool force = false;
    auto* domain_add = domain->add_subcommand("add", "add a domain");
    auto* domain_set = domain->add_subcommand("set", "change a domain's settings");
    for (auto* c : {domain_add, domain_set}) {
        c->add_option("domain", domain_name, "domain name")->required();
        add_size(c, "--max-message-size", dset.max_message_size, "largest message accepted");
        add_size(c, "--quota", dset.quota_bytes, "default Maildir++ quota of its mailboxes");
        add_active(c, dset.active, dactive);
        add_overrides(c, dset.overrides);
    }
    auto* domain_del = domain->add_subcommand("del", "delete a domain");
    domain_del->add_option("domain", domain_name)->required();
    domain_del->add_flag("--force", force, "also delete its mailboxes and aliases");
    auto* domain_list = domain->add_subcommand("list", "list domains");
    auto* domain_show = domain->add_subcommand("show", "show a domain's settings");
    domain_show->add_option("domain", domain_name)->required();

    // user
    auto* user = app.add_subcommand("user", "mailboxes (users)");
    user->require_subcommand(1);
    std::string address, list_domain;
    MailboxSettings mset;
    std::string uactive;
    bool password_stdin = false, no_password = false;
    auto* user_add = user->add_subcommand("add", "add a mailbox");
    auto* user_set = user->add_subcommand("set", "change a mailbox's settings");
    for (auto* c : {user_add, user_set}) {
        c->add_option("address", address, "user@domain")->required();
        add_size(c, "--quota", mset.quota_bytes, "Maildir++ storage quota");
        c->add_option_function<std::int64_t>(
            "--quota-messages", [&](std::int64_t v) { mset.quota_messages = v; },
            "Maildir++ message count quota")->check(CLI::NonNegativeNumber);
        add_size(c, "--max-message-size", mset.max_message_size, "largest message accepted");
        add_active(c, mset.active, uactive);
        add_overrides(c, mset.overrides);
    }
    user_add->add_flag("--password-stdin", password_stdin, "read the password from stdin");
    user_add->add_flag("--no-password", no_password, "a mailbox that cannot log in");
    auto* user_del = user->add_subcommand("del", "delete a mailbox (its Maildir is kept)");
    user_del->add_option("address", address)->required();
    auto* user_show = user->add_subcommand("show", "show a mailbox");
    user_show->add_option("address", address)->required();
    auto* user_passwd = user->add_subcommand("passwd", "change a password");
    user_passwd->add_option("address", address)->required();
    user_passwd->add_flag("--password-stdin", password_stdin, "read the password from stdin");
    auto* user_list = user->add_subcommand("list", "list mailboxes");
    user_list->add_option("domain", list_domain, "only this domain");

    // alias
    auto* alias = app.add_subcommand("alias", "aliases (virtual_alias_maps)");
    alias->require_subcommand(1);
    std::string source, target;
    std::vector<std::string> targets;
    auto* alias_add = alias->add_subcommand("add", "add an alias to one or more addresses");
    alias_add->add_option("source", source, "user@domain or @domain")->required();
    alias_add->add_option("targets", targets, "addresses (or @domain for a domain alias)")
        ->required();
    auto* alias_del = alias->add_subcommand("del", "delete an alias (all targets by default)");
    alias_del->add_option("source", source)->required();
    alias_del->add_option("target", target);
    auto* alias_list = alias->add_subcommand("list", "list aliases");
    alias_list->add_option("domain", list_domain, "only this domain");

    // auth
    auto* auth = app.add_subcommand("auth", "authentication");
    auth->require_subcommand(1);
    auto* auth_test = auth->add_subcommand("test", "verify a password read from stdin");
    auth_test->add_option("address", address)->required();

    // import
    yubin::ctl::ImportFiles files;
    auto* import = app.add_subcommand("import", "import a server configured the old way");
    import->add_option("--virtual-domains", files.virtual_domains,
                       "/etc/postfix/virtual_domains")->check(CLI::ExistingFile);
    import->add_option("--virtual", files.virtual_mailboxes,
                       "/etc/postfix/virtual (address  domain/user/Maildir/)")
        ->check(CLI::ExistingFile);
    import->add_option("--aliases", files.aliases, "virtual(5) alias file")
        ->check(CLI::ExistingFile);
    import->add_option("--dovecot-passwd", files.dovecot_passwd, "Dovecot passwd-file")
        ->check(CLI::ExistingFile);
    import->add_flag("--strict", files.strict, "abort on any bad line, writing nothing");
    import->add_flag("--dry-run", files.dry_run, "report what would change, write nothing");

    // store
    std::string migrate_from, migrate_to;
    auto* store_cmd = app.add_subcommand("store", "the user store as a whole");
    store_cmd->require_subcommand(1);
    auto* store_migrate = store_cmd->add_subcommand(
        "migrate", "copy every domain, mailbox and alias into another store (idempotent)");
    store_migrate->add_option("--from", migrate_from, "source store: sqlite:PATH or ldap:FILE")
        ->required();
    store_migrate->add_option("--to", migrate_to,
                              "target store: sqlite:PATH or ldap:FILE (default: the store "
                              "parameter)");
    auto* store_upgrade = store_cmd->add_subcommand(
        "upgrade", "bring the store's schema up to this yubin (run after installing a new one)");

    // filter
    auto* filter = app.add_subcommand("filter", "the message filter");
    filter->require_subcommand(1);
    std::string rules_path;
    bool filter_verbose = false;
    auto* filter_test = filter->add_subcommand("test", "classify a message read from stdin");
    filter_test->add_option("--rules", rules_path, "rules file (default: the shipped rules)");
    filter_test->add_flag("-v", filter_verbose, "also show the decoded Subject");

    // cert
    yubin::ctl::CertOptions cert_opts;
    std::string key_type = "rsa";
    auto* cert = app.add_subcommand("cert", "make a key and a self-signed certificate or a CSR");
    cert->add_option("--host", cert_opts.hosts, "host name or IP address (repeat for more)")
        ->required();
    cert->add_option("--key", cert_opts.key_path, "key file (default /etc/yubin/ssl/HOST.key)");
    auto* cert_file = cert->add_option("--cert", cert_opts.cert_path,
                                       "certificate file (default /etc/yubin/ssl/HOST.crt)");
    cert->add_option("--csr", cert_opts.csr_path, "write a certificate signing request instead")
        ->excludes(cert_file);
    cert->add_option("--days", cert_opts.days, "validity of the certificate (default 825)")
        ->check(CLI::Range(1, yubin::ctl::kMaxCertDays));
    cert->add_option("--type", key_type, "key type: rsa (3072 bits) or ec (P-256)")
        ->check(CLI::IsMember({"rsa", "ec"}));
    cert->add_flag("--force", cert_opts.force, "replace existing files");

    // check
    yubin::ctl::check::CheckOptions chk;
    bool check_password_stdin = false;
    double check_timeout = 10, check_wait = 30;
    std::string check_max_size;
    auto* check = app.add_subcommand("check", "test a running server from outside");
    check->add_option("--host", chk.host, "server to test (default 127.0.0.1)");
    check->add_option("--smtp-port", chk.smtp_port, "default 25")->check(CLI::Range(1, 65535));
    check->add_option("--submission-port", chk.submission_port, "default 587")->check(CLI::Range(1, 65535));
    check->add_option("--smtps-port", chk.smtps_port, "default 465")->check(CLI::Range(1, 65535));
    check->add_option("--imap-port", chk.imap_port, "default 143")->check(CLI::Range(1, 65535));
    check->add_option("--imaps-port", chk.imaps_port, "default 993")->check(CLI::Range(1, 65535));
    check->add_option("--pop3-port", chk.pop3_port, "default 110")->check(CLI::Range(1, 65535));
    check->add_option("--pop3s-port", chk.pop3s_port, "default 995")->check(CLI::Range(1, 65535));
    check->add_option("--user", chk.user, "test account (its password from --password-stdin)");
    check->add_flag("--password-stdin", check_password_stdin, "read the password from stdin");
    check->add_option("--local-rcpt", chk.local_rcpt, "an address the server receives for (default --user)");
    check->add_option("--max-size", check_max_size, "the configured message size limit (SIZE)");
    check->add_option("--cafile", chk.cafile, "trust these CA certificates (e.g. a self-signed one)")
        ->check(CLI::ExistingFile);
    check->add_option("--tls-name", chk.tls_name, "name the certificate must carry (default: the banner's)");
    check->add_option("--relay-domain", chk.relay_domain, "foreign domain for relay probes");
    check->add_option("--helo", chk.helo, "EHLO name (default this host's name)");
    check->add_option("--bind", chk.bind, "local address to connect from");
    check->add_option("--timeout", check_timeout, "seconds for each network operation (default 10)")
        ->check(CLI::Range(0.1, 600.0));
    check->add_option("--wait", check_wait, "seconds to wait for the test message (default 30)")
        ->check(CLI::Range(0.0, 3600.0));
    check->add_flag("--stream-oversize", chk.stream_oversize, "also send a message over the limit");
    check->add_flag("--json", chk.json, "one JSON document instead of lines");
    check->add_option("--skip", chk.skip, "checks to leave out (names or first words)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : yubin::ctl::kExitUsage;
    }

    if (cert->parsed()) {
        cert_opts.type = key_type == "ec" ? yubin::ctl::KeyType::Ec : yubin::ctl::KeyType::Rsa;
        return yubin::ctl::run_cert(cert_opts, std::cout, std::cerr);
    }
    if (check->parsed()) {
        for (const auto& s : chk.skip) {
            bool known = false;
            for (const auto& n : yubin::ctl::check::check_names())
                known = known || n == s || (n.starts_with(s) && n.size() > s.size() && n[s.size()] == '-');
            if (!known) {
                std::cerr << "yubinctl: check: unknown check name for --skip: " << s << '\n';
                return yubin::ctl::kExitUsage;
            }
        }
        if (!check_max_size.empty()) {
            auto v = yubin::ctl::parse_size(check_max_size);
            if (!v || *v <= 0) {
                std::cerr << "yubinctl: check: not a size: " << check_max_size << '\n';
                return yubin::ctl::kExitUsage;
            }
            chk.max_size = static_cast<std::uint64_t>(*v);
        }
        if (!chk.user.empty() != check_password_stdin) {
            std::cerr << "yubinctl: check: --user and --password-stdin go together\n";
            return yubin::ctl::kExitUsage;
        }
        if (check_password_stdin && !std::getline(std::cin, chk.password)) {
            std::cerr << "yubinctl: check: no password on standard input\n";
            return yubin::ctl::kExitUsage;
        }
        if (!chk.password.empty() && chk.password.back() == '\r') chk.password.pop_back();
        chk.timeout = std::chrono::milliseconds(static_cast<long>(check_timeout * 1000));
        chk.delivery_wait = std::chrono::milliseconds(static_cast<long>(check_wait * 1000));
        return yubin::ctl::check::run_check(chk, std::cout, std::cerr);
    }
    if (filter_test->parsed()) {
#ifdef YUBIN_HAVE_FILTER
        return yubin::ctl::run_filter_test(rules_path, filter_verbose, std::cin, std::cout,
                                           std::cerr);
#else
        (void)filter_verbose;
        std::cerr << "yubinctl: filter test: this build has no filter engine\n";
        return yubin::ctl::kExitSoftware;
#endif
    }

    // The example needs no configuration: it is what a fresh server starts from.
    if (config_cmd->parsed() && example) {
        std::cout << yubin::config::example_file();
        return yubin::ctl::kExitOk;
    }

    // A missing default configuration means "all defaults" (a fresh server);
    // a file named with -c must exist.
    yubin::Result<yubin::config::Config> cfg = yubin::config::Config::defaults();
    std::string path = config_path.empty() ? std::string(yubin::config::kDefaultPath) : config_path;
    if (!config_path.empty() || ::access(path.c_str(), F_OK) == 0) {
        cfg = yubin::config::Config::load_file(path);
    }
    if (!cfg) {
        std::cerr << "yubinctl: " << cfg.error().what << '\n';
        return yubin::ctl::kExitConfig;
    }

    yubin::ctl::Ctl ctl(std::move(*cfg),
                        {std::cin, std::cout, std::cerr, ::isatty(STDIN_FILENO) == 1});
    yubin::ctl::PasswordSource pw{.from_stdin = password_stdin, .confirm = true};

    if (config_cmd->parsed()) return ctl.config_show(only_non_default, expand);
    if (domain_add->parsed()) return ctl.domain_add(domain_name, dset);
    if (domain_set->parsed()) return ctl.domain_set(domain_name, dset);
    if (domain_del->parsed()) return ctl.domain_del(domain_name, force);
    if (domain_list->parsed()) return ctl.domain_list();
    if (domain_show->parsed()) return ctl.domain_show(domain_name);
    if (user_add->parsed()) return ctl.user_add(address, mset, pw, no_password);
    if (user_set->parsed()) return ctl.user_set(address, mset);
    if (user_del->parsed()) return ctl.user_del(address);
    if (user_show->parsed()) return ctl.user_show(address);
    if (user_passwd->parsed()) return ctl.user_passwd(address, pw);
    if (user_list->parsed()) return ctl.user_list(list_domain);
    if (alias_add->parsed()) return ctl.alias_add(source, targets);
    if (alias_del->parsed()) return ctl.alias_del(source, target);
    if (alias_list->parsed()) return ctl.alias_list(list_domain);
    if (auth_test->parsed()) return ctl.auth_test(address);
    if (import->parsed()) return ctl.import(files);
    if (store_migrate->parsed()) return ctl.store_migrate(migrate_from, migrate_to);
    if (store_upgrade->parsed()) return ctl.store_upgrade();
    std::cerr << app.help();
    return yubin::ctl::kExitUsage;
} catch (const std::exception& e) {
    std::cerr << "yubinctl: internal error: " << e.what() << '\n';
    return yubin::ctl::kExitTempFail;
}
