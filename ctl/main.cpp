// NAME
//      yubinctl - administer a yubin mail server
// SYNOPSIS
//      yubinctl [-c FILE] COMMAND [ARGS]
//
//      yubinctl config [-n] [-x]
//      yubinctl domain add|set DOMAIN [--max-message-size SIZE] [--quota SIZE] [--active yes|no]
//      yubinctl domain del DOMAIN [--force]
//      yubinctl domain list
//      yubinctl user add ADDRESS [--password-stdin | --no-password] [--quota SIZE]
//                  [--quota-messages N] [--max-message-size SIZE] [--active yes|no]
//      yubinctl user set ADDRESS [--quota SIZE] [--quota-messages N] [--max-message-size SIZE]
//                  [--active yes|no]
//      yubinctl user del|show ADDRESS
//      yubinctl user passwd ADDRESS [--password-stdin]
//      yubinctl user list [DOMAIN]
//      yubinctl alias add SOURCE TARGET...
//      yubinctl alias del SOURCE [TARGET]
//      yubinctl alias list [DOMAIN]
//      yubinctl auth test ADDRESS < password
//      yubinctl import [--virtual-domains FILE] [--virtual FILE] [--aliases FILE]
//                  [--dovecot-passwd FILE] [--strict] [--dry-run]
//      yubinctl filter test [--rules FILE] [-v] < message
// DESCRIPTION
//      The administrator's one command. Every change goes to the user store
//      named by the "store" parameter and is seen at once by Postfix
//      (socketmap), Dovecot (passdb/userdb) and the delivery agent: no
//      postmap, no reload.
//
//      Passwords are read from a prompt without echo (twice), or with
//      --password-stdin as one line from standard input; never from the
//      command line, where other users could read them in ps(1).
// CONFIGURATION PARAMETERS
//      store, store_busy_timeout, recipient_delimiter, password_scheme,
//      virtual_mailbox_base (see yubinctl config).
// EXIT STATUS
//      0 success; 1 negative answer (auth test "fail") or refused change
//      (duplicate); 64 usage; 65 malformed input (address, import line);
//      66 import file unreadable; 67 unknown domain, user or alias;
//      75 temporary failure (store locked or unavailable: try again);
//      78 configuration error.
// SECURITY
//      Run by root or by the owner of the store. Reads passwords from the
//      terminal or standard input only, and wipes them after hashing.
#include <unistd.h>

#include <iostream>

#include <CLI/CLI.hpp>

#include "core/config/config.hpp"
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
    bool only_non_default = false, expand = false;
    auto* config_cmd = app.add_subcommand("config", "print the effective configuration");
    config_cmd->add_flag("-n", only_non_default, "only parameters set in the file");
    config_cmd->add_flag("-x", expand, "expand $name references");

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
    }
    auto* domain_del = domain->add_subcommand("del", "delete a domain");
    domain_del->add_option("domain", domain_name)->required();
    domain_del->add_flag("--force", force, "also delete its mailboxes and aliases");
    auto* domain_list = domain->add_subcommand("list", "list domains");

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

    // filter
    auto* filter = app.add_subcommand("filter", "the message filter");
    filter->require_subcommand(1);
    std::string rules_path;
    bool filter_verbose = false;
    auto* filter_test = filter->add_subcommand("test", "classify a message read from stdin");
    filter_test->add_option("--rules", rules_path, "rules file (default: the shipped rules)");
    filter_test->add_flag("-v", filter_verbose, "also show the decoded Subject");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : yubin::ctl::kExitUsage;
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
    std::cerr << app.help();
    return yubin::ctl::kExitUsage;
} catch (const std::exception& e) {
    std::cerr << "yubinctl: internal error: " << e.what() << '\n';
    return yubin::ctl::kExitTempFail;
}
